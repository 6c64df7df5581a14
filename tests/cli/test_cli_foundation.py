"""The `pantau` command as a person runs it: real subprocesses, real database, exit codes and one
readable line on errors (never a traceback)."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from server.domain.users import verify_password
from tests.conftest import ON_POSTGRES, REPO
from tests.serving import ready_seconds

SECRET = "kunci-rahasia-uji-cli-0123456789abcdef"  # `serve` on PostgreSQL needs one set


def pantau(*args: str, env: dict[str, str], cwd: Path, stdin: str | None = None,
           timeout: float = 60) -> subprocess.CompletedProcess[str]:
    full_env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **env}
    return subprocess.run([sys.executable, "-m", "server.cli.main", *args], env=full_env, cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, input=stdin)


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"PANTAU_DATABASE_URL": database_url, "PANTAU_DATA_DIR": str(tmp_path / "data"), "PANTAU_SECRET_KEY": SECRET}


def assert_clean_failure(result: subprocess.CompletedProcess[str], code: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"[{code}]" in lines[0], result.stderr


def test_every_command_has_help(tmp_path: Path) -> None:
    for args in (["--help"], ["serve", "--help"], ["db", "migrate", "--help"], ["users", "add", "--help"],
                 ["forms", "load", "--help"], ["backup", "--help"]):
        result = pantau(*args, env={}, cwd=tmp_path)
        assert result.returncode == 0 and "usage:" in result.stdout, args


def test_bad_setting_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = pantau("db", "migrate", env={"PANTAU_PORT": "delapan"}, cwd=tmp_path)
    assert_clean_failure(result, "settings.invalid")
    assert "PANTAU_PORT" in result.stderr


def test_missing_database_folder_is_one_line(tmp_path: Path) -> None:
    result = pantau("db", "migrate", env={"PANTAU_DATABASE_URL": f"sqlite:///{tmp_path}/nope/p.sqlite3"},
                    cwd=tmp_path)
    assert_clean_failure(result, "db.dir_missing")


def test_migrate_is_idempotent_and_status_reports(empty_database_url: str, tmp_path: Path) -> None:
    env = {"PANTAU_DATABASE_URL": empty_database_url, "PANTAU_DATA_DIR": str(tmp_path / "d")}
    assert pantau("db", "status", env=env, cwd=tmp_path).returncode == 1
    first = pantau("db", "migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0 and "m0001_initial" in first.stdout
    second = pantau("db", "migrate", env=env, cwd=tmp_path)
    assert second.returncode == 0 and "m0001_initial" not in second.stdout
    assert pantau("db", "status", env=env, cwd=tmp_path).returncode == 0


def test_users_add_list_and_duplicates(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "CITRA_PW": "rahasia-citra-1"}
    added = pantau("users", "add", "citra", "--role", "enumerator", "--password-env", "CITRA_PW", env=env,
                   cwd=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "rahasia" not in added.stdout + added.stderr
    assert "citra" in pantau("users", "list", env=env, cwd=tmp_path).stdout
    again = pantau("users", "add", "citra", "--role", "enumerator", "--password-env", "CITRA_PW", env=env,
                   cwd=tmp_path)
    assert_clean_failure(again, "user.exists")
    bad_name = pantau("users", "add", "Citra Dewi", "--role", "staff", "--password-env", "CITRA_PW", env=env,
                      cwd=tmp_path)
    assert_clean_failure(bad_name, "user.bad_username")
    no_tty = pantau("users", "add", "dewi", "--role", "staff", env=env, cwd=tmp_path, stdin="")
    assert_clean_failure(no_tty, "http.bad_request")
    assert pantau("users", "add", "x1x", "--role", "boss", env=env, cwd=tmp_path).returncode == 2


def _admin_hash(database_url: str) -> str:
    import asyncio

    from server.storage.db import Database

    async def read() -> str:
        db = Database(database_url)
        await db.open()
        try:
            rows = await db.fetch("SELECT password_hash FROM pantau_user WHERE username = 'admin'")
            return str(rows[0]["password_hash"])
        finally:
            await db.close()

    return asyncio.run(read())


def test_first_admin_password_is_printed_once(env: dict[str, str], database_url: str, tmp_path: Path) -> None:
    first = pantau("users", "ensure-admin", env=env, cwd=tmp_path)
    assert first.returncode == 0
    password = first.stdout.split("password:")[1].split()[0]
    assert verify_password(_admin_hash(database_url), password)
    second = pantau("users", "ensure-admin", env=env, cwd=tmp_path)
    assert second.returncode == 0 and password not in second.stdout


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite backup; the PostgreSQL run checks the pg_dump hint")
def test_backup_is_consistent_while_another_connection_writes(env: dict[str, str], database_url: str,
                                                              tmp_path: Path) -> None:
    path = database_url.removeprefix("sqlite:///")
    stop = threading.Event()

    def keep_writing() -> None:
        conn = sqlite3.connect(path, timeout=30)
        i = 0
        while not stop.is_set():
            with conn:
                conn.execute("INSERT INTO form (form_id, created_at) VALUES (?, '2026-01-01')", (f"w{i}",))
            i += 1
        conn.close()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        time.sleep(0.2)
        result = pantau("backup", str(tmp_path / "copy.sqlite3"), env=env, cwd=tmp_path)
    finally:
        stop.set()
        writer.join()
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(tmp_path / "copy.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert copy.execute("SELECT COUNT(*) FROM form").fetchone()[0] > 0
    copy.close()
    assert_clean_failure(pantau("backup", str(tmp_path / "copy.sqlite3"), env=env, cwd=tmp_path),
                         "backup.target_exists")


def test_backup_on_postgres_explains_pg_dump(tmp_path: Path) -> None:
    env = {"PANTAU_DATABASE_URL": "postgresql://pantau:topsecret@127.0.0.1:5432/pantau"}
    result = pantau("backup", str(tmp_path / "x"), env=env, cwd=tmp_path)
    assert_clean_failure(result, "backup.not_sqlite")
    assert "pg_dump" in result.stderr and "topsecret" not in result.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_answers_and_a_busy_port_is_a_clear_error(env: dict[str, str], tmp_path: Path) -> None:
    port = _free_port()
    env = {**env, "PANTAU_PORT": str(port), "PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)}
    server = subprocess.Popen([sys.executable, "-m", "server.cli.main", "serve"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + ready_seconds(60)
        body = ""
        while time.monotonic() < deadline:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert "Pantau" in body
        busy = pantau("serve", env=env, cwd=tmp_path)
        assert_clean_failure(busy, "serve.port_in_use")
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert '"GET /" 302' in output and '"GET /masuk" 200' in output  # the access log lines
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells how it ended.
    assert "Application shutdown complete" in output


def test_serve_on_postgresql_refuses_to_make_its_own_secret_key(tmp_path: Path) -> None:
    """Nodes on one PostgreSQL must share the key that signs sessions and seals NIKs: without
    PANTAU_SECRET_KEY `serve` stops before it reaches the database or binds a port (nothing listens on
    the URL's port), and names a key file an earlier single-node start left; SQLite still makes its own."""
    closed = _free_port()
    env = {"PANTAU_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed}/pantau",
           "PANTAU_DATA_DIR": str(tmp_path / "d"), "PANTAU_PORT": str(_free_port())}
    refused = pantau("serve", env=env, cwd=tmp_path)
    assert_clean_failure(refused, "settings.invalid")
    assert "PANTAU_SECRET_KEY" in refused.stderr and "every node" in refused.stderr
    assert not (tmp_path / "d" / "secret_key").exists()  # nothing made
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "secret_key").write_text("x" * 48 + "\n")
    named = pantau("serve", env=env, cwd=tmp_path)
    assert_clean_failure(named, "settings.invalid")
    assert str(tmp_path / "d" / "secret_key") in named.stderr
    given = pantau("serve", env={**env, "PANTAU_SECRET_KEY": SECRET}, cwd=tmp_path)
    assert_clean_failure(given, "db.unreachable")  # with the key it goes on, to the (closed) database
    sqlite = pantau("serve", env={**env, "PANTAU_DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite3'}",
                                  "PANTAU_DATA_DIR": str(tmp_path / "e")}, cwd=tmp_path)
    assert_clean_failure(sqlite, "db.not_migrated")  # past the key: made in the data directory
    assert (tmp_path / "e" / "secret_key").exists()


