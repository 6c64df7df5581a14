"""Invariant (ARCHITECTURE.md): every acknowledged submission is durable, survives kill -9 of the
server, and exists once. A real `pantau serve`, real HTTP, a real SIGKILL."""

from __future__ import annotations

import asyncio
import http.client
import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from server.storage.db import Database
from tests import serving
from tests.conftest import REPO

FORM = """settings: {id: uji_tahan, version: "1", title: {id: Uji ketahanan}}
fields:
  - {type: text, name: nama, label: {id: Nama}, required: yes}
  - {type: integer, name: umur, label: {id: Umur}}
"""


SECRET = "kunci-rahasia-uji-tahan-0123456789abcdef"  # `serve` on PostgreSQL needs one set


def _pantau(*args: str, env: dict[str, str], cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "server.cli.main", *args], env=env, cwd=cwd, check=True,
                   capture_output=True, timeout=120)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(c.value for c in self.jar if c.name == "csrftoken")  # type: ignore[return-value]

    def call(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        request = urllib.request.Request(self.base + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()


def _start(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    return serving.start([sys.executable, "-m", "server.cli.main", "serve"], env, f"http://127.0.0.1:{port}",
                         cwd / "serve.log", cwd)


def test_acknowledged_submissions_survive_kill_9(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_DATABASE_URL": database_url,
           "PANTAU_DATA_DIR": str(tmp_path / "data"), "PANTAU_PORT": str(port), "PANTAU_LOG_LEVEL": "WARNING",
           "PANTAU_SECRET_KEY": SECRET,
           "PW": "kata-sandi-tahan-1"}
    (tmp_path / "uji_tahan.yaml").write_text(FORM)
    _pantau("forms", "load", str(tmp_path / "uji_tahan.yaml"), env=env, cwd=tmp_path)
    _pantau("users", "add", "citra", "--role", "enumerator", "--areas", "64.02.06", "--password-env", "PW",
            env=env, cwd=tmp_path)
    server = _start(env, tmp_path, port)
    try:
        browser = Browser(f"http://127.0.0.1:{port}")
        browser.call("/masuk")
        browser.call("/masuk", f"username=citra&password=kata-sandi-tahan-1&_csrf_token={browser.csrf()}".encode(),
                     {"content-type": "application/x-www-form-urlencoded"})
        acked: list[str] = []

        def submit(i: int) -> None:
            instance = str(uuid.uuid4())
            body = json.dumps({"instance_id": instance, "form_id": "uji_tahan", "form_version": "1",
                               "answers": {"nama": f"Warga {i}", "umur": i % 90}}).encode()
            try:
                status, _ = browser.call("/api/v1/submissions", body, {"content-type": "application/json",
                                                                       "x-csrftoken": browser.csrf()})
            except (OSError, http.client.HTTPException):
                # The server died under this request (a refused or reset connection, or an answer cut off
                # mid-body: IncompleteRead): not acknowledged, so no promise was made.
                return
            if status == 201:
                acked.append(instance)

        with ThreadPoolExecutor(max_workers=16) as pool:
            futures = [pool.submit(submit, i) for i in range(1500)]
            # Let a good share be acknowledged, then pull the plug mid-stream: counted, not timed (a
            # fixed half second acknowledged nothing on a loaded machine's PostgreSQL pass).
            deadline = time.monotonic() + 60
            while len(acked) < 40 and time.monotonic() < deadline:
                time.sleep(0.05)
            os.kill(server.pid, signal.SIGKILL)
            for f in futures:
                f.result()
        server.wait(timeout=10)
    finally:
        serving.stop(server)  # reaped also when the test failed before the kill
    stored = asyncio.run(_stored_ids(database_url))
    assert 20 < len(acked) < 1500, "the kill should land in the middle of the stream"
    assert set(acked) <= set(stored), "an acknowledged submission was lost"
    assert len(stored) == len(set(stored))


async def _stored_ids(url: str) -> list[str]:
    db = Database(url)
    await db.open()
    try:
        return [str(r["id"]) for r in await db.fetch("SELECT id FROM submission WHERE form_id = 'uji_tahan'")]
    finally:
        await db.close()


def _children(pid: int) -> set[int]:
    """The worker processes uvicorn spawned (not multiprocessing's resource tracker)."""
    found = subprocess.run(["pgrep", "-P", str(pid), "-f", "spawn_main"], capture_output=True, text=True)
    return {int(p) for p in found.stdout.split()}


def _wait_for(predicate, seconds: float = 60) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_two_worker_processes_store_each_submission_once(database_url: str, tmp_path: Path) -> None:
    """PANTAU_WORKERS=2: two processes, each with its own writer, share one database (on SQLite
    through the writer lock file, on PostgreSQL in parallel). The same instance id sent twice at once
    may reach both processes; it is stored once, the copy is acknowledged with the first receipt,
    other answers under that id are a 409 wherever they land. A worker killed with SIGKILL is
    replaced and nothing it acknowledged is lost."""
    port = _free_port()
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_DATABASE_URL": database_url,
           "PANTAU_DATA_DIR": str(tmp_path / "data"), "PANTAU_PORT": str(port), "PANTAU_LOG_LEVEL": "WARNING",
           "PANTAU_SECRET_KEY": SECRET,
           "PANTAU_WORKERS": "2", "PW": "kata-sandi-tahan-1"}
    (tmp_path / "uji_tahan.yaml").write_text(FORM)
    _pantau("forms", "load", str(tmp_path / "uji_tahan.yaml"), env=env, cwd=tmp_path)
    _pantau("users", "add", "citra", "--role", "enumerator", "--areas", "64.02.06", "--password-env", "PW",
            env=env, cwd=tmp_path)
    server = _start(env, tmp_path, port)
    try:
        assert _wait_for(lambda: len(_children(server.pid)) == 2), "two worker processes"
        browser = Browser(f"http://127.0.0.1:{port}")
        browser.call("/masuk")  # the session is made by one worker and honoured by the other
        browser.call("/masuk", f"username=citra&password=kata-sandi-tahan-1&_csrf_token={browser.csrf()}".encode(),
                     {"content-type": "application/x-www-form-urlencoded"})
        headers = {"content-type": "application/json", "x-csrftoken": browser.csrf()}
        ids = [str(uuid.uuid4()) for _ in range(120)]

        def body(instance: str, name: str) -> bytes:
            return json.dumps({"instance_id": instance, "form_id": "uji_tahan", "form_version": "1",
                               "answers": {"nama": name, "umur": 30}}).encode()

        def send(job: tuple[str, str]) -> int:
            return browser.call("/api/v1/submissions", body(*job), headers)[0]

        # Each id three times at once: twice the same answers, once other answers.
        jobs = [(i, "Warga") for i in ids] + [(i, "Warga") for i in ids] + [(i, "Lain") for i in ids]
        with ThreadPoolExecutor(max_workers=16) as pool:
            statuses = list(pool.map(send, jobs))
        assert set(statuses) <= {200, 201, 409}, statuses
        assert statuses.count(201) == len(ids)  # each id created exactly once, by whichever copy came first
        stored = asyncio.run(_stored_ids(database_url))
        assert sorted(stored) == sorted(ids)
        for instance in ids[:5]:  # whichever process answers: the same stored answers
            assert send((instance, "Warga")) in {200, 409} and send((instance, "Lain")) in {200, 409}

        victim = min(_children(server.pid))
        os.kill(victim, signal.SIGKILL)
        assert _wait_for(lambda: len(_children(server.pid)) == 2 and victim not in _children(server.pid))
        fresh = str(uuid.uuid4())
        assert _wait_for(lambda: send((fresh, "Baru")) in {200, 201}), "the replaced worker serves"
        assert fresh in asyncio.run(_stored_ids(database_url))
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not _children(server.pid)
