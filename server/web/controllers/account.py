"""My account: who I am, my areas, changing my own password (which ends my other sessions), and my
app keys for ODK Collect and KoboCollect: a key is made for one phone, shown once as a QR
code with the app's settings, and can be revoked; both are audited."""

from __future__ import annotations

import anyio
import segno
from litestar import Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.domain.access import Principal
from server.domain.collect import collect_settings, qr_payload
from server.domain.users import hash_password, verify_password
from server.errors import PantauError
from server.storage import access, app_keys, audit, users
from server.web.auth import SignedIn, client_address, session_hash_of
from server.web.contexts import AccountContext, AppKeyRow
from server.web.deps import db_of, lang_of
from server.web.formdata import read_form, text
from server.web.http import Request
from server.web.openrosa import site_url
from server.web.review_context import when
from server.web.viewer import viewer_of


async def _page(request: Request, principal: Principal, *, message: str = "",
                error: PantauError | None = None, status: int = 200, new_key: str = "") -> Template:
    lang = lang_of(request)
    keys = [AppKeyRow(k.id, k.name, k.prefix, when(k.created_at), when(k.last_used_at), k.active)
            for k in await app_keys.list_for(db_of(request), principal)]
    url = f"{site_url(request)}/key/{new_key}/" if new_key else ""
    context = AccountContext(lang=lang, viewer=viewer_of(principal), areas=list(principal.areas),
                             message=message, error=error.message(lang) if error else "",
                             error_code=error.code if error else "", app_keys=keys,
                             new_key_url=url, new_key_qr=qr_svg(url, principal) if url else "")
    # A new key is on this page once: no cache may keep it.
    return Template(template_name="account.html", context={"page": context}, status_code=status,
                    headers={"Cache-Control": "no-store"})


def qr_svg(server_url: str, principal: Principal) -> str:
    """The QR code ODK Collect and KoboCollect scan (domain/collect.py), as an inline SVG element."""
    payload = qr_payload(collect_settings(server_url, f"Pantau ({principal.username})"))
    return segno.make(payload, error="m", micro=False).svg_inline(scale=4, border=4, dark="#000", light="#fff",
                                                                   omitsize=False)


@get("/akun")
async def account_page(request: Request, principal: SignedIn) -> Template:
    return await _page(request, principal)


@post("/akun/sandi")
async def change_password(request: Request, principal: SignedIn) -> Template:
    db = db_of(request)
    form = await read_form(request)
    current = text(form, "current", max_len=1024, strip=False)
    new, repeat = text(form, "new", max_len=1024, strip=False), text(form, "repeat", max_len=1024, strip=False)
    found = await users.password_hash_of(db, principal.username)
    if found is None or not await anyio.to_thread.run_sync(verify_password, found.password_hash, current):
        return await _page(request, principal, error=PantauError("auth.wrong_password"), status=400)
    if new != repeat:
        return await _page(request, principal, error=PantauError("auth.password_mismatch"), status=400)
    try:
        new_hash = await anyio.to_thread.run_sync(hash_password, new)
    except PantauError as exc:
        return await _page(request, principal, error=exc, status=400)
    await users.set_password(db, principal.id, new_hash, keep_session=await session_hash_of(request))
    await audit.record(db, principal, "auth.password_change", target_type="user", target_id=str(principal.id),
                       address=client_address(request))
    done = "Kata sandi diganti." if lang_of(request) == "id" else "Password changed."
    return await _page(request, principal, message=done)


@post("/akun/kunci-aplikasi")
async def create_app_key(request: Request, principal: SignedIn) -> Template:
    name = text(await read_form(request), "name", max_len=app_keys.MAX_NAME)
    try:
        key, secret = await app_keys.create(db_of(request), principal, name)
    except PantauError as exc:
        return await _page(request, principal, error=exc, status=exc.status)
    await audit.record(db_of(request), principal, "app_key.create", target_type="app_key", target_id=str(key.id),
                       detail=key.name, address=client_address(request))
    done = "Kunci aplikasi dibuat." if lang_of(request) == "id" else "App key made."
    return await _page(request, principal, message=done, new_key=secret)


@post("/akun/kunci-aplikasi/{key_id:int}/cabut")
async def revoke_app_key(request: Request, principal: SignedIn, key_id: FromPath[int]) -> Redirect:
    key = await access.app_key_for(db_of(request), principal, key_id)
    await app_keys.revoke(db_of(request), principal, key)
    await audit.record(db_of(request), principal, "app_key.revoke", target_type="app_key", target_id=str(key_id),
                       detail=key.name, address=client_address(request))
    return Redirect("/akun#kunci-aplikasi", status_code=303)


router = Router(path="/", route_handlers=[account_page, change_password, create_app_key, revoke_app_key])
