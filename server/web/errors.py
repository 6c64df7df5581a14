"""Every error leaves the app as the catalogue says: a JSON problem for API clients, an HTML page
in Indonesian (with English) for people. Unknown exceptions are logged with their traceback and
answered with a plain 500 page that shows no internals. A database that cannot serve (full disk,
lock, lost connection: storage/faults.py) is a 503 `db.unreachable` with Retry-After, counted in
the process's outage record (one log line when it starts, a count a minute, one when it ends)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Response
from litestar.exceptions import HTTPException
from litestar.response import Redirect, Template

from server.errors import PantauError
from server.storage import faults
from server.web import openrosa
from server.web.http import Request

log = logging.getLogger("pantau.web")
RETRY_AFTER_S = 10  # what a 503 asks the client to wait; the phone's outbox backs off on its own too

_HTTP_CODES = {
    400: "http.bad_request",
    401: "http.unauthorized",
    403: "http.forbidden",
    404: "http.not_found",
    405: "http.method_not_allowed",
    413: "http.too_large",
    503: "http.unavailable",
}


def _wants_json(request: Request) -> bool:
    if request.url.path.startswith(("/api/", "/healthz", "/readyz")):
        return True
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _respond(request: Request, error: PantauError) -> Response[Any]:
    if openrosa.is_openrosa(request):  # ODK Collect reads an OpenRosaResponse, not a page
        return openrosa.error_response(request, error)
    status = error.status if 400 <= error.status < 600 else 500
    headers = {"Retry-After": str(RETRY_AFTER_S)} if status == 503 else {}
    if _wants_json(request):
        body: dict[str, object] = {"code": error.code, "status": status, "detail": error.message("en"),
                                   "detail_id": error.message("id")}
        if error.params.get("field"):  # an error about one answer is listed at its question, as a 422's are
            body["errors"] = [{"path": error.params["field"], "code": error.code, "message": error.message("id"),
                               "message_en": error.message("en")}]
        return Response(body, status_code=status, media_type="application/problem+json", headers=headers)
    return Template(
        template_name="error.html",
        context={"code": error.code, "status": status, "message_id": error.message("id"),
                 "message_en": error.message("en")},
        status_code=status,
        media_type=MediaType.HTML,
        headers=headers,
    )


def pantau_error_handler(request: Request, exc: PantauError) -> Response[Any]:
    return _respond(request, exc)


def http_error_handler(request: Request, exc: HTTPException) -> Response[Any]:
    if exc.status_code == 401 and not _wants_json(request) and not openrosa.is_openrosa(request):
        # A person who is not signed in goes to the sign-in page and comes back afterwards.
        return Redirect(f"/masuk?next={quote(request.url.path)}")
    code = _HTTP_CODES.get(exc.status_code, "http.bad_request")
    detail = exc.detail if isinstance(exc.detail, str) else ""
    if exc.status_code == 403 and "csrf" in detail.lower():
        code = "http.csrf"
    if exc.status_code == 400 and exc.extra:
        detail = f"{detail}: {exc.extra}"
    error = PantauError(code, detail=detail, limit=getattr(exc, "limit", "10 MB"))
    response = _respond(request, error)
    if exc.status_code not in _HTTP_CODES:
        response.status_code = exc.status_code
    if exc.headers:
        response.headers.update(exc.headers)
    return response


def internal_error_handler(request: Request, exc: Exception) -> Response[Any]:
    found = faults.unavailable(exc)
    if found is not None:  # a query outside Database.fetch (Piccolo's) met a database that cannot serve
        reason, channel = found
        request.app.state.db.outage.failed(reason, channel)
        return _respond(request, PantauError("db.unreachable", reason=reason))
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _respond(request, PantauError("http.internal"))


def undecodable_handler(request: Request, exc: UnicodeDecodeError) -> Response[Any]:
    """A body that is not UTF-8 (raised while reading a posted form, e.g. by the CSRF middleware)."""
    return _respond(request, PantauError("http.bad_request", detail="not UTF-8"))


def too_deep_handler(request: Request, exc: RecursionError) -> Response[Any]:
    """A JSON body nested thousands of levels deep makes msgspec (inside Litestar's body reading) give
    up with RecursionError: that is bad input, not a server fault. Any other RecursionError is a bug."""
    if "deserializ" not in str(exc):
        return internal_error_handler(request, exc)
    return _respond(request, PantauError("http.bad_request", detail="JSON nested too deeply"))


EXCEPTION_HANDLERS = {
    PantauError: pantau_error_handler,
    UnicodeDecodeError: undecodable_handler,
    RecursionError: too_deep_handler,
    HTTPException: http_error_handler,
    Exception: internal_error_handler,
}
