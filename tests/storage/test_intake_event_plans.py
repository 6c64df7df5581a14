"""m0026: a person's own intake event (beneficiary = submission = the person's id) is no longer in
beneficiary_event_timeline, which keeps the other events; a person's events are read in two parts,
the timeline index and the key. At a realistic size both databases answer registry_read.timeline,
registry.reschedule's last visit and registry.merge's moves from those two indexes, never by
reading the whole table, and nothing is missed: the intake, the visits, and an intake a merge moved.
A database from before m0026 keeps finding its events."""

from __future__ import annotations

import datetime as dt
import re
import uuid

from server.domain.access import Principal
from server.storage import migrate, registry, registry_read
from server.storage.db import Database
from server.storage.writer import Writer

PEOPLE, VISITS = 20_000, 60_000  # three visits a person, as a year of quarterly visits
NOW = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


def person(g: int) -> uuid.UUID:
    return uuid.UUID(f"00000000-0000-4000-8000-{g:012d}")


async def _registry(db: Database, people: int, visits: int) -> None:
    """people registered by their intake (g <= people), and visits g > people to person g % people + 1,
    each on day g % 28 + 1 of a month; every event has its submission."""
    if db.kind == "postgres":
        uid = "CAST('00000000-0000-4000-8000-' || lpad(CAST({g} AS TEXT), 12, '0') AS uuid)"
        series = "generate_series(1, {n}) AS t(g)"
        day = "'2026-' || lpad(CAST(g % 11 + 1 AS TEXT), 2, '0') || '-' || lpad(CAST(g % 28 + 1 AS TEXT), 2, '0')"
    else:
        uid = "printf('00000000-0000-4000-8000-%012d', {g})"
        series = "(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {n}) SELECT g FROM s) t"
        day = "printf('2026-%02d-%02d', g % 11 + 1, g % 28 + 1)"
    await db.fetch("INSERT INTO form (form_id, created_at) VALUES ('kunjungan', {})", NOW)
    await db.fetch("INSERT INTO form_version (form, version, content_hash, compiled, source, published_at) "
                   "SELECT id, '1', 'h', {}, '', {} FROM form WHERE form_id = 'kunjungan'", "{}", NOW)
    await db.execute_ddl(
        "INSERT INTO submission (id, form_version, form_id, area_code, content_hash, answers, received_at) "
        f"SELECT {uid.format(g='g')}, (SELECT MIN(id) FROM form_version), 'kunjungan', '64.02.06.2001', 'c', '{{}}', "
        f"'{NOW.isoformat()}' FROM " + series.format(n=people + visits))
    await db.execute_ddl(
        "INSERT INTO beneficiary (id, programme, name, name_key, area_code, kecamatan, baseline, registered_on, "
        f"next_due_on, created_at, updated_at) SELECT {uid.format(g='g')}, 'bansos', 'Siti ' || g, 'siti ' || g, "
        f"'64.02.06.2001', '64.02.06', '[]', '2026-01-01', '2026-04-01', '{NOW.isoformat()}', '{NOW.isoformat()}' "
        "FROM " + series.format(n=people))
    await db.execute_ddl(
        "INSERT INTO beneficiary_event (beneficiary, submission, form_id, kind, happened_on, summary, recorded_at) "
        f"SELECT CASE WHEN g <= {people} THEN {uid.format(g='g')} ELSE {uid.format(g=f'g % {people} + 1')} END, "
        f"{uid.format(g='g')}, 'kunjungan', CASE WHEN g <= {people} THEN 'intake' ELSE 'visit' END, "
        f"CASE WHEN g <= {people} THEN '2026-01-01' ELSE {day} END, '{{}}', '{NOW.isoformat()}' FROM "
        + series.format(n=people + visits))
    await db.execute_ddl("ANALYZE")


def _days(g: int, people: int, visits: int) -> list[str]:
    """Person g's event days as _registry wrote them: the intake, then each visit (computed here)."""
    mine = [v for v in range(people + 1, people + visits + 1) if v % people + 1 == g]
    return sorted(["2026-01-01", *(f"2026-{v % 11 + 1:02d}-{v % 28 + 1:02d}" for v in mine)])


