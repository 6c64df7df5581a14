"""Liveness and readiness for load balancers and `make run`: /healthz says the process answers,
/readyz that the database answers and its schema is current."""

from __future__ import annotations

from litestar import Request, Response, get

from server.storage import migrate
from server.web.deps import db_of


@get("/healthz", sync_to_thread=False)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz")
async def readyz(request: Request) -> Response[dict[str, object]]:  # type: ignore[type-arg]
    db = db_of(request)
    try:
        waiting = await migrate.pending(db)
    except Exception as exc:
        return Response({"status": "unavailable", "database": db.kind, "detail": type(exc).__name__},
                        status_code=503)
    if waiting:
        return Response({"status": "unavailable", "database": db.kind, "pending_migrations": waiting},
                        status_code=503)
    return Response({"status": "ready", "database": db.kind, "migrations": "current"})
