"""The audit log: who did what, to which record, when and from where. This module only ever
INSERTs and SELECTs; the database refuses UPDATE and DELETE on the table (migration m0002).

A record's creation is the one entry not written here: since m0027 its submission row is the
evidence (the columns that say who sent it, when, and from where cannot be changed), and `page`
reads the log's rows and those creations as one list."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw

from server import clock
from server.domain.access import Principal
from server.errors import PantauError
from server.storage.db import Database
from server.storage.sql import aware, uuid_or_none
from server.storage.tables import AuditLog

ACTIONS = (
    "auth.sign_in", "auth.sign_in_failed", "auth.sign_out", "auth.password_change",
    "user.create", "user.role", "user.password_reset", "user.deactivate", "user.activate", "user.unlock",
    "form.publish", "submission.create", "submission.edit", "submission.review",
    "export.download", "report.download", "report.abandon", "nik.reveal", "nik.search", "beneficiary.merge",
    "duplicate.same", "duplicate.different",
    "token.create", "token.revoke", "app_key.create", "app_key.revoke",
    "form.draft_save", "form.draft_delete", "form.archive", "form.restore", "form.assign",
    "form.media_upload",
    "outbox.import", "registry.import",
)
# A record's creation: since m0027 its submission row is the evidence, and `page` reads it from there
CREATE = "submission.create"


class Entry(msgspec.Struct, frozen=True):
    id: int | None  # the audit_log row's; None for a creation read from its submission row
    at: dt.datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    area_code: str
    detail: str
    address: str


class Position(msgspec.Struct, frozen=True):
    """Where a page of the merged log starts, in each of its two sources (both newest first): audit
    rows by id, and creations by (received_at, id) (see `page`)."""

    logged_before: int | None = None  # audit rows with a smaller id; None: from the newest; 1: none left
    created_before: tuple[dt.datetime, uuid.UUID, bool] | None = None  # (received_at, id, this one included)
    created_done: bool = False  # no creation left
    legacy: bool = False  # a cursor of a page that read audit_log alone: creations older than its entry


class AuditFilter(msgspec.Struct, frozen=True):
    action: str = ""
    actor: str = ""
    target: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    before: Position | None = None  # keyset cursor: the entries after the previous page


class Page(msgspec.Struct, frozen=True):
    entries: list[Entry]
    next: Position | None  # where the next page starts, when there is one


INSERT = ("INSERT INTO audit_log (at, actor_id, actor, action, target_type, target_id, area_code, detail, address) "
          "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})")


def values(actor: Principal | None, action: str, *, target_type: str = "", target_id: str = "",
           area_code: str = "", detail: str = "", address: str = "", actor_name: str = "") -> tuple[Any, ...]:
    """The row for INSERT; shared by the async path and the writer thread (storage/write_tx.Tx)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    return (clock.now(), actor.id if actor else None, (actor.username if actor else actor_name)[:80], action,
            target_type[:40], str(target_id)[:80], area_code[:20], detail[:2000], address[:64])


async def record(db: Database, actor: Principal | None, action: str, **details: str) -> None:
    await db.fetch(INSERT, *values(actor, action, **details))


async def search(db: Database, wanted: AuditFilter, limit: int = 50) -> list[Entry]:
    return (await page(db, wanted, limit)).entries


