"""Report runs: one row per (report, period, scope); generating again makes a new edition and keeps
the old one; a render past the time limit is killed and the run marked failed; a run whose renderer
died is made by another process, once; the schedule queues a
closed period once however often (and by however many processes) it is asked."""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing
from collections.abc import AsyncIterator
from concurrent.futures import ProcessPoolExecutor

import msgspec
import pytest
import time_machine

from server import clock
from server.reports import worker
from server.settings import Settings
from server.storage import audit
from server.storage import reports as store
from server.storage.db import Database
from server.storage.writer import Writer
from tests.reports import seed

NOW = dt.datetime(2026, 4, 2, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
async def writer(db: Database) -> AsyncIterator[Writer]:
    w = Writer(db)
    await w.start()
    try:
        yield w
    finally:
        await w.stop()


async def _queue(writer: Writer, scope: str = "64.02.06", include_all: bool = False) -> int | None:
    return await writer.run(lambda tx: store.queue(tx, "monev_triwulan", "2026-Q1", scope, include_all, None, NOW))


async def test_generating_again_makes_a_new_edition_and_keeps_the_old(
    db: Database, writer: Writer, settings: Settings
) -> None:
    await seed.write(db, settings, seed.build())
    run_id = await _queue(writer)
    assert run_id is not None
    assert await _queue(writer) is None  # pressed twice while queued: still one run
    await worker.execute(db, writer, settings, run_id)
    run = await store.run_by_id(db, run_id)
    assert run is not None and run.status == store.READY, run
    again = await _queue(writer, include_all=True)
    assert again == run_id  # the same row, queued once more
    await worker.execute(db, writer, settings, run_id)
    editions = await store.editions_of(db, run_id)
    assert [e.edition for e in editions] == [2, 1]
    assert [e.include_all for e in editions] == [True, False]
    assert editions[0].sha256 != editions[1].sha256
    for edition in editions:
        data = store.pdf_bytes(settings.data_dir, edition.sha256, settings.database_url)
        assert data[:5] == b"%PDF-" and len(data) == edition.size
    assert len(await db.fetch("SELECT id FROM report_run")) == 1


async def test_a_render_past_the_time_limit_is_stopped_and_reported_failed(
    db: Database, writer: Writer, settings: Settings
) -> None:
    hurried = msgspec.structs.replace(settings, report_time_limit=1)
    run_id = await _queue(writer)
    assert run_id is not None
    began = clock.now()
    await worker.execute(db, writer, hurried, run_id)
    run = await store.run_by_id(db, run_id)
    assert run is not None and run.status == store.FAILED
    assert "1 detik" in run.message
    assert (clock.now() - began).total_seconds() < 15  # killed, not waited for
    assert await store.editions_of(db, run_id) == []
    # A failed run can be generated again.
    assert await _queue(writer) == run_id


async def test_a_run_is_claimed_once(db: Database, writer: Writer) -> None:
    run_id = await _queue(writer)
    assert run_id is not None
    taken = [await writer.run(lambda tx: store.claim(tx, run_id, NOW)) for _ in range(3)]
    assert taken == [True, False, False]


async def test_scheduled_generation_twice_makes_one_run(db: Database, writer: Writer, settings: Settings) -> None:
    scheduled = msgspec.structs.replace(settings, report_schedule="monev_triwulan")
    first = await worker.schedule_due(writer, scheduled, dt.date(2026, 4, 1))
    second = await worker.schedule_due(writer, scheduled, dt.date(2026, 4, 1))
    later = await worker.schedule_due(writer, scheduled, dt.date(2026, 6, 30))  # still the same closed quarter
    assert len(first) == 1 and second == [] and later == []
    runs = await store.runs_in(db, None)
    assert [(r.report, r.period, r.scope, r.status, r.scheduled) for r in runs] == [
        ("monev_triwulan", "2026-Q1", "64.02", store.QUEUED, True)
    ]
    next_quarter = await worker.schedule_due(writer, scheduled, dt.date(2026, 7, 1))
    assert len(next_quarter) == 1
    assert await worker.schedule_due(writer, settings, dt.date(2026, 10, 1)) == []  # no schedule set: nothing


def _schedule_in_another_process(settings: Settings, today: dt.date) -> list[int]:
    """One Pantau process's scheduler round: its own connection pool and writer."""

    async def round_() -> list[int]:
        db = Database(settings.database_url)
        await db.open()
        writer = Writer(db)
        await writer.start()
        try:
            return await worker.schedule_due(writer, settings, today)
        finally:
            await writer.stop()
            await db.close()

    return asyncio.run(round_())


async def test_the_schedule_queues_the_kabupaten_and_each_kecamatan_with_data_once(
    db: Database, writer: Writer, settings: Settings
) -> None:
    """Three Pantau processes look at the clock at the same moment, and one again later: one run per
    (report, period, scope), for Kukar and for each kecamatan with records in the closed quarter."""
    fx = seed.build()
    await seed.write(db, settings, fx)
    kecamatan = sorted({p.area[:8] for p in fx.people})
    assert kecamatan == ["64.02.06", "64.02.13"]
    scheduled = msgspec.structs.replace(settings, report_schedule="monev_triwulan")
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=3, mp_context=multiprocessing.get_context("spawn")) as pool:
        rounds = [
            loop.run_in_executor(pool, _schedule_in_another_process, scheduled, dt.date(2026, 4, 1)) for _ in range(3)
        ]
        made = await asyncio.gather(*rounds)
    assert sum(len(m) for m in made) == 3
    assert await worker.schedule_due(writer, scheduled, dt.date(2026, 5, 2)) == []
    runs = await store.runs_in(db, None)
    assert sorted((r.period, r.scope, r.status, r.scheduled) for r in runs) == [
        ("2026-Q1", scope, store.QUEUED, True) for scope in ["64.02", *kecamatan]
    ]
    # A kecamatan scope is queued only where the period has records: nothing in 2026-Q2 yet.
    later = await worker.schedule_due(writer, scheduled, dt.date(2026, 7, 1))
    assert [(r.period, r.scope) for r in await store.runs_in(db, None) if r.id in later] == [("2026-Q2", "64.02")]