def test_commands_that_seal_refuse_on_postgresql_without_a_secret_key_and_the_others_make_none(
        tmp_path: Path) -> None:
    """`registry import` seals NIKs, `keys` opens them, `reports editions` reads what the nodes made:
    on PostgreSQL each stops, as `serve` does, before it reaches the database or makes a key file.
    `db migrate` and `users list` use no key: they go on to the (closed) database and make none."""
    closed = _free_port()
    env = {"PANTAU_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{closed}/pantau",
           "PANTAU_DATA_DIR": str(tmp_path / "d")}
    listing = tmp_path / "daftar.csv"
    listing.write_text("nik,nama\n6402061234567890,Siti\n")
    made = tmp_path / "d" / "secret_key"
    for command in (("registry", "import", str(listing)), ("keys", "check"), ("reports", "editions")):
        refused = pantau(*command, env=env, cwd=tmp_path)
        assert_clean_failure(refused, "settings.invalid")
        assert "PANTAU_SECRET_KEY" in refused.stderr and "every node" in refused.stderr, command
        assert not made.exists(), command
        given = pantau(*command, env={**env, "PANTAU_SECRET_KEY": SECRET}, cwd=tmp_path)
        assert_clean_failure(given, "db.unreachable")  # with the key it goes on, to the database
    for command in (("db", "migrate"), ("users", "list")):
        assert_clean_failure(pantau(*command, env=env, cwd=tmp_path), "db.unreachable")
        assert not made.exists(), command
    sqlite = {**env, "PANTAU_DATABASE_URL": f"sqlite:///{tmp_path / 'e.sqlite3'}",
              "PANTAU_DATA_DIR": str(tmp_path / "e")}
    assert pantau("db", "migrate", env=sqlite, cwd=tmp_path).returncode == 0
    assert pantau("keys", "check", env=sqlite, cwd=tmp_path).returncode == 0
    assert (tmp_path / "e" / "secret_key").exists()  # SQLite makes its own, as before


