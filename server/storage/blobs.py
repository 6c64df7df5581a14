"""Photos and report editions as blobs in PostgreSQL, so a node keeps nothing another node needs
(stateless nodes). SQLite keeps its files on disk (storage/attachments.py, storage/reports.py).

A blob is named by a key: a report edition by the sha256 of its bytes; a photo by the sha256 of the
bytes the phone sent (the name the phone keys its outbox by; what is stored is the photo encoded
again). `content_sha256` is always the sha256 of the stored bytes, so every copy can be checked.
The bytes are cut in CHUNK-sized rows of blob_chunk and move one chunk at a time in both directions:
a 50 MB PDF never sits whole in a node's memory. The chunks are written under a temporary key and
renamed, and the `blob` row is inserted last, in the same transaction: a blob is complete or absent.
Two uploads of one key at once serialise on an advisory lock; the second finds the first's blob and
drops its own chunks."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Iterator
from pathlib import Path
from typing import Any

from server import clock
from server.errors import PantauError
from server.storage.db import Database
from server.storage.sql import for_asyncpg, for_psycopg, psycopg_url

CHUNK = 1 << 20  # 1 MiB: a row per MiB keeps a 50 MB PDF at 50 rows and a node's memory at one chunk

_CHUNK_SQL = "INSERT INTO blob_chunk (sha256, n, data) VALUES ({}, {}, {})"
_LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended({}, 0))"
_FOUND_SQL = "SELECT content_sha256, size FROM blob WHERE sha256 = {}"
_RENAME_SQL = "UPDATE blob_chunk SET sha256 = {} WHERE sha256 = {}"
_DROP_SQL = "DELETE FROM blob_chunk WHERE sha256 = {}"
_BLOB_SQL = "INSERT INTO blob (sha256, content_sha256, size, chunks, created_at) VALUES ({}, {}, {}, {}, {})"


def in_database(database_url: str) -> bool:
    """Blobs live in the database on PostgreSQL; SQLite keeps files in the data directory."""
    return not database_url.startswith("sqlite:")


class Stored:
    def __init__(self, key: str, content_sha256: str, size: int) -> None:
        self.key, self.content_sha256, self.size = key, content_sha256, size


# --- async (the web nodes: asyncpg through the Database's pool) --------------------------------------------
async def put(db: Database, chunks: AsyncIterable[bytes], key: str | None = None) -> Stored:
    """Store what `chunks` yields; key None names it by its own sha256."""
    pool: Any = db.engine.pool  # type: ignore[union-attr]
    temporary = f"tmp-{uuid.uuid4().hex}"
    digest, size, count = hashlib.sha256(), 0, 0
    async with pool.acquire() as conn, conn.transaction():
        async for piece in _rechunk(chunks):
            digest.update(piece)
            size += len(piece)
            await conn.execute(for_asyncpg(_CHUNK_SQL), temporary, count, piece)
            count += 1
        content = digest.hexdigest()
        name = key or content
        await conn.execute(for_asyncpg(_LOCK_SQL), f"blob:{name}")
        if (found := await conn.fetchrow(for_asyncpg(_FOUND_SQL), name)) is not None:
            await conn.execute(for_asyncpg(_DROP_SQL), temporary)
            return Stored(name, found[0], int(found[1]))  # the first copy stands
        else:
            await conn.execute(for_asyncpg(_RENAME_SQL), name, temporary)
            await conn.execute(for_asyncpg(_BLOB_SQL), name, content, size, count, clock.now())
    return Stored(name, content, size)


async def _rechunk(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    buffer = bytearray()
    async for piece in chunks:
        if not buffer and len(piece) == CHUNK:
            yield piece  # already a row's worth (a file read a chunk at a time): no copy
            continue
        buffer += piece
        while len(buffer) >= CHUNK:
            yield bytes(buffer[:CHUNK])
            del buffer[:CHUNK]
    if buffer:
        yield bytes(buffer)


async def put_bytes(db: Database, data: bytes, key: str | None = None) -> Stored:
    async def one() -> AsyncIterator[bytes]:
        for start in range(0, len(data), CHUNK):
            yield data[start:start + CHUNK]

    return await put(db, one(), key)


async def size_of(db: Database, key: str) -> int | None:
    rows = await db.fetch("SELECT size FROM blob WHERE sha256 = {}", key)
    return int(rows[0]["size"]) if rows else None


async def read(db: Database, key: str) -> AsyncIterator[bytes]:
    """The blob's bytes, one chunk per database read; nothing when there is no such blob."""
    rows = await db.fetch("SELECT chunks FROM blob WHERE sha256 = {}", key)
    for n in range(int(rows[0]["chunks"]) if rows else 0):
        found = await db.fetch("SELECT data FROM blob_chunk WHERE sha256 = {} AND n = {}", key, n)
        if not found:
            raise PantauError("blob.damaged", key=key[:64])
        yield bytes(found[0]["data"])


