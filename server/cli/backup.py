"""`pantau backup FILE` and `pantau restore FILE`.

backup: a consistent copy of the SQLite database taken while the server runs and writes (one
snapshot, server/storage/backup.py), with a progress bar on a terminal; the file
appears whole and fsynced, or not at all: a failure, Ctrl-C or SIGTERM leaves nothing behind.
restore (server stopped): checks the backup first (integrity, schema version, the registry key opens
its NIKs), keeps the current database beside it under a dated name, and says what it did.
On PostgreSQL both say which pg_dump / pg_restore commands to run (never printing a password)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shlex
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from server.cli.common import prepared_settings
from server.errors import PantauError
from server.settings import Settings
from server.storage import backup, keyring, pii
from server.storage.db import Database


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("backup", help="consistent copy of the SQLite database (even while serving)")
    p.add_argument("file", help="where to write the copy (must not exist)")
    p.set_defaults(func=_backup)
    r = sub.add_parser("restore", help="server stopped: put a checked backup in place, keeping the old database")
    r.add_argument("file", help="a file made by `pantau backup`")
    r.set_defaults(func=_restore)


# --- backup -----------------------------------------------------------------------------------
def _backup(args: argparse.Namespace) -> int:
    settings = prepared_settings(seals=False)
    if not settings.is_sqlite:
        raise PantauError("backup.not_sqlite", command=pg_dump_command(settings.database_url, args.file))
    target = Path(args.file)
    if target.exists():
        raise PantauError("backup.target_exists", path=str(target))
    if not target.parent.resolve().is_dir():
        raise PantauError("backup.target_dir", path=str(target.parent))
    source = settings.sqlite_path
    if not source.exists():
        raise PantauError("form.file_missing", path=str(source))
    started = time.monotonic()
    snapshot = backup.Snapshot(source, target)
    try:
        with _terminate_as_interrupt():
            snapshot.start()
            bar = Progress("cadangan / backup", snapshot.expected)
            while not snapshot.wait(0.2):
                bar.show(snapshot.written())
            bar.done()
            size = snapshot.finish()
    except BaseException as exc:
        snapshot.discard()
        snapshot.close()
        if isinstance(exc, KeyboardInterrupt):
            sys.stderr.write("\npantau: cadangan dibatalkan, tidak ada berkas yang tertinggal / "
                             "backup cancelled, no file left behind\n")
        raise
    snapshot.close()
    print(f"cadangan ditulis / backup written: {target} ({size / 1e6:.1f} MB, {time.monotonic() - started:.1f} s)")
    return 0


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (systemd stopping the timer's job, `kill`) cleans up as Ctrl-C does."""
    def handler(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Progress:
    """A one-line bar on stderr, only when stderr is a terminal (a timer's log gets the result line only)."""

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = max(total, 1)
        self.tty = sys.stderr.isatty()

    def show(self, done: int) -> None:
        if not self.tty:
            return
        share = min(done / self.total, 1.0)
        filled = int(share * 30)
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (30 - filled)}] {share:4.0%} "
                         f"{done / 1e6:,.0f}/{self.total / 1e6:,.0f} MB")
        sys.stderr.flush()

    def done(self) -> None:
        if self.tty:
            self.show(self.total)
            sys.stderr.write("\n")


# --- restore ----------------------------------------------------------------------------------
def _restore(args: argparse.Namespace) -> int:
    settings = prepared_settings(seals=False)
    source = Path(args.file)
    if not settings.is_sqlite:
        raise PantauError("restore.not_sqlite", command=pg_restore_commands(settings.database_url, args.file))
    if not source.is_file():
        raise PantauError("form.file_missing", path=str(source))
    database = settings.sqlite_path
    if not database.parent.is_dir():
        raise PantauError("db.dir_missing", path=str(database.parent))
    if backup.in_use(database):
        raise PantauError("restore.in_use", path=str(database))
    facts = backup.check_backup(source)
    bar = Progress("salin / copy", facts.size)
    copy = backup.copy_beside(source, database, bar.show)
    bar.done()
    try:
        with _terminate_as_interrupt():
            sealed = _check_keys(settings, copy)
            kept = backup.put_in_place(copy, database)
    except BaseException:
        backup.remove_with_sides(copy)
        raise
    _say_restored(source, database, kept, facts, sealed)
    return 0


def _check_keys(settings: Settings, copy: Path) -> int:
    """The configured registry key must open the backup's sealed NIK/KK, or the restored registry
    would be unreadable: refuse before anything is replaced."""
    async def run() -> int:
        db = Database(f"sqlite:///{copy}")
        await db.open()
        try:
            found = await keyring.check(db, pii.keys_of(settings))
        finally:
            await db.close()
        if not found.ok:
            raise PantauError("restore.wrong_key", failed=found.failed, tried=found.tried,
                              fingerprint=found.fingerprint)
        return found.sealed

    return asyncio.run(run())


def _say_restored(source: Path, database: Path, kept: Path | None, facts: backup.BackupFacts, sealed: int) -> None:
    print(f"dipulihkan / restored: {source} -> {database} ({facts.size / 1e6:.1f} MB, "
          f"{facts.submissions} kiriman / submissions, {sealed} NIK/KK terbuka dengan kunci ini / open with this key)")
    if kept is not None:
        print(f"basis data lama disimpan / the previous database is kept as: {kept}")
    if facts.pending:
        print(f"cadangan ini dari versi lebih lama: jalankan / this backup is from an older version: run "
              f"`pantau db migrate` ({len(facts.pending)} migrasi / migrations)")


# --- PostgreSQL ---------------------------------------------------------------------------------
def without_password(url: str) -> str:
    """The URL with its password taken out (pg_dump then reads it from ~/.pgpass or PGPASSWORD)."""
    parts = urlsplit(url.replace("postgres://", "postgresql://", 1))
    if parts.password is None:
        return urlunsplit(parts)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def pg_dump_command(url: str, file: str) -> str:
    return f"pg_dump --format=custom --file={shlex.quote(file)} {shlex.quote(without_password(url))}"


def pg_restore_commands(url: str, file: str) -> str:
    """Into a new database beside the current one, which is kept until the restored one is checked."""
    parts = urlsplit(without_password(url))
    new_url = urlunsplit(parts._replace(path=f"{parts.path}_pulih"))
    return (f"createdb --maintenance-db={shlex.quote(without_password(url))} {parts.path.lstrip('/')}_pulih && "
            f"pg_restore --exit-on-error --no-owner --dbname={shlex.quote(new_url)} {shlex.quote(file)}; "
            f"lalu / then set PANTAU_DATABASE_URL={new_url}")
