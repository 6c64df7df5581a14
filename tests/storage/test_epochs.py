"""Epochs (storage/epochs.py): a change bumped in its own transaction empties the caches of every
other process within POLL_S. Two Database objects on one database stand for two processes (each has
its own memo); the real two-node drill is tests/web/test_nodes.py."""

from __future__ import annotations

import asyncio
import time

from server.domain.access import Principal
from server.domain.compile import compile_source
from server.storage import epochs, form_drafts, forms
from server.storage.db import Database
from server.storage.writer import Writer

SOURCE = b"""
settings: {id: uji_epoch, version: "1", title: {id: Uji, en: Test}}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}}
"""
STAFF = Principal(id=1, username="ani", display_name="Ani", role="staff", areas=())


async def test_a_cache_is_emptied_in_another_process_within_the_poll(db: Database, database_url: str) -> None:
    other = Database(database_url)
    await other.open()
    try:
        kept = await epochs.cache(other, "demo")
        kept["x"] = 1
        async with db.atomic():
            await epochs.bump_now(db, "demo")
        assert (await epochs.cache(other, "demo")).get("x") == 1  # read less than POLL_S ago: still kept
        await asyncio.sleep(epochs.POLL_S + 0.05)
        assert await epochs.cache(other, "demo") == {}
        assert await epochs.current(other, "demo") == 1
    finally:
        await other.close()


async def test_a_failed_transaction_moves_no_epoch(db: Database) -> None:
    try:
        async with db.atomic():
            await epochs.bump_now(db, "demo")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    epochs.forget(db)
    assert await epochs.current(db, "demo") == 0


async def test_archiving_on_one_process_stops_the_form_on_another_within_seconds(
        db: Database, writer: Writer, database_url: str) -> None:
    result = compile_source(SOURCE, "uji_epoch.yaml")
    assert result.compiled is not None
    await forms.publish(db, result.compiled, SOURCE, "uji_epoch.yaml")
    other = Database(database_url)
    await other.open()
    try:
        assert await forms.load_version(other, "uji_epoch", "1") is not None  # cached, status too
        assert await form_drafts.set_status(writer, STAFF, "uji_epoch", "archived")
        assert await forms.load_version(db, "uji_epoch", "1") is None  # the process that changed it: at once
        started = time.monotonic()
        while await forms.load_version(other, "uji_epoch", "1") is not None:
            assert time.monotonic() - started < epochs.POLL_S + 0.5
            await asyncio.sleep(0.05)
    finally:
        await other.close()