async def drop(db: Database, key: str) -> None:
    """The blob gone: its row first (a blob without its row is absent), then its chunks."""
    await db.fetch("DELETE FROM blob WHERE sha256 = {}", key)
    await db.fetch("DELETE FROM blob_chunk WHERE sha256 = {}", key)


async def stream(db: Database, key: str, path: Path) -> AsyncGenerator[bytes, None]:
    """A stored file's bytes a chunk at a time: the blob on PostgreSQL, else the file at `path`
    (SQLite keeps files in the data directory)."""
    if in_database(db.url):
        async for piece in read(db, key):
            yield piece
        return
    with open(path, "rb") as fh:  # noqa: ASYNC230 - a local file, a chunk at a time
        while piece := await asyncio.to_thread(fh.read, CHUNK):
            yield piece


def whole(database_url: str, key: str, path: Path) -> bytes:
    """A stored file whole (blocking; the CLI and the tests): the blob on PostgreSQL, else `path`."""
    if in_database(database_url or "sqlite:"):
        with connect(database_url) as conn:
            return b"".join(read_sync(conn, key))
    return path.read_bytes()


# --- blocking (report worker processes, the CLI): psycopg ---------------------------------------------------
def connect(database_url: str) -> Any:
    import psycopg

    return psycopg.connect(psycopg_url(database_url), autocommit=True)


def put_sync(conn: Any, chunks: Iterable[bytes], key: str | None = None) -> Stored:
    """As put(), on a psycopg connection; inside the caller's transaction when one is open."""
    temporary = f"tmp-{uuid.uuid4().hex}"
    digest, size, count = hashlib.sha256(), 0, 0
    with conn.transaction():
        for piece in chunks:
            digest.update(piece)
            size += len(piece)
            conn.execute(for_psycopg(_CHUNK_SQL), (temporary, count, piece))
            count += 1
        content = digest.hexdigest()
        name = key or content
        conn.execute(for_psycopg(_LOCK_SQL), (f"blob:{name}",))
        if (found := conn.execute(for_psycopg(_FOUND_SQL), (name,)).fetchone()) is not None:
            conn.execute(for_psycopg(_DROP_SQL), (temporary,))
            return Stored(name, found[0], int(found[1]))  # the first copy stands
        else:
            conn.execute(for_psycopg(_RENAME_SQL), (name, temporary))
            conn.execute(for_psycopg(_BLOB_SQL), (name, content, size, count, clock.now()))
    return Stored(name, content, size)


def read_sync(conn: Any, key: str) -> Iterator[bytes]:
    found = conn.execute(for_psycopg("SELECT chunks FROM blob WHERE sha256 = {}"), (key,)).fetchone()
    for n in range(int(found[0]) if found else 0):
        row = conn.execute(for_psycopg("SELECT data FROM blob_chunk WHERE sha256 = {} AND n = {}"), (key, n)).fetchone()
        if row is None:
            raise PantauError("blob.damaged", key=key[:64])
        yield bytes(row[0])


def content_sha256_sync(conn: Any, key: str) -> str | None:
    """The sha256 of the blob's bytes as read back now (None when there is no such blob)."""
    if conn.execute(for_psycopg("SELECT 1 FROM blob WHERE sha256 = {}"), (key,)).fetchone() is None:
        return None
    digest = hashlib.sha256()
    for piece in read_sync(conn, key):
        digest.update(piece)
    return digest.hexdigest()


def file_chunks(path: Any) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        while piece := fh.read(CHUNK):
            yield piece


class PhotoReader:
    """Reads photos by key for a report being rendered (a worker process), on one connection opened
    at the first photo and closed with the reader. A photo is small (the phone scales it): whole."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._conn: Any = None

    def __call__(self, key: str) -> bytes | None:
        if self._conn is None:
            self._conn = connect(self.database_url)
        return b"".join(read_sync(self._conn, key)) or None

    def __enter__(self) -> PhotoReader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._conn is not None:
            self._conn.close()
