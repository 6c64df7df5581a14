"""Photos, stored once by their sha256 under DATA_DIR/attachments/ab/abcdef.... A file is written to
a temporary name, fsynced and renamed, so an acknowledged upload survives a crash and a half-written
file is never visible. The row says who uploaded it; submission_attachment says who may see it."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path

from server import clock
from server.domain.access import Principal, sees_area
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


def _write_durably(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # One temporary file per write: two uploads of the same photo at once (a phone retrying while its
    # first request still runs) must not rename each other's file away (a 500, issue 6).
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(6).hex()}.tmp")
    with open(temporary, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


async def save(db: Database, data_dir: str, data: bytes, content_type: str, uploader: int) -> str:
    digest = hashlib.sha256(data).hexdigest()
    path = path_of(data_dir, digest)
    if not path.exists():
        await asyncio.to_thread(_write_durably, path, data)  # fsync must not stall the event loop
    await db.fetch(
        "INSERT INTO attachment (sha256, size, content_type, uploaded_by, uploaded_at) VALUES ({}, {}, {}, {}, {}) "
        "ON CONFLICT (sha256) DO NOTHING", digest, len(data), content_type, uploader, clock.now())
    return digest


# Stored photos never disappear, so "this digest exists" can be remembered by the process (the
# phone submits right after uploading, and retries resend the same digests).
_KNOWN: set[str] = set()
_KNOWN_LIMIT = 100_000


async def known(db: Database, digests: list[str]) -> set[str]:
    unique = sorted(set(digests) - _KNOWN)
    if unique:
        rows = await db.fetch(f"SELECT sha256 FROM attachment WHERE sha256 IN ({', '.join('{}' for _ in unique)})",
                              *unique)
        if len(_KNOWN) > _KNOWN_LIMIT:
            _KNOWN.clear()
        _KNOWN.update(r["sha256"] for r in rows)
    return set(digests) & _KNOWN


async def visible_to(db: Database, principal: Principal, digest: str) -> str | None:
    """The content type when this person may see the photo: they uploaded it, or may see a
    submission that uses it. None otherwise (the caller answers 404)."""
    row = await Attachment.select(Attachment.content_type, Attachment.uploaded_by).where(
        Attachment.sha256 == digest).first()
    if row is None:
        return None
    if row["uploaded_by"] == principal.id or principal.is_area_free:
        return str(row["content_type"])
    areas = await db.fetch(
        "SELECT s.area_code AS area_code, s.enumerator AS enumerator FROM submission_attachment a "
        "JOIN submission s ON s.id = a.submission WHERE a.sha256 = {}", digest)
    for found in areas:
        if principal.role == "enumerator" and found["enumerator"] != principal.id:
            continue
        if sees_area(principal, found["area_code"]):
            return str(row["content_type"])
    return None
