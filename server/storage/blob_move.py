"""`pantau db migrate` on PostgreSQL: the photos and report editions a Pantau kept as files in its
data directory (from before blobs, or while it ran on SQLite) move into the database as blobs, so any
node can serve them. All or nothing: every file is copied in ONE transaction and checked before the
commit (a report edition's bytes must hash to its name; a photo must have its attachment row, its
recorded size and decode as an image; every copy read back from the database must hash like its
file). Only after the commit are the files removed. One file that fails its check rolls back every
copy and removes nothing (blobs.not_moved, exit code 2)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from PIL import Image

from server.errors import PantauError
from server.storage import blobs
from server.storage.sql import for_psycopg

_SHA = re.compile(r"[0-9a-f]{64}")


class Found:
    def __init__(self, path: Path, key: str, kind: str) -> None:
        self.path, self.key, self.kind = path, key, kind


def files_in(data_dir: str) -> list[Found]:
    """Photos (attachments/ab/<sha256>) and editions (reports/<sha256>.pdf) kept as files."""
    root = Path(data_dir)
    found = [Found(p, p.name, "photo") for p in sorted((root / "attachments").glob("??/*")) if _SHA.fullmatch(p.name)]
    found += [Found(p, p.stem, "pdf") for p in sorted((root / "reports").glob("*.pdf")) if _SHA.fullmatch(p.stem)]
    return found


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    for piece in blobs.file_chunks(path):
        digest.update(piece)
    return digest.hexdigest()


def _check(conn: Any, item: Found, content: str) -> None:
    """Why this file may not move (PantauError), or nothing."""
    def refuse(reason: str) -> PantauError:
        return PantauError("blobs.not_moved", path=str(item.path), reason=reason)

    if item.kind == "pdf" and content != item.key:
        raise refuse(f"sha256 {content[:12]}…, its name says {item.key[:12]}…")
    if item.kind == "photo":
        row = conn.execute(for_psycopg("SELECT size, content_type FROM attachment WHERE sha256 = {}"),
                           (item.key,)).fetchone()
        if row is None:
            raise refuse("no attachment row names it")
        if int(row[0]) != item.path.stat().st_size:
            raise refuse(f"{item.path.stat().st_size} bytes, the attachment row says {row[0]}")
        if not str(row[1]).startswith("image/"):  # a recording or file is kept as sent: named by its bytes
            if content != item.key:
                raise refuse(f"sha256 {content[:12]}…, its name says {item.key[:12]}…")
            return
        try:
            with Image.open(item.path) as image:
                image.verify()
        except Exception as exc:  # PIL raises many kinds for a damaged image
            raise refuse(f"not a readable image ({type(exc).__name__})") from None


def move_files(database_url: str, data_dir: str) -> int:
    """Move every file into the database; returns how many moved (0 when there were none)."""
    found = files_in(data_dir)
    if not found:
        return 0
    with blobs.connect(database_url) as conn, conn.transaction():
        for item in found:
            content = _file_sha256(item.path)
            _check(conn, item, content)
            stored = blobs.put_sync(conn, blobs.file_chunks(item.path), key=item.key)
            if stored.content_sha256 != content or blobs.content_sha256_sync(conn, item.key) != content:
                raise PantauError("blobs.not_moved", path=str(item.path),
                                  reason="the copy in the database differs from the file")
    for item in found:  # committed: the database has every one, checked
        item.path.unlink()
    return len(found)
