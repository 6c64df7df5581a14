"""The queries whose index m0023 or m0024 dropped are still answered from an index at a realistic
size: the review list of one form and status (submission_form_received_id or
submission_status_received, no longer their own index), a desa's beneficiaries
(beneficiary_kecamatan_name and the kecamatan's other indexes, no longer beneficiary_area_name) and,
on PostgreSQL, a kecamatan's change feed (beneficiary_updated and the kecamatan's indexes, no longer
beneficiary_kecamatan_updated), never by reading the whole table."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from server.domain import review as rules
from server.domain.access import Principal
from server.storage import registry_read, review
from server.storage.db import Database
from tests.conftest import ON_POSTGRES

STAFF = Principal(1, "ani", "Ani", "staff")
DESA = "64.02.06.2005"  # one of 15 desas of each of the registry's 18 kecamatans, as in Kutai Kartanegara
ENUMERATOR = Principal(2, "citra", "Citra", "enumerator", (DESA,))
SUBMISSIONS = 40_000  # four forms; the last 2,000 waiting for review, the rest decided (1 in 200 rejected)
PEOPLE = 54_000  # 3,000 a kecamatan, 200 a desa


async def _submissions(db: Database) -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    await db.fetch("INSERT INTO form (form_id, created_at) VALUES ('f0', {})", now)
    await db.fetch("INSERT INTO form_version (form, version, content_hash, compiled, source, published_at) "
                   "SELECT id, '1', 'h', {}, '', {} FROM form WHERE form_id = 'f0'", "{}", now)
    if db.kind == "postgres":
        uid, at = "gen_random_uuid()", "timestamptz '2026-01-01' + g * interval '600 s'"
    else:
        uid = ("lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) "
               "|| '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))")
        at = "strftime('%Y-%m-%dT%H:%M:%S+00:00', 1767225600 + g * 600, 'unixepoch')"
    series = ("generate_series(1, {n}) AS t(g)" if db.kind == "postgres" else
              "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) SELECT g FROM s) t")
    await db.execute_ddl(
        "INSERT INTO submission (id, form_version, form_id, area_code, content_hash, answers, review_status, "
        f"received_at) SELECT {uid}, (SELECT MIN(id) FROM form_version), 'f' || (g % 4), '64.02.06.2001', 'c', "
        f"'{{}}', CASE WHEN g > {SUBMISSIONS - 2000} THEN 'received' WHEN g % 200 = 1 THEN 'rejected' "
        f"ELSE 'approved' END, {at} FROM " + series.format(n=SUBMISSIONS))
    await db.execute_ddl("ANALYZE submission")


async def _people(db: Database) -> None:
    if db.kind == "postgres":
        uid, at = "gen_random_uuid()", "timestamptz '2026-01-01' + g * interval '60 s'"
        series = f"generate_series(1, {PEOPLE}) AS t(g)"
        digits, kecamatan = "lpad(CAST(g / 18 % 15 + 1 AS TEXT), 3, '0')", "lpad(CAST(g % 18 + 1 AS TEXT), 2, '0')"
    else:
        uid = ("lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) "
               "|| '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))")
        at = "strftime('%Y-%m-%dT%H:%M:%S+00:00', 1767225600 + g * 60, 'unixepoch')"
        series = (f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {PEOPLE}) "
                  "SELECT g FROM s) t")
        digits, kecamatan = "substr('00' || (g / 18 % 15 + 1), -3)", "substr('0' || (g % 18 + 1), -2)"
    kecamatan = f"'64.02.' || {kecamatan}"
    await db.execute_ddl(
        "INSERT INTO beneficiary (id, programme, name, name_key, area_code, kecamatan, baseline, registered_on, "
        "next_due_on, created_at, updated_at) "
        f"SELECT {uid}, 'bansos', 'Siti ' || g, 'siti ' || g, {kecamatan} || '.2' || {digits}, {kecamatan}, '{{}}', "
        f"'2026-01-01', '2026-04-01', {at}, {at} FROM " + series)
    await db.execute_ddl("ANALYZE beneficiary")


async def _plan(db: Database, sql: str, *args: object) -> str:
    if db.kind == "postgres":
        return " | ".join(str(r["QUERY PLAN"]) for r in await db.fetch("EXPLAIN " + sql, *args))
    return " | ".join(str(r["detail"]) for r in await db.fetch("EXPLAIN QUERY PLAN " + sql, *args))


def _whole_table(plan: str, table: str, alias: str) -> bool:
    """Does the plan read the whole table (PostgreSQL's Seq Scan; SQLite's SCAN of it or of a whole index)?"""
    return bool(re.search(rf"Seq Scan on {table} {alias}\b|SCAN {alias}\b", plan))


@pytest.mark.parametrize("status", ["received", "rejected", "approved"])
async def test_one_forms_review_list_by_status_walks_an_index(db: Database, status: str) -> None:
    """review.page with a form and a status: the form's order keeping the status, the status's order
    keeping the form (a rare status), or, for a status most records have, the list's own order
    (submission_received) keeping both, which stops at the page's 51st row: in list order, never the
    whole table sorted. (PostgreSQL took the last for `approved`, 95 % of the records, once the
    submission row grew its sealed column.)"""
    await _submissions(db)
    clause, args = review.where(STAFF, rules.parse_filters({"form": ["f1"], "status": [status]}))
    page = await review.page(db, STAFF, rules.parse_filters({"form": ["f1"], "status": [status]}), after=None,
                             limit=50)
    assert len(page.rows) == 50 and {(r.form_id, r.review_status) for r in page.rows} == {("f1", status)}
    plan = await _plan(db, review._LIST.format(answers="", where=clause, limit=51), *args)
    walked = {"submission_form_received_id", "submission_status_received"} | (
        {"submission_received"} if status == "approved" else set())
    assert any(index in plan for index in walked), plan
    assert not _whole_table(plan, "submission", "s"), plan
    assert "TEMP B-TREE FOR ORDER BY" not in plan, plan


async def test_a_desas_beneficiaries_are_read_from_its_kecamatans_indexes(db: Database) -> None:
    """m0023: a desa's search, due visits and copy read their kecamatan's indexes (area_clause gives
    the kecamatan with the desa), not the whole registry."""
    await _people(db)
    found = await registry_read.search(db, ENUMERATOR, "siti 1")
    assert found and {r.area_code for r in found} == {DESA}
    where, args = registry_read.area_clause(ENUMERATOR)
    queries = {
        "beneficiary_kecamatan_name": (  # registry_read.search
            f"SELECT id FROM beneficiary b WHERE b.name_key >= {{}} AND b.name_key < {{}} AND b.status = 'active' "
            f"AND {where} ORDER BY b.name_key LIMIT 20", ["siti 1", "siti 2", *args]),
        "beneficiary_kecamatan_due": (  # registry_read.due_visits
            f"SELECT id FROM beneficiary b WHERE {where} AND b.status = 'active' AND b.next_due_on <> '' "
            "AND b.next_due_on <= {} ORDER BY b.next_due_on, b.name_key LIMIT 200", [*args, "2026-06-01"]),
    }
    for index, (sql, values) in queries.items():
        plan = await _plan(db, sql, *values)
        assert index in plan, plan
        assert not _whole_table(plan, "beneficiary", "b"), plan
        # the kecamatan is given: no skip-scan over every kecamatan (SQLite) and no sort by name (both)
        assert "ANY(kecamatan)" not in plan and "TEMP B-TREE FOR ORDER BY" not in plan, plan
    # the desas a name matches (registry_read.search's second query): their kecamatans' range
    plan = await _plan(db, "SELECT id FROM beneficiary b WHERE b.kecamatan IN ({}) AND b.area_code IN ({}) "
                       "AND b.status = 'active' ORDER BY b.name_key LIMIT 20", "64.02.06", DESA)
    assert "beneficiary_kecamatan" in plan and not _whole_table(plan, "beneficiary", "b"), plan


@pytest.mark.skipif(not ON_POSTGRES, reason="m0024 dropped beneficiary_kecamatan_updated on PostgreSQL only")
async def test_a_kecamatans_change_feed_is_planned_without_its_own_index(db: Database) -> None:
    """registry_read._changed_since (the phone's copy) and registry_read.recent of a kecamatan: the
    day's changes through beneficiary_updated, a first copy through the kecamatan's rows, the recent
    list walking beneficiary_updated newest first."""
    await _people(db)
    coordinator = Principal(3, "budi", "Budi", "coordinator", ("64.02.06",))
    where, args = registry_read.area_clause(coordinator)
    feed = (f"SELECT id FROM beneficiary b WHERE {where} AND (b.updated_at > {{}} OR (b.updated_at = {{}} "
            "AND b.id > {})) ORDER BY b.updated_at, b.id LIMIT 5001")
    for since, index in ((dt.datetime(2026, 2, 7, tzinfo=dt.UTC), "beneficiary_updated"),
                         (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), "beneficiary_kecamatan")):
        plan = await _plan(db, feed, *args, since, since, registry_read.NIL)
        assert index in plan and not _whole_table(plan, "beneficiary", "b"), plan
    plan = await _plan(db, f"SELECT id FROM beneficiary b WHERE {where} AND b.status = 'active' "
                       "ORDER BY b.updated_at DESC LIMIT 50", *args)
    assert "Index Scan Backward using beneficiary_updated" in plan, plan
    now = dt.datetime(2026, 2, 8, tzinfo=dt.UTC)
    page = await registry_read.slice_for(db, coordinator, "", now, limit=100)
    assert len(page.rows) == 100 and page.more and {r.area_code[:8] for r in page.rows} == {"64.02.06"}
