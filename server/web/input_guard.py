"""What every request must pass before a handler sees it: no NUL character (U+0000) in a path
parameter, a query parameter or a text field of the body (PostgreSQL cannot store one in text and
answered with a 500), no id outside the database's integer range (a 404: no such record), and no
body read at all when its declared size or the missing sign-in already rule it out. One place for
every route, so a new route is covered without remembering to."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Request
from litestar.exceptions import NotAuthorizedException
from multipart import MultipartSegment, ParserError, ParserLimitReached, PushMultipartParser

from server.errors import PantauError
from server.web.auth import principal_of, signed_in, signed_in_first

# Ids are PostgreSQL `serial` (int4) columns; SQLite would take more, but no such row can exist.
ID_MAX = 2**31 - 1
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _nul(field: str) -> PantauError:
    return PantauError("http.nul_character", field=field[:80])


def check_path_params(params: dict[str, Any]) -> None:
    for name, value in params.items():
        if isinstance(value, int) and not 1 <= value <= ID_MAX:
            raise PantauError("http.not_found")
        if isinstance(value, str) and "\x00" in value:
            raise _nul(name)
        # No name or id of ours is this long, and a file name longer than the file system takes
        # (ENAMETOOLONG) made the static files a 500.
        if isinstance(value, str) and any(len(part) > 255 for part in value.split("/")):
            raise PantauError("http.not_found")


def check_query(query_string: bytes) -> None:
    if b"%00" not in query_string and b"\x00" not in query_string:
        return
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True, errors="replace"):
        if "\x00" in name or "\x00" in value:
            raise _nul(name.replace("\x00", "") or "?")


def nul_path(value: Any, where: str = "") -> str | None:
    """The dotted path of the first string (or key) in decoded JSON that holds a NUL, else None."""
    if isinstance(value, str):
        return where or "$" if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}" if where else str(key)
            if "\x00" in str(key):
                return here.replace("\x00", "")
            if (found := nul_path(item, here)) is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            if (found := nul_path(item, f"{where}[{index}]")) is not None:
                return found
    return None


class _MultipartFields:
    """The text fields of a multipart body checked for NUL as the body arrives, a chunk at a time (a
    file part may hold any byte; only text fields are stored as text), so a photo is never gathered
    whole here. Litestar parses the body again for the handler; a body this parser cannot read is
    left to litestar's refusal."""

    def __init__(self, content_type: str) -> None:
        boundary = re.search(r'boundary="?([^";]+)"?', content_type)
        self.parser: PushMultipartParser | None = PushMultipartParser(
            boundary.group(1).encode() if boundary else b"--")
        self.text: str | None = None  # the name of the text field being read, None in a file part

    def feed(self, chunk: bytes) -> None:
        if self.parser is None:
            return
        try:
            for event in self.parser.parse(chunk):
                if isinstance(event, MultipartSegment):
                    self.text = None if event.filename is not None else event.name
                    if "\x00" in event.name:
                        raise _nul(event.name.replace("\x00", ""))
                elif event and self.text is not None and b"\x00" in event:
                    raise _nul(self.text)
        except (ParserError, ParserLimitReached):
            self.parser = None


def check_body(content_type: str, body: bytes) -> None:
    """A whole urlencoded or JSON body (multipart is checked as it arrives: _MultipartFields)."""
    kind = content_type.partition(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        check_query(body)
    elif (kind == "application/json" or kind.endswith("+json")) and b"\\u0000" in body:
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return  # not JSON at all: the handler refuses it with its own 400
        if (found := nul_path(decoded)) is not None:
            raise _nul(found)


def needs_sign_in(handler: Any) -> bool:
    """Whether the route refuses an anonymous caller anyway (a guard, the hook, or a `principal`)."""
    cached = handler.opt.get("_pantau_needs_sign_in")
    if handler.opt.get("openrosa"):  # Basic or an app key, never the session alone (web/openrosa.py)
        cached = False
    if cached is None:
        before = handler.resolve_before_request()
        cached = (signed_in in handler.resolve_guards() or getattr(before, "func", before) is signed_in_first
                  or "principal" in handler.parsed_fn_signature.parameters)
        handler.opt["_pantau_needs_sign_in"] = cached
    return bool(cached)


class InputGuardMiddleware:
    """Litestar app middleware: it runs after routing (the path parameters are parsed) and before the
    CSRF middleware, which would otherwise read a whole form body to find its token."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        check_path_params(scope.get("path_params") or {})
        check_query(scope.get("query_string", b""))
        if scope["method"] not in _UNSAFE:
            await self.app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        await self._refuse_early(request, scope)
        await self.app(scope, _checked_receive(receive, request.headers.get("content-type", "")), send)

    async def _refuse_early(self, request: Request[Any, Any, Any], scope: Any) -> None:
        handler = scope["route_handler"]
        limit = handler.resolve_request_max_body_size()
        length = request.headers.get("content-length", "")
        if limit and length.isdigit() and int(length) > limit:
            raise PantauError("http.too_large", limit=f"{limit // (1024 * 1024)} MB")
        is_form = request.headers.get("content-type", "").lower().startswith(_FORM_TYPES)
        if is_form and needs_sign_in(handler) and await principal_of(request) is None:
            raise NotAuthorizedException()


def _checked_receive(receive: Any, content_type: str) -> Any:
    """receive() as the app sees it: the body passes through unchanged, and it is checked for NUL
    before the last chunk is handed over, so no handler ever decodes one. A multipart body is checked
    chunk by chunk as it passes (it may be a 5 MB photo); a form or JSON body, small, once whole."""
    if content_type.lower().startswith("multipart/form-data"):
        fields = _MultipartFields(content_type.partition(";")[2])

        async def streamed() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                fields.feed(message.get("body", b""))
            return message

        return streamed
    if not content_type.lower().startswith((*_FORM_TYPES, "application/json")) and "+json" not in content_type:
        return receive
    chunks: list[bytes] = []

    async def checked() -> Any:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                check_body(content_type, b"".join(chunks))
                chunks.clear()
        return message

    return checked
