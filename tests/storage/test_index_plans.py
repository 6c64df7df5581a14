"""The audit log's cheaper indexes (m0021, m0022) still answer their queries on PostgreSQL at a realistic
size: the whole-NIK search's rate limit reads the partial index of nik.search rows, and the audit
page's date range far back reads the BRIN index on `at` and its action filter the index without the
submissions' rows, none by a scan of the whole log. The log here is one that registrations filled
before m0027, when each wrote a `submission.create` row (such rows stay: the log is append-only);
the creations since are read from the submission rows (tests/storage/test_creation_in_submission.py)."""

from __future__ import annotations

import pytest
from piccolo.columns.combination import WhereRaw

from server.storage.db import Database
from server.storage.tables import AuditLog
from tests.conftest import ON_POSTGRES

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's plans (SQLite keeps its B-trees)")

ROWS = 60_000  # a year of audit rows, one every ~9 minutes; every 50th a NIK search by one of 20 people, 12 user.create


async def _log(db: Database) -> None:
    await db.execute_ddl(
        "INSERT INTO audit_log (at, actor_id, actor, action) SELECT timestamptz '2026-01-01' + g * interval '525 s', "
        "g % 20 + 1, 'u' || (g % 20 + 1), CASE WHEN g % 5000 = 0 THEN 'user.create' "
        "WHEN g % 50 = 0 THEN 'nik.search' ELSE 'submission.create' END "
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


@pytest.mark.parametrize(("action", "index"), [("user.create", "audit_log_action"),
                                               ("submission.create", "audit_log_pkey")])
async def test_the_audit_page_by_action_reads_an_index_without_the_submissions_rows(
        db: Database, action: str, index: str) -> None:
    """m0022: a rare action is found through audit_log_action, which leaves submission.create out;
    submission.create, most of the log, walks the primary key newest first."""
    from server.storage import audit

    await _log(db)
    wanted = audit.AuditFilter(action=action)
    found = await audit.search(db, wanted, limit=5)
    assert [e.action for e in found] == [action] * 5
    # the query audit.search runs, as piccolo renders it (values inlined)
    query = AuditLog.select(AuditLog.id).where(WhereRaw(f"action = '{action}'")).order_by(AuditLog.id, ascending=False)
    plan = await _plan(db, str(query.limit(50)).replace("{", "{{").replace("}", "}}"))
    assert index in plan and "Seq Scan" not in plan, plan  # (a rare action: its few rows sorted by id)
