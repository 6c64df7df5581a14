"""m0027: a record's creation is evidenced by its submission row (who sent it, when, from where),
not by a `submission.create` row in audit_log. The migration keeps the old creations' audit rows and
leaves their submissions' `sent_from` NULL; a trigger refuses an UPDATE that changes a creation
column and lets every other update through; the audit page reads both sources as one list, newest
first, and its pages cut that list without skipping or repeating an entry, ties in time included."""

from __future__ import annotations

import base64
import datetime as dt
import random
import uuid
from typing import Any

import msgspec
import pytest

from server import clock
from server.domain.access import Principal
from server.errors import PantauError
from server.settings import Settings
from server.storage import audit, migrate, review, submissions, users
from server.storage.db import Database
from server.storage.writer import Writer
from tests.storage.test_registry_race import _incoming
from tests.storage.test_write_path_plans import _plan, _whole_table

DESA = "64.02.06.1001"


async def _form(db: Database) -> int:
    now = clock.now()
    form = await db.fetch("INSERT INTO form (form_id, created_at) VALUES ('reg', {}) RETURNING id", now)
    version = await db.fetch("INSERT INTO form_version (form, version, content_hash, compiled, source, published_at) "
                             "VALUES ({}, '1', 'h', {}, '', {}) RETURNING id", form[0]["id"], "{}", now)
    return int(version[0]["id"])


async def _user(db: Database, name: str) -> int:
    return (await users.create(db, name, "enumerator", "-", name.title(), (DESA,))).id


async def _submission(db: Database, version: int, enumerator: int, at: dt.datetime, sent_from: str | None,
                      migrated: bool = True) -> uuid.UUID:
    sid = uuid.uuid4()
    columns, marks, values = "", "", []
    if migrated:
        columns, marks, values = ", sent_from", ", {}", [sent_from]
    await db.fetch("INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, answers, "
                   f"received_at{columns}) VALUES ({{}}, {{}}, 'reg', {{}}, {{}}, 'c', {{}}, {{}}{marks})",
                   sid, version, enumerator, DESA, "{}", at, *values)
    return sid


async def _logged(db: Database, at: dt.datetime, actor: str, action: str, target: str = "",
                  address: str = "10.0.0.9") -> int:
    row = (at, None, actor, action, "submission" if target else "", target, DESA if target else "", "", address)
    return int((await db.fetch(audit.INSERT + " RETURNING id", *row))[0]["id"])


async def test_m0027_keeps_the_old_creations_in_the_log_and_adds_the_new_from_their_rows(
        empty_database_url: str) -> None:
    db = Database(empty_database_url)
    await db.open()
    try:
        await migrate.migrate(db, until="m0026_intake_event_key")
        assert await migrate.pending(db) == [audit.MIGRATION]
        version, citra = await _form(db), await _user(db, "citra")
        before = clock.now() - dt.timedelta(hours=2)
        old = await _submission(db, version, citra, before, None, migrated=False)
        await _logged(db, before, "citra", "submission.create", str(old), "10.0.0.1")
        await _logged(db, before + dt.timedelta(minutes=5), "citra", "submission.edit", str(old), "10.0.0.1")
        log_before = await db.fetch("SELECT * FROM audit_log ORDER BY id")

        assert await migrate.migrate(db) == [audit.MIGRATION]

        assert await db.fetch("SELECT * FROM audit_log ORDER BY id") == log_before  # nothing moved or rewritten
        assert [r["sent_from"] for r in await db.fetch("SELECT sent_from FROM submission")] == [None]
        new = await _submission(db, version, citra, clock.now(), "10.0.0.2")
        listed = [(e.action, e.target_id, e.address, e.id is None) for e in await audit.search(db, audit.AuditFilter())]
        assert listed == [("submission.create", str(new), "10.0.0.2", True),  # from its row
                          ("submission.edit", str(old), "10.0.0.1", False),
                          ("submission.create", str(old), "10.0.0.1", False)]  # from the log, once
        with pytest.raises(Exception, match="cannot be changed"):  # an old row does not get an address later
            await db.fetch("UPDATE submission SET sent_from = '10.0.0.3' WHERE id = {}", old)
    finally:
        await db.close()


@pytest.mark.parametrize(("column", "value"), [
    ("id", "'6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11'"), ("enumerator", "NULL"),
    ("received_at", "received_at"), ("sent_from", "'192.0.2.1'"), ("sent_from", "NULL")])
