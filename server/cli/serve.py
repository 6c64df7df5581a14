"""`pantau serve`: check everything that can stop the server from working (settings, database
folder, reachable database, current schema, free port; on PostgreSQL a secret key set for every node)
and say which one in one line; then serve."""

from __future__ import annotations

import argparse
import asyncio
import errno
import os
import socket
from typing import Any

import msgspec

from server.cli.common import prepared_settings, with_db
from server.errors import PantauError
from server.settings import Settings, hand_down, load_settings, require_shared_secret_key
from server.storage import keyring, migrate, pii
from server.storage.db import Database, connection_budget, pool_size_for


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="serve Pantau over HTTP (PANTAU_HOST, PANTAU_PORT)")
    p.set_defaults(func=_serve)


def check_port(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PantauError("serve.port_in_use", host=host, port=port) from None
            raise PantauError("settings.invalid", name="PANTAU_HOST", reason=exc.strerror or str(exc)) from None


def _check_schema(settings: Settings) -> None:
    waiting = with_db(settings, migrate.pending)
    if waiting:
        raise PantauError("db.not_migrated", pending=len(waiting))
    with_db(settings, lambda db: keyring.refuse_wrong_key(db, pii.keys_of(settings)))  # the NIK key


def _fit_pool(settings: Settings, workers: int) -> Settings:
    """PostgreSQL: size each process's read pool so that the processes together stay within the
    server's max_connections, or refuse to start (a full server fails requests at random under load,
    long after start). The size reaches the worker processes through their environment."""
    if settings.is_sqlite:
        return settings

    async def budget() -> tuple[int, int, int]:
        db = Database(settings.database_url, pool_size=1)  # one connection: it is counted as in use
        try:
            await db.open()
            return await connection_budget(db)
        finally:
            await db.close()

    most, reserved, in_use = asyncio.run(budget())
    size = pool_size_for(workers, most, reserved, max(in_use - 1, 0), settings.db_pool_size)
    hand_down("PANTAU_DB_POOL_SIZE", str(size))
    return msgspec.structs.replace(settings, db_pool_size=size)


def worker_count(settings: Settings) -> int:
    return settings.workers or os.cpu_count() or 1


def worker_app() -> Any:  # the Litestar app (only server.web imports litestar)
    """The app of one worker process when there are several: each builds its own from the same
    environment (the parent has already made the secret key file and checked the schema)."""
    from server.web.app import create_app

    return create_app(prepared_settings())


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.web.app import create_app
    from server.web.client_timeouts import GuardedHttpToolsProtocol

    require_shared_secret_key(load_settings())
    settings = prepared_settings()
    _check_schema(settings)
    check_port(settings.host, settings.port)
    workers = worker_count(settings)
    settings = _fit_pool(settings, workers)
    print(f"Pantau melayani di / serving at http://{settings.host}:{settings.port} "
          f"({workers} proses / processes)", flush=True)
    # proxy_headers off: uvicorn would rewrite the client address from X-Forwarded-For for its own
    # list of proxies; web/proxies.py does it once, for PANTAU_TRUSTED_PROXIES only.
    # date_header off: the app adds Date itself (web/security_headers.py), once.
    # http: uvicorn's httptools protocol with a bound on the time to receive headers and body (slow clients).
    options: dict[str, Any] = dict(host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                                   access_log=False, proxy_headers=False, server_header=False, date_header=False,
                                   lifespan="on", http=GuardedHttpToolsProtocol)
    if workers == 1:
        uvicorn.Server(uvicorn.Config(create_app(settings), **options)).run()
    else:  # uvicorn's supervisor: one listening socket, `workers` processes, a dead one is replaced
        uvicorn.run("server.cli.serve:worker_app", factory=True, workers=workers, **options)
    return 0
