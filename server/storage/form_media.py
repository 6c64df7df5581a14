"""The media files of a form (domain/form_media.py names them): one row of form_media per form and
file name, the newest upload winning. The bytes are content-addressed and kept once: a blob in
PostgreSQL (storage/blobs.py, streamed a chunk at a time), a file under DATA_DIR/form_media on
SQLite. A file is checked before anything is written (its name, its bytes, its size, the column that
names it), so a refused upload writes nothing; the row is written after the bytes are complete."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from pathlib import Path

import msgspec

from server import clock
from server.domain.access import Principal
from server.domain.form_media import bad_name, fits, sniff
from server.errors import PantauError
from server.private_files import write_durably
from server.storage import audit, blobs
from server.storage.db import Database
from server.storage.sql import aware

_FAMILY = {"image": ("gambar", "image"), "big-image": ("gambar", "image"), "audio": ("suara", "audio"),
           "video": ("video", "video")}


class MediaFile(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    sha256: str
    blob_key: str
    md5: str
    size: int
    content_type: str
    uploaded_by: str = ""
    uploaded_at: dt.datetime | None = None


def path_of(data_dir: str, sha256: str) -> Path:
    return Path(data_dir) / "form_media" / sha256[:2] / sha256


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",")


def checked(name: str, data: bytes, named: Mapping[str, str], limit: int) -> str:
    """The content type of one uploaded file, or the refusal: a hostile name, a name the form does
    not use, too large, or bytes that are not an accepted file of the column's kind."""
    if bad_name(name):
        raise PantauError("media.bad_name", name=name.replace("\x00", "\\0")[:80])
    if name not in named:
        raise PantauError("media.not_named", name=name[:80])
    if len(data) > limit:
        raise PantauError("media.too_large", name=name[:80], limit_mb=_megabytes(limit))
    kind = sniff(data)
    if kind is None or not fits(named[name], kind):
        wanted, wanted_en = _FAMILY[named[name]]
        raise PantauError("media.bad_type", name=name[:80], wanted=wanted, wanted_en=wanted_en)
    return kind


async def listed(db: Database, form_id: str) -> dict[str, MediaFile]:
    rows = await db.fetch("SELECT name, sha256, blob_key, md5, size, content_type, uploaded_by, uploaded_at "
                          "FROM form_media WHERE form_id = {} ORDER BY name", form_id)
    return {r["name"]: MediaFile(name=r["name"], sha256=r["sha256"], blob_key=r["blob_key"], md5=r["md5"],
                                 size=int(r["size"]), content_type=r["content_type"], uploaded_by=r["uploaded_by"],
                                 uploaded_at=aware(r["uploaded_at"])) for r in rows}


async def every_hash(db: Database) -> list[str]:
    """Every form's media, as form:name:sha256: the offline release changes when one does."""
    rows = await db.fetch("SELECT form_id, name, sha256 FROM form_media ORDER BY form_id, name")
    return [f"{r['form_id']}:{r['name']}:{r['sha256']}" for r in rows]


async def save(db: Database, data_dir: str, principal: Principal | None, form_id: str, name: str, data: bytes,
               content_type: str, by: str = "") -> MediaFile:
    """Keep one checked file (checked() first) as the form's `name`. principal None: the command
    line (`by` names it in the audit log)."""
    sha256 = hashlib.sha256(data).hexdigest()
    # The blob's key is not the bare sha256: a photo's blob is keyed by the sha256 of the bytes the
    # phone sent and holds them encoded again, so identical bytes must not share a key.
    key = hashlib.sha256(b"form-media\0" + data).hexdigest()
    if blobs.in_database(db.url):
        if await blobs.size_of(db, key) is None:
            await blobs.put_bytes(db, data, key=key)
    else:
        path = path_of(data_dir, sha256)
        if not path.exists():
            await asyncio.to_thread(write_durably, path, data)
    uploader = (principal.username if principal else by)[:80]
    entry = MediaFile(name=name, sha256=sha256, blob_key=key, md5=hashlib.md5(data, usedforsecurity=False).hexdigest(),
                      size=len(data), content_type=content_type, uploaded_by=uploader, uploaded_at=clock.now())
    await db.fetch(
        "INSERT INTO form_media (form_id, name, sha256, blob_key, md5, size, content_type, uploaded_by, uploaded_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT (form_id, name) DO UPDATE SET "
        "sha256 = excluded.sha256, blob_key = excluded.blob_key, md5 = excluded.md5, size = excluded.size, "
        "content_type = excluded.content_type, uploaded_by = excluded.uploaded_by, uploaded_at = excluded.uploaded_at",
        form_id, name, entry.sha256, key, entry.md5, entry.size, content_type, entry.uploaded_by, entry.uploaded_at)
    await audit.record(db, principal, "form.media_upload", target_type="form", target_id=form_id,
                       detail=f"name={name} sha256={sha256[:12]} size={len(data)}", actor_name=by)
    return entry


def chunks(db: Database, data_dir: str, entry: MediaFile) -> AsyncGenerator[bytes, None]:
    """The file's bytes a chunk at a time, from the database (PostgreSQL) or its file."""
    return blobs.stream(db, entry.blob_key, path_of(data_dir, entry.sha256))


async def part(db: Database, data_dir: str, entry: MediaFile, first: int, last: int) -> AsyncIterator[bytes]:
    """Bytes first..last (both included) a chunk at a time, for a player seeking in audio or video:
    the chunks before the part are read and dropped, those after it never read, so a node holds one
    chunk, never the file."""
    at = 0
    async with contextlib.aclosing(chunks(db, data_dir, entry)) as pieces:
        async for piece in pieces:
            end = at + len(piece)
            if end > first:
                yield piece[max(0, first - at):last + 1 - at]
            at = end
            if at > last:
                return
