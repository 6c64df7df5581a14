"""The audit log's cheaper indexes (m0021) still answer their queries on PostgreSQL at a realistic
size: the whole-NIK search's rate limit reads the partial index of nik.search rows, and the audit
page's date range far back reads the BRIN index on `at`, neither by a scan of the whole log."""

from __future__ import annotations

import pytest

from server.storage.db import Database
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's plans (SQLite keeps its B-trees)")

ROWS = 60_000  # a year of audit rows, one every ~9 minutes; every 50th a NIK search by one of 20 people


async def _log(db: Database) -> None:
    await db.execute_ddl(
        "INSERT INTO audit_log (at, actor_id, actor, action) SELECT timestamptz '2026-01-01' + g * interval '525 s', "
        f"g % 20 + 1, 'u' || (g % 20 + 1), CASE WHEN g % 50 = 0 THEN 'nik.search' ELSE 'submission.create' END "
        f"FROM generate_series(1, {ROWS}) g")
    await db.execute_ddl("VACUUM ANALYZE audit_log")  # as autovacuum does an insert-only table: summarizes BRIN ranges


async def _plan(db: Database, sql: str, *args: object) -> str:
    return " | ".join(str(r["QUERY PLAN"]) for r in await db.fetch("EXPLAIN " + sql, *args))


async def test_the_nik_search_limit_reads_only_nik_search_rows(db: Database) -> None:
    import datetime as dt

    await _log(db)
    # id_search.found's count, as it runs (the action a literal, the partial index's predicate)
    plan = await _plan(db, "SELECT COUNT(*) AS n FROM audit_log WHERE actor_id = {} AND at > {} "
                       "AND action = 'nik.search'", 3, dt.datetime(2026, 6, 1, tzinfo=dt.UTC))
    assert "audit_log_nik_search" in plan and "Seq Scan" not in plan, plan
    entries = await db.fetch("SELECT reltuples AS n FROM pg_class WHERE relname = 'audit_log_nik_search'")
    assert 0 < float(entries[0]["n"]) < ROWS / 10  # ~1,200 (an estimate): the submissions' audit rows are not in it


async def test_the_audit_page_finds_a_day_long_ago_through_the_brin_index(db: Database) -> None:
    import datetime as dt

    await _log(db)
    # audit.page with a date range (at >= since, at < until), newest first
    plan = await _plan(db, "SELECT id, at, actor, action FROM audit_log WHERE at >= {} AND at < {} "
                       "ORDER BY id DESC LIMIT 51", dt.datetime(2026, 2, 1, tzinfo=dt.UTC),
                       dt.datetime(2026, 2, 2, tzinfo=dt.UTC))
    assert "audit_log_at" in plan and "Seq Scan" not in plan, plan
    kind = await db.fetch("SELECT am.amname AS am FROM pg_class c JOIN pg_am am ON am.oid = c.relam "
                          "WHERE c.relname = 'audit_log_at'")
    assert [r["am"] for r in kind] == ["brin"]
