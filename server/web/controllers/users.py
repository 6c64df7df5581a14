"""User management for admins: create, set role and areas, reset password, deactivate, lift a
sign-in lock. Every change is audited; deactivating ends the user's sessions at once (storage/users.set_active)."""

from __future__ import annotations

import re

import anyio
from litestar import Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.domain import sign_in
from server.domain.access import ROLES, Principal
from server.domain.users import check_area, check_role, check_username, generate_password, hash_password
from server.errors import PantauError
from server.storage import access, audit, logins, users
from server.web.auth import SignedIn, client_address
from server.web.contexts import UserEditContext, UsersContext, user_row
from server.web.deps import db_of, lang_of
from server.web.formdata import read_form, text
from server.web.http import Request
from server.web.viewer import viewer_of


def parse_areas(raw: str) -> tuple[str, ...]:
    return tuple(check_area(code) for code in re.split(r"[\s,;]+", raw) if code)


async def _list_page(request: Request, principal: Principal, *, error: PantauError | None = None,
                     message: str = "", status: int = 200) -> Template:
    access.require(principal, "manage_users")
    lang = lang_of(request)
    rows = [user_row(a) for a in await users.list_all(db_of(request))]
    context = UsersContext(lang=lang, viewer=viewer_of(principal), users=rows, roles=list(ROLES),
                           message=message, error=error.message(lang) if error else "",
                           error_code=error.code if error else "")
    return Template(template_name="users.html", context={"page": context}, status_code=status)


@get("/pengguna")
async def users_page(request: Request, principal: SignedIn) -> Template:
    return await _list_page(request, principal)


@post("/pengguna")
async def create_user(request: Request, principal: SignedIn) -> Template | Redirect:
    access.require(principal, "manage_users")
    form = await read_form(request)
    try:
        username = check_username(text(form, "username", max_len=40).lower())
        role = check_role(text(form, "role", max_len=20))
        areas = parse_areas(text(form, "areas", max_len=1000))
        password_hash = await anyio.to_thread.run_sync(hash_password, text(form, "password", max_len=1024,
                                                                            strip=False))
        account = await users.create(db_of(request), username, role, password_hash,
                                     text(form, "display_name", max_len=100), areas)
    except PantauError as exc:
        return await _list_page(request, principal, error=exc, status=exc.status if exc.status >= 400 else 400)
    await audit.record(db_of(request), principal, "user.create", target_type="user", target_id=str(account.id),
                       detail=f"role={role} areas={' '.join(areas)}", address=client_address(request))
    return Redirect(f"/pengguna/{account.id}")


async def _edit_page(request: Request, principal: SignedIn, user_id: int, *,
                     error: PantauError | None = None, message: str = "", new_password: str = "",
                     status: int = 200) -> Template:
    account = await access.load_user_for(db_of(request), principal, user_id)
    lang = lang_of(request)
    failures = await logins.recent_failures(db_of(request), account.username)
    context = UserEditContext(lang=lang, viewer=viewer_of(principal), user=user_row(account), roles=list(ROLES),
                              message=message, error=error.message(lang) if error else "",
                              error_code=error.code if error else "",
                              new_password=new_password, failed_sign_ins=failures,
                              window_minutes=int(sign_in.WINDOW.total_seconds() // 60),
                              locked_for_new_addresses=sign_in.locked_for_new_addresses(failures))
    return Template(template_name="user_edit.html", context={"page": context}, status_code=status)


@get("/pengguna/{user_id:int}")
async def user_page(request: Request, principal: SignedIn, user_id: FromPath[int]) -> Template:
    return await _edit_page(request, principal, user_id)


@post("/pengguna/{user_id:int}/peran")
async def set_role(request: Request, principal: SignedIn, user_id: FromPath[int]) -> Template:
    db = db_of(request)
    account = await access.load_user_for(db, principal, user_id)
    form = await read_form(request)
    try:
        role = check_role(text(form, "role", max_len=20))
        areas = parse_areas(text(form, "areas", max_len=1000))
        if account.role == "admin" and role != "admin" and await users.active_admins(db) <= 1:
            raise PantauError("user.last_admin")
    except PantauError as exc:
        return await _edit_page(request, principal, user_id, error=exc, status=400)
    await users.set_role(db, user_id, role, areas)
    await audit.record(db, principal, "user.role", target_type="user", target_id=str(user_id),
                       detail=f"{account.role}->{role} areas={' '.join(areas)}", address=client_address(request))
    return await _edit_page(request, principal, user_id, message="OK")


@post("/pengguna/{user_id:int}/sandi")
async def reset_password(request: Request, principal: SignedIn, user_id: FromPath[int]) -> Template:
    db = db_of(request)
    await access.load_user_for(db, principal, user_id)
    password = generate_password()
    await users.set_password(db, user_id, await anyio.to_thread.run_sync(hash_password, password))
    await audit.record(db, principal, "user.password_reset", target_type="user", target_id=str(user_id),
                       address=client_address(request))
    return await _edit_page(request, principal, user_id, new_password=password)


@post("/pengguna/{user_id:int}/status")
async def set_active(request: Request, principal: SignedIn, user_id: FromPath[int]) -> Template:
    db = db_of(request)
    account = await access.load_user_for(db, principal, user_id)
    active = text(await read_form(request), "active", max_len=5) == "1"
    if not active and account.id == principal.id:
        return await _edit_page(request, principal, user_id, error=PantauError("user.self_deactivate"), status=400)
    if not active and account.role == "admin" and await users.active_admins(db) <= 1:
        return await _edit_page(request, principal, user_id, error=PantauError("user.last_admin"), status=400)
    await users.set_active(db, user_id, active)
    await audit.record(db, principal, "user.activate" if active else "user.deactivate", target_type="user",
                       target_id=str(user_id), address=client_address(request))
    return await _edit_page(request, principal, user_id, message="OK")


@post("/pengguna/{user_id:int}/buka-kunci")
async def unlock(request: Request, principal: SignedIn, user_id: FromPath[int]) -> Template:
    """Lift every sign-in lock on this person, e.g. after guesses from many addresses locked them out of
    a new one; the guesses are forgotten, and the audit log keeps how many there were."""
    db = db_of(request)
    account = await access.load_user_for(db, principal, user_id)
    forgotten = await logins.unlock(db, account.username)
    await audit.record(db, principal, "user.unlock", target_type="user", target_id=str(user_id),
                       detail=f"failures={forgotten}", address=client_address(request))
    return await _edit_page(request, principal, user_id, message="OK")


router = Router(path="/", route_handlers=[
    users_page, create_user, user_page, set_role, reset_password, set_active, unlock,
])
