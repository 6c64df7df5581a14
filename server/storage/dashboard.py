"""What the home page reads beside the report's tables: a cheap stamp of the data (it changes with
every write a report could see, so the report's figures are recomputed only then), the review queue
and each petugas' recent activity, both within the reader's scope and through the review list's own
WHERE clause (storage/review.where), so a number on the home page and its list cannot disagree."""

from __future__ import annotations

import datetime as dt

import msgspec

from server.domain import review as rules
from server.domain.access import Principal
from server.storage.db import Database
from server.storage.review import start_of, where
from server.storage.sql import aware_or_none, json_object, uuid_or_none

# Each part moves when a report's input does: a new record, an edit (revision), a review decision,
# a registry change (updated_at: visits, merges, rejections), a follow-up, a probable-duplicate pair
# found or decided (the data-quality table counts the open ones). A beneficiary event is written only
# with a new record (a) or an edit's revision (b), or changed with its beneficiary's updated_at (d), so
# it needs no part of its own (its serial id is indexed nowhere on PostgreSQL since m0024).
_STAMP = (
    "SELECT (SELECT {count} FROM submission) AS a, (SELECT MAX(id) FROM submission_revision) AS b, "
    "(SELECT MAX(id) FROM review_event) AS c, (SELECT CAST(MAX(updated_at) AS TEXT) FROM beneficiary) AS d, "
    "(SELECT MAX(id) FROM follow_up) AS e, "
    "(SELECT MAX(id) FROM duplicate_candidate) AS g, "
    "(SELECT CAST(MAX(decided_at) AS TEXT) FROM duplicate_candidate) AS h"
)


class Queue(msgspec.Struct, frozen=True, kw_only=True):
    received: int
    sent_back: int
    oldest: dt.datetime | None  # when the record waiting longest for review arrived


class Activity(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    name: str
    last_sync: dt.datetime | None
    this_week: int


# SQLite's rowid grows with every insert and MAX(rowid) is one step; COUNT(*) would read an index.
_COUNT = {"sqlite": "MAX(rowid)", "postgres": "COUNT(*)"}


async def stamp(db: Database) -> str:
    row = (await db.fetch(_STAMP.replace("{count}", _COUNT[db.kind])))[0]
    return "|".join(str(row[k]) for k in "abcdegh")


async def queue(db: Database, principal: Principal, area: str) -> Queue:
    filters = rules.Filters(area=area, statuses=(rules.NEEDS_CORRECTION, rules.RECEIVED))
    clause, args = where(principal, filters)
    rows = await db.fetch(
        "SELECT s.review_status AS status, COUNT(*) AS n, MIN(s.received_at) AS oldest "
        f"FROM submission s WHERE {clause} GROUP BY s.review_status",
        *args,
    )
    found = {str(r["status"]): r for r in rows}
    waiting = found.get(rules.RECEIVED)
    return Queue(
        received=int(waiting["n"]) if waiting else 0,
        sent_back=int(found[rules.NEEDS_CORRECTION]["n"]) if rules.NEEDS_CORRECTION in found else 0,
        oldest=aware_or_none(waiting["oldest"]) if waiting else None,
    )


async def activity(db: Database, principal: Principal, area: str, week_start: dt.date) -> list[Activity]:
    """Each petugas with records in the area: their last sync and the records received this week."""
    clause, args = where(principal, rules.Filters(area=area))
    rows = await db.fetch(
        "SELECT u.username AS username, u.display_name AS name, MAX(s.received_at) AS last, "
        "SUM(CASE WHEN s.received_at >= {} THEN 1 ELSE 0 END) AS week FROM submission s "
        f"JOIN pantau_user u ON u.id = s.enumerator WHERE {clause} "
        "GROUP BY u.username, u.display_name ORDER BY MAX(s.received_at) DESC",
        start_of(week_start),
        *args,
    )
    return [
        Activity(username=str(r["username"]), name=str(r["name"]), last_sync=aware_or_none(r["last"]),
                 this_week=int(r["week"] or 0))
        for r in rows
    ]


# --- the enumerator's home ------------------------------------------------------------------------
class Due(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    area_code: str
    next_due_on: str
    home: str  # the registering intake's GPS answer ("lat lon alt accuracy"), "" when not recorded


async def due_this_week(db: Database, principal: Principal, until: dt.date, location: str,
                        limit: int = 200) -> list[Due]:
    """The person's area's beneficiaries due for a visit by `until` (overdue too), with the GPS point
    their intake recorded (a person's id is their registering intake's id)."""
    from server.storage.registry_read import due_visits

    found = await due_visits(db, principal, until, limit)
    homes = await _answer_of(db, [r.id for r in found], location)
    return [Due(id=r.id, name=r.name, area_code=r.area_code, next_due_on=r.next_due_on, home=homes.get(r.id, ""))
            for r in found]


async def last_point(db: Database, principal: Principal, location: str, look_back: int = 20) -> str:
    """The GPS answer of the person's most recent record that has one ("" when none of the last few)."""
    rows = await db.fetch(
        "SELECT answers FROM submission WHERE enumerator = {} ORDER BY received_at DESC LIMIT {}",
        principal.id, look_back,
    )
    for row in rows:
        value = json_object(row["answers"]).get(location)
        if isinstance(value, str) and value.strip():
            return value
    return ""


async def own_counts(db: Database, principal: Principal, since: dt.date, until: dt.date) -> dict[str, int]:
    """The person's records received in these WITA days, per review status."""
    rows = await db.fetch(
        "SELECT review_status AS status, COUNT(*) AS n FROM submission WHERE enumerator = {} "
        "AND received_at >= {} AND received_at < {} GROUP BY review_status",
        principal.id, start_of(since), start_of(until + dt.timedelta(days=1)),
    )
    return {str(r["status"]): int(r["n"]) for r in rows}


async def _answer_of(db: Database, ids: list[str], name: str) -> dict[str, str]:
    if not ids:
        return {}
    marks = ", ".join(["{}"] * len(ids))
    rows = await db.fetch(f"SELECT id, answers FROM submission WHERE id IN ({marks})", *[uuid_or_none(i) for i in ids])
    found = {}
    for row in rows:
        value = json_object(row["answers"]).get(name)
        if isinstance(value, str):
            found[str(row["id"])] = value
    return found


# --- the map of visits ------------------------------------------------------------------------------------
class Point(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    kecamatan: str
    last_visit_on: str
    next_due_on: str
    home: str  # the registering intake's GPS answer


async def map_points(db: Database, programme: str, scope: str, location: str, limit: int) -> list[Point]:
    """The scope's active beneficiaries with the GPS point their intake recorded (at most `limit`)."""
    rows = await db.fetch(
        "SELECT b.id AS id, b.kecamatan AS kecamatan, b.last_visit_on AS last, b.next_due_on AS due, "
        "r.answers AS answers FROM beneficiary b JOIN submission r ON r.id = b.id WHERE b.programme = {} "
        "AND b.status = 'active' AND (b.kecamatan = {} OR b.kecamatan LIKE {}) ORDER BY b.id LIMIT {}",
        programme, scope, scope + ".%", limit,
    )
    found = []
    for row in rows:
        home = json_object(row["answers"]).get(location)
        if isinstance(home, str) and home.strip():
            found.append(Point(id=str(row["id"]), kecamatan=str(row["kecamatan"]), last_visit_on=str(row["last"] or ""),
                               next_due_on=str(row["due"] or ""), home=home))
    return found
