"""A database that cannot serve is a 503 `db.unreachable` with Retry-After, on the JSON API, the HTML
pages and /readyz, never a 500 with a traceback; an outage is logged as one line when it starts, a
count a minute, and one line when it ends. Real faults: a SQLite lock held beyond the timeout by
another connection, and a real PostgreSQL behind a TCP proxy the test cuts and freezes."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
import time_machine

from server.settings import Settings
from server.storage import faults
from tests.conftest import ON_POSTGRES, PG_URL, REPO, with_settings
from tests.serving import serve
from tests.web.conftest import PASSWORD, sign_in
from tests.web.test_durability import FORM, _free_port

pytestmark = pytest.mark.usefixtures("people")


def _load_form(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "uji_tahan.yaml").write_text(FORM)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_DATABASE_URL": settings.database_url,
           "PANTAU_DATA_DIR": settings.data_dir, "PANTAU_SECRET_KEY": settings.secret_key}
    subprocess.run([sys.executable, "-m", "server.cli.main", "forms", "load", str(tmp_path / "uji_tahan.yaml")],
                   env=env, check=True, capture_output=True, timeout=120)


def _submission() -> dict[str, object]:
    return {"instance_id": str(uuid.uuid4()), "form_id": "uji_tahan", "form_version": "1",
            "answers": {"nama": "Siti", "umur": 40}}


@pytest.mark.skipif(ON_POSTGRES, reason="a SQLite lock; PostgreSQL is cut below")
def test_a_lock_held_beyond_the_timeout_is_503_with_retry_after(settings: Settings, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from litestar.testing import TestClient

    from server.web.app import create_app

    _load_form(settings, tmp_path)
    quick = with_settings(settings, db_statement_timeout=1)
    with TestClient(app=create_app(quick), raise_server_exceptions=False) as client:
        sign_in(client, "citra")
        token = client.cookies["csrftoken"]
        holder = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another program (an operator's sqlite3 shell) holds the write lock
        try:
            answers = [client.post("/api/v1/submissions", json=_submission(), headers={"x-csrftoken": token})
                       for _ in range(3)]
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        after = client.post("/api/v1/submissions", json=_submission(), headers={"x-csrftoken": token})
    for answer in answers:
        assert answer.status_code == 503, answer.text
        assert answer.json()["code"] == "db.unreachable" and answer.headers["retry-after"] == "10"
    assert after.status_code == 201, after.text
    logged = capsys.readouterr().err  # the app's log handler writes to stderr from its own thread
    lines = [line for line in logged.splitlines() if " pantau.db " in line]
    assert len(lines) == 2, logged
    assert "database unavailable for writes: locked" in lines[0] and "3 requests failed" in lines[1]
    assert "Traceback" not in logged, "a database outage must not log tracebacks"


@pytest.fixture
def small_disk(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A real 8 MB file system (tmpfs), so that the disk can really fill up."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small file system here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(folder: Path) -> Path:
    """Write zeros until the file system says it is full."""
    filler = folder / "isi"
    with open(filler, "wb") as out:
        try:
            while True:
                out.write(b"\0" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


@pytest.mark.skipif(ON_POSTGRES, reason="a full disk under SQLite; PostgreSQL's faults are cut below")
def test_a_full_disk_is_503_and_reads_go_on(settings: Settings, tmp_path: Path, small_disk: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from litestar.testing import TestClient

    from server.web.app import create_app

    _load_form(settings, tmp_path)
    on_disk = small_disk / "pantau.sqlite3"
    on_disk.write_bytes(Path(settings.database_url.removeprefix("sqlite:///")).read_bytes())
    full = with_settings(settings, database_url=f"sqlite:///{on_disk}")
    with TestClient(app=create_app(full), raise_server_exceptions=False) as client:
        sign_in(client, "citra")
        token = {"x-csrftoken": client.cookies["csrftoken"]}
        assert client.post("/api/v1/submissions", json=_submission(), headers=token).status_code == 201
        filler = _fill(small_disk)
        refused = [client.post("/api/v1/submissions", json=_submission(), headers=token) for _ in range(3)]
        page = client.get("/", headers={"accept": "text/html"})
        filler.unlink()  # the operator makes room
        again = client.post("/api/v1/submissions", json=_submission(), headers=token)
    for answer in refused:
        assert answer.status_code == 503 and answer.json()["code"] == "db.unreachable", answer.text
        assert answer.headers["retry-after"] == "10"
    assert page.status_code == 200  # reading goes on during a full disk
    assert again.status_code == 201, again.text
    logged = capsys.readouterr().err
    lines = [line for line in logged.splitlines() if " pantau.db " in line]
    assert len(lines) == 2 and "disk full" in lines[0] and "3 requests failed" in lines[1], logged
    assert "Traceback" not in logged


def test_an_outage_logs_a_start_a_count_a_minute_and_an_end(caplog: pytest.LogCaptureFixture) -> None:
    outage = faults.Outage()
    start = dt.datetime(2026, 12, 6, 2, 0, tzinfo=dt.UTC)
    with caplog.at_level(logging.INFO, logger="pantau.db"), time_machine.travel(start, tick=False) as clock:
        for _ in range(500):
            outage.failed("disk full", "write")
        outage.recovered("read")  # reads go on during a full disk: they do not end the writes' outage
        clock.shift(dt.timedelta(seconds=61))
        for _ in range(7):
            outage.failed("disk full", "write")
        clock.shift(dt.timedelta(seconds=30))
        outage.failed("disk full", "write")
        outage.recovered("write")
        outage.recovered("write")
    messages = [r.getMessage() for r in caplog.records if r.name == "pantau.db"]
    assert len(messages) == 3, messages
    assert messages[0].startswith("database unavailable for writes: disk full")
    assert "501 requests failed in the last minute, 501 since 02:00:00" in messages[1]
    assert messages[2] == "database available again for writes after 91 s: 508 requests failed"


def test_faults_are_told_from_bugs() -> None:
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = 13  # type: ignore[attr-defined]
    assert faults.unavailable(full) == ("disk full", "write")
    syntax = sqlite3.OperationalError("near SELEC: syntax error")
    syntax.sqlite_errorcode = 1  # type: ignore[attr-defined]
    assert faults.unavailable(syntax) is None
    assert faults.unavailable(ConnectionRefusedError()) == ("connection refused or lost", "read")
    assert faults.unavailable(ValueError("a bug")) is None


# --- PostgreSQL behind a proxy the test controls ------------------------------------------------------
class Proxy:
    """A TCP forwarder in front of the test's PostgreSQL: `cut()` closes every connection and stops
    listening (refused), `freeze()` keeps connections open but forwards nothing (a frozen network)."""

    def __init__(self, target_port: int) -> None:
        self.port, self.target_port = _free_port(), target_port
        self.frozen = threading.Event()
        self._sockets: list[socket.socket] = []
        self._listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                while self.frozen.is_set():
                    time.sleep(0.05)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close alone would not
            self._listener.close()
            self._listener = None
        for s in self._sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()
        self._sockets = []

    def freeze(self) -> None:
        self.frozen.set()


@pytest.mark.skipif(not ON_POSTGRES, reason="needs the real PostgreSQL of PANTAU_TEST_DATABASE_URL")
def test_postgres_cut_and_frozen_is_503_then_recovers(settings: Settings, tmp_path: Path) -> None:
    _load_form(settings, tmp_path)
    pg = urlsplit(PG_URL)
    proxy = Proxy(pg.port or 5432)
    proxy.start()
    via_proxy = urlunsplit(pg._replace(netloc=f"{pg.username}@127.0.0.1:{proxy.port}"))
    port = _free_port()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_DATABASE_URL": via_proxy,
           "PANTAU_DATA_DIR": settings.data_dir, "PANTAU_SECRET_KEY": settings.secret_key, "PANTAU_PORT": str(port),
           "PANTAU_LOG_LEVEL": "INFO", "PANTAU_DB_CONNECT_TIMEOUT": "2", "PANTAU_DB_STATEMENT_TIMEOUT": "2"}
    base, log = f"http://127.0.0.1:{port}", tmp_path / "serve.log"
    try:
        with (serve([sys.executable, "-m", "server.cli.main", "serve"], env, base, log, cwd=tmp_path),
              httpx.Client(base_url=base, timeout=30) as client):
            client.get("/masuk")
            client.post("/masuk", data={"username": "citra", "password": PASSWORD,
                                        "_csrf_token": client.cookies["csrftoken"]})
            token = {"x-csrftoken": client.cookies["csrftoken"]}
            assert client.post("/api/v1/submissions", json=_submission(), headers=token).status_code == 201
            proxy.cut()
            down = [client.get("/readyz"), client.post("/api/v1/submissions", json=_submission(), headers=token),
                    client.get("/", headers={"accept": "text/html"})]
            proxy.start()  # the network is back
            assert _eventually(lambda: client.get("/readyz").status_code == 200)
            assert client.post("/api/v1/submissions", json=_submission(), headers=token).status_code == 201
            proxy.freeze()
            started = time.monotonic()
            frozen = client.post("/api/v1/submissions", json=_submission(), headers=token)
            waited = time.monotonic() - started
            proxy.cut()
            proxy.frozen.clear()
            proxy.start()
    finally:
        proxy.cut()
    for answer in down:
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "10"
    assert down[0].json()["code"] == "db.unreachable" and down[1].json()["code"] == "db.unreachable"
    assert "Basis data tidak dapat dihubungi" in down[2].text  # the HTML page, in Indonesian
    assert frozen.status_code == 503 and waited < 20, (frozen.status_code, waited)
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]
    assert "database unavailable" in text and "database available again" in text


def _eventually(check, seconds: float = 30) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if check():
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False



@pytest.mark.skipif(not ON_POSTGRES, reason="needs the real PostgreSQL of PANTAU_TEST_DATABASE_URL")
async def test_the_writer_gives_up_on_a_frozen_connection_and_reconnects(settings: Settings) -> None:
    from server.errors import PantauError
    from server.storage.db import Database
    from server.storage.writer import Writer

    pg = urlsplit(PG_URL)
    proxy = Proxy(pg.port or 5432)
    proxy.start()
    db = Database(urlunsplit(pg._replace(netloc=f"{pg.username}@127.0.0.1:{proxy.port}")),
                  connect_timeout=2, statement_timeout=2)
    writer = Writer(db)
    try:
        await writer.start()
        assert await writer.run(lambda tx: tx.fetch("SELECT 1 AS one")) == [{"one": 1}]
        proxy.freeze()  # PostgreSQL stops answering; the kernel still acknowledges every packet
        started = time.monotonic()
        with pytest.raises(PantauError) as refused:
            await writer.run(lambda tx: tx.fetch("SELECT 2 AS two"))
        waited = time.monotonic() - started
        proxy.cut()
        proxy.frozen.clear()
        proxy.start()
        assert await writer.run(lambda tx: tx.fetch("SELECT 3 AS three")) == [{"three": 3}]
    finally:
        proxy.cut()
        await writer.stop()
    assert refused.value.code == "db.unreachable"
    # The watchdog cut the socket after statement + 2 s, before the caller's own limit (2 + 2 + 5 s).
    assert waited < writer.patience - 1, waited
