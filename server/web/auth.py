"""Who is asking: the session cookie resolved to a Principal on every request, from this process's
session cache (storage/sessions.py) or one indexed query, so a deactivated user or a changed
password takes effect at once in the process that made the change and within a second in every
other process and node. Scripts reading
the JSON API send a personal token instead (`Authorization: Bearer ...`, GET only). Handlers that
need a signed-in user declare `principal: Principal`; anonymous visitors get a redirect to the
sign-in page (HTML) or a 401 problem (API)."""

from __future__ import annotations

from typing import Any

from litestar import Response
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException

from server.domain.access import Principal
from server.settings import Settings
from server.storage import sessions, tokens
from server.web.deps import db_of, settings_of
from server.web.http import Request
from server.web.proxies import client_address_of

SESSION_COOKIE = "pantau_sesi"
_STATE_KEY = "pantau_principal"


async def principal_of(request: Request) -> Principal | None:
    state = request.scope.setdefault("state", {})
    if _STATE_KEY not in state:
        token = request.cookies.get(SESSION_COOKIE, "")
        found: Any = await sessions.resolve(db_of(request), token) if token else None
        if found is None and (bearer := bearer_token(request)):
            found = await tokens.resolve(db_of(request), bearer)
        state[_STATE_KEY] = found
    found = state[_STATE_KEY]
    return found.principal if found else None


def bearer_token(request: Request) -> str | None:
    """A personal API token (storage/tokens.py), honoured only to read the JSON API: it cannot pass
    the CSRF check of a write, and keeping it off the HTML pages keeps a leaked token to what scripts
    need."""
    if request.method not in ("GET", "HEAD") or not request.url.path.startswith("/api/"):
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


async def session_hash_of(request: Request) -> str | None:
    await principal_of(request)
    found = request.scope["state"].get(_STATE_KEY)
    return found.token_hash if found else None


async def require_principal(request: Request) -> Principal:
    principal = await principal_of(request)
    if principal is None:
        raise NotAuthorizedException()
    return principal


def client_address(request: Request) -> str:
    return client_address_of(request.scope, settings_of(request).trusted_proxies)


def set_session_cookie(response: Response[Any], token: str, settings: Settings) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=settings.session_days * 86400, path="/",
                        httponly=True, samesite="lax", secure=settings.https)


def clear_session_cookie(response: Response[Any]) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/")


# Handlers declare `principal: SignedIn` to require a signed-in user (name-based injection).
SignedIn = NamedDependency[Principal]


async def signed_in(connection: Any, _handler: Any) -> None:
    """Guard: checked before the body is read, so an anonymous caller learns nothing but 401."""
    await signed_in_first(connection)


async def signed_in_first(request: Request) -> None:
    """The same check as `signed_in`, as a before_request hook, for the submission route: Litestar
    runs guards with a copy of the route handler per request (3-4 % of a submission's CPU under
    load); before_request also runs before the body is read."""
    if await principal_of(request) is None:
        raise NotAuthorizedException()
