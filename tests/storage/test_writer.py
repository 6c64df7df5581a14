"""The single write path: many callers, few transactions, every acknowledged write committed, and
one failing item never takes its neighbours down."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from server.storage.db import Database
from server.storage.write_tx import Tx
from server.storage.writer import Writer
from tests.conftest import ON_POSTGRES, PG_URL


def _insert(name: str):  # type: ignore[no-untyped-def]
    def op(tx: Tx) -> str:
        tx.execute("INSERT INTO form (form_id, created_at) VALUES ({}, '2026-01-01T00:00:00+00:00')", name)
        return name

    return op


async def _names(db: Database) -> list[str]:
    return sorted(r["form_id"] for r in await db.fetch("SELECT form_id FROM form"))


async def test_concurrent_writes_are_batched_and_all_committed(db: Database) -> None:
    writer = Writer(db)
    await writer.start()
    try:
        results = await asyncio.gather(*(writer.run(_insert(f"f{i:03}")) for i in range(200)))
    finally:
        await writer.stop()
    assert sorted(results) == [f"f{i:03}" for i in range(200)]
    assert await _names(db) == [f"f{i:03}" for i in range(200)]
    assert writer.items == 200
    assert writer.batches < 50, "200 concurrent writes should share transactions (group commit)"
    assert writer.reruns == 0, "no item failed: no batch needed its savepoints"


async def test_a_failing_item_does_not_sink_its_batch(db: Database) -> None:
    writer = Writer(db)
    await writer.start()
    try:
        ops = [_insert("a"), _insert("a"), _insert("b")]  # the second breaks UNIQUE
        outcomes = await asyncio.gather(*(writer.run(op) for op in ops), return_exceptions=True)
    finally:
        await writer.stop()
    assert outcomes[0] == "a" and outcomes[2] == "b"
    assert isinstance(outcomes[1], Exception)
    assert await _names(db) == ["a", "b"]
    # run first without savepoints, then (one item failed) again item by item: once per failing batch
    assert 1 <= writer.reruns <= writer.batches


async def test_stop_finishes_queued_work(db: Database) -> None:
    writer = Writer(db)
    await writer.start()
    pending = [asyncio.create_task(writer.run(_insert(f"q{i}"))) for i in range(20)]
    await asyncio.sleep(0)
    await writer.stop()
    assert [await p for p in pending] == [f"q{i}" for i in range(20)]
    assert len(await _names(db)) == 20


async def test_reads_inside_an_operation_see_the_batch(db: Database) -> None:
    def op(tx: Tx) -> int:
        tx.execute("INSERT INTO form (form_id, created_at) VALUES ('x', '2026-01-01T00:00:00+00:00')")
        return len(tx.fetch("SELECT id FROM form WHERE form_id = {}", "x"))

    writer = Writer(db)
    try:
        assert await writer.run(op) == 1  # run() starts the writer when nobody has
    finally:
        await writer.stop()


async def test_a_broken_database_fails_the_batch_not_the_writer(db: Database) -> None:
    writer = Writer(db)
    await writer.start()
    try:
        def boom(tx: Tx) -> None:
            tx.execute("COMMIT")  # ends the batch transaction early: the batch's own COMMIT then fails
            tx.execute("INSERT INTO nowhere VALUES (1)")

        outcome = await asyncio.gather(writer.run(boom), return_exceptions=True)
        assert isinstance(outcome[0], Exception)
        assert await writer.run(_insert("after")) == "after"
    finally:
        await writer.stop()
    assert "after" in await _names(db)


async def test_deferred_rows_are_written_after_the_items_and_dropped_with_a_failed_item(db: Database) -> None:
    """Tx.later: rows nobody reads back within the batch (audit entries, photo links) go in after the
    items (PostgreSQL: one statement for all; SQLite: one executemany per statement), or just before
    a statement that could see them; an item that fails takes its deferred rows with it."""
    writer = Writer(db)
    await writer.start()

    def good(name: str):  # type: ignore[no-untyped-def]
        def op(tx: Tx) -> str:
            tx.later("INSERT INTO form (form_id, created_at) VALUES ({}, '2026-01-01T00:00:00+00:00')", name)
            if tx.defer:  # the first run; the careful run after `bad` failed writes at once (a savepoint per item)
                assert not tx.fetch_ahead("SELECT form_id FROM form WHERE form_id = {}", name), "not yet"
                assert tx.fetch_ahead("SELECT form_id FROM form WHERE form_id = {}", name, sees=(name,)) == [], \
                    "no key marks the row: still not written"
            return name

        return op

    def bad(tx: Tx) -> None:
        tx.later("INSERT INTO form (form_id, created_at) VALUES ('gagal', '2026-01-01T00:00:00+00:00')")
        raise RuntimeError("this item fails after deferring a row")

    try:
        results = await asyncio.gather(*(writer.run(good(f"d{i:02}")) for i in range(30)), writer.run(bad),
                                       return_exceptions=True)
    finally:
        await writer.stop()
    assert [r for r in results if isinstance(r, str)] == [f"d{i:02}" for i in range(30)]
    assert isinstance(results[-1], RuntimeError)
    assert await _names(db) == [f"d{i:02}" for i in range(30)]  # and no 'gagal'


async def test_a_statement_sees_the_deferred_rows_before_it(db: Database) -> None:
    """Tx.fetch and Tx.execute write the batch's deferred rows first, so deferring never reorders
    what a statement sees; fetch_ahead writes them first only when a key it names is pending."""
    writer = Writer(db)
    await writer.start()

    def op(tx: Tx) -> list[int]:
        insert = "INSERT INTO form (form_id, created_at) VALUES ({}, '2026-01-01T00:00:00+00:00')"
        count = "SELECT COUNT(*) AS n FROM form WHERE form_id LIKE 'ahead%'"
        tx.later(insert, "ahead-1", key=("k1",))
        seen = [tx.fetch_ahead(count, sees=("k2",))[0]["n"]]  # not its key: not yet written
        seen.append(tx.fetch_ahead(count, sees=("k1",))[0]["n"])  # its key: written first
        tx.later(insert, "ahead-2")
        seen.append(tx.fetch(count)[0]["n"])  # a plain fetch: everything deferred first
        return [int(n) for n in seen]

    async def hold() -> None:  # a batch of its own before, so `op` runs deferred in a batch
        await writer.run(lambda tx: None)

    try:
        await hold()
        seen = await writer.run(op)
    finally:
        await writer.stop()
    assert seen == [0, 1, 2]


async def test_when_deferred_rows_fail_the_batch_runs_again_row_by_row(db: Database) -> None:
    """Two items defer the same unique row: the joined write fails, the whole batch is rolled back
    and run again without deferring, so the first item succeeds and only the second fails."""
    writer = Writer(db)
    await writer.start()

    def twin(tag: str):  # type: ignore[no-untyped-def]
        def op(tx: Tx) -> str:
            tx.later("INSERT INTO form (form_id, created_at) VALUES ('kembar', '2026-01-01T00:00:00+00:00')")
            tx.execute("INSERT INTO form (form_id, created_at) VALUES ({}, '2026-01-01T00:00:00+00:00')", tag)
            return tag

        return op

    def hold(tx: Tx) -> None:  # keeps the writer busy so the twins land in one batch
        import time

        time.sleep(0.3)

    try:
        first = asyncio.ensure_future(writer.run(hold))
        await asyncio.sleep(0.05)
        results = await asyncio.gather(writer.run(twin("satu")), writer.run(twin("dua")), return_exceptions=True)
        await first
    finally:
        await writer.stop()
    assert results[0] == "satu" and isinstance(results[1], Exception), results
    assert await _names(db) == ["kembar", "satu"]


class _Long:
    """An operation that takes longer than a request may wait, and says so (a registry import)."""

    def __init__(self, seconds: float, patience: float) -> None:
        self.seconds, self.patience = seconds, patience

    def __call__(self, tx: Tx) -> list[dict[str, object]]:
        rows = tx.fetch("SELECT 1 AS one")
        import time

        time.sleep(self.seconds)  # the transaction stays open, as a commit of 100,000 people does
        return rows


async def test_an_operation_that_states_its_patience_is_waited_for_and_commits(db: Database) -> None:
    from server.errors import PantauError

    short = Database(db.url, connect_timeout=1, statement_timeout=1)
    await short.open()
    writer = Writer(short)
    try:
        await writer.start()
        assert writer.patience == 7  # 1 + 1 + 5: a request's limit
        with pytest.raises(PantauError) as refused:  # without saying so, the caller gives up
            writer.patience = 1
            await writer.run(_Long(2.5, 0))
        assert refused.value.code == "db.unreachable"
        # said: the caller waits, and on PostgreSQL the watchdog (statement + 2 s) leaves it alone
        assert await writer.run(_Long(4.5, 60)) == [{"one": 1}]
    finally:
        await writer.stop()
        await short.close()


async def test_insert_ahead_says_whether_the_row_went_in(db: Database) -> None:
    """SQLite answers from the count of changed rows (the RETURNING dropped), PostgreSQL from the
    returned row: the same answer, and a conflicting row is neither written nor reported."""
    sql = ("INSERT INTO form (form_id, created_at) VALUES ({}, '2026-01-01T00:00:00+00:00') "
           "ON CONFLICT (form_id) DO NOTHING RETURNING id")
    writer = Writer(db)
    try:
        first = await writer.run(lambda tx: tx.insert_ahead(sql, "once"))
        again = await writer.run(lambda tx: (tx.insert_ahead(sql, "once"), tx.insert_ahead(sql, "twice")))
    finally:
        await writer.stop()
    assert first is True
    assert again == (False, True)
    assert await _names(db) == ["once", "twice"]


def test_patience_is_read_from_functions_and_objects_alike() -> None:
    from server.storage.writer import _patience_of

    def plain(tx: Tx) -> None:
        return None

    def told(tx: Tx) -> None:
        return None

    told.patience = 30  # type: ignore[attr-defined]
    assert _patience_of(plain) == 0.0
    assert _patience_of(lambda tx: None) == 0.0
    assert _patience_of(told) == 30.0
    assert _patience_of(_Long(0, 60)) == 60.0


# --- PostgreSQL: a batch without savepoints is the implicit transaction of a pipeline ---------------------
async def test_an_item_that_raises_after_writing_leaves_none_of_its_rows(db: Database) -> None:
    """An operation may fail in Python after its statements ran (a refusal found by a read). On
    PostgreSQL a batch without savepoints is a pipeline's implicit transaction, which a Sync commits:
    the failure must roll it back first, or the failed item's row and its neighbours' are committed
    before the batch runs again item by item (and the neighbours' twice)."""
    def wrote_then_failed(tx: Tx) -> None:
        tx.execute("INSERT INTO form (form_id, created_at) VALUES ('half', '2026-01-01T00:00:00+00:00')")
        raise ValueError("refused after writing")

    writer = Writer(db)
    await writer.start()
    try:
        first = await writer.run(_session)
        outcomes = await asyncio.gather(writer.run(_insert("before")), writer.run(wrote_then_failed),
                                        writer.run(_insert("after")), return_exceptions=True)
        assert await writer.run(_session) == first  # the connection was kept: the failure rolled back
    finally:
        await writer.stop()
    assert outcomes[0] == "before" and outcomes[2] == "after"
    assert isinstance(outcomes[1], ValueError)
    assert await _names(db) == ["after", "before"]


def _session(tx: Tx) -> object:
    """The writer's connection: its backend on PostgreSQL, the sqlite3 connection on SQLite."""
    return tx.fetch("SELECT pg_backend_pid() AS pid") if tx.kind == "postgres" else id(tx.conn)


async def test_many_rows_in_a_batch_stay_in_its_transaction(db: Database) -> None:
    """Tx.many inside a batch: psycopg's executemany runs a pipeline of its own, whose Sync would
    commit the batch's implicit transaction so far, rows included, before the item fails."""
    def many_then_failed(tx: Tx) -> None:
        tx.many("INSERT INTO form (form_id, created_at) VALUES ({}, '2026-01-01T00:00:00+00:00')",
                [("m1",), ("m2",), ("m3",)])
        raise ValueError("refused after writing")

    writer = Writer(db)
    try:
        with pytest.raises(ValueError):
            await writer.run(many_then_failed)
        await writer.run(lambda tx: tx.many("INSERT INTO form (form_id, created_at) VALUES "
                                            "({}, '2026-01-01T00:00:00+00:00')", [("n1",), ("n2",)]))
    finally:
        await writer.stop()
    assert await _names(db) == ["n1", "n2"]


def _insert_ahead(name: str) -> Callable[[Tx], str]:
    def op(tx: Tx) -> str:
        assert tx.insert_ahead("INSERT INTO form (form_id, created_at) VALUES ({}, '2026-01-01T00:00:00+00:00') "
                               "ON CONFLICT (form_id) DO NOTHING RETURNING id", name)
        return name

    return op


def _sent(trace: Path) -> list[str]:
    """What libpq's trace says was sent: a line is `F` (sent) or `B` (received), its length, the
    message's type and its fields, tab-separated (a timestamp first unless suppressed)."""
    sent = []
    for line in trace.read_text().splitlines():
        fields = line.split("\t")
        at = fields.index("F") if "F" in fields[:2] else -1
        if at >= 0 and len(fields) > at + 2:
            sent.append("\t".join(fields[at + 2:]))
    return sent


async def _traced(db: Database, tmp_path: Path, ops: list[Callable[[Tx], Any]]) -> tuple[list[Any], list[str]]:
    """The ops one batch each on a writer whose connection libpq traces (from the first op on)."""
    path = tmp_path / "libpq.trace"
    trace = path.open("w")
    writer = Writer(db)
    outcomes: list[Any] = []
    try:
        await writer.run(lambda tx: tx.conn.pgconn.trace(trace.fileno()))
        for op in ops:
            try:
                outcomes.append(await writer.run(op))
            except Exception as exc:
                outcomes.append(exc)
    finally:
        await writer.stop()
        trace.close()
    return outcomes, _sent(path)


@pytest.mark.skipif(not ON_POSTGRES, reason="BEGIN on SQLite is BEGIN IMMEDIATE: the writer's lock")
async def test_a_batch_on_postgresql_sends_no_begin_and_no_commit(db: Database, tmp_path: Path) -> None:
    """PostgreSQL: a batch without savepoints is one implicit transaction (pipeline mode, committed by
    its Sync): no BEGIN and no COMMIT went over the wire, read from libpq's trace of the writer's
    connection. An INSERT of values run often is prepared once and keeps working; a batch that runs
    again with savepoints keeps its BEGIN and COMMIT."""
    def refused(tx: Tx) -> None:
        raise ValueError("refused")

    ops = [_insert_ahead(f"t{i}") for i in range(7)]
    outcomes, sent = await _traced(db, tmp_path, [*ops, refused])
    assert outcomes[:7] == [f"t{i}" for i in range(7)] and isinstance(outcomes[7], ValueError)
    plain = sent[:sent.index(next(m for m in sent if "Query" in m and "BEGIN" in m))]
    assert any("INSERT INTO form" in m for m in plain), plain  # the trace has the batches
    assert not [m for m in plain if "BEGIN" in m or "COMMIT" in m], plain
    # one per batch: the tracing one's, the seven's, the refused one's (rolled back before it)
    assert sum(m.startswith("Sync") for m in plain) == 1 + 7 + 1
    assert [m for m in plain if m.startswith("Parse") and "INSERT INTO form" in m and '"pantau_' in m]
    # the refused item's batch: its implicit transaction rolled back, then run again item by item
    careful = sent[len(plain):]
    assert "BEGIN" in careful[0] and any("SAVEPOINT item" in m for m in careful)
    assert any("COMMIT" in m for m in careful), careful
    assert await _names(db) == [f"t{i}" for i in range(7)]


@pytest.mark.skipif(not ON_POSTGRES, reason="a deferred trigger failing COMMIT: PostgreSQL's")
async def test_a_commit_that_fails_keeps_its_sqlstate(db: Database) -> None:
    """An error raised by the commit itself (a deferred check at the pipeline's Sync) reaches the
    caller as the error PostgreSQL sent, its SQLSTATE included, and nothing of the batch is stored."""
    from psycopg import errors

    for sql in ["CREATE TABLE commit_check (name text PRIMARY KEY)",
                "CREATE FUNCTION commit_check_fails() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'checked at commit' USING ERRCODE = '23514'; END $$",
                "CREATE CONSTRAINT TRIGGER commit_check_at_commit AFTER INSERT ON commit_check "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION commit_check_fails()"]:
        await db.execute_ddl(sql)
    writer = Writer(db)
    try:
        for _ in range(3):
            with pytest.raises(errors.CheckViolation, match="checked at commit"):
                await writer.run(lambda tx: tx.execute("INSERT INTO commit_check (name) VALUES ('x')"))
        assert await writer.run(_insert("after")) == "after"  # the connection goes on
        stored = await db.fetch("SELECT name FROM commit_check")
    finally:
        await writer.stop()
        await db.execute_ddl("DROP TABLE commit_check")
        await db.execute_ddl("DROP FUNCTION commit_check_fails()")
    assert stored == [] and writer.retries == 0


@pytest.mark.skipif(not ON_POSTGRES, reason="READ COMMITTED snapshots: PostgreSQL's")
async def test_each_statement_of_a_batch_takes_its_own_snapshot(db: Database) -> None:
    """READ COMMITTED as inside BEGIN ... COMMIT: a statement sees what another transaction committed
    after the batch's previous statement (the duplicate check after an advisory lock relies on it)."""
    import psycopg

    def counted(tx: Tx) -> tuple[int, int]:
        before = tx.fetch("SELECT count(*) AS n FROM form")[0]["n"]
        with psycopg.connect(PG_URL, autocommit=True) as other:
            other.execute("INSERT INTO form (form_id, created_at) VALUES ('other', '2026-01-01T00:00:00+00:00')")
        return before, tx.fetch("SELECT count(*) AS n FROM form")[0]["n"]

    writer = Writer(db)
    try:
        assert await writer.run(counted) == (0, 1)
    finally:
        await writer.stop()


@pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL connection ended by the server")
async def test_a_connection_lost_mid_batch_or_between_batches_is_replaced(db: Database) -> None:
    """The writer's backend ended between two statements of a batch: nothing of the batch was
    committed, and it runs again item by item on a new connection. Ended between batches: the next
    batch's first statement finds the connection gone and the batch runs on a new one, as it did
    when BEGIN found it."""
    import psycopg

    def end(pid: int) -> None:
        with psycopg.connect(PG_URL, autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))

    ended: list[int] = []

    def cut_mid_batch(tx: Tx) -> str:
        tx.execute("INSERT INTO form (form_id, created_at) VALUES ('mid', '2026-01-01T00:00:00+00:00')")
        if not ended:
            ended.append(tx.fetch("SELECT pg_backend_pid() AS pid")[0]["pid"])
            end(ended[0])
        tx.execute("SELECT 1")
        return "mid"

    writer = Writer(db)
    try:
        assert await writer.run(cut_mid_batch) == "mid"
        assert writer.reruns == 1
        end((await writer.run(lambda tx: tx.fetch("SELECT pg_backend_pid() AS pid")))[0]["pid"])
        assert await writer.run(_insert("next")) == "next"
        assert writer.reruns == 1  # a new connection, not an item-by-item run
    finally:
        await writer.stop()
    assert await _names(db) == ["mid", "next"]


@pytest.mark.skipif(not ON_POSTGRES, reason="statement_timeout: PostgreSQL's")
async def test_statement_timeout_ends_the_batch_and_the_connection_goes_on() -> None:
    """A statement over statement_timeout fails with PostgreSQL's error (which storage/faults answers
    with a 503), and the connection serves the next batch: the pipeline was brought back to idle."""
    from psycopg import errors

    db = Database(PG_URL, statement_timeout=1)
    writer = Writer(db)
    try:
        pid = (await writer.run(lambda tx: tx.fetch("SELECT pg_backend_pid() AS pid")))[0]["pid"]
        with pytest.raises(errors.QueryCanceled):
            await writer.run(lambda tx: tx.execute("SELECT pg_sleep(3)"))
        again = (await writer.run(lambda tx: tx.fetch("SELECT pg_backend_pid() AS pid")))[0]["pid"]
    finally:
        await writer.stop()
        await db.close()
    assert again == pid


@pytest.mark.skipif(not ON_POSTGRES, reason="plan_cache_mode: PostgreSQL's")
async def test_only_statements_whose_plan_cannot_go_wrong_keep_a_generic_plan(db: Database) -> None:
    """The writer's connection runs plan_cache_mode=auto, and the only statements prepared on it are
    INSERTs of values (Tx.insert_ahead, the deferred rows, the submission's INSERT): each keeps one
    generic plan once it repeats. A query that reads a table is never prepared there, so it is
    planned for its parameters every time (a plan made on an empty table would be kept otherwise)."""
    def both(tx: Tx) -> None:
        _insert_ahead(f"g{len(tx.fetch('SELECT form_id FROM form WHERE form_id > {}', 'a'))}")(tx)

    writer = Writer(db)
    try:
        for _ in range(12):  # prepared at its 5th run; 5 custom plans, then PostgreSQL's choice
            await writer.run(both)
        prepared = await writer.run(lambda tx: tx.fetch(
            "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements"))
        mode = await writer.run(lambda tx: tx.fetch("SELECT current_setting('plan_cache_mode') AS mode"))
    finally:
        await writer.stop()
    assert mode == [{"mode": "auto"}]
    assert [p["statement"][:16] for p in prepared] == ["INSERT INTO form"], prepared
    assert prepared[0]["generic_plans"] >= 2, prepared
    assert await _names(db) == sorted(f"g{i}" for i in range(12))
