"""`pantau backup FILE`: a consistent copy of the SQLite database taken while the server runs,
through SQLite's online backup API (copying the file by hand can catch a half-written WAL).
On PostgreSQL the right tool is pg_dump, and the command says how to call it."""

from __future__ import annotations

import argparse
import os
import sqlite3
from pathlib import Path

from server.cli.common import prepared_settings
from server.errors import PantauError
from server.private_files import touch_private


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("backup", help="consistent copy of the SQLite database (even while serving)")
    p.add_argument("file", help="where to write the copy (must not exist)")
    p.set_defaults(func=_backup)


def _backup(args: argparse.Namespace) -> int:
    settings = prepared_settings()
    if not settings.is_sqlite:
        raise PantauError("backup.not_sqlite", url=_without_password(settings.database_url))
    target = Path(args.file)
    if target.exists():
        raise PantauError("backup.target_exists", path=str(target))
    if not target.parent.resolve().is_dir():
        raise PantauError("backup.target_dir", path=str(target.parent))
    source_path = settings.sqlite_path
    if not source_path.exists():
        raise PantauError("form.file_missing", path=str(source_path))
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        touch_private(partial)  # a copy of the registry is as private as the registry
        dest = sqlite3.connect(partial)
        try:
            source.backup(dest, pages=1024)
            check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            dest.close()
    finally:
        source.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise PantauError("http.internal")
    os.replace(partial, target)  # the file appears whole or not at all
    print(f"cadangan ditulis / backup written: {target} ({target.stat().st_size} bytes)")
    return 0


def _without_password(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.split("@", 1)
        return f"{scheme}://{creds.split(':', 1)[0]}@{host}"
    return url
