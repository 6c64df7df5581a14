"""Blobs in PostgreSQL (storage/blobs.py): complete or absent, one copy per key, and moved a chunk at
a time: a 50 MB edition costs a node far less than 10 MB of memory in and out (measured here with
tracemalloc). SQLite keeps files, so these run on the PostgreSQL pass only."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tracemalloc
from collections.abc import AsyncIterator

import pytest

from server.storage import blobs
from server.storage.db import Database
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="blobs live in PostgreSQL; SQLite keeps files")
MB = 1 << 20


async def _pieces(total: int, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """`total` bytes as an upload arrives: small pieces, made on the fly (never whole in memory)."""
    seed = hashlib.sha256(b"pantau").digest()
    block = seed * (size // len(seed))
    for start in range(0, total, size):
        yield block[: min(size, total - start)]


def _expected(total: int, size: int = 64 * 1024) -> str:
    seed = hashlib.sha256(b"pantau").digest()
    block = seed * (size // len(seed))
    digest = hashlib.sha256()
    for start in range(0, total, size):
        digest.update(block[: min(size, total - start)])
    return digest.hexdigest()


async def test_a_blob_goes_in_and_out_in_chunks_and_is_named_by_its_bytes(db: Database) -> None:
    data = os.urandom(3 * MB + 123)
    stored = await blobs.put_bytes(db, data)
    assert stored.key == stored.content_sha256 == hashlib.sha256(data).hexdigest() and stored.size == len(data)
    pieces = [piece async for piece in blobs.read(db, stored.key)]
    assert [len(p) for p in pieces] == [blobs.CHUNK] * 3 + [123]
    assert b"".join(pieces) == data
    assert (await db.fetch("SELECT chunks FROM blob WHERE sha256 = {}", stored.key))[0]["chunks"] == 4


async def test_the_same_key_stored_twice_at_once_is_kept_once(db: Database) -> None:
    data = os.urandom(2 * MB)
    first, second = await asyncio.gather(blobs.put_bytes(db, data, key="f" * 64),
                                         blobs.put_bytes(db, data + b"x", key="f" * 64))
    # One copy stands, whichever finished first, and both callers are told of that one.
    kept = first.content_sha256
    assert second.content_sha256 == kept
    assert kept in {hashlib.sha256(data).hexdigest(), hashlib.sha256(data + b"x").hexdigest()}
    rows = await db.fetch("SELECT count(*) AS n FROM blob_chunk WHERE sha256 = {}", "f" * 64)
    assert rows[0]["n"] == (2 if kept == hashlib.sha256(data).hexdigest() else 3)  # 2 MB, or 2 MB and a byte
    whole = b"".join([piece async for piece in blobs.read(db, "f" * 64)])
    assert hashlib.sha256(whole).hexdigest() == kept  # the chunks are that copy's, not a mix of both
    assert await db.fetch("SELECT sha256 FROM blob_chunk WHERE sha256 LIKE 'tmp-%'") == []


async def test_a_failed_upload_leaves_nothing(db: Database) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"x" * MB
        raise ConnectionResetError("the phone went away")

    with pytest.raises(ConnectionResetError):
        await blobs.put(db, broken())
    assert await db.fetch("SELECT sha256 FROM blob_chunk") == [] and await db.fetch("SELECT sha256 FROM blob") == []


async def test_a_50_mb_edition_costs_a_node_less_than_10_mb_of_memory_in_and_out(db: Database) -> None:
    total = 50 * MB
    tracemalloc.start()
    try:
        stored = await blobs.put(db, _pieces(total))
        _, peak_in = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        digest, size = hashlib.sha256(), 0
        async for piece in blobs.read(db, stored.key):
            digest.update(piece)
            size += len(piece)
        _, peak_out = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert stored.content_sha256 == _expected(total) == digest.hexdigest() and size == total
    print(f"50 MB blob: peak {peak_in / MB:.1f} MB in, {peak_out / MB:.1f} MB out")
    assert peak_in < 10 * MB and peak_out < 10 * MB, (peak_in, peak_out)
