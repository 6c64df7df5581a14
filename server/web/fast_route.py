"""The submission route's short way through the app: POST /api/v1/submissions (and the bench stages
that measure it) answered ahead of litestar's routing, middleware, dependency injection and
response machinery, which cost a submission about as much as its validation. It is the phone's
outbox's one hot request; every other route, and every request to this one that is not ordinary,
goes through litestar as before.

"Ordinary" is decided before anything is read: POST, no query string, `Content-Type:
application/json`, a declared Content-Length within the route's body limit, an X-CSRFToken header
that litestar's CSRF check (web/csrf.py) accepts, and, where the route needs one, a session that
resolves to a signed-in user (web/auth.principal_of: the same per-process cache and epoch). Then
the body is read whole; it is ordinary if it arrived complete, holds no escaped NUL (web/input_guard)
and decodes into SubmissionIn exactly as litestar decodes a `JSONBody[SubmissionIn]`. Anything else
is handed to litestar untouched (the body read so far is replayed), so every refusal (403 CSRF, 401,
413, 400 with litestar's message, a NUL, a client gone mid-body) is litestar's own, byte for byte.

From there it does what litestar's per-route stack does after those checks: calls the same answer
function as the litestar handler (controllers/api.py), encodes its body as litestar's Response
would, renders an exception through the app's exception handlers (web/errors.py) and compresses
an answer of `minimum_size` or more as CompressionMiddleware would. It sits inside AccessLog and
SecurityHeaders (web/app.py), which see it as any other route.

Keep in step with litestar: a new app middleware, guard, before_request hook, exception handler or
response header that must reach the submission route has to be added here too (docs/architecture.md
lists what this path must keep). tests/web/test_fast_route.py compares the two paths' answers and
breaks when a check is dropped."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Litestar, Response
from litestar.config.compression import CompressionConfig
from litestar.middleware._internal.exceptions.middleware import get_exception_handler
from litestar.routes import HTTPRoute

from server.domain.access import Principal
from server.web import csrf
from server.web.auth import SESSION_COOKIE, principal_of
from server.web.http import Request
from server.web.schemas import SubmissionIn
from server.web.submitting import Invalid

Answer = Callable[[Request, Principal | None, SubmissionIn], Awaitable[tuple[int, Any]]]
_JSON_HEADERS = [(b"content-type", b"application/json")]
_ENCODER = msgspec.json.Encoder()  # litestar's default serializer encodes these types natively, as this does


class FastRoute:
    """One route answered here: whether it needs a session, its answer function and the litestar
    handler of the same path (its body limit, type encoders and exception handlers; the scope's
    `route_handler`, which the security headers and compression read)."""

    def __init__(self, signed_in: bool, answer: Answer, handler: Any) -> None:
        self.signed_in = signed_in
        self.answer = answer
        self.handler = handler
        self.max_body = handler.resolve_request_max_body_size()
        self.exception_handlers = handler.resolve_exception_handlers()


class FastRoutes:
    """ASGI app: the routes given answered here when the request is ordinary, litestar (`app`'s
    handler, passed as `inner`) otherwise."""

    def __init__(self, app: Litestar, inner: Any, routes: dict[str, tuple[bool, Answer]]) -> None:
        self.app = app
        self.inner = inner
        handlers = {route.path: route.route_handler_map["POST"][0] for route in app.routes
                    if isinstance(route, HTTPRoute) and route.path in routes and "POST" in route.route_handler_map}
        self.routes = {path: FastRoute(signed_in, answer, handlers[path])
                       for path, (signed_in, answer) in routes.items()}
        config = csrf.config_of(app.state.settings)  # what web/csrf.py's middleware checks with
        self.csrf_secret, self.csrf_header, self.csrf_cookie = config.secret, config.header_name, config.cookie_name
        self.compression: CompressionConfig | None = app.compression_config

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        route = self.routes.get(scope["path"]) if scope["type"] == "http" and scope["method"] == "POST" else None
        if route is None or scope.get("query_string"):
            await self.inner(scope, receive, send)
            return
        request: Request = self.app.request_class(scope, receive)
        if not self._ordinary_headers(request, route):
            await self.inner(scope, receive, send)
            return
        scope["route_handler"] = route.handler
        principal: Principal | None = None
        if route.signed_in:
            try:
                principal = await principal_of(request)
            except Exception as exc:  # a database that cannot serve: as litestar's before_request hook would
                await self._error(scope, receive, send, request, route, exc)
                return
            if principal is None:
                await self.inner(scope, receive, send)
                return
        messages: list[Any] = []
        data = await _read(receive, messages)
        if data is None:
            await self.inner(scope, _replay(messages, receive), send)
            return
        try:
            status, out = await route.answer(request, principal, data)
        except Invalid as invalid:
            await self._response(scope, receive, send, request, route, invalid.response())
            return
        except Exception as exc:
            await self._error(scope, receive, send, request, route, exc)
            return
        body = _ENCODER.encode(out)
        if self.compression is not None and len(body) >= self.compression.minimum_size:
            await self._response(scope, receive, send, request, route, Response(out, status_code=status))
            return
        await send({"type": "http.response.start", "status": status,
                    "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    def _ordinary_headers(self, request: Request, route: FastRoute) -> bool:
        """JSON of a declared size within the limit, and a CSRF header litestar's check accepts."""
        headers = request.headers
        if headers.get("content-type") != "application/json":
            return False
        length = headers.get("content-length", "")
        if not length.isdigit() or int(length) > route.max_body:
            return False
        sent = headers.get(self.csrf_header)
        cookies = request.cookies
        cookie = cookies.get(self.csrf_cookie)
        return bool(sent and cookie and hmac.compare_digest(sent.encode(), cookie.encode())
                    and csrf.valid(self.csrf_secret, sent, cookies.get(SESSION_COOKIE, "")))

    async def _response(self, scope: Any, receive: Any, send: Any, request: Request, route: FastRoute,
                        response: Any) -> None:
        """A litestar Response as the route's stack sends it: through the compression middleware."""
        asgi: Any = response.to_asgi_response(app=None, request=request,
                                              type_encoders=route.handler.resolve_type_encoders())
        if self.compression is not None:
            asgi = self.compression.middleware_class(app=asgi, config=self.compression)
        await asgi(scope, receive, send)

    async def _error(self, scope: Any, receive: Any, send: Any, request: Request, route: FastRoute,
                     exc: Exception) -> None:
        """An exception as litestar's exception middleware inside the route's stack answers it."""
        handler = get_exception_handler(route.exception_handlers, exc)
        if handler is None:
            raise exc
        await self._response(scope, receive, send, request, route, handler(request, exc))


async def _read(receive: Any, messages: list[Any]) -> SubmissionIn | None:
    """The whole body decoded as litestar decodes a JSONBody[SubmissionIn] (plain JSON, then converted
    leniently into the Struct), or None when litestar should answer: the client went away, the body
    is empty, holds an escaped NUL (input_guard's refusal) or does not decode."""
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None
        if not message.get("more_body", False):
            break
    body = b"".join(m.get("body", b"") for m in messages) if len(messages) > 1 else messages[0].get("body", b"")
    if not body or b"\\u0000" in body:
        return None
    try:
        return msgspec.convert(msgspec.json.decode(body), SubmissionIn, strict=False, str_keys=True)
    except Exception:  # whatever the reason, litestar's own refusal answers it
        return None


def _replay(messages: list[Any], receive: Any) -> Any:
    """receive() that hands over the messages already read first, then the client's next ones."""
    pending = list(messages)

    async def replay() -> Any:
        return pending.pop(0) if pending else await receive()

    return replay
