"""My account: who I am, my areas, and changing my own password (which ends my other sessions)."""

from __future__ import annotations

import anyio
from litestar import Request, get, post
from litestar.response import Template

from server.domain.access import Principal
from server.domain.users import hash_password, verify_password
from server.errors import PantauError
from server.storage import audit, users
from server.web.auth import SignedIn, client_address, session_hash_of
from server.web.contexts import AccountContext, viewer_of
from server.web.deps import db_of, lang_of
from server.web.formdata import read_form, text


def _page(request: Request, principal: Principal, *, message: str = "", error: PantauError | None = None,  # type: ignore[type-arg]
          status: int = 200) -> Template:
    lang = lang_of(request)
    context = AccountContext(lang=lang, viewer=viewer_of(principal), areas=list(principal.areas),
                             message=message, error=error.message(lang) if error else "")
    return Template(template_name="account.html", context={"page": context}, status_code=status)


@get("/akun")
async def account_page(request: Request, principal: SignedIn) -> Template:  # type: ignore[type-arg]
    return _page(request, principal)


@post("/akun/sandi")
async def change_password(request: Request, principal: SignedIn) -> Template:  # type: ignore[type-arg]
    db = db_of(request)
    form = await read_form(request)
    current = text(form, "current", max_len=1024, strip=False)
    new, repeat = text(form, "new", max_len=1024, strip=False), text(form, "repeat", max_len=1024, strip=False)
    found = await users.password_hash_of(db, principal.username)
    if found is None or not await anyio.to_thread.run_sync(verify_password, found[1], current):
        return _page(request, principal, error=PantauError("auth.wrong_password"), status=400)
    if new != repeat:
        return _page(request, principal, error=PantauError("auth.password_mismatch"), status=400)
    try:
        new_hash = await anyio.to_thread.run_sync(hash_password, new)
    except PantauError as exc:
        return _page(request, principal, error=exc, status=400)
    await users.set_password(db, principal.id, new_hash, keep_session=await session_hash_of(request))
    await audit.record(db, principal, "auth.password_change", target_type="user", target_id=str(principal.id),
                       address=client_address(request))
    done = "Kata sandi diganti." if lang_of(request) == "id" else "Password changed."
    return _page(request, principal, message=done)
