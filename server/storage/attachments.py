"""Photos, stored once by their sha256 under DATA_DIR/attachments/ab/abcdef.... The sha256 names the
bytes as the phone sent them (the phone keys its outbox by it), but what is stored is the image
decoded and encoded again: a JPEG with a page appended, or a polyglot, is kept as a plain JPEG.
A file is written to a temporary name, fsynced and renamed, so an acknowledged upload survives a
crash and a half-written file is never visible.

Knowing a photo's sha256 grants nothing. attachment_upload records each user who uploaded it; a
submission may cite only photos its sender uploaded or its own earlier revision already held
(citable), and a photo is shown to its uploaders and to whoever may read a record holding it
(storage/access.attachment_for)."""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import uuid
import warnings
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec
from PIL import Image, ImageOps

from server import clock
from server.domain.access import Principal
from server.errors import PantauError
from server.private_files import write_durably
from server.storage import blobs
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


# A phone photo is at most a few megapixels (the runtime scales to 1600 px); far more is a
# decompression bomb, refused before it is decoded.
MAX_PIXELS = 40_000_000
_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}


# The phone's runtime scales a photo to this many pixels on its longer side (static/js/form.js) unless
# the question's max_pixels says otherwise; a photo posted without JavaScript is scaled here to match.
PHONE_SIDE = 1600


def reencode(data: bytes, kind: str, max_side: int | None = None) -> bytes:
    """The image alone, encoded afresh in its own format: no bytes after its end, no metadata (a
    phone's EXIF can carry the GPS position of a home). With max_side (a photo posted without
    JavaScript) it is scaled to fit and stored as JPEG, as the phone's runtime would have sent it.
    attachment.not_image when it does not decode."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_FORMATS[kind]]) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise PantauError("attachment.not_image")
                if max_side is not None and kind == "image/jpeg" and max(opened.size) > max_side:
                    # Decoded at 1/2, 1/4 or 1/8 scale straight from the JPEG's coefficients, never
                    # smaller than the size it is scaled to: a 12-megapixel photo costs 9 MB of
                    # pixels instead of 36 MB.
                    ratio = max_side / max(opened.size)
                    opened.draft(None, (math.ceil(opened.width * ratio), math.ceil(opened.height * ratio)))
                # Upright as shown, before the EXIF goes; in place, so an upright photo is not copied.
                image: Image.Image = ImageOps.exif_transpose(opened, in_place=True) or opened
                image.load()
        out = io.BytesIO()
        if max_side is not None:
            if max(image.size) > max_side:
                image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            kind = "image/jpeg"
        if kind == "image/jpeg":
            image = image if image.mode in ("RGB", "L") else image.convert("RGB")
            image.save(out, "JPEG", quality=90)
        else:
            image.save(out, _FORMATS[kind], **({"quality": 90} if kind == "image/webp" else {}))
        return out.getvalue()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning,
            KeyError):
        raise PantauError("attachment.not_image") from None


async def save(db: Database, data_dir: str, data: bytes, content_type: str, uploader: int,
               max_side: int | None = None) -> str:
    """Store a photo under the sha256 of the bytes as sent; refused (attachment.not_image) when they
    are not the image they claim to be. max_side: scale it to fit, as JPEG (a post without JavaScript)."""
    digest = hashlib.sha256(data).hexdigest()
    stored_type = "image/jpeg" if max_side is not None else content_type  # what reencode makes of it
    size = await _store(db, data_dir, digest, data, content_type, max_side)
    await db.fetch(
        "INSERT INTO attachment (sha256, size, content_type, uploaded_by, uploaded_at) VALUES ({}, {}, {}, {}, {}) "
        "ON CONFLICT (sha256) DO NOTHING", digest, size, stored_type, uploader, clock.now())
    await db.fetch("INSERT INTO attachment_upload (sha256, uploaded_by, uploaded_at) VALUES ({}, {}, {}) "
                   "ON CONFLICT (sha256, uploaded_by) DO NOTHING", digest, uploader, clock.now())
    _UPLOADED.add((uploader, digest))
    return digest


async def _store(db: Database, data_dir: str, digest: str, data: bytes, content_type: str,
                 max_side: int | None) -> int:
    """The photo kept once under its digest: a blob in PostgreSQL (any node serves it), a file on
    SQLite. Returns the stored size."""
    if blobs.in_database(db.url):
        size = await blobs.size_of(db, digest)
        if size is None:
            clean = await asyncio.to_thread(reencode, data, content_type, max_side)  # CPU: off the event loop
            size = (await blobs.put_bytes(db, clean, key=digest)).size
        return size
    path = path_of(data_dir, digest)
    if not path.exists():
        clean = await asyncio.to_thread(reencode, data, content_type, max_side)
        await asyncio.to_thread(write_durably, path, clean)  # fsync must not stall the event loop
    return path.stat().st_size


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
