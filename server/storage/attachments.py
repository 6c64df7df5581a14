"""Photos, stored once by their sha256 under DATA_DIR/attachments/ab/abcdef... (SQLite) or as blobs
(PostgreSQL). The sha256 names the bytes as the phone sent them (the phone keys its outbox by it);
what is stored is the phone's bytes without their metadata, or the photo scaled to the form's
limit (storage/photo_clean): never anything after the image's end, so a JPEG with a page appended,
or a polyglot, is kept as a plain JPEG. A photo arrives as a file (an upload spooled to disk) and
moves a chunk at a time. A file is written to a temporary name, fsynced and linked into place, so
an acknowledged upload survives a crash and a half-written file is never visible. A recording or
file (save_stream: audio, video and file questions) is kept byte for byte, streamed, never whole in memory.

Knowing a photo's sha256 grants nothing. attachment_upload records each user who uploaded it; a
submission may cite only photos its sender uploaded or its own earlier revision already held
(citable), and a photo is shown to its uploaders and to whoever may read a record holding it
(storage/access.attachment_for)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tempfile
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import msgspec

from server import clock
from server.domain import media
from server.domain.access import Principal
from server.domain.form import Form, Question, walk
from server.errors import PantauError, too_large, wrong_kind
from server.private_files import create_private, move_durably, private_dir, sync_folder
from server.storage import blobs, photo_clean
from server.storage.db import Database
from server.storage.tables import Attachment

# Magic numbers: the bytes decide what a file is, never its name or the client's content type.
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))


def sniff_image(data: bytes) -> str | None:
    for magic, kind in SIGNATURES:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def path_of(data_dir: str, sha256: str) -> Path:
    return Path(data_dir) / "attachments" / sha256[:2] / sha256


EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
MAX_PIXELS = photo_clean.MAX_PIXELS

# The phone's runtime scales a photo to this many pixels on its longer side (static/js/form.js) unless
# the question's max_pixels says otherwise; a photo posted without JavaScript is scaled here to match.
PHONE_SIDE = 1600


def max_side_of(form: Form, name: str) -> int | None:
    """The longer side the image question `name` allows (its max_pixels), None when it says nothing."""
    wanted = next((q.parameters.get("max_pixels") for q, _ in walk(form.fields)
                   if q.name == name and isinstance(q, Question)), None)
    return int(float(wanted)) if wanted else None


def sniff_file(source: BinaryIO) -> str | None:
    source.seek(0)
    kind = sniff_image(source.read(16))
    source.seek(0)
    return kind


def size_of(source: BinaryIO) -> int:
    return source.seek(0, io.SEEK_END)


def _digest(source: BinaryIO) -> str:
    """The sha256 of the bytes as sent, read a chunk at a time."""
    digest = hashlib.sha256()
    source.seek(0)
    while piece := source.read(photo_clean.CHUNK):
        digest.update(piece)
    return digest.hexdigest()


async def save(db: Database, data_dir: str, source: BinaryIO, content_type: str, uploader: int,
               max_side: int | None = None) -> str:
    """Store the photo in the (seekable) file `source` under the sha256 of its bytes as sent;
    refused (attachment.not_image) when they are not the image they claim to be. Kept as sent, its
    metadata taken out, when it fits max_side (the form's max_pixels); else scaled to fit, as JPEG
    (storage/photo_clean). Nothing is written for a refused photo."""
    digest = await asyncio.to_thread(_digest, source)
    found = await _stored(db, data_dir, digest)
    if found is None:
        found = await _store(db, data_dir, digest, source, content_type, max_side)
    size, stored_type = found
    await db.fetch(
        "INSERT INTO attachment (sha256, size, content_type, uploaded_by, uploaded_at) VALUES ({}, {}, {}, {}, {}) "
        "ON CONFLICT (sha256) DO NOTHING", digest, size, stored_type, uploader, clock.now())
    await db.fetch("INSERT INTO attachment_upload (sha256, uploaded_by, uploaded_at) VALUES ({}, {}, {}) "
                   "ON CONFLICT (sha256, uploaded_by) DO NOTHING", digest, uploader, clock.now())
    _UPLOADED.add((uploader, digest))
    return digest


async def _stored(db: Database, data_dir: str, digest: str) -> tuple[int, str] | None:
    """(size, content type) of the photo already kept under this digest, None when there is none."""
    if blobs.in_database(db.url):
        size = await blobs.size_of(db, digest)
    else:
        path = path_of(data_dir, digest)
        size = path.stat().st_size if path.exists() else None
    if size is None:
        return None
    row = await Attachment.select(Attachment.content_type).where(Attachment.sha256 == digest).first()
    return size, str(row["content_type"]) if row else _kind_of_stored(db, data_dir, digest)


def _kind_of_stored(db: Database, data_dir: str, digest: str) -> str:
    if blobs.in_database(db.url):
        return "image/jpeg"  # a blob without its attachment row: only a crash between the two leaves one
    with open(path_of(data_dir, digest), "rb") as fh:
        return sniff_image(fh.read(16)) or "image/jpeg"


async def _store(db: Database, data_dir: str, digest: str, source: BinaryIO, content_type: str,
                 max_side: int | None) -> tuple[int, str]:
    """The photo cleaned into a private temporary file (CPU and disk: off the event loop), then kept
    once under its digest: a blob in PostgreSQL, written a chunk at a time (any node serves it), or a
    file renamed into place on SQLite. Returns (stored size, stored content type)."""
    folder = private_dir(Path(data_dir) / "attachments" / "tmp") if not blobs.in_database(db.url) else None
    with tempfile.NamedTemporaryFile(dir=folder, prefix=".photo-", suffix=".tmp") as spool:
        out = cast(BinaryIO, spool)
        stored_type = await asyncio.to_thread(photo_clean.clean, source, content_type, out, max_side)
        out.flush()
        size = out.tell()
        if folder is None:
            out.seek(0)
            await blobs.put(db, _file_pieces(out), key=digest)
        else:
            await asyncio.to_thread(_keep_file, out, path_of(data_dir, digest))
    return size, stored_type


async def _file_pieces(fh: BinaryIO) -> AsyncIterator[bytes]:
    """The cleaned file a row at a time, read on the event loop: it was just written, so it is in the
    page cache (a read takes a fraction of a millisecond), and a worker thread's read would leave its
    megabyte in that thread's malloc arena."""
    while piece := fh.read(blobs.CHUNK):
        yield piece


def _keep_file(out: Any, path: Path) -> None:
    """The cleaned temporary file made durable under its name: fsynced, linked into place (the
    temporary name goes with the NamedTemporaryFile), the folder fsynced."""
    os.fsync(out.fileno())
    private_dir(path.parent)
    try:
        os.link(out.name, path)
    except FileExistsError:
        return  # the same photo stored by another request meanwhile: the first copy stands
    sync_folder(path.parent)


class Saved(msgspec.Struct, frozen=True, kw_only=True):
    sha256: str
    size: int
    content_type: str


async def save_stream(db: Database, data_dir: str, pieces: AsyncIterable[bytes], kind: str, uploader: int,
                      limit: int) -> Saved:
    """Store a recording or file (an audio, video or file question's answer) as sent, under the
    sha256 of its bytes, a chunk at a time: on PostgreSQL as a blob (blobs.put, one transaction),
    on SQLite a temporary file fsynced and renamed. Refused before anything is kept when it is
    empty (attachment.empty), larger than `limit` (attachment.file_too_large) or its first bytes are
    not of the kind (attachment.wrong_kind): a refusal mid-stream rolls the blob back or removes the
    temporary file."""
    checked = _Checked(pieces, kind, limit)
    if blobs.in_database(db.url):
        stored = await blobs.put(db, checked)
        digest, size = stored.key, stored.size
    else:
        digest, size = await _write_file(data_dir, checked)
    content_type = checked.content_type
    # A file question keeps what an audio or video question proved to be a recording as that
    # recording (the bytes are the same); an octet-stream row is upgraded, never the reverse.
    await db.fetch(
        "INSERT INTO attachment (sha256, size, content_type, uploaded_by, uploaded_at) VALUES ({}, {}, {}, {}, {}) "
        "ON CONFLICT (sha256) DO UPDATE SET content_type = excluded.content_type "
        "WHERE attachment.content_type = {} AND excluded.content_type <> {}",
        digest, size, content_type, uploader, clock.now(), media.OCTET, media.OCTET)
    await db.fetch("INSERT INTO attachment_upload (sha256, uploaded_by, uploaded_at) VALUES ({}, {}, {}) "
                   "ON CONFLICT (sha256, uploaded_by) DO NOTHING", digest, uploader, clock.now())
    _UPLOADED.add((uploader, digest))
    found = await Attachment.select(Attachment.content_type).where(Attachment.sha256 == digest).first()
    return Saved(sha256=digest, size=size, content_type=str(found["content_type"]) if found else content_type)


class _Checked:
    """The upload's chunks, checked on the way through: its kind from its first bytes, its size
    against the limit, not empty."""

    def __init__(self, pieces: AsyncIterable[bytes], kind: str, limit: int) -> None:
        self.pieces, self.kind, self.limit = pieces, kind, limit
        self.content_type = ""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        head, size = b"", 0
        async for piece in self.pieces:
            if not piece:
                continue
            size += len(piece)
            if size > self.limit:
                raise too_large(self.limit, "attachment.file_too_large")
            if not self.content_type:
                head += piece  # held back until the first bytes show what the file is
                if len(head) < media.HEAD:
                    continue
                self._sniff(head)
                piece, head = head, b""
            yield piece
        if size == 0:
            raise PantauError("attachment.empty")
        if not self.content_type:  # smaller than the head: judged on what there is
            self._sniff(head)
            yield head

    def _sniff(self, head: bytes) -> None:
        found = media.sniff(head, self.kind)
        if found is None:
            raise wrong_kind(self.kind)
        self.content_type = found


async def _write_file(data_dir: str, pieces: AsyncIterable[bytes]) -> tuple[str, int]:
    """SQLite: the upload written to a private temporary file while it is hashed, then fsynced and
    renamed to its digest's name (private_files.move_durably); removed when it is refused midway."""
    folder = private_dir(Path(data_dir) / "attachments")
    temporary = folder / f".upload.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(create_private(temporary), "wb") as fh:
            async for piece in pieces:
                digest.update(piece)
                size += len(piece)
                await asyncio.to_thread(fh.write, piece)
        name = digest.hexdigest()
        await asyncio.to_thread(move_durably, temporary, path_of(data_dir, name))  # fsync: off the event loop
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return name, size


async def described(db: Database, digests: list[str]) -> dict[str, tuple[str, int]]:
    """sha256 -> (content type, size) of the stored attachments among these. Kept per process once
    read: a digest's bytes, hence its size, never change, and neither does its content type once it
    is more than application/octet-stream (save_stream only ever upgrades that one), so a resubmitted
    or corrected record's photos cost no read."""
    kept: dict[str, tuple[str, int]] = db.memo.setdefault("attachment_described", {})
    found = {digest: kept[digest] for digest in digests if digest in kept}
    wanted = sorted(set(digests) - found.keys())
    if not wanted:
        return found
    marks = ", ".join("{}" for _ in wanted)
    rows = await db.fetch(f"SELECT sha256, content_type, size FROM attachment WHERE sha256 IN ({marks})", *wanted)
    if len(kept) > _DESCRIBED_LIMIT:
        kept.clear()
    for row in rows:
        digest, described_as = str(row["sha256"]), (str(row["content_type"]), int(row["size"]))
        found[digest] = described_as
        if described_as[0] != media.OCTET:
            kept[digest] = described_as
    return found


_DESCRIBED_LIMIT = 100_000


def stored_bytes(data_dir: str, digest: str, database_url: str = "") -> bytes:
    """A stored photo whole (blocking): for the CLI and the tests."""
    return blobs.whole(database_url, digest, path_of(data_dir, digest))


def chunks(db: Database, data_dir: str, digest: str) -> AsyncIterator[bytes]:
    """A stored photo's bytes, a chunk at a time, from the database (PostgreSQL) or its file."""
    return blobs.stream(db, digest, path_of(data_dir, digest))


# Uploads are never taken back, so "this user uploaded this digest" can be remembered by the process
# (the phone submits right after uploading, and retries resend the same digests).
_UPLOADED: set[tuple[int, str]] = set()
_UPLOADED_LIMIT = 100_000


async def citable(db: Database, principal: Principal, instance_id: uuid.UUID, digests: list[str]) -> set[str]:
    """The digests this submission may name: photos its sender uploaded, and photos its own earlier
    revision already held (a correction keeps them, whoever corrects). Any other digest is answered
    as not uploaded yet, whether or not someone else has it: a hash is not a key."""
    wanted = set(digests)
    mine = {d for d in wanted if (principal.id, d) in _UPLOADED}
    rest = sorted(wanted - mine)
    if rest:
        marks = ", ".join("{}" for _ in rest)
        rows = await db.fetch(
            f"SELECT sha256, 1 AS own FROM attachment_upload WHERE uploaded_by = {{}} AND sha256 IN ({marks}) "
            f"UNION SELECT sha256, 0 AS own FROM submission_attachment WHERE submission = {{}} AND sha256 IN ({marks})",
            principal.id, *rest, instance_id, *rest)
        if len(_UPLOADED) > _UPLOADED_LIMIT:
            _UPLOADED.clear()
        _UPLOADED.update((principal.id, r["sha256"]) for r in rows if r["own"])
        mine |= {r["sha256"] for r in rows}
    return mine


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    """A submission that holds a photo, as far as seeing it goes: who sent it and where."""

    enumerator: int | None
    area_code: str


class Holders(msgspec.Struct, frozen=True, kw_only=True):
    content_type: str
    uploaded_by_them: bool  # the person asking uploaded it (then `holders` is not read: [])
    holders: list[Holder]


async def holders(db: Database, principal: Principal, digest: str) -> Holders | None:
    """What deciding who may see a photo needs: its content type, whether this person uploaded it,
    and the submissions that hold it; None when there is no such photo. The rule is
    storage/access.attachment_for's (domain/access.sees_record)."""
    row = await Attachment.select(Attachment.content_type).where(Attachment.sha256 == digest).first()
    if row is None:
        return None
    if await db.fetch("SELECT 1 AS yes FROM attachment_upload WHERE sha256 = {} AND uploaded_by = {}",
                      digest, principal.id):
        return Holders(content_type=str(row["content_type"]), uploaded_by_them=True, holders=[])
    found = await db.fetch(
        "SELECT s.area_code AS area_code, s.enumerator AS enumerator FROM submission_attachment a "
        "JOIN submission s ON s.id = a.submission WHERE a.sha256 = {}", digest)
    return Holders(content_type=str(row["content_type"]), uploaded_by_them=False,
                   holders=[Holder(enumerator=f["enumerator"], area_code=str(f["area_code"])) for f in found])
