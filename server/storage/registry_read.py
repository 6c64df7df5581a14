"""Reading the beneficiary registry: one record as a person may see it (outside their areas it does
not exist), its timeline, the search and the phone's incremental copy of one's areas, due visits,
open follow-ups and possible duplicates. Every query names the indexes of migration m0004 (m0023 for a desa) it is
meant to use; the writes are in storage/registry.py."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from server.domain import registry as rules
from server.domain.access import Principal, has, sees_area, sees_duplicate
from server.errors import PantauError
from server.storage import pii
from server.storage.db import Database
from server.storage.sql import aware, json_value, uuid_or_none

SYNC_LAG = dt.timedelta(minutes=2)  # longer than any writer batch takes to commit: see slice_for
NIL = uuid.UUID(int=0)
_RECORD = ("id, programme, status, merged_into, nik_masked, kk_masked, name, sex, birth_date, area_code, kecamatan, "
           "target_group, flags, baseline, registered_on, last_visit_on, next_due_on, visit_months, updated_at")


class Record(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    programme: str
    status: str
    merged_into: str | None
    nik_masked: str
    kk_masked: str
    name: str
    sex: str
    birth_date: str
    area_code: str
    kecamatan: str
    target_group: str
    flags: list[str]
    baseline: list[rules.Figure]
    registered_on: str
    last_visit_on: str
    next_due_on: str
    visit_months: int


class Event(msgspec.Struct, frozen=True, kw_only=True):
    submission: str
    form_id: str
    kind: str  # intake, update, visit, growth
    happened_on: str
    summary: dict[str, Any]


class FollowUp(msgspec.Struct, frozen=True, kw_only=True):
    beneficiary: str
    name: str
    area_code: str
    submission: str
    actions: list[str]
    text: dict[str, str]
    opened_on: str
    due_on: str
    closed_on: str


class Row(msgspec.Struct, frozen=True, array_like=True):
    """One beneficiary in a list or in the phone's copy: [id, masked NIK, name, desa, last visit,
    KK tag, birth date]; the last two only in a programme's copy (the phone's checks before a
    registration is sent: static/js/dupcheck.js), else ""."""

    id: str
    nik: str
    name: str
    area_code: str
    last_visit_on: str
    kk_tag: str = ""
    birth_date: str = ""


def area_clause(principal: Principal, alias: str = "b") -> tuple[str, list[Any]]:
    """SQL limiting rows to one's areas: a kecamatan by the indexed kecamatan column, a desa by its
    kecamatan and its code (the kecamatan leads every area index of beneficiary: a desa's rows are
    read from its kecamatan's range, m0023), anything broader by prefix. Staff and admins see
    everything."""
    if principal.is_area_free:
        return "1 = 1", []
    parts, args = [], []
    for area in principal.areas:
        depth = area.count(".") + 1
        if depth == 3:
            parts.append(f"{alias}.kecamatan = {{}}")
            args.append(area)
        elif depth == 4:
            parts.append(f"({alias}.kecamatan = {{}} AND {alias}.area_code = {{}})")
            args += [rules.kecamatan_of(area), area]
        else:
            parts.append(f"({alias}.area_code = {{}} OR {alias}.area_code LIKE {{}})")
            args += [area, area + ".%"]
    return ("(" + " OR ".join(parts) + ")" if parts else "1 = 0"), args


async def record(db: Database, beneficiary_id: uuid.UUID) -> Record | None:
    """One record, following merges to the active one (and the id of an intake that updated an
    existing record to that record, as storage/registry.resolve does), or None. Unchecked: handlers
    reach it through storage/access.beneficiary_for, which applies the area rule."""
    current: uuid.UUID | None = beneficiary_id
    for _ in range(16):
        rows = await db.fetch(f"SELECT {_RECORD} FROM beneficiary WHERE id = {{}}", current)
        if not rows:
            linked = await db.fetch("SELECT beneficiary FROM beneficiary_event WHERE submission = {}", current)
            if not linked:
                break
            current = uuid_or_none(linked[0]["beneficiary"])
            continue
        row = rows[0]
        if row["status"] == "merged" and row["merged_into"] is not None:
            current = uuid_or_none(row["merged_into"])
            continue
        return _record(row)
    return None


def _record(row: dict[str, Any]) -> Record:
    return Record(
        id=str(row["id"]), programme=row["programme"], status=row["status"],
        merged_into=str(row["merged_into"]) if row["merged_into"] else None, nik_masked=rules.mask(row["nik_masked"]),
        kk_masked=rules.mask(row["kk_masked"]), name=row["name"], sex=row["sex"], birth_date=row["birth_date"],
        area_code=row["area_code"], kecamatan=row["kecamatan"], target_group=row["target_group"],
        flags=str(row["flags"]).split(), baseline=msgspec.convert(json_value(row["baseline"]), list[rules.Figure]),
        registered_on=row["registered_on"], last_visit_on=row["last_visit_on"], next_due_on=row["next_due_on"],
        visit_months=int(row["visit_months"]))


# A person's events: those that are not their own intake through beneficiary_event_timeline (partial,
# m0026), and their intake, whose submission is the person's id, by its key.
EVENTS_OF = ("SELECT {columns} FROM beneficiary_event WHERE beneficiary = {{}} AND beneficiary <> submission "
             "UNION ALL SELECT {columns} FROM beneficiary_event WHERE submission = {{}} AND beneficiary = {{}}")


async def timeline(db: Database, beneficiary_id: str) -> list[Event]:
    person = uuid_or_none(beneficiary_id)
    columns = "submission, form_id, kind, happened_on, summary, recorded_at"
    rows = await db.fetch(EVENTS_OF.format(columns=columns) + " ORDER BY happened_on, recorded_at",
                          person, person, person)
    return [Event(submission=str(r["submission"]), form_id=r["form_id"], kind=r["kind"],
                  happened_on=r["happened_on"], summary=json_value(r["summary"])) for r in rows]


async def follow_ups_of(db: Database, beneficiary_id: str) -> list[FollowUp]:
    rows = await db.fetch(
        "SELECT f.beneficiary AS beneficiary, b.name AS name, b.area_code AS area_code, f.submission AS submission, "
        "f.actions AS actions, f.detail AS detail, f.opened_on AS opened_on, f.due_on AS due_on, "
        "f.closed_on AS closed_on FROM follow_up f JOIN beneficiary b ON b.id = f.beneficiary "
        "WHERE f.beneficiary = {} ORDER BY f.opened_on, f.id", uuid_or_none(beneficiary_id))
    return [_follow_up(r) for r in rows]


async def open_follow_ups(db: Database, principal: Principal, limit: int = 200) -> list[FollowUp]:
    """Open follow-ups of one's areas, the most overdue first (index follow_up_open)."""
    where, args = area_clause(principal)
    rows = await db.fetch(
        "SELECT f.beneficiary AS beneficiary, b.name AS name, b.area_code AS area_code, f.submission AS submission, "
        "f.actions AS actions, f.detail AS detail, f.opened_on AS opened_on, f.due_on AS due_on, "
        "f.closed_on AS closed_on FROM follow_up f JOIN beneficiary b ON b.id = f.beneficiary "
        f"WHERE f.closed_on = '' AND {where} ORDER BY f.due_on, f.id LIMIT {{}}", *args, limit)
    return [_follow_up(r) for r in rows]


def _follow_up(r: dict[str, Any]) -> FollowUp:
    return FollowUp(beneficiary=str(r["beneficiary"]), name=r["name"], area_code=r["area_code"],
                    submission=str(r["submission"]), actions=str(r["actions"]).split(),
                    text=json_value(r["detail"]).get("text", {}), opened_on=r["opened_on"], due_on=r["due_on"],
                    closed_on=r["closed_on"])


async def due_visits(db: Database, principal: Principal, until: dt.date, limit: int = 200) -> list[Record]:
    """Active beneficiaries whose next visit is due on or before `until` (overdue first)."""
    where, args = area_clause(principal)
    rows = await db.fetch(
        f"SELECT {_RECORD} FROM beneficiary b WHERE {where} AND b.status = 'active' AND b.next_due_on <> '' "
        "AND b.next_due_on <= {} ORDER BY b.next_due_on, b.name_key LIMIT {}", *args, until.isoformat(), limit)
    return [_record(r) for r in rows]


# --- search and the phone's copy ------------------------------------------------------------------
async def search(db: Database, principal: Principal, query: str, limit: int = 20, programme: str = "") -> list[Row]:
    """Within one's areas: names starting with the query (index beneficiary_kecamatan_name), then the
    beneficiaries of desas whose name starts so. A whole NIK or KK is not searched here: that is a
    reveal, with its own rules (storage/id_search.py)."""
    where, args = area_clause(principal)
    if programme:
        where, args = f"{where} AND b.programme = {{}}", [*args, programme]
    columns = "SELECT id, nik_masked, name, area_code, last_visit_on FROM beneficiary b WHERE "
    prefix = rules.name_key(query)
    if not prefix:
        return []
    # Keys are ASCII [0-9a-z ], so [prefix, prefix with its last letter + 1) is exactly "starts with".
    rows = await db.fetch(columns + f"b.name_key >= {{}} AND b.name_key < {{}} AND b.status = 'active' AND {where} "
                          "ORDER BY b.name_key LIMIT {}", prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1), *args, limit)
    found = [_row(r) for r in rows]
    desas = [code for code in rules.desa_codes_named(prefix) if sees_area(principal, code)][:20]
    if desas and len(found) < limit:
        # read from the desas' kecamatans (index beneficiary_kecamatan_name), as area_clause does a desa
        kecamatans = sorted({rules.kecamatan_of(code) for code in desas})
        marks, kec_marks = ", ".join(["{}"] * len(desas)), ", ".join(["{}"] * len(kecamatans))
        also, more_args = ("AND b.programme = {} ", [programme]) if programme else ("", [])
        more = await db.fetch(columns + f"b.kecamatan IN ({kec_marks}) AND b.area_code IN ({marks}) "
                              f"AND b.status = 'active' {also}ORDER BY b.name_key LIMIT {{}}",
                              *kecamatans, *desas, *more_args, limit - len(found))
        seen = {r.id for r in found}
        found += [row for r in more if (row := _row(r)).id not in seen]
    return found


