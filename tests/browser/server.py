"""A real Pantau for browser tests and the page benchmarks: `pantau serve` in a subprocess on a free
port, against a fresh SQLite file with the shipped forms published and the test personas created
through the CLI, exactly as an operator would. Nothing is imported into this process but httpx."""

from __future__ import annotations

import os
import re
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.serving import serve

REPO = Path(__file__).resolve().parents[2]
PANTAU = Path(sys.executable).with_name("pantau")
PASSWORD = "kata-sandi-uji-1"
# (role, areas) as in tests/web/conftest.py's personas.
PERSONAS = {"ani": ("staff", ""), "budi": ("coordinator", "64.02.06"), "citra": ("enumerator", "64.02.06"),
            "dewi": ("enumerator", "64.02.13")}


@dataclass
class Server:
    url: str
    database: Path
    data_dir: Path
    log: Path

    def client(self, username: str | None = None) -> httpx.Client:
        """An HTTP client with its own cookies, signed in when a username is given."""
        client = httpx.Client(base_url=self.url, follow_redirects=False, timeout=30)
        if username is not None:
            token = csrf_token(client)
            answer = client.post("/masuk", data={"username": username, "password": PASSWORD, "_csrf_token": token})
            assert answer.status_code == 302, answer.text
        return client

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """What the server's SQLite file holds now, read beside the running server."""
        with sqlite3.connect(self.database) as db:
            return db.execute(sql, args).fetchall()


def csrf_token(client: httpx.Client) -> str:
    if "csrftoken" not in client.cookies:
        client.get("/masuk")
    return str(client.cookies["csrftoken"])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([str(PANTAU), *args], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, f"pantau {' '.join(args)}: {done.stdout}{done.stderr}"


@contextmanager
def pantau_server(workdir: Path, forms: list[Path] | None = None) -> Iterator[Server]:
    port = free_port()
    database, data_dir, log = workdir / "pantau.sqlite3", workdir / "data", workdir / "serve.log"
    env = {**os.environ, "PANTAU_DATABASE_URL": f"sqlite:///{database}", "PANTAU_DATA_DIR": str(data_dir),
           "PANTAU_SECRET_KEY": "s" * 48, "PANTAU_HOST": "127.0.0.1", "PANTAU_PORT": str(port),
           "PANTAU_LOG_LEVEL": "WARNING", "PANTAU_TEST_PASSWORD": PASSWORD, "PANTAU_DASHBOARD_RESCAN_S": "0"}
    _cli(env, "db", "migrate")
    _cli(env, "forms", "load", *(str(p) for p in forms or sorted((REPO / "forms").glob("*.yaml"))))
    for name, (role, areas) in PERSONAS.items():
        _cli(env, "users", "add", name, "--role", role, "--areas", areas, "--name", name.title(),
             "--password-env", "PANTAU_TEST_PASSWORD")
    server = Server(f"http://127.0.0.1:{port}", database, data_dir, log)
    with serve([str(PANTAU), "serve"], env, server.url, log):
        yield server


# The intake form: beside a test's own form so that the registry and the usual fill page are there too.
INTAKE = REPO / "forms" / "registrasi_penerima.yaml"


@contextmanager
def server_with_forms(workdir: Path, forms: dict[str, bytes], shipped: list[Path] | None = None) -> Iterator[Server]:
    """pantau_server with a test's own forms, written inline in the test (form id -> YAML) as files in
    workdir and loaded after the shipped forms given (the intake form unless told)."""
    written = []
    for form_id, source in forms.items():
        written.append(workdir / f"{form_id}.yaml")
        written[-1].write_bytes(source)
    with pantau_server(workdir, [*([INTAKE] if shipped is None else shipped), *written]) as running:
        yield running


def asset_urls(html: str) -> list[str]:
    """The stylesheets, scripts and preloads a page names (what a browser fetches before it is usable)."""
    return [u.replace("&amp;", "&") for u in re.findall(r'(?:href|src)="(/(?:aset|f)/[^"]+)"', html)
            if not u.startswith("/f/") or "/aturan" in u]
