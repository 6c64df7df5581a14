"""`pantau backup` and `pantau restore` as an operator runs them: a real `pantau serve` taking
submissions while the backup runs, a restore into a fresh data directory that must hold every
submission acknowledged before the backup began, real signals (SIGINT, SIGTERM) to a real backup,
and the checks that stop a restore before it replaces anything."""

from __future__ import annotations

import json
import os
import pty
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from tests.cli.test_cli_foundation import assert_clean_failure, pantau
from tests.conftest import ON_POSTGRES, REPO
from tests.serving import serve
from tests.web.test_durability import Browser, _free_port

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="SQLite's backup and restore; PostgreSQL's hints are tested below")

FORM = """settings: {id: uji_cadangan, version: "1", title: {id: Uji cadangan}}
fields:
  - {type: text, name: nama, label: {id: Nama}, required: yes}
  - {type: nik, name: nik, label: {id: NIK}}
"""
SECRET = "kunci-rahasia-uji-cadangan-0123456789abcdef"
PW = "kata-sandi-cadangan-1"
REFUSED: list[str] = []


def _env(root: Path, secret: str = SECRET) -> dict[str, str]:
    return {"PANTAU_DATABASE_URL": f"sqlite:///{root / 'pantau.sqlite3'}", "PANTAU_DATA_DIR": str(root / "data"),
            "PANTAU_SECRET_KEY": secret, "PW": PW}


def _prepared(root: Path) -> dict[str, str]:
    root.mkdir(parents=True, exist_ok=True)
    env = _env(root)
    (root / "uji_cadangan.yaml").write_text(FORM)
    for args in (("db", "migrate"), ("forms", "load", str(root / "uji_cadangan.yaml")),
                 ("users", "add", "citra", "--role", "enumerator", "--areas", "64.02.06", "--password-env", "PW")):
        done = pantau(*args, env=env, cwd=root)
        assert done.returncode == 0, done.stderr
    return env


