"""Several Pantau processes on one SQLite file (PANTAU_WORKERS > 1): their writers take turns through
an exclusive flock on `<database>-writer.lock`, held from BEGIN to COMMIT, so a waiting writer is
woken the moment the other commits instead of sleeping in SQLite's busy handler."""

from __future__ import annotations

import asyncio
import fcntl
import os

import pytest

from server.storage.db import Database
from server.storage.write_tx import Tx
from server.storage.writer import Writer
from tests.conftest import ON_POSTGRES


@pytest.mark.skipif(ON_POSTGRES, reason="the lock file is SQLite's; PostgreSQL writers run in parallel")
async def test_a_writer_waits_for_the_lock_another_process_holds(db: Database) -> None:
    path = f"{db.engine.path}-writer.lock"  # type: ignore[union-attr]
    writer = Writer(db)
    await writer.start()
    holder = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)  # as another process's writer would
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)

        def op(tx: Tx) -> int:
            tx.execute("INSERT INTO form (form_id, created_at) VALUES ('dikunci', '2026-01-01T00:00:00+00:00')")
            return 1

        pending = asyncio.ensure_future(writer.run(op))
        await asyncio.sleep(0.5)
        assert not pending.done(), "the writer must wait while another process holds the lock"
        assert not await db.fetch("SELECT form_id FROM form WHERE form_id = 'dikunci'")
        fcntl.flock(holder, fcntl.LOCK_UN)
        assert await asyncio.wait_for(pending, 10) == 1
        assert await db.fetch("SELECT form_id FROM form WHERE form_id = 'dikunci'")
        # and it lets go after COMMIT: the other process gets the lock at once
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(holder, fcntl.LOCK_UN)
    finally:
        os.close(holder)
        await writer.stop()