async def page(db: Database, wanted: AuditFilter, limit: int = 50) -> Page:
    """A page of the log, newest first, from its two sources: audit_log's rows (by id) and the
    creations of records, which their submission rows evidence (m0027: `sent_from` set; a record
    created before that has its `submission.create` row in audit_log instead, never both).

    The two lists, each read through an index, are merged by time (an audit row first when the
    times are equal), and the cursor keeps each list's own position, so the pages are the one merge
    of both whole lists cut in pieces: no entry is skipped or shown twice at a page's end, ties
    included. A list the page took nothing from continues at its first row, included: an entry
    written after the first page is not slipped into a later one."""
    position = wanted.before or Position()
    if position.legacy:
        position = await _from_legacy(db, position)
    logged = ([] if position.logged_before is not None and position.logged_before <= 1
              else await _logged(db, wanted, position.logged_before, limit + 1))
    created = ([] if position.created_done or not _may_hold_creations(wanted)
               else await _created(db, wanted, position.created_before, limit + 1))
    # a list that gave fewer rows than asked for has none left after them
    logged_ended, created_ended = len(logged) <= limit, len(created) <= limit
    merged: list[Entry] = []
    taken_logged = taken_created = 0
    while len(merged) <= limit and (taken_logged < len(logged) or taken_created < len(created)):
        if taken_created >= len(created) or (
                taken_logged < len(logged) and logged[taken_logged].at >= created[taken_created].at):
            merged.append(logged[taken_logged])
            taken_logged += 1
        else:
            merged.append(created[taken_created])
            taken_created += 1
    if len(merged) <= limit:
        return Page(merged, None)
    # the last entry is the next page's first: put it back
    if merged[-1].id is None:
        taken_created -= 1
    else:
        taken_logged -= 1
    logged_done = logged_ended and taken_logged == len(logged)
    created_done = created_ended and taken_created == len(created)
    return Page(merged[:limit], Position(
        logged_before=(1 if logged_done else _id(logged[taken_logged - 1]) if taken_logged
                       else _id(logged[0]) + 1),
        created_before=(None if created_done else _key(created[taken_created - 1], False) if taken_created
                        else _key(created[0], True)),
        created_done=created_done))


def _id(entry: Entry) -> int:
    assert entry.id is not None
    return entry.id


def _key(entry: Entry, included: bool) -> tuple[dt.datetime, uuid.UUID, bool]:
    return (entry.at, uuid.UUID(entry.target_id), included)


async def _logged(db: Database, wanted: AuditFilter, before: int | None, limit: int) -> list[Entry]:
    query = AuditLog.select(AuditLog.id, AuditLog.at, AuditLog.actor, AuditLog.action, AuditLog.target_type,
                            AuditLog.target_id, AuditLog.area_code, AuditLog.detail, AuditLog.address)
    if wanted.action in ACTIONS:
        # A literal, not a parameter: a prepared plan proves from it that audit_log_action (partial,
        # without the submissions' rows) holds the rows, as it cannot from a parameter. ACTIONS only.
        query = query.where(WhereRaw(f"action = '{wanted.action}'"))
    elif wanted.action:
        query = query.where(AuditLog.action == wanted.action)
    if wanted.actor:
        query = query.where(AuditLog.actor == wanted.actor)
    if wanted.target:
        query = query.where(AuditLog.target_id == wanted.target)
    if wanted.since:
        query = query.where(AuditLog.at >= _start_of(wanted.since))
    if wanted.until:
        query = query.where(AuditLog.at < _start_of(wanted.until + dt.timedelta(days=1)))
    if before is not None:
        query = query.where(AuditLog.id < before)
    rows = await query.order_by(AuditLog.id, ascending=False).limit(limit)
    return [msgspec.convert({**r, "at": aware(r["at"])}, Entry) for r in rows]


def _may_hold_creations(wanted: AuditFilter) -> bool:
    return wanted.action in ("", CREATE) and (not wanted.target or uuid_or_none(wanted.target) is not None)


# Creations, newest first, each filter through an index: by person submission_enumerator_received
# (enumerator, received_at, id), by record the primary key, otherwise submission_received (received_at, id)
# with the date range (tests/storage/test_index_plans.py).
_CREATED = ("SELECT s.id AS id, s.received_at AS received_at, u.username AS actor, s.area_code AS area_code, "
            "s.sent_from AS sent_from FROM submission s LEFT JOIN pantau_user u ON u.id = s.enumerator "
            "WHERE {where} ORDER BY s.received_at DESC, s.id DESC LIMIT {limit}")


async def _created(db: Database, wanted: AuditFilter, before: tuple[dt.datetime, uuid.UUID, bool] | None,
                   limit: int) -> list[Entry]:
    sql, args = created_query(wanted, before, await _creations_floor(db), limit)
    rows = await db.fetch(sql, *args)
    return [Entry(id=None, at=aware(r["received_at"]), actor=r["actor"] or "", action=CREATE,
                  target_type="submission", target_id=str(r["id"]), area_code=r["area_code"],
                  detail="", address=r["sent_from"]) for r in rows]