async def test_a_creation_column_cannot_be_changed(db: Database, column: str, value: str) -> None:
    version, citra = await _form(db), await _user(db, "citra")
    sid = await _submission(db, version, citra, clock.now(), "10.0.0.1")
    if column == "received_at":
        value = "{}"
    args = [clock.now() + dt.timedelta(hours=1)] if column == "received_at" else []
    row = await db.fetch("SELECT id, enumerator, received_at, sent_from FROM submission")
    with pytest.raises(Exception, match=r"creation columns \(id, enumerator, received_at, sent_from\) cannot be"):
        await db.fetch(f"UPDATE submission SET {column} = {value}, area_code = '64.02.06' WHERE id = {{}}", *args, sid)
    assert await db.fetch("SELECT id, enumerator, received_at, sent_from FROM submission") == row
    assert [r["area_code"] for r in await db.fetch("SELECT area_code FROM submission")] == [DESA]  # all or nothing


async def test_every_other_update_goes_through(db: Database) -> None:
    version, citra = await _form(db), await _user(db, "citra")
    sid = await _submission(db, version, citra, clock.now(), "")
    for sql, args in (("UPDATE submission SET review_status = 'approved' WHERE id = {}", ()),
                      ("UPDATE submission SET area_code = '64.02.06.1002' WHERE id = {}", ()),
                      ("UPDATE submission SET answers = {}, revision = 2, content_hash = 'd' WHERE id = {}", ("{}",)),
                      ("UPDATE submission SET sealed = 'x' WHERE id = {}", ()),
                      # naming a creation column with its own value changes nothing, and is let through
                      ("UPDATE submission SET sent_from = sent_from, received_at = received_at WHERE id = {}", ())):
        await db.fetch(sql, *args, sid)
    row = (await db.fetch("SELECT review_status, area_code, revision, sealed, sent_from FROM submission"))[0]
    assert (row["review_status"], row["area_code"], row["revision"], row["sealed"], row["sent_from"]) == (
        "approved", "64.02.06.1002", 2, "x", "")


async def test_a_registration_its_edit_and_its_review_keep_their_creation(db: Database, settings: Settings) -> None:
    """Pantau's own paths: a registration stores its address in the row and writes no audit row;
    an edit (the registry step rewrites the area) and a review decision still write theirs."""
    account = await users.create(db, "citra", "enumerator", "-", areas=("64.02.06",))
    citra = Principal(id=account.id, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))
    ani = Principal(id=(await users.create(db, "ani", "staff", "-")).id, username="ani", display_name="Ani",
                    role="staff", areas=())
    item = await _incoming(db, settings, "update", "Siti")
    writer = Writer(db)
    await writer.start()
    try:
        now = clock.now()
        first = await writer.run(lambda tx: submissions._store(tx, item, citra, "10.0.0.1", now))
        edited = msgspec.structs.replace(item, answers={**item.answers, "nama": "Siti Aminah"}, base_revision=1,
                                         content_hash="e")
        second = await writer.run(lambda tx: submissions._store(tx, edited, citra, "10.0.0.2", clock.now()))
        await review.decide(writer, ani, item.instance_id, "approved", "", 2, "10.0.0.3")
    finally:
        await writer.stop()
    assert (first.outcome, second.outcome) == ("new", "edit")
    row = (await db.fetch("SELECT enumerator, received_at, sent_from, revision, review_status FROM submission"))[0]
    assert (row["enumerator"], row["sent_from"], row["revision"], row["review_status"]) == (
        account.id, "10.0.0.1", 2, "approved")
    logged = await db.fetch("SELECT action, address FROM audit_log ORDER BY id")
    assert [(r["action"], r["address"]) for r in logged] == [("submission.edit", "10.0.0.2"),
                                                             ("submission.review", "10.0.0.3")]
    listed = await audit.search(db, audit.AuditFilter(target=str(item.instance_id)))
    assert [(e.action, e.actor, e.address) for e in listed] == [
        ("submission.review", "ani", "10.0.0.3"), ("submission.edit", "citra", "10.0.0.2"),
        ("submission.create", "citra", "10.0.0.1")]


# --- the merged pages ----------------------------------------------------------------------------------
Listed = tuple[str, str, str, str]  # action, target, actor, address


