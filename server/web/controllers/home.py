"""The front page after sign-in: which forms are published."""

from __future__ import annotations

from litestar import Request, get
from litestar.response import Template

from server.storage import form_drafts, forms
from server.web.auth import SignedIn
from server.web.contexts import home_context
from server.web.deps import db_of, lang_of


@get("/")
async def index(request: Request, principal: SignedIn) -> Template:  # type: ignore[type-arg]
    db = db_of(request)
    shown = [f for f in await forms.list_forms(db) if await form_drafts.open_to(db, principal, f.form_id)]  # issue 8
    context = home_context(shown, lang_of(request), principal)
    return Template(template_name="home.html", context={"page": context})