async def _plan(db: Database, sql: str, *args: object) -> str:
    if db.kind == "postgres":
        return " | ".join(str(r["QUERY PLAN"]) for r in await db.fetch("EXPLAIN " + sql, *args))
    return " | ".join(str(r["detail"]) for r in await db.fetch("EXPLAIN QUERY PLAN " + sql, *args))


def _reads_both_indexes(plan: str) -> bool:
    key = "beneficiary_event_pkey" if "Index" in plan else "beneficiary_event_submission"
    whole = re.search(r"Seq Scan on beneficiary_event\b|SCAN beneficiary_event\b(?! USING)", plan)
    return "beneficiary_event_timeline" in plan and key in plan and whole is None


async def test_a_persons_events_come_from_the_timeline_index_and_the_key(db: Database) -> None:
    await _registry(db, PEOPLE, VISITS)
    if db.kind == "postgres":
        rows = await db.fetch("SELECT indexdef AS d FROM pg_indexes WHERE indexname = 'beneficiary_event_timeline'")
    else:
        rows = await db.fetch("SELECT sql AS d FROM sqlite_master WHERE name = 'beneficiary_event_timeline'")
    assert str(rows[0]["d"]).endswith("WHERE (beneficiary <> submission)" if db.kind == "postgres"
                                      else "WHERE beneficiary <> submission")

    siti = person(7)
    events = await registry_read.timeline(db, str(siti))
    assert [e.happened_on for e in events] == _days(7, PEOPLE, VISITS)
    assert events[0].kind == "intake" and events[0].submission == str(siti)

    columns = "submission, form_id, kind, happened_on, summary, recorded_at"
    plan = await _plan(db, registry_read.EVENTS_OF.format(columns=columns) + " ORDER BY happened_on, recorded_at",
                       siti, siti, siti)
    assert _reads_both_indexes(plan), plan
    visits = registry_read.EVENTS_OF.format(columns="happened_on, kind")
    plan = await _plan(db, f"SELECT (SELECT MAX(e.happened_on) FROM ({visits}) e WHERE e.kind IN ('visit', 'growth')) "
                       "FROM beneficiary b WHERE b.id = {}", siti, siti, siti, siti)
    assert _reads_both_indexes(plan), plan
    for update, args in (("UPDATE beneficiary_event SET beneficiary = {} WHERE beneficiary = {} "
                          "AND beneficiary <> submission", (siti, person(8))),
                         ("UPDATE beneficiary_event SET beneficiary = {} WHERE submission = {} AND beneficiary = {}",
                          (siti, person(8), person(8)))):
        plan = await _plan(db, update, *args)
        whole = re.search(r"Seq Scan on beneficiary_event\b|SCAN beneficiary_event\b(?! USING)", plan)
        assert whole is None and re.search("beneficiary_event_(timeline|pkey|submission)", plan), plan

    # A merge moves the dropped person's intake and visits; the kept person's timeline has them all
    # (the moved intake now through the timeline index), and the last visit is rescheduled from them.
    writer = Writer(db)
    await writer.start()
    try:
        staff = Principal(1, "ani", "Ani", "staff")
        await writer.run(lambda tx: registry.merge(tx, siti, person(8), staff, "-", NOW))
    finally:
        await writer.stop()
    merged = await registry_read.timeline(db, str(siti))
    assert sorted(e.happened_on for e in merged) == sorted(_days(7, PEOPLE, VISITS) + _days(8, PEOPLE, VISITS))
    assert {e.submission for e in merged if e.kind == "intake"} == {str(siti), str(person(8))}
    last = await db.fetch("SELECT last_visit_on FROM beneficiary WHERE id = {}", siti)
    assert last[0]["last_visit_on"] == max(d for d in _days(7, PEOPLE, VISITS) + _days(8, PEOPLE, VISITS)
                                           if d != "2026-01-01")


async def test_m0026_keeps_finding_the_events_of_an_older_database(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    await db.open()
    try:
        await migrate.migrate(db, until="m0025_sealed_in_submission")
        await _registry(db, 3, 6)
        assert await migrate.migrate(db, until="m0026_intake_event_key") == ["m0026_intake_event_key"]
        for g in (1, 2, 3):
            events = await registry_read.timeline(db, str(person(g)))
            assert [e.happened_on for e in events] == _days(g, 3, 6) and events[0].kind == "intake"
    finally:
        await db.close()
