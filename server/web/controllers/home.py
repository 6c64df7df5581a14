"""The front page after sign-in: which forms are published."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from server.storage import forms
from server.web.auth import SignedIn
from server.web.contexts import home_context
from server.web.deps import db_of, lang_of


@get("/")
async def index(request: Request, principal: SignedIn) -> Template:  # type: ignore[type-arg]
    context = home_context(await forms.list_forms(db_of(request)), lang_of(request), principal)
    return Template(template_name="home.html", context={"page": context})