def test_serve_refuses_an_unmigrated_database(empty_database_url: str, tmp_path: Path) -> None:
    env = {"PANTAU_DATABASE_URL": empty_database_url, "PANTAU_DATA_DIR": str(tmp_path / "d"),
           "PANTAU_SECRET_KEY": SECRET, "PANTAU_PORT": str(_free_port())}
    assert_clean_failure(pantau("serve", env=env, cwd=tmp_path), "db.not_migrated")


def test_users_set_role_and_deactivate(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "PW": "rahasia-budi-12"}
    assert pantau("users", "add", "budi", "--role", "enumerator", "--areas", "64.02.06", "--password-env", "PW",
                  env=env, cwd=tmp_path).returncode == 0
    moved = pantau("users", "set-role", "budi", "coordinator", "--areas", "64.02.06,6402131007", env=env, cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    listed = pantau("users", "list", env=env, cwd=tmp_path).stdout
    assert "coordinator" in listed and "64.02.06,64.02.13.1007" in listed
    assert_clean_failure(pantau("users", "set-role", "budi", "staff", "--areas", "12.34", env=env, cwd=tmp_path),
                         "user.bad_area")
    assert pantau("users", "deactivate", "budi", env=env, cwd=tmp_path).returncode == 0
    assert "nonaktif" in pantau("users", "list", env=env, cwd=tmp_path).stdout
    assert_clean_failure(pantau("users", "deactivate", "nobody", env=env, cwd=tmp_path), "user.not_found")
    assert pantau("users", "ensure-admin", env=env, cwd=tmp_path).returncode == 0
    assert_clean_failure(pantau("users", "deactivate", "admin", env=env, cwd=tmp_path), "user.last_admin")


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's max_connections; SQLite has no connection limit")
def test_serve_refuses_more_processes_than_postgres_has_connections_for(env: dict[str, str], tmp_path: Path) -> None:
    """64 processes with their pools, writers and report connections need far more than the 100
    connections a default PostgreSQL accepts: one clear line at start, not "too many clients" later."""
    result = pantau("serve", env={**env, "PANTAU_WORKERS": "64", "PANTAU_PORT": str(_free_port())}, cwd=tmp_path)
    assert_clean_failure(result, "serve.too_many_connections")
    assert "max_connections" in result.stderr and "PANTAU_WORKERS" in result.stderr


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's max_connections; SQLite has no connection limit")
def test_serve_fits_each_process_pool_to_postgres(database_url: str, tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Twelve processes on this server's max_connections get smaller pools, handed to the worker
    processes through PANTAU_DB_POOL_SIZE; two processes keep the full pool."""
    import asyncio

    from server.cli.serve import _fit_pool
    from server.settings import Settings
    from server.storage.db import MAX_POOL, PER_PROCESS_EXTRA, Database, connection_budget

    monkeypatch.setenv("PANTAU_DB_POOL_SIZE", "")
    settings = Settings(database_url=database_url, data_dir=str(tmp_path))

    async def budget() -> tuple[int, int, int]:
        db = Database(database_url, pool_size=1)
        await db.open()
        try:
            return await connection_budget(db)
        finally:
            await db.close()

    most, reserved, _in_use = asyncio.run(budget())
    twelve = _fit_pool(settings, 12)
    assert 2 <= twelve.db_pool_size < MAX_POOL
    assert 12 * (twelve.db_pool_size + PER_PROCESS_EXTRA) <= most - reserved
    assert os.environ["PANTAU_DB_POOL_SIZE"] == str(twelve.db_pool_size)
    assert _fit_pool(settings, 2).db_pool_size == MAX_POOL