async def _mixed_log(db: Database, entries: int) -> list[tuple[dt.datetime, int, Any, Listed]]:
    """Audit rows, creations in submission rows, old creations (a row without sent_from and its audit
    entry) and rows that are no creation (an import's), four to a time so that times tie within and
    across the sources, over several WITA days. Returns what the page must list, each with its
    sort key: time, then the log's rows before the creations, then the newer id first."""
    rng = random.Random(27)
    version = await _form(db)
    people = {name: await _user(db, name) for name in ("citra", "dewi")}
    start = clock.day_start(clock.today() + dt.timedelta(days=1))
    wanted: list[tuple[dt.datetime, int, Any, Listed]] = []
    made: list[str] = []
    for k in range(entries):
        at = start + dt.timedelta(hours=7 * (k // 4))
        who = rng.choice(sorted(people))
        kind = rng.choice(("logged", "logged", "created", "created", "old", "import"))
        if kind == "created":
            address = f"10.1.0.{k}"
            sid = await _submission(db, version, people[who], at, address)
            wanted.append((at, 1, sid, ("submission.create", str(sid), who, address)))
            made.append(str(sid))
        elif kind == "old":
            sid = await _submission(db, version, people[who], at, None)
            entry = await _logged(db, at, who, "submission.create", str(sid), f"10.2.0.{k}")
            wanted.append((at, 0, entry, ("submission.create", str(sid), who, f"10.2.0.{k}")))
        elif kind == "import":
            await _submission(db, version, people[who], at, None)
        else:
            action, target = rng.choice((("auth.sign_in", ""), ("nik.search", ""),
                                         ("submission.edit", made[-1] if made else "")))
            entry = await _logged(db, at, who, action, target, f"10.3.0.{k}")
            wanted.append((at, 0, entry, (action, target, who, f"10.3.0.{k}")))
    return wanted


def _ordered(wanted: list[tuple[dt.datetime, int, Any, Listed]]) -> list[Listed]:
    def key(item: tuple[dt.datetime, int, Any, Listed]) -> tuple[float, int, int]:
        at, source, key_ = item[:3]
        return (-at.timestamp(), source, -(key_.int if isinstance(key_, uuid.UUID) else key_))

    return [item[3] for item in sorted(wanted, key=key)]


async def _all_pages(db: Database, wanted: audit.AuditFilter, limit: int) -> list[list[Listed]]:
    pages: list[list[Listed]] = []
    while True:
        found = await audit.page(db, wanted, limit)
        pages.append([(e.action, e.target_id, e.actor, e.address) for e in found.entries])
        if found.next is None:
            return pages
        # through the page's link, as text
        wanted = msgspec.structs.replace(wanted, before=audit.decode_cursor(audit.encode_cursor(found.next)))


async def test_the_pages_list_both_sources_in_one_order_without_gaps_or_repeats(db: Database) -> None:
    wanted = await _mixed_log(db, 60)
    everything = _ordered(wanted)
    assert 40 < len(everything) < 60 and {e[0] for e in everything} >= {"submission.create", "auth.sign_in"}
    days = sorted({clock_day(at) for at, *_ in wanted})
    middle = days[1]
    some = next(t for _at, source, _k, (_a, t, *_r) in wanted if source == 1)
    filters: list[tuple[audit.AuditFilter, Any]] = [
        (audit.AuditFilter(), lambda item: True),
        (audit.AuditFilter(actor="citra"), lambda item: item[3][2] == "citra"),
        (audit.AuditFilter(action="submission.create"), lambda item: item[3][0] == "submission.create"),
        (audit.AuditFilter(action="auth.sign_in"), lambda item: item[3][0] == "auth.sign_in"),
        (audit.AuditFilter(target=some), lambda item: item[3][1] == some),
        (audit.AuditFilter(since=middle, until=middle), lambda item: clock_day(item[0]) == middle),
        (audit.AuditFilter(actor="dewi", since=middle), lambda item: item[3][2] == "dewi"
         and clock_day(item[0]) >= middle),
    ]
    for wanted_filter, keep in filters:
        expected = _ordered([item for item in wanted if keep(item)])
        assert expected, wanted_filter
        for limit in (1, 4, 7, 100):
            pages = await _all_pages(db, wanted_filter, limit)
            assert [entry for p in pages for entry in p] == expected, (wanted_filter, limit)
            assert all(len(p) == limit for p in pages[:-1]) and 0 < len(pages[-1]) <= limit, (wanted_filter, limit)


def clock_day(at: dt.datetime) -> dt.date:
    return at.astimezone(clock.WITA).date()


async def test_entries_written_after_the_first_page_do_not_slip_into_the_next(db: Database) -> None:
    wanted = await _mixed_log(db, 24)
    first = await audit.page(db, audit.AuditFilter(), 5)
    assert first.next is not None
    later = clock.day_start(clock.today() + dt.timedelta(days=30))
    version = int((await db.fetch("SELECT MIN(id) AS v FROM form_version"))[0]["v"])
    citra = int((await db.fetch("SELECT id FROM pantau_user WHERE username = 'citra'"))[0]["id"])
    await _submission(db, version, citra, later, "10.9.9.9")
    await _logged(db, later, "citra", "auth.sign_in")
    rest = await _all_pages(db, audit.AuditFilter(before=first.next), 5)
    shown = [(e.action, e.target_id, e.actor, e.address) for e in first.entries] + [e for p in rest for e in p]
    assert shown == _ordered(wanted)


async def test_a_cursor_of_the_page_before_m0027_still_pages(db: Database) -> None:
    """`a:ID`: the log's rows below ID, and the creations not after that row's time (which the
    merge puts after it); an id that is not in the log is a bad filter, as any broken cursor."""
    wanted = await _mixed_log(db, 40)
    logged = [item for item in wanted if item[1] == 0]
    at, _source, entry, _listed = logged[len(logged) // 2]
    expected = _ordered([item for item in wanted if (item[1] == 0 and item[2] < entry)
                         or (item[1] == 1 and item[0] <= at)])
    cursor = base64.urlsafe_b64encode(f"a:{entry}".encode()).decode().rstrip("=")
    pages = await _all_pages(db, audit.AuditFilter(before=audit.decode_cursor(cursor)), 6)
    assert [e for p in pages for e in p] == expected
    for broken in (f"a:{entry + 10_000}", "m:x", "m:1:5,not-a-uuid,le",
                   "m:1:5,6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11,eq"):
        with pytest.raises(PantauError) as caught:
            token = base64.urlsafe_b64encode(broken.encode()).decode().rstrip("=")
            await audit.page(db, audit.AuditFilter(before=audit.decode_cursor(token)))
        assert caught.value.code == "audit.bad_filter", broken


# --- the creations' plans ------------------------------------------------------------------------------
SUBMISSIONS = 40_000  # a year and more of registrations by 20 people; the oldest quarter from before m0027


async def _many(db: Database) -> None:
    for i in range(20):
        await _user(db, f"p{i}")
    await _form(db)
    base = int(clock.now().timestamp()) - SUBMISSIONS * 900
    if db.kind == "postgres":
        uid, at = "gen_random_uuid()", f"to_timestamp({base} + g * 900)"
        series = f"generate_series(1, {SUBMISSIONS}) AS t(g)"
    else:
        uid = ("lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) "
               "|| '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))")
        at = f"strftime('%Y-%m-%d %H:%M:%S+00:00', {base} + g * 900, 'unixepoch')"
        series = (f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {SUBMISSIONS}) "
                  "SELECT g FROM s) t")
    await db.execute_ddl(
        "INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, answers, "
        f"received_at, sent_from) SELECT {uid}, (SELECT MIN(id) FROM form_version), 'reg', "
        f"(SELECT MIN(id) FROM pantau_user) + g % 20, '{DESA}', 'c', '{{}}', {at}, "
        f"CASE WHEN g > {SUBMISSIONS // 4} THEN '10.0.0.1' END FROM {series}")
    await db.execute_ddl("ANALYZE submission" if db.kind == "postgres" else "ANALYZE")


@pytest.mark.parametrize("wanted", [
    audit.AuditFilter(), audit.AuditFilter(actor="p3"), audit.AuditFilter(since=dt.date(2026, 6, 1)),
    audit.AuditFilter(actor="p3", since=dt.date(2026, 6, 1), until=dt.date(2026, 6, 30)),
    audit.AuditFilter(target="6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11")], ids=repr)
@pytest.mark.parametrize("after", [False, True])
async def test_the_creations_are_read_through_an_index_newest_first(db: Database, wanted: audit.AuditFilter,
                                                                     after: bool) -> None:
    """Each filter of the page reads the creations through an index in the page's order (by person
    submission_enumerator_received, by date submission_received, by record the primary key), never
    by reading the whole table and sorting it, on the first page and on the next."""
    await _many(db)
    applied = (await db.fetch("SELECT applied_at FROM pantau_migration WHERE name = {}", audit.MIGRATION))[0]
    # as if m0027 had come with the first of the rows that hold their sender
    migrated = clock.now() - dt.timedelta(seconds=(SUBMISSIONS - SUBMISSIONS // 4) * 900)
    await db.fetch("UPDATE pantau_migration SET applied_at = {} WHERE name = {}", migrated, audit.MIGRATION)
    try:
        before = (clock.now() - dt.timedelta(days=100), uuid.uuid4(), False) if after else None
        sql, args = audit.created_query(wanted, before, migrated - audit.CLOCK_MARGIN, 51)
        plan = await _plan(db, sql, *args)
        assert not _whole_table(plan, "submission", "s"), plan
        if wanted.target:  # one row at most, by its key (PostgreSQL "sorts" that one)
            assert "submission_pkey" in plan or "sqlite_autoindex_submission_1" in plan, plan
        else:
            assert "Sort" not in plan and "TEMP B-TREE" not in plan, plan
        found = await audit.search(db, msgspec.structs.replace(wanted, before=audit.Position(created_before=before)),
                                   limit=5)
        assert len(found) == (0 if wanted.target else 5) and all(e.id is None for e in found)
    finally:
        await db.fetch("UPDATE pantau_migration SET applied_at = {} WHERE name = {}", applied["applied_at"],
                       audit.MIGRATION)