class Slice(msgspec.Struct, frozen=True, kw_only=True):
    rows: list[Row]
    removed: list[tuple[str, str]]  # (merged id, the id it became), or (rejected id, "")
    cursor: str
    more: bool


async def slice_for(db: Database, principal: Principal, cursor: str, now: dt.datetime, limit: int = 5000,
                    programme: str = "", keys: pii.Keys | None = None) -> Slice:
    """The beneficiaries of one's areas changed since `cursor`, oldest change first (the phone's
    offline copy), with the cursor rules of _changed_since. A programme's copy, given the keys,
    carries each person's KK tag, for the phone's shared-KK warning before sending."""
    columns = "id, nik_masked, name, area_code, last_visit_on, status, merged_into, updated_at, kk_sealed, birth_date"
    rows, next_cursor, more = await _changed_since(db, principal, columns, cursor, now, limit, programme)
    tag = _kk_tagger(keys, programme) if keys and programme else None
    active = [_row(r, tag) for r in rows if r["status"] == "active"]
    # Merged (with the id it became) or rejected as registered in error (with "": nothing replaces it).
    removed = [(str(r["id"]), str(r["merged_into"] or "")) for r in rows if r["status"] != "active"]
    return Slice(rows=active, removed=removed, cursor=next_cursor, more=more)