async def test_a_run_left_rendering_by_a_dead_process_is_queued_again(db: Database, writer: Writer) -> None:
    """The renderer renews its lease; a lease left alone for STALE_S means its process died, and the
    run goes back to the queue for another one. The dead one, should it come back, records nothing."""
    run_id = await _queue(writer)
    assert run_id is not None
    assert await writer.run(lambda tx: store.claim(tx, run_id, NOW))
    renewed = NOW + dt.timedelta(seconds=worker.RENEW_S)
    assert await writer.run(lambda tx: store.renew(tx, run_id, NOW, renewed))
    assert not await writer.run(lambda tx: store.renew(tx, run_id, NOW, renewed))  # NOW is no longer the lease
    alive = renewed + dt.timedelta(seconds=worker.STALE_S - 1)
    assert await writer.run(lambda tx: store.recover_stale(tx, worker.STALE_S, alive, 3)) == ([], [])
    assert (await store.run_by_id(db, run_id)).status == store.RENDERING  # type: ignore[union-attr]
    dead = renewed + dt.timedelta(seconds=worker.STALE_S + 1)
    assert await writer.run(lambda tx: store.recover_stale(tx, worker.STALE_S, dead, 3)) == ([run_id], [])
    run = await store.run_by_id(db, run_id)
    assert run is not None and run.status == store.QUEUED and "queued again" in run.message
    assert await store.queued_ids(db) == [run_id]
    # Another process takes it; the first one's late outcome is refused, the new holder's recorded.
    taken = dead + dt.timedelta(seconds=1)
    assert await writer.run(lambda tx: store.claim(tx, run_id, taken))
    late = await writer.run(lambda tx: store.finish(tx, run_id, "a" * 64, 10, 1, False, None, taken, held=renewed))
    await writer.run(lambda tx: store.fail(tx, run_id, "late", taken, held=renewed))
    assert late == 0 and (await store.run_by_id(db, run_id)).status == store.RENDERING  # type: ignore[union-attr]
    assert await writer.run(lambda tx: store.finish(tx, run_id, "b" * 64, 10, 1, False, None, taken, held=taken)) == 1
    assert [e.sha256 for e in await store.editions_of(db, run_id)] == ["b" * 64]


async def test_a_run_whose_process_keeps_dying_is_failed_after_the_attempts(
    db: Database, writer: Writer, settings: Settings
) -> None:
    """A report that kills whichever process makes it (out of memory, a crash in the renderer) would
    go round the nodes forever: after PANTAU_REPORT_ATTEMPTS lost leases the run is failed, with a
    message for the coordinators on its page and an audit entry. Queuing it again by hand starts anew."""
    assert Settings().report_attempts == 3  # the default
    run_id = await _queue(writer)
    assert run_id is not None
    with time_machine.travel(NOW, tick=False) as traveller:

        async def taken_and_lost() -> store.Run:
            assert await writer.run(lambda tx: store.claim(tx, run_id, clock.now()))  # a process takes it ...
            traveller.shift(worker.STALE_S - 1)
            await worker.recover(writer, settings)  # ... renews nothing: not stale yet
            assert (await store.run_by_id(db, run_id)).status == store.RENDERING  # type: ignore[union-attr]
            traveller.shift(2)  # ... and is dead: its lease has run out
            await worker.recover(writer, settings)
            run = await store.run_by_id(db, run_id)
            assert run is not None
            return run

        for _ in range(settings.report_attempts - 1):
            run = await taken_and_lost()
            assert run.status == store.QUEUED and "queued again" in run.message, run
        assert await audit.search(db, audit.AuditFilter(action="report.abandon")) == []
        run = await taken_and_lost()
        assert run.status == store.FAILED, run
        assert "berhenti 3 kali" in run.message and "stopped 3 times" in run.message, run.message
        assert run.finished_at == clock.now()
        assert await store.queued_ids(db) == []  # nobody takes it again
        entries = await audit.search(db, audit.AuditFilter(action="report.abandon"))
        assert [(e.actor, e.target_type, e.target_id, e.area_code) for e in entries] == [
            ("pantau", "report_run", str(run_id), "64.02.06")
        ]
        traveller.shift(worker.STALE_S * 2)
        await worker.recover(writer, settings)  # a failed run is no longer anyone's lease
        assert len(await audit.search(db, audit.AuditFilter(action="report.abandon"))) == 1
        # A coordinator makes it again: the count starts anew (one lost lease queues it again).
        assert await _queue(writer) == run_id
        run = await taken_and_lost()
        assert run.status == store.QUEUED, run
