"""Sign in and sign out. Failed attempts are limited per (username, address), per username and per
address (domain/sign_in.py), and the attempt is counted before the password is checked; the password
is checked in a worker thread (argon2 takes ~0.1 s) and against a dummy hash for unknown users, so
the answer time does not reveal which usernames exist."""

from __future__ import annotations

from typing import Any

import anyio
from litestar import Response, Router, get, post
from litestar.response import Redirect, Template

from server.domain import sign_in as rules
from server.domain.users import hash_password, verify_password
from server.errors import PantauError
from server.storage import audit, logins, sessions, users
from server.web import csrf
from server.web.auth import (
    SESSION_COOKIE,
    clear_session_cookie,
    client_address,
    principal_of,
    set_session_cookie,
)
from server.web.contexts import SignInContext
from server.web.deps import db_of, lang_of, settings_of
from server.web.formdata import read_form, text
from server.web.http import Request

_DUMMY_HASH = hash_password("pantau-dummy-password")


def safe_next(target: str) -> str:
    """Only same-site paths: an open redirect would make the sign-in page a phishing tool."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target and len(target) < 500:
        return target
    return "/"


def _page(request: Request, *, username: str = "", next_path: str = "/", error: PantauError | None = None,
          status: int = 200) -> Template:
    lang = lang_of(request)
    context = SignInContext(lang=lang, username=username, next_path=next_path,
                            error=error.message(lang) if error else "", error_code=error.code if error else "")
    return Template(template_name="sign_in.html", context={"page": context}, status_code=status)


@get("/masuk")
async def sign_in_page(request: Request) -> Template | Redirect:
    next_path = safe_next(request.query_params.get("next", "/"))
    if await principal_of(request) is not None:
        return Redirect(next_path)
    return _page(request, next_path=next_path)


@post("/masuk")
async def sign_in(request: Request) -> Response[Any] | Template:
    db, address = db_of(request), client_address(request)
    form = await read_form(request)
    username = text(form, "username", max_len=80).lower()
    password = text(form, "password", max_len=1024, strip=False)
    next_path = safe_next(text(form, "next", max_len=500) or "/")
    attempt = await logins.take_attempt(db, username, address)
    if attempt is None:
        error = PantauError("auth.rate_limited", minutes=int(rules.WINDOW.total_seconds() // 60))
        return _page(request, username=username, next_path=next_path, error=error, status=429)
    found = await users.password_hash_of(db, username)
    stored = found.password_hash if found else _DUMMY_HASH
    ok = await anyio.to_thread.run_sync(verify_password, stored, password)
    if not (ok and found and found.active):
        await audit.record(db, None, "auth.sign_in_failed", actor_name=username, address=address,
                           detail="inactive" if ok and found else "")
        code = "user.inactive" if ok and found else "auth.bad_credentials"
        return _page(request, username=username, next_path=next_path, error=PantauError(code), status=401)
    user_id = found.user_id
    await logins.succeeded(db, attempt, user_id, username, address)
    if previous := request.cookies.get(SESSION_COOKIE, ""):
        await sessions.end(db, previous)  # a sign-in always starts a new session, never adopts one
    token = await sessions.create(db, user_id, address, settings_of(request).session_days)
    await audit.record(db, None, "auth.sign_in", actor_name=username, target_type="user",
                       target_id=str(user_id), address=address)
    response = Redirect(next_path)
    set_session_cookie(response, token, settings_of(request))
    csrf.issue(response, settings_of(request), token)  # the anonymous token does not carry over
    return response


@post("/keluar")
async def sign_out(request: Request) -> Redirect:
    principal = await principal_of(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    if token:
        await sessions.end(db_of(request), token)
    if principal is not None:
        await audit.record(db_of(request), principal, "auth.sign_out", address=client_address(request))
    response = Redirect("/masuk")
    clear_session_cookie(response)
    csrf.issue(response, settings_of(request), "")
    return response


router = Router(path="/", route_handlers=[sign_in_page, sign_in, sign_out])
