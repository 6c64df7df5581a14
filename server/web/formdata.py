"""Reading posted HTML forms: every field has a length limit, and a field that breaks it is a 400
with the field's name, never a truncated write."""

from __future__ import annotations

from typing import Any

from server.errors import PantauError
from server.web.http import Request


async def read_form(request: Request) -> Any:
    return await request.form()


def text(form: Any, name: str, *, max_len: int = 200, strip: bool = True) -> str:
    value = form.get(name, "")
    if not isinstance(value, str):
        raise PantauError("http.bad_request", detail=name)
    if len(value) > max_len:
        raise PantauError("http.field_too_long", field=name, max=max_len)
    return value.strip() if strip else value