def _ids(path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {str(row[0]) for row in conn.execute("SELECT id FROM submission")}
    finally:
        conn.close()


def _signed_in(base: str) -> Browser:
    browser = Browser(base)
    browser.call("/masuk")
    browser.call("/masuk", f"username=citra&password={PW}&_csrf_token={browser.csrf()}".encode(),
                 {"content-type": "application/x-www-form-urlencoded"})
    return browser


def _keep_submitting(browser: Browser, stop: threading.Event, acked: list[tuple[str, float]]) -> None:
    i = 0
    while not stop.is_set():
        i += 1
        instance = str(uuid.uuid4())
        body = json.dumps({"instance_id": instance, "form_id": "uji_cadangan", "form_version": "1",
                           "answers": {"nama": f"Warga {i}", "nik": f"6402064101{70 + i % 30:02d}{i % 9999 + 1:04d}"}})
        status, _ = browser.call("/api/v1/submissions", body.encode(), {"content-type": "application/json",
                                                                        "x-csrftoken": browser.csrf()})
        if status == 201:
            acked.append((instance, time.monotonic()))
        else:
            REFUSED.append(f"{status} {_.decode(errors='replace')[:300]}")


def test_backup_under_load_restores_every_acknowledged_submission(tmp_path: Path) -> None:
    env = _prepared(tmp_path / "lama")
    port = _free_port()
    serve_env = {**env, "PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_PORT": str(port)}
    target = tmp_path / "cadangan" / "pantau-malam.sqlite3"
    target.parent.mkdir()
    acked: list[tuple[str, float]] = []
    stop = threading.Event()
    base = f"http://127.0.0.1:{port}"
    with serve([sys.executable, "-m", "server.cli.main", "serve"], serve_env, base, tmp_path / "serve.log",
               cwd=tmp_path):
        browser = _signed_in(base)  # one enumerator, six requests at a time (the cookie jar is thread-safe)
        clients = [threading.Thread(target=_keep_submitting, args=(browser, stop, acked)) for _ in range(6)]
        for client in clients:
            client.start()
        try:
            time.sleep(1.5)
            began = time.monotonic()
            done = pantau("backup", str(target), env=env, cwd=tmp_path)
            time.sleep(0.5)  # still writing after it
        finally:
            stop.set()
            for client in clients:
                client.join()
    assert done.returncode == 0, done.stderr
    assert "backup written" in done.stdout and "%" not in done.stderr  # no progress bar off a terminal
    before = {instance for instance, at in acked if at < began}
    assert len(before) > 10 and len(acked) > len(before), f"the backup should run mid-load; {REFUSED[:3]}"
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no partial file beside it
    assert target.stat().st_mode & 0o777 == 0o600

    fresh = _env(tmp_path / "baru")
    (tmp_path / "baru").mkdir()
    restored = pantau("restore", str(target), env=fresh, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert "restored" in restored.stdout and "kept" not in restored.stdout  # nothing was there to keep
    stored = _ids(tmp_path / "baru" / "pantau.sqlite3")
    assert before <= stored, f"{len(before - stored)} acknowledged submissions missing after restore"
    assert stored <= {instance for instance, _ in acked}  # and nothing that was never acknowledged
    keys = pantau("keys", "check", env=fresh, cwd=tmp_path)
    assert keys.returncode == 0, keys.stderr


def test_restore_keeps_the_old_database_and_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    env = _prepared(tmp_path / "a")
    target = tmp_path / "cadangan.sqlite3"
    assert pantau("backup", str(target), env=env, cwd=tmp_path).returncode == 0
    live = tmp_path / "a" / "pantau.sqlite3"
    conn = sqlite3.connect(live)  # a running server holds the database open
    conn.execute("SELECT COUNT(*) FROM submission").fetchall()
    try:
        assert_clean_failure(pantau("restore", str(target), env=env, cwd=tmp_path), "restore.in_use")
    finally:
        conn.close()
    other_key = _env(tmp_path / "a", secret="kunci-lain-yang-salah-0123456789abcdefgh")
    _submit_one_sealed(env, tmp_path)  # the registry needs a sealed NIK for a wrong key to show
    sealed_backup = tmp_path / "dengan-nik.sqlite3"
    assert pantau("backup", str(sealed_backup), env=env, cwd=tmp_path).returncode == 0
    assert_clean_failure(pantau("restore", str(sealed_backup), env=other_key, cwd=tmp_path), "restore.wrong_key")
    damaged = tmp_path / "rusak.sqlite3"
    damaged.write_bytes(target.read_bytes()[: 8192] + b"\0" * 4096)
    assert_clean_failure(pantau("restore", str(damaged), env=env, cwd=tmp_path), "restore.damaged")
    assert sorted(p.name for p in live.parent.iterdir() if p.name.startswith(".")) == []  # no copies left
    before = _ids(live)
    ok = pantau("restore", str(target), env=env, cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr
    kept = [p for p in live.parent.iterdir() if ".sebelum-pulih-" in p.name and not p.name.endswith(("-wal", "-shm"))]
    assert len(kept) == 1 and str(kept[0]) in ok.stdout
    assert _ids(kept[0]) == before and _ids(live) == set()  # the old one beside, the backup's in place


def _submit_one_sealed(env: dict[str, str], cwd: Path) -> None:
    """One submission with a NIK, written through the app's own write path (a real server)."""
    port = _free_port()
    serve_env = {**env, "PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_PORT": str(port)}
    base = f"http://127.0.0.1:{port}"
    with serve([sys.executable, "-m", "server.cli.main", "serve"], serve_env, base, cwd / "serve1.log", cwd=cwd):
        browser = _signed_in(base)
        body = json.dumps({"instance_id": str(uuid.uuid4()), "form_id": "uji_cadangan", "form_version": "1",
                           "answers": {"nama": "Siti", "nik": "6402064101850001"}})
        status, answer = browser.call("/api/v1/submissions", body.encode(), {"content-type": "application/json",
                                                                             "x-csrftoken": browser.csrf()})
        assert status == 201, answer


def _ballast(path: Path, megabytes: int) -> None:
    """Make the database big enough that a backup takes a moment (random bytes do not compress)."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE ballast (b BLOB)")
    conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
                 "INSERT INTO ballast SELECT randomblob(4000) FROM n", (megabytes * 250,))
    conn.commit()
    conn.close()


def _sigint_as_at_a_terminal() -> None:
    """A suite started as a shell's background job (`make test &`, as .ci/run's side-by-side passes
    or a nohup'ed run) inherits SIGINT ignored, and Python then leaves it ignored in the backup, which
    would finish whole; at a terminal Ctrl-C reaches it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_backup_leaves_no_file(tmp_path: Path, signum: int) -> None:
    env = _prepared(tmp_path / "db")
    _ballast(tmp_path / "db" / "pantau.sqlite3", 150)
    out = tmp_path / "out"
    out.mkdir()
    full_env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **env}
    backup = subprocess.Popen([sys.executable, "-m", "server.cli.main", "backup", str(out / "b.sqlite3")],
                              env=full_env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              preexec_fn=_sigint_as_at_a_terminal)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not any(p.stat().st_size > 100_000 for p in out.iterdir()):
        time.sleep(0.01)
    assert backup.poll() is None, "the backup finished before it could be interrupted"
    backup.send_signal(signum)
    _, err = backup.communicate(timeout=60)
    assert backup.returncode == 130, err
    assert "Traceback" not in err and "backup cancelled" in err
    assert list(out.iterdir()) == []


def test_a_failed_backup_leaves_no_file(tmp_path: Path) -> None:
    root = tmp_path / "db"
    root.mkdir()
    (root / "pantau.sqlite3").write_bytes(b"bukan basis data " * 1000)
    out = tmp_path / "out"
    out.mkdir()
    assert_clean_failure(pantau("backup", str(out / "b.sqlite3"), env=_env(root), cwd=tmp_path), "backup.failed")
    assert list(out.iterdir()) == []


def test_progress_bar_on_a_terminal(tmp_path: Path) -> None:
    env = _prepared(tmp_path / "db")
    _ballast(tmp_path / "db" / "pantau.sqlite3", 20)
    leader, follower = pty.openpty()
    full_env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **env}
    done = subprocess.run([sys.executable, "-m", "server.cli.main", "backup", str(tmp_path / "b.sqlite3")],
                          env=full_env, cwd=tmp_path, stderr=follower, stdout=subprocess.PIPE, text=True, timeout=60)
    os.close(follower)
    shown = os.read(leader, 65536).decode()
    os.close(leader)
    assert done.returncode == 0
    assert "100%" in shown and "MB" in shown, shown


def test_on_postgres_both_commands_say_what_to_run_without_the_password(tmp_path: Path) -> None:
    env = {"PANTAU_DATABASE_URL": "postgresql://pantau:topsecret@db.dinsos.local:5432/pantau",
           "PANTAU_DATA_DIR": str(tmp_path / "data")}
    dump = pantau("backup", "malam.dump", env=env, cwd=tmp_path)
    assert_clean_failure(dump, "backup.not_sqlite")
    assert "pg_dump --format=custom --file=malam.dump postgresql://pantau@db.dinsos.local:5432/pantau" in dump.stderr
    restore = pantau("restore", "malam.dump", env=env, cwd=tmp_path)
    assert_clean_failure(restore, "restore.not_sqlite")
    assert "pg_restore" in restore.stderr and "postgresql://pantau@db.dinsos.local:5432/pantau_pulih" in restore.stderr
    assert "topsecret" not in dump.stderr + restore.stderr


def test_a_folder_that_takes_no_files_is_a_clear_error(tmp_path: Path) -> None:
    env = _prepared(tmp_path / "db")
    assert_clean_failure(pantau("backup", "/proc/pantau.sqlite3", env=env, cwd=tmp_path), "backup.failed")