def created_query(wanted: AuditFilter, before: tuple[dt.datetime, uuid.UUID, bool] | None, floor: dt.datetime,
                  limit: int) -> tuple[str, list[Any]]:
    """The creations' SELECT (`{}` placeholders) and its values. `floor`: none was received before
    it (_creations_floor), so the walk stops there, not at the table's oldest row, when they run out."""
    since = max(floor, _start_of(wanted.since)) if wanted.since else floor
    clauses: list[str] = ["s.sent_from IS NOT NULL", "s.received_at >= {}"]
    args: list[Any] = [since]
    if wanted.actor:
        clauses.append("s.enumerator = (SELECT p.id FROM pantau_user p WHERE p.username = {})")
        args.append(wanted.actor)
    if wanted.target:
        clauses.append("s.id = {}")
        args.append(uuid_or_none(wanted.target))
    if wanted.until:
        clauses.append("s.received_at < {}")
        args.append(_start_of(wanted.until + dt.timedelta(days=1)))
    if before is not None:
        # A row value: both engines walk the index from the key (as review.page's cursor).
        clauses.append("(s.received_at, s.id) <= ({}, {})" if before[2] else "(s.received_at, s.id) < ({}, {})")
        args += [before[0], before[1]]
    return _CREATED.format(where=" AND ".join(clauses), limit=int(limit)), args


MIGRATION = "m0027_creation_in_submission"
# How far a node's clock may be behind the one that applied m0027 (a creation's received_at is its
# writer's clock)
CLOCK_MARGIN = dt.timedelta(days=1)


async def _creations_floor(db: Database) -> dt.datetime:
    """The time before which no submission row holds its creation: m0027's, less CLOCK_MARGIN."""
    rows = await db.fetch("SELECT applied_at FROM pantau_migration WHERE name = {}", MIGRATION)
    return (aware(rows[0]["applied_at"]) if rows else clock.now()) - CLOCK_MARGIN


async def _from_legacy(db: Database, position: Position) -> Position:
    """An old page's cursor (audit rows older than one, when the page read audit_log alone): the
    creations are those not after that row's time, which the merge puts after it."""
    rows = await db.fetch("SELECT at FROM audit_log WHERE id = {}", position.logged_before)
    if not rows:
        raise PantauError("audit.bad_filter", detail="cursor")
    return Position(logged_before=position.logged_before,
                    created_before=(aware(rows[0]["at"]), uuid.UUID(int=(1 << 128) - 1), True))


def _start_of(day: dt.date) -> dt.datetime:
    # Stored times are UTC text on SQLite: compare in UTC or the strings sort wrongly.
    return dt.datetime.combine(day, dt.time(0), tzinfo=clock.WITA).astimezone(dt.UTC)


def encode_cursor(position: Position) -> str:
    """`m:LOGGED:CREATED`, opaque to people: LOGGED the audit id to read below ("" from the newest),
    CREATED "" (from the newest), "x" (none left) or `microseconds,uuid,le|lt` of the creation to
    continue at (le: that one included)."""
    logged = "" if position.logged_before is None else str(position.logged_before)
    if position.created_done:
        created = "x"
    elif position.created_before is None:
        created = ""
    else:
        at, sid, included = position.created_before
        micros = (at - _EPOCH) // dt.timedelta(microseconds=1)
        created = f"{micros},{sid},{'le' if included else 'lt'}"
    return base64.urlsafe_b64encode(f"m:{logged}:{created}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Position:
    """A cursor of `encode_cursor`, or of a page before creations were read from submissions
    (`a:ID`: the audit rows below ID); anything else is audit.bad_filter."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, rest = raw.split(":", 1)
        if kind == "a" and rest.isdigit():
            return Position(logged_before=int(rest), legacy=True)
        logged, created = rest.split(":")
        if kind != "m" or not (logged == "" or logged.isdigit()):
            raise ValueError(raw)
        position = Position(logged_before=int(logged) if logged else None, created_done=created == "x")
        if created in ("", "x"):
            return position
        micros, sid, op = created.split(",")
        if op not in ("le", "lt") or not micros.lstrip("-").isdigit():
            raise ValueError(raw)
        at = _EPOCH + dt.timedelta(microseconds=int(micros))
        return msgspec.structs.replace(position, created_before=(at, uuid.UUID(sid), op == "le"))
    except (ValueError, UnicodeDecodeError, OverflowError):
        raise PantauError("audit.bad_filter", detail="cursor") from None


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
