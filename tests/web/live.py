"""A real `pantau serve` on the test's own database (SQLite file or PostgreSQL), for what only a real
server shows: requests that truly run at the same time, and clients that come from different
addresses. Linux answers on all of 127.0.0.0/8, so a client bound to 127.0.0.2 is, to the server,
another machine; nothing about the address is faked."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec

from server.settings import Settings
from server.storage.db import Database
from tests.conftest import REPO
from tests.serving import serve, stop, wait_until_ready
from tests.web.conftest import PASSWORD


@dataclass
class Live:
    url: str
    log: Path
    env: dict[str, str]  # the server's settings, for a CLI command against the same database

    def client(self, address: str = "127.0.0.1") -> httpx.AsyncClient:
        """A browser on the machine with this address: its own cookies, its own source address."""
        transport = httpx.AsyncHTTPTransport(local_address=address)
        return httpx.AsyncClient(base_url=self.url, transport=transport, follow_redirects=False, timeout=60)


async def csrf(client: httpx.AsyncClient) -> str:
    if "csrftoken" not in client.cookies:
        await client.get("/masuk")
    return str(client.cookies["csrftoken"])


async def sign_in(client: httpx.AsyncClient, username: str, password: str = PASSWORD,
                  headers: dict[str, str] | None = None) -> httpx.Response:
    token = await csrf(client)
    return await client.post("/masuk", data={"username": username, "password": password, "_csrf_token": token},
                             headers=headers or {})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def node(settings: Settings, workdir: Path, **variables: str) -> Live:
    """Where a server for these settings will answer, and its environment (not started)."""
    port, log = _free_port(), workdir / "serve.log"
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_DATABASE_URL": settings.database_url,
           "PANTAU_DATA_DIR": settings.data_dir, "PANTAU_SECRET_KEY": settings.secret_key,
           "PANTAU_HOST": "127.0.0.1", "PANTAU_PORT": str(port), "PANTAU_LOG_LEVEL": "INFO", **variables}
    return Live(f"http://127.0.0.1:{port}", log, env)


@contextmanager
def serving(settings: Settings, workdir: Path, **variables: str) -> Iterator[Live]:
    live = node(settings, workdir, **variables)
    with serve([sys.executable, "-m", "server.cli.main", "serve"], live.env, live.url, live.log, cwd=workdir):
        yield live


@contextmanager
def started_nodes(settings: Settings, tmp_path: Path,
                  names: tuple[str, ...] = ("a", "b")) -> Iterator[tuple[list[Live], list[subprocess.Popen[bytes]]]]:
    """Several `pantau serve` processes on the settings' one database, started at once (each takes
    seconds to import and check), each with its own working and data directory: nothing is shared
    but the database (on SQLite also the machine's data directory, as workers of one machine would).
    Yields the nodes and their processes (a test may stop one); every one still running is stopped."""
    lives: list[Live] = []
    processes: list[subprocess.Popen[bytes]] = []
    with ExitStack() as logs:
        try:
            for name in names:
                workdir = tmp_path / name
                workdir.mkdir()
                own = settings if settings.is_sqlite else msgspec.structs.replace(settings,
                                                                                  data_dir=str(workdir / "data"))
                live = node(own, workdir)
                lives.append(live)
                out = logs.enter_context(live.log.open("wb"))
                processes.append(subprocess.Popen([sys.executable, "-m", "server.cli.main", "serve"], env=live.env,
                                                  cwd=workdir, stdout=out, stderr=subprocess.STDOUT))
            for live, process in zip(lives, processes, strict=True):
                wait_until_ready(live.url, process, live.log)
            yield lives, processes
        finally:
            for process in processes:
                if process.poll() is None:
                    stop(process)


async def query(settings: Settings, sql: str, *args: Any) -> list[dict[str, Any]]:
    """One statement on the settings' database from the test's side, on a connection of its own (the
    tables stay bound to whatever bound them)."""
    db = Database(settings.database_url)
    await db.open(bind_tables=False)
    try:
        return await db.fetch(sql, *args)
    finally:
        await db.close()

