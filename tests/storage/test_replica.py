"""Heavy reads on a real hot standby (storage/replica.py): a PostgreSQL primary and a standby made
from it with pg_basebackup, on ports of their own. The reads go to the standby while it keeps up, to
the primary when its replay lags more than the setting, is paused or the standby is down, with one log
line a minute for it; and back to the standby when it catches up. SQLite has no standby: the
PostgreSQL pass runs this once."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time

import pytest

from server.errors import PantauError
from server.settings import Settings
from server.storage import replica as replica_module
from server.storage.db import Database
from tests.conftest import ON_POSTGRES
from tests.pg_clusters import Pair

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL standby: the PostgreSQL pass runs it")


@pytest.fixture
def pair(standby_pair: Pair) -> Pair:
    return standby_pair


def standby_of(pair: Pair, max_lag: int) -> Database:
    settings = Settings(database_url=pair.primary_url, database_replica_url=pair.standby_url, replica_max_lag=max_lag)
    return Database.from_settings(settings)


async def answered_by_standby(db: Database) -> bool:
    source = await db.heavy_reads()
    [row] = await source.db.fetch("SELECT pg_is_in_recovery() AS standby")
    assert row["standby"] == source.on_replica  # the source says where it reads, truly
    return bool(row["standby"])


async def settled(db: Database, want: bool, within: float = 20.0) -> None:
    """Until the heavy reads are where they should be; a read under way when the standby died is a
    503 (db.unreachable), as for any lost connection, and the next one goes to the primary."""
    deadline = time.monotonic() + within
    while True:
        try:
            if await answered_by_standby(db) == want:
                return
        except PantauError as exc:
            assert exc.code == "db.unreachable" and not want
        assert time.monotonic() < deadline, f"heavy reads did not move to the {'standby' if want else 'primary'}"
        await asyncio.sleep(0.2)


def test_reads_go_to_the_standby_and_to_the_primary_while_it_lags(pair: Pair, caplog: pytest.LogCaptureFixture) -> None:
    pair.psql(pair.primary_port, "CREATE TABLE IF NOT EXISTS mark (n int)")

    async def scenario() -> None:
        db = standby_of(pair, max_lag=2)
        await db.open()
        try:
            await settled(db, True)  # a caught-up, streaming standby serves the heavy reads
            pair.psql(pair.standby_port, "SELECT pg_wal_replay_pause()")
            pair.psql(pair.primary_port, "INSERT INTO mark VALUES (1)")  # received, not replayed
            source = await db.heavy_reads()
            replayed = pair.psql(pair.standby_port, "SELECT pg_last_xact_replay_timestamp()")
            if source.on_replica:  # within the 2 s allowed: its data time is its last replayed commit
                assert source.data_time == dt.datetime.fromisoformat(replayed)
            await settled(db, False)  # 2 s of lag later: the primary
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="pantau.replica"):
                for _ in range(6):  # a few seconds of requests meanwhile: one line, not one per request
                    assert not await answered_by_standby(db)
                    await asyncio.sleep(replica_module.CHECK_EVERY_S)
            said = [r.getMessage() for r in caplog.records if "heavy reads go to the primary" in r.getMessage()]
            assert said == [] or len(said) == 1  # the first of the minute may have come in settled()
            pair.psql(pair.standby_port, "SELECT pg_wal_replay_resume()")
            await settled(db, True)  # caught up again: back to the standby
            [row] = await (await db.heavy_reads()).db.fetch("SELECT count(*) AS n FROM mark")
            assert row["n"] >= 1  # and it has the row written while it was paused
        finally:
            await db.close()

    asyncio.run(scenario())


def test_a_lagging_standby_is_named_once_a_minute(pair: Pair, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[str]:
        db = standby_of(pair, max_lag=1)
        await db.open()
        try:
            await settled(db, True)
            pair.psql(pair.standby_port, "SELECT pg_wal_replay_pause()")
            pair.psql(pair.primary_port, "INSERT INTO mark VALUES (2)")
            with caplog.at_level(logging.WARNING, logger="pantau.replica"):
                await settled(db, False)
                for _ in range(5):
                    assert not await answered_by_standby(db)
                    await asyncio.sleep(replica_module.CHECK_EVERY_S)
            return [r.getMessage() for r in caplog.records if r.name == "pantau.replica"]
        finally:
            pair.psql(pair.standby_port, "SELECT pg_wal_replay_resume()")
            await db.close()

    said = asyncio.run(scenario())
    assert len(said) == 1 and "lags" in said[0] and "PANTAU_REPLICA_MAX_LAG=1" in said[0]


def test_a_standby_that_is_down_sends_the_reads_to_the_primary(pair: Pair, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> list[str]:
        db = standby_of(pair, max_lag=60)
        await db.open()
        try:
            await settled(db, True)
            pair.stop_standby()
            with caplog.at_level(logging.WARNING, logger="pantau.replica"):
                await settled(db, False)
                for _ in range(3):
                    assert not await answered_by_standby(db)
                    await asyncio.sleep(replica_module.CHECK_EVERY_S)
            return [r.getMessage() for r in caplog.records if r.name == "pantau.replica"]
        finally:
            await db.close()
            pair.start_standby()  # the session's other standby tests use it

    said = asyncio.run(scenario())
    assert len(said) == 1 and "cannot be reached" in said[0]
    assert "heavy reads go to the primary" in said[0]


def test_no_standby_setting_reads_the_primary() -> None:
    db = Database.from_settings(Settings(database_url="postgresql://postgres@127.0.0.1:5432/x"))
    assert db.replica is None
    assert asyncio.run(db.heavy_reads()).db is db
