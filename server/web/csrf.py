"""CSRF tokens bound to the session: OWASP's signed double-submit cookie. Litestar's middleware signs
a random value with the app secret alone, so any valid token (one fetched anonymously, or by an
attacker for their own browser) passed for every session whose browser could be made to send it,
e.g. a csrftoken cookie planted from a sibling subdomain or left on a shared phone. Here the
signature also covers the session: HMAC(secret, session id, random), so a token works only with
the session it was made for, and signing in or out hands out a new one.

Everything else is Litestar's middleware, unchanged: where the token travels (the csrftoken cookie
the phone runtime reads, the _csrf_token field, the X-CSRFToken header), which methods are safe,
the exclusions, and the 403 that web/errors.py turns into http.csrf."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import TYPE_CHECKING, Any

from litestar import Response
from litestar.config.csrf import CSRFConfig
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.middleware._utils import should_bypass_middleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.utils.scope.state import ScopeState

from server.settings import Settings
from server.storage.sessions import token_hash
from server.web.auth import SESSION_COOKIE

if TYPE_CHECKING:
    from litestar.types import Receive, Scope, Send

_RANDOM_HEX = 64


def config_of(settings: Settings) -> CSRFConfig:
    return CSRFConfig(secret=settings.secret_key, cookie_secure=settings.https, cookie_samesite="lax")


def _signature(secret: str, value: str, session_token: str) -> str:
    # Length-prefixed, so no choice of session and value can be read as another pair.
    session_id = token_hash(session_token) if session_token else ""
    message = f"{len(session_id)}!{session_id}!{len(value)}!{value}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def mint(secret: str, session_token: str) -> str:
    value = secrets.token_hex(_RANDOM_HEX // 2)
    return value + _signature(secret, value, session_token)


def valid(secret: str, token: str, session_token: str) -> bool:
    if len(token) != _RANDOM_HEX * 2:
        return False
    value, signature = token[:_RANDOM_HEX], token[_RANDOM_HEX:]
    # Bytes: compare_digest refuses str with non-ASCII characters, which a hostile cookie may hold.
    return hmac.compare_digest(signature.encode(), _signature(secret, value, session_token).encode())


def issue(response: Response[Any], settings: Settings, session_token: str) -> None:
    """A fresh token for the session that starts (sign-in) or for none (sign-out), replacing the old one."""
    config = config_of(settings)
    response.set_cookie(config.cookie_name, mint(config.secret, session_token), path=config.cookie_path,
                        secure=config.cookie_secure, httponly=config.cookie_httponly,
                        samesite=config.cookie_samesite)


class SessionCSRFMiddleware(CSRFMiddleware):
    """Litestar's CSRFMiddleware.__call__ with the session in the token's signature."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or should_bypass_middleware(
                scope=scope, scopes=self.scopes, exclude_opt_key=self.config.exclude_from_csrf_key,
                exclude_path_pattern=self.exclude):
            await self.app(scope, receive, send)
            return
        request: Any = scope["litestar_app"].request_class(scope=scope, receive=receive)
        session = request.cookies.get(SESSION_COOKIE, "")
        cookie = request.cookies.get(self.config.cookie_name)
        state = ScopeState.from_scope(scope)
        if request.method in self.config.safe_methods:
            # A token made for another session (or none) is replaced, not reused.
            kept = cookie if cookie and valid(self.config.secret, cookie, session) else None
            token = state.csrf_token = kept or mint(self.config.secret, session)
            await self.app(scope, receive, self.create_send_wrapper(send=send, csrf_cookie=kept, token=token))
            return
        sent = request.headers.get(self.config.header_name)
        if not sent and request.content_type[0] in {RequestEncodingType.URL_ENCODED, RequestEncodingType.MULTI_PART}:
            sent = (await request.form()).get("_csrf_token", None)
        if not (isinstance(sent, str) and cookie and hmac.compare_digest(sent.encode(), cookie.encode())
                and valid(self.config.secret, sent, session)):
            raise PermissionDeniedException("CSRF token verification failed")
        state.csrf_token = sent
        await self.app(scope, receive, send)


def middleware(settings: Settings) -> DefineMiddleware:
    return DefineMiddleware(SessionCSRFMiddleware, config=config_of(settings))
