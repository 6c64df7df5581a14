"""`pantau db migrate` on PostgreSQL moves the photos and report editions kept as files into the
database, checks every copy by its hash before it removes any file, and moves all or nothing: one
damaged file is a one-line error with exit code 2, every file still in place, no blob written."""

from __future__ import annotations

import asyncio
import hashlib
import io
from pathlib import Path

import pytest
from PIL import Image

from server import clock
from server.storage import attachments, blobs
from server.storage import reports as store
from server.storage.db import Database
from tests.cli.test_cli_foundation import assert_clean_failure, pantau
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="SQLite keeps its files on disk")


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"PANTAU_DATABASE_URL": database_url, "PANTAU_DATA_DIR": str(tmp_path / "data")}


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


def _files(data_dir: Path, database_url: str) -> dict[str, tuple[Path, bytes]]:
    """Two photos (each with its attachment row) and two report editions, as a SQLite-era Pantau kept them."""
    made: dict[str, tuple[Path, bytes]] = {}
    for colour in ((200, 0, 0), (0, 200, 0)):
        data = _jpeg(colour)
        name = hashlib.sha256(data + b"as sent").hexdigest()  # a photo's name is the phone's bytes' hash
        path = attachments.path_of(str(data_dir), name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        made[name] = (path, data)
        asyncio.run(_attachment_row(database_url, name, len(data)))
    for n in range(2):
        pdf = b"%PDF-1.7 edisi " + bytes([n]) * 2_500_000  # several chunks
        digest = store.store_pdf(str(data_dir), pdf)  # no database URL: a file, as on SQLite
        made[digest] = (store.pdf_path(str(data_dir), digest), pdf)
    return made


async def _attachment_row(url: str, sha: str, size: int, content_type: str = "image/jpeg") -> None:
    db = Database(url)
    await db.open()
    try:
        await db.fetch("INSERT INTO attachment (sha256, size, content_type, uploaded_at) "
                       "VALUES ({}, {}, {}, {})", sha, size, content_type, clock.now())
    finally:
        await db.close()


async def _blob_keys(url: str) -> set[str]:
    db = Database(url)
    await db.open()
    try:
        return {r["sha256"] for r in await db.fetch("SELECT sha256 FROM blob")}
    finally:
        await db.close()


def test_files_move_into_the_database_checked_and_then_leave_the_disk(env: dict[str, str], database_url: str,
                                                                      tmp_path: Path) -> None:
    made = _files(Path(env["PANTAU_DATA_DIR"]), database_url)
    result = pantau("db", "migrate", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "files moved into the database: 4" in result.stdout
    assert not any(path.exists() for path, _ in made.values())
    assert asyncio.run(_blob_keys(database_url)) == set(made)
    for key, (_, data) in made.items():
        with blobs.connect(database_url) as conn:
            assert b"".join(blobs.read_sync(conn, key)) == data
    again = pantau("db", "migrate", env=env, cwd=tmp_path)
    assert again.returncode == 0 and "files moved" not in again.stdout


def test_one_damaged_file_moves_nothing_and_removes_nothing(env: dict[str, str], database_url: str,
                                                             tmp_path: Path) -> None:
    made = _files(Path(env["PANTAU_DATA_DIR"]), database_url)
    damaged = sorted(p for p, _ in made.values() if p.suffix == ".pdf")[-1]
    data = bytearray(damaged.read_bytes())
    data[1000] ^= 0xFF  # one flipped bit in the middle of an edition
    damaged.write_bytes(bytes(data))
    result = pantau("db", "migrate", env=env, cwd=tmp_path)
    assert_clean_failure(result, "blobs.not_moved")
    assert str(damaged) in result.stderr
    assert all(path.exists() for path, _ in made.values())
    assert asyncio.run(_blob_keys(database_url)) == set()


def test_a_photo_that_is_not_what_its_row_says_moves_nothing(env: dict[str, str], database_url: str,
                                                              tmp_path: Path) -> None:
    made = _files(Path(env["PANTAU_DATA_DIR"]), database_url)
    photo = next(p for p, _ in made.values() if p.suffix != ".pdf")
    photo.write_bytes(photo.read_bytes()[:200])  # cut short
    result = pantau("db", "migrate", env=env, cwd=tmp_path)
    assert_clean_failure(result, "blobs.not_moved")
    assert all(path.exists() for path, _ in made.values())
    assert asyncio.run(_blob_keys(database_url)) == set()


def test_a_recording_moves_as_sent_and_a_damaged_one_moves_nothing(env: dict[str, str], database_url: str,
                                                                    tmp_path: Path) -> None:
    data_dir = Path(env["PANTAU_DATA_DIR"])
    song = b"ID3\x04\x00\x00\x00\x00\x00\x21" + bytes(range(256)) * 9000  # kept as sent: named by its bytes
    name = hashlib.sha256(song).hexdigest()
    path = attachments.path_of(str(data_dir), name)
    path.parent.mkdir(parents=True, exist_ok=True)
    damaged = bytearray(song)
    damaged[5000] ^= 0xFF
    path.write_bytes(bytes(damaged))
    asyncio.run(_attachment_row(database_url, name, len(song), "audio/mpeg"))
    refused = pantau("db", "migrate", env=env, cwd=tmp_path)
    assert_clean_failure(refused, "blobs.not_moved")
    assert path.exists() and asyncio.run(_blob_keys(database_url)) == set()
    path.write_bytes(song)
    moved = pantau("db", "migrate", env=env, cwd=tmp_path)
    assert moved.returncode == 0, moved.stderr
    with blobs.connect(database_url) as conn:
        assert b"".join(blobs.read_sync(conn, name)) == song
