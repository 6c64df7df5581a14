"""Liveness and readiness for load balancers and `make run`: /healthz says the process answers,
/readyz that the database answers and its schema is current."""

from __future__ import annotations

from litestar import Response, Router, get

from server.errors import PantauError
from server.storage import migrate
from server.web.deps import db_of
from server.web.errors import RETRY_AFTER_S
from server.web.http import Request


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz")
async def readyz(request: Request) -> Response[dict[str, object]]:
    db = db_of(request)
    try:
        waiting = await migrate.pending(db)
    except Exception as raised:  # db.unreachable: the database cannot serve now (counted as an outage)
        exc = raised if isinstance(raised, PantauError) else db.unreachable(raised, "read")
        if not isinstance(exc, PantauError):
            raise
        return Response({"status": "unavailable", "database": db.kind, "code": exc.code,
                         "detail": exc.message("en"), "detail_id": exc.message("id")},
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    if waiting:
        return Response({"status": "unavailable", "database": db.kind, "pending_migrations": waiting},
                        status_code=503, headers={"Retry-After": str(RETRY_AFTER_S)})
    return Response({"status": "ready", "database": db.kind, "migrations": "current"})


router = Router(path="/", route_handlers=[healthz, readyz])
