"""The browser-side defences every response carries: a Content-Security-Policy that allows only our
own scripts (no inline script, no eval, no third-party origin), no framing by other sites, no MIME
sniffing, and no full URL (with its query: search terms, ids) sent to other sites as a referrer.
A pure ASGI wrapper around the whole app, so 404s and error pages carry them too.

A route may relax one directive through its handler's `opt={"csp": {...}}`: the form editor's
preview is framed by the editor itself (frame-ancestors 'self'), and the report preview inlines the
report's print stylesheet and its charts' SVG styles (style-src 'unsafe-inline'; still no script)."""

from __future__ import annotations

import time
from email.utils import formatdate
from typing import Any

POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data: blob:",  # data: the favicon placeholder; blob: a photo picked on the phone
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
_FRAME_OPTIONS = {"'none'": b"DENY", "'self'": b"SAMEORIGIN"}


def policy(overrides: dict[str, str] | None = None) -> str:
    return "; ".join(f"{name} {value}" for name, value in {**POLICY, **(overrides or {})}.items())


_DEFAULT = policy().encode()
_ALWAYS = [(b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]


def _headers_for(scope: Any) -> list[tuple[bytes, bytes]]:
    handler = scope.get("route_handler")
    overrides = handler.opt.get("csp") if handler is not None else None
    csp = policy(overrides).encode() if overrides else _DEFAULT
    frame = _FRAME_OPTIONS.get((overrides or {}).get("frame-ancestors", "'none'"), b"DENY")
    return [*_ALWAYS, (b"content-security-policy", csp), (b"x-frame-options", frame)]


_DATE: list[Any] = [0, b""]  # (second, its HTTP date): formatted once a second


def http_date() -> bytes:
    """The `Date` header every response carries (OpenRosa requires it on its answers); the
    app adds it rather than uvicorn (serve.py: date_header=False), so a test client sees it too."""
    now = int(time.time())
    if _DATE[0] != now:
        _DATE[:] = [now, formatdate(now, usegmt=True).encode()]
    return _DATE[1]  # type: ignore[no-any-return]


class SecurityHeadersMiddleware:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in _headers_for(scope) if name not in present]
                if b"date" not in present:
                    headers.append((b"date", http_date()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