async def _changed_since(db: Database, principal: Principal, columns: str, cursor: str, now: dt.datetime,
                         limit: int, programme: str) -> tuple[list[dict[str, Any]], str, bool]:
    """Rows of one's areas (and programme) changed since `cursor`: the rows, the next cursor, more?
    The last page's cursor is `now - SYNC_LAG`, not the newest row seen: a row being committed right
    now carries an earlier updated_at than rows already visible, and would otherwise be skipped for
    good. Rows of the last two minutes therefore come again next time; readers store by id, so that
    is harmless."""
    since, after = decode_cursor(cursor) if cursor else (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), NIL)
    where, args = area_clause(principal)
    if programme:  # the copy a programme's visit form picks from (?program=)
        where, args = f"{where} AND b.programme = {{}}", [*args, programme]
    rows = await db.fetch(
        f"SELECT {columns} FROM beneficiary b WHERE {where} AND (b.updated_at > {{}} OR (b.updated_at = {{}} "
        "AND b.id > {})) ORDER BY b.updated_at, b.id LIMIT {}", *args, since, since, after, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if more:
        next_cursor = encode_cursor(aware(rows[-1]["updated_at"]), uuid_or_none(rows[-1]["id"]) or NIL)
    else:
        next_cursor = encode_cursor(max(since, now - SYNC_LAG), NIL)
    return rows, next_cursor, more


class RecordPage(msgspec.Struct, frozen=True, kw_only=True):
    records: list[Record]  # active and merged (status, merged_into say which)
    cursor: str
    more: bool


async def records_since(db: Database, principal: Principal, cursor: str, now: dt.datetime, limit: int = 500,
                        programme: str = "") -> RecordPage:
    """Whole records of one's areas changed since `cursor` (the read API's incremental list), with
    the cursor rules of _changed_since."""
    rows, next_cursor, more = await _changed_since(db, principal, _RECORD, cursor, now, limit, programme)
    return RecordPage(records=[_record(r) for r in rows], cursor=next_cursor, more=more)


def encode_cursor(at: dt.datetime, after: uuid.UUID) -> str:
    raw = f"{at.astimezone(dt.UTC).isoformat()}|{after}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dt.datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, after = raw.split("|")
        when = dt.datetime.fromisoformat(at)
        if when.tzinfo is None:
            raise ValueError(at)
        return when.astimezone(dt.UTC), uuid.UUID(after)
    except (ValueError, UnicodeDecodeError):
        raise PantauError("registry.bad_query", detail="sejak (cursor)") from None


# --- duplicates and revealing ---------------------------------------------------------------------
class DuplicateGroup(msgspec.Struct, frozen=True, kw_only=True):
    reason: str  # "nik" (same NIK) or "kk" (same family card in one programme)
    programme: str
    members: list[Record]


async def duplicates(db: Database, limit: int = 100) -> list[DuplicateGroup]:
    """Active records sharing a NIK, or a KK within one programme (staff only: across all areas)."""
    groups: list[DuplicateGroup] = []
    for reason, column in (("nik", "nik_index"), ("kk", "kk_index")):
        keys = await db.fetch(
            f"SELECT programme, {column} AS value FROM beneficiary WHERE status = 'active' AND {column} <> '' "
            f"GROUP BY programme, {column} HAVING COUNT(*) > 1 ORDER BY programme, {column} LIMIT {{}}", limit)
        for key in keys:
            rows = await db.fetch(f"SELECT {_RECORD} FROM beneficiary WHERE programme = {{}} AND {column} = {{}} "
                                  "AND status = 'active' ORDER BY created_at, id", key["programme"], key["value"])
            groups.append(DuplicateGroup(reason=reason, programme=key["programme"], members=[_record(r) for r in rows]))
    return groups


async def duplicates_of(db: Database, principal: Principal, record: Record) -> tuple[list[Record], bool]:
    """The other active records of the programme with this record's NIK, or its KK: those this
    person may see (domain/access.sees_duplicate), and whether there are more they may not."""
    own = await db.fetch("SELECT nik_index, kk_index FROM beneficiary WHERE id = {}", uuid_or_none(record.id))
    if not own or not has(principal, "review"):
        return [], False  # an enumerator learns from the flag alone that a duplicate exists
    nik, kk = own[0]["nik_index"] or "-", own[0]["kk_index"] or "-"  # "-" matches no index
    rows = await db.fetch(f"SELECT {_RECORD} FROM beneficiary WHERE programme = {{}} AND status = 'active' "
                          "AND id <> {} AND (nik_index = {} OR kk_index = {}) ORDER BY created_at, id LIMIT 50",
                          record.programme, uuid_or_none(record.id), nik, kk)
    others = [_record(r) for r in rows]
    shown = [r for r in others if sees_duplicate(principal, r.area_code)]
    return shown, len(shown) < len(others)


async def sealed_ids(db: Database, beneficiary_id: str) -> tuple[str, str]:
    rows = await db.fetch("SELECT nik_sealed, kk_sealed FROM beneficiary WHERE id = {}", uuid_or_none(beneficiary_id))
    if not rows:
        raise PantauError("http.not_found")
    return rows[0]["nik_sealed"], rows[0]["kk_sealed"]


def _row(r: dict[str, Any], tag: Callable[[str], str] | None = None) -> Row:
    return Row(id=str(r["id"]), nik=rules.mask(r["nik_masked"]), name=r["name"], area_code=r["area_code"],
               last_visit_on=r["last_visit_on"], kk_tag=tag(r["kk_sealed"]) if tag and r["kk_sealed"] else "",
               birth_date=r["birth_date"] if tag else "")


def _kk_tagger(keys: pii.Keys, programme: str) -> Callable[[str], str]:
    """A sealed KK -> its tag in this programme's copy; the plain KK never leaves this function."""
    tag_key = pii.kk_tag_key(keys, programme)
    return lambda sealed: pii.kk_tag(tag_key, pii.open_sealed(keys, "kk", sealed))


async def recent(db: Database, principal: Principal, limit: int = 50) -> list[Record]:
    """The records of one's areas changed last (the list page before any search)."""
    where, args = area_clause(principal)
    rows = await db.fetch(f"SELECT {_RECORD} FROM beneficiary b WHERE {where} AND b.status = 'active' "
                          "ORDER BY b.updated_at DESC LIMIT {}", *args, limit)
    return [_record(r) for r in rows]
