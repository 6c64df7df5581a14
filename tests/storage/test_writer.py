"""The single write path: many callers, few transactions, every acknowledged write committed, and
one failing item never takes its neighbours down."""

from __future__ import annotations

import asyncio

import pytest

from server.storage.db import Database
from server.storage.writer import Writer


def _insert(db: Database, name: str):  # type: ignore[no-untyped-def]
    async def op() -> str:
        await db.fetch("INSERT INTO form (form_id, created_at) VALUES ({}, '2026-01-01T00:00:00+00:00')", name)
        return name

    return op


async def _names(db: Database) -> list[str]:
    return sorted(r["form_id"] for r in await db.fetch("SELECT form_id FROM form"))


async def test_concurrent_writes_are_batched_and_all_committed(db: Database) -> None:
    writer = Writer(db)
    await writer.start()
    try:
        results = await asyncio.gather(*(writer.run(_insert(db, f"f{i:03}")) for i in range(200)))
    finally:
        await writer.stop()
    assert sorted(results) == [f"f{i:03}" for i in range(200)]
    assert await _names(db) == [f"f{i:03}" for i in range(200)]
    assert writer.items == 200
    assert writer.batches < 50, "200 concurrent writes should share transactions (group commit)"


async def test_a_failing_item_does_not_sink_its_batch(db: Database) -> None:
    writer = Writer(db)
    await writer.start()
    try:
        ops = [_insert(db, "a"), _insert(db, "a"), _insert(db, "b")]  # the second breaks UNIQUE
        outcomes = await asyncio.gather(*(writer.run(op) for op in ops), return_exceptions=True)
    finally:
        await writer.stop()
    assert outcomes[0] == "a" and outcomes[2] == "b"
    assert isinstance(outcomes[1], Exception)
    assert await _names(db) == ["a", "b"]


async def test_stop_finishes_queued_work(db: Database) -> None:
    writer = Writer(db)
    await writer.start()
    pending = [asyncio.create_task(writer.run(_insert(db, f"q{i}"))) for i in range(20)]
    await asyncio.sleep(0)
    await writer.stop()
    assert [await p for p in pending] == [f"q{i}" for i in range(20)]
    assert len(await _names(db)) == 20


async def test_without_a_running_loop_task_it_writes_directly(db: Database) -> None:
    writer = Writer(db)
    assert await writer.run(_insert(db, "direct")) == "direct"
    assert await _names(db) == ["direct"]
    with pytest.raises(Exception):  # noqa: B017 - the UNIQUE violation of the driver in use
        await writer.run(_insert(db, "direct"))
    assert await _names(db) == ["direct"]
