"""Review in the database: the submissions list (a keyset walk newest first, scoped to the reader's
role and areas), one submission with its revisions and review history, review decisions (through the
writer, so a decision and a corrected revision never interleave), the records sent back to an
enumerator, and the index the writer keeps as submissions arrive: flags and the searchable name."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from server import clock
from server.domain import review as rules
from server.domain.access import Principal, may, owns, sees_area
from server.domain.nik import is_masked, mask
from server.errors import PantauError
from server.settings import Settings
from server.storage import audit, forms, pii, registry
from server.storage.db import Database
from server.storage.sql import aware, json_object
from server.storage.write_tx import Tx
from server.storage.writer import Writer

# --- the filters as SQL ------------------------------------------------------------------------------
# Each flag as a condition on `s` (the submission). Stored flags are rows of submission_flag; the
# others are derived here, the registry's from the beneficiary the record is about.
_BENEFICIARY_FLAG = ("EXISTS (SELECT 1 FROM beneficiary_event e JOIN beneficiary b ON b.id = e.beneficiary "
                     "WHERE e.submission = s.id AND (b.flags LIKE {like}))")
DERIVED_FLAGS: dict[str, str] = {
    "edited": "s.revision > 1",
    "corrected": "EXISTS (SELECT 1 FROM review_event e WHERE e.submission = s.id AND e.to_status = 'needs_correction')",
    # The registry's flags live on the beneficiary (beneficiary.flags, space-separated) and change
    # when staff merge records: read them through the record's event, so the filter is never stale.
    "nik_ganda": _BENEFICIARY_FLAG.format(like="'%nik_ganda%'"),
    "kk_ganda": _BENEFICIARY_FLAG.format(like="'%kk_ganda%'"),
    "penerima_nik": _BENEFICIARY_FLAG.format(like="'%nik.%' OR b.flags LIKE '%kk.%'"),
}
STORED_FLAG = "EXISTS (SELECT 1 FROM submission_flag f WHERE f.submission = s.id AND f.flag = {})"
# Where a name is searched: sub-queries giving submission ids for a LIKE pattern on a name key: the
# name the form's own answers give (kept in submission_name), the person an intake registered (whose
# id is the intake's, registry.NAME_OF: such an intake keeps no name row of its own), and the
# registry's beneficiary that an intake or a visit is about (beneficiary_event), so a visit form
# without a name field is found too.
NAME_SOURCES: list[str] = [
    "SELECT n.submission FROM submission_name n WHERE n.name_key LIKE {} ESCAPE '\\'",
    "SELECT o.id FROM beneficiary o WHERE o.name_key LIKE {} ESCAPE '\\'",
    "SELECT e.submission FROM beneficiary_event e JOIN beneficiary b ON b.id = e.beneficiary "
    "WHERE b.name_key LIKE {} ESCAPE '\\'",
]


def scope(principal: Principal) -> tuple[list[str], list[Any]]:
    """What this person may list at all, as SQL: access.sees_record's rule (enumerators their own
    records, others their areas)."""
    if principal.role == "enumerator":
        return ["s.enumerator = {}"], [principal.id]
    if principal.is_area_free:
        return [], []
    return _areas(principal.areas)


def _areas(codes: tuple[str, ...]) -> tuple[list[str], list[Any]]:
    if not codes:
        return ["1 = 0"], []
    # Area codes are digits and dots (checked where they are set), so the LIKE needs no escaping.
    parts = ["s.area_code = {} OR s.area_code LIKE {}"] * len(codes)
    args: list[Any] = []
    for code in codes:
        args += [code, code + ".%"]
    return ["(" + " OR ".join(parts) + ")"], args


def where(principal: Principal, filters: rules.Filters,
          after: tuple[dt.datetime, str] | None = None) -> tuple[str, list[Any]]:
    """The WHERE clause (with `{}` placeholders) for this person and these filters; `after` is the
    last row of the previous page."""
    clauses, args = scope(principal)
    if filters.area:
        if not sees_area(principal, filters.area):
            raise PantauError("review.outside_area", area=filters.area)
        more, more_args = _areas((filters.area,))
        clauses, args = clauses + more, args + more_args
    simple: list[tuple[bool, str, list[Any]]] = [
        (bool(filters.form_id), "s.form_id = {}", [filters.form_id]),
        (bool(filters.version), "s.form_version IN (SELECT v.id FROM form_version v JOIN form f ON f.id = v.form "
                                "WHERE f.form_id = {} AND v.version = {})", [filters.form_id, filters.version]),
        (bool(filters.enumerator), "s.enumerator = (SELECT u.id FROM pantau_user u WHERE u.username = {})",
         [filters.enumerator]),
        (filters.since is not None, "s.received_at >= {}", [start_of(filters.since)]),
        (filters.until is not None, "s.received_at < {}",
         [start_of(filters.until + dt.timedelta(days=1)) if filters.until else None]),
        (bool(filters.statuses), f"s.review_status IN ({', '.join('{}' for _ in filters.statuses)})",
         list(filters.statuses)),
        (bool(filters.name), "(" + " OR ".join(f"s.id IN ({source})" for source in NAME_SOURCES) + ")",
         [_like(filters.name)] * len(NAME_SOURCES)),
        # A row value, not "a < x OR (a = x AND b < y)": both engines walk the index from the key.
        (after is not None, "(s.received_at, s.id) < ({}, {})", [after[0], uuid.UUID(after[1])] if after else []),
    ]
    for wanted, clause, values in simple:
        if wanted:
            clauses.append(clause)
            args += values
    for flag in filters.flags:
        if flag in DERIVED_FLAGS:
            clauses.append(DERIVED_FLAGS[flag])
        else:
            clauses.append(STORED_FLAG)
            args.append(flag)
    return (" AND ".join(clauses) or "1 = 1"), args


def start_of(day: dt.date | None) -> dt.datetime | None:
    # Days are WITA days; stored times are UTC (text on SQLite, where only UTC strings sort right).
    if day is None:
        return None
    return clock.day_start(day)


def _like(fragment: str) -> str:
    escaped = fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- the list -----------------------------------------------------------------------------------------
class ListRow(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    form_id: str
    form_version: str
    revision: int
    review_status: str
    area_code: str
    enumerator: str
    enumerator_name: str
    received_at: dt.datetime
    name: str
    flags: tuple[str, ...] = ()
    answers: dict[str, Any] = {}
    person: Person | None = None  # the beneficiary the record registers or is about


class Person(msgspec.Struct, frozen=True, kw_only=True):
    """The registry's beneficiary a record is about, as a list may show them (NIK stored masked)."""

    id: str
    name: str
    nik_masked: str


# The beneficiary a record registers or is about: one event per submission (a unique index).
_PERSON_JOIN = ("LEFT JOIN beneficiary_event be ON be.submission = s.id "
                "LEFT JOIN beneficiary b ON b.id = be.beneficiary")
_PERSON_COLUMNS = "CAST(b.id AS TEXT) AS person_id, b.name AS person_name, b.nik_masked AS person_nik"


def _person(row: dict[str, Any]) -> Person | None:
    if not row.get("person_id"):
        return None
    return Person(id=str(row["person_id"]), name=row["person_name"] or "", nik_masked=row["person_nik"] or "")


class Page(msgspec.Struct, frozen=True):
    rows: list[ListRow]
    last: tuple[dt.datetime, str] | None  # the key to continue after, when there is a next page


_LIST = ("SELECT s.id AS id, s.form_id AS form_id, v.version AS form_version, s.revision AS revision, "
         "s.review_status AS review_status, s.area_code AS area_code, s.received_at AS received_at, "
         f"u.username AS username, u.display_name AS display_name, {registry.NAME_OF} AS name, "
         f"{_PERSON_COLUMNS}{{answers}} "
         "FROM submission s JOIN form_version v ON v.id = s.form_version "
         "LEFT JOIN pantau_user u ON u.id = s.enumerator LEFT JOIN submission_name n ON n.submission = s.id "
         "LEFT JOIN beneficiary o ON o.id = s.id "  # registry.NAME_OF
         f"{_PERSON_JOIN} "
         "WHERE {where} ORDER BY s.received_at DESC, s.id DESC LIMIT {limit}")


async def page(db: Database, principal: Principal, filters: rules.Filters, *, after: tuple[dt.datetime, str] | None,
               limit: int, with_answers: bool = False) -> Page:
    clause, args = where(principal, filters, after)
    sql = _LIST.format(answers=", s.answers AS answers" if with_answers else "", where=clause, limit=int(limit) + 1)
    rows = await db.fetch(sql, *args)
    more = len(rows) > limit
    rows = rows[:limit]
    flags = await _flags_of(db, [r["id"] for r in rows])
    out = [_list_row(r, flags.get(str(r["id"]), ())) for r in rows]
    return Page(out, (out[-1].received_at, out[-1].instance_id) if more and out else None)


def _list_row(row: dict[str, Any], flags: tuple[str, ...]) -> ListRow:
    answers = row.get("answers")
    if isinstance(answers, str | bytes):
        answers = msgspec.json.decode(answers)
    return ListRow(instance_id=str(row["id"]), form_id=row["form_id"], form_version=row["form_version"],
                   revision=int(row["revision"]), review_status=row["review_status"], area_code=row["area_code"],
                   enumerator=row["username"] or "", enumerator_name=row["display_name"] or "",
                   received_at=aware(row["received_at"]), name=row["name"] or "", flags=flags,
                   answers=answers if isinstance(answers, dict) else {}, person=_person(row))


async def _flags_of(db: Database, ids: list[Any]) -> dict[str, tuple[str, ...]]:
    if not ids:
        return {}
    rows = await db.fetch("SELECT submission, flag FROM submission_flag WHERE submission IN ("
                          + ", ".join("{}" for _ in ids) + ") ORDER BY flag", *ids)
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(str(row["submission"]), []).append(row["flag"])
    return {k: tuple(v) for k, v in found.items()}


# --- one submission ------------------------------------------------------------------------------------
class Revision(msgspec.Struct, frozen=True, kw_only=True):
    revision: int
    form_version_pk: int
    answers: dict[str, Any]
    received_at: dt.datetime
    sent_by: str


class Event(msgspec.Struct, frozen=True, kw_only=True):
    at: dt.datetime
    revision: int
    from_status: str
    to_status: str
    comment: str
    actor: str


class Detail(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    form_id: str
    form_version: str
    form_version_pk: int
    revision: int
    review_status: str
    area_code: str
    enumerator_id: int | None
    enumerator: str
    received_at: dt.datetime
    answers: dict[str, Any]
    revisions: list[Revision]  # every revision, oldest first, the current one last
    events: list[Event]
    flags: tuple[str, ...]
    person: Person | None = None


_ONE = ("SELECT s.id AS id, s.form_id AS form_id, v.version AS form_version, s.form_version AS version_pk, "
        "s.revision AS revision, s.review_status AS review_status, s.area_code AS area_code, "
        "s.enumerator AS enumerator, u.display_name AS display_name, s.received_at AS received_at, "
        f"s.answers AS answers, {_PERSON_COLUMNS} FROM submission s JOIN form_version v ON v.id = s.form_version "
        f"LEFT JOIN pantau_user u ON u.id = s.enumerator {_PERSON_JOIN} WHERE s.id = {{}}")


async def detail_of(db: Database, instance_id: uuid.UUID) -> Detail | None:
    """One submission with its revisions and review history, or None. Unchecked: handlers reach it
    through storage/access.submission_for, which applies domain/access.sees_record."""
    rows = await db.fetch(_ONE, instance_id)
    if not rows:
        return None
    row = rows[0]
    current = json_object(row["answers"])
    revisions = await _revisions(db, instance_id, row, current)
    events = [Event(at=aware(e["at"]), revision=int(e["revision"]), from_status=e["from_status"],
                    to_status=e["to_status"], comment=e["comment"], actor=e["actor"] or "")
              for e in await db.fetch(
                  "SELECT e.at AS at, e.revision AS revision, e.from_status AS from_status, e.to_status AS to_status, "
                  "e.comment AS comment, u.display_name AS actor FROM review_event e "
                  "LEFT JOIN pantau_user u ON u.id = e.actor WHERE e.submission = {} ORDER BY e.id", instance_id)]
    flags = (await _flags_of(db, [instance_id])).get(str(instance_id), ())
    return Detail(instance_id=str(row["id"]), form_id=row["form_id"], form_version=row["form_version"],
                  form_version_pk=int(row["version_pk"]), revision=int(row["revision"]),
                  review_status=row["review_status"], area_code=row["area_code"], enumerator_id=row["enumerator"],
                  enumerator=row["display_name"] or "", received_at=aware(row["received_at"]), answers=current,
                  revisions=revisions, events=events, flags=flags, person=_person(row))


async def _revisions(db: Database, instance_id: uuid.UUID, row: dict[str, Any],
                     current: dict[str, Any]) -> list[Revision]:
    """Revision r's answers are in submission_revision until r+1 replaced them (replaced_at is when
    r+1 arrived); the current revision is the submission row itself."""
    earlier = await db.fetch(
        "SELECT r.revision AS revision, r.form_version AS form_version, r.answers AS answers, "
        "r.replaced_at AS replaced_at, u.display_name AS replaced_by FROM submission_revision r "
        "LEFT JOIN pantau_user u ON u.id = r.replaced_by WHERE r.submission = {} ORDER BY r.revision", instance_id)
    arrived = [aware(row["received_at"])] + [aware(r["replaced_at"]) for r in earlier]
    senders = [row["display_name"] or ""] + [r["replaced_by"] or "" for r in earlier]
    out = [Revision(revision=int(r["revision"]), form_version_pk=int(r["form_version"]),
                    answers=json_object(r["answers"]), received_at=arrived[i], sent_by=senders[i])
           for i, r in enumerate(earlier)]
    out.append(Revision(revision=int(row["revision"]), form_version_pk=int(row["version_pk"]), answers=current,
                        received_at=arrived[len(earlier)], sent_by=senders[len(earlier)]))
    return out


async def sealed_values(db: Database, settings: Settings, instance_id: uuid.UUID) -> dict[str, str]:
    """path -> digits of this record's NIK/KK answers, which are stored masked and sealed beside (the
    submission's `sealed` column, storage/pii.held). Used to check the warnings again and, for those
    who may, to reveal."""
    rows = await db.fetch("SELECT sealed FROM submission WHERE id = {}", instance_id)
    keys = pii.keys_of(settings)
    held = pii.held_answers(str(rows[0]["sealed"])) if rows else {}
    return {path: pii.open_sealed(keys, kind, sealed) for path, (kind, sealed) in held.items()}


async def unmask_unchanged(db: Database, settings: Settings, principal: Principal, instance_id: uuid.UUID,
                           answers: dict[str, Any]) -> dict[str, Any]:
    """A record sent back for correction opens on the phone with its NIK/KK masked (whole numbers never
    leave the server). An answer still equal to its stored mask means "unchanged": it takes the sealed
    number again, so fixing an address does not mean retyping two 16-digit numbers. Only for the
    record's own enumerator; anyone else's answers are left as sent (and fail as a NIK would)."""
    rows = await db.fetch("SELECT enumerator FROM submission WHERE id = {}", instance_id)
    if not rows or not owns(principal, rows[0]["enumerator"]):
        return answers
    plain = await sealed_values(db, settings, instance_id)

    def visit(values: dict[str, Any], prefix: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in values.items():
            number = plain.get(prefix + name)
            # Any mask of the number, the older wider one included (a phone may hold a record
            # opened before the mask narrowed): a mask carries no digits the sealed number lacks.
            if number is not None and is_masked(value) and mask(value) == mask(number):
                out[name] = number
            elif isinstance(value, list):
                out[name] = [visit(item, f"{prefix}{name}[{i + 1}]/") if isinstance(item, dict) else item
                             for i, item in enumerate(value)]
            else:
                out[name] = value
        return out

    return visit(answers, "") if plain else answers


# --- decisions ---------------------------------------------------------------------------------------------
async def decide(writer: Writer, principal: Principal, instance_id: uuid.UUID, wanted: str, comment: str,
                 seen_revision: int, address: str) -> str:
    """Move a record to `wanted`; the reviewer names the revision they looked at, so a correction that
    arrived meanwhile is never approved unseen (review.stale). Returns the status before."""
    return await writer.run(lambda tx: _decide(tx, principal, instance_id, wanted, comment.strip(), seen_revision,
                                               address, clock.now()))


def _decide(tx: Tx, principal: Principal, instance_id: uuid.UUID, wanted: str, comment: str, seen_revision: int,
            address: str, now: dt.datetime) -> str:
    # Locked (PostgreSQL): a correction committed while this decision waits must be seen (review.stale),
    # not approved unseen; and two reviewers deciding at once are ordered, each event from the status before.
    rows = tx.fetch("SELECT review_status, revision, area_code FROM submission WHERE id = {}" + tx.for_update,
                    instance_id)
    if not rows or not may(principal, "review", rows[0]["area_code"]):
        raise PantauError("http.not_found")
    row = rows[0]
    if int(row["revision"]) != seen_revision:
        raise PantauError("review.stale", current=row["revision"])
    problem = rules.transition_problem(row["review_status"], wanted, comment)
    if problem is not None:
        raise PantauError(problem, current=rules.status_label(row["review_status"], "id"),
                          current_en=rules.status_label(row["review_status"], "en"), wanted=wanted,
                          max=rules.MAX_COMMENT)
    tx.execute("UPDATE submission SET review_status = {} WHERE id = {}", wanted, instance_id)
    registry.follow_review(tx, instance_id, wanted, now)
    _record(tx, instance_id, seen_revision, row["review_status"], wanted, comment, principal, now, row["area_code"],
            address)
    return str(row["review_status"])


def _record(tx: Tx, instance_id: uuid.UUID, revision: int, before: str, after: str, comment: str,
            principal: Principal, now: dt.datetime, area_code: str, address: str) -> None:
    tx.execute("INSERT INTO review_event (submission, revision, from_status, to_status, comment, actor, at) "
               "VALUES ({}, {}, {}, {}, {}, {}, {})", instance_id, revision, before, after, comment, principal.id, now)
    detail = f"{before}->{after} revision={revision}" + (f" comment={comment[:500]}" if comment else "")
    tx.later(audit.INSERT, *audit.values(principal, "submission.review", target_type="submission",
                                           target_id=str(instance_id), area_code=area_code, detail=detail,
                                           address=address))


# --- what the writer keeps as submissions arrive -------------------------------------------------------------
class VersionInfo(msgspec.Struct, frozen=True):
    types: dict[str, str]
    name_field: str | None


# Published versions never change, so what the writer needs of one is read once per process and
# database (the memo lives on the Database: two databases may each have a version with pk 1).
OWN_FLAGS = ("warning", "nik_warning")


def after_store(tx: Tx, item: Any, revision: int, principal: Principal, now: dt.datetime, address: str = "") -> None:
    """Called by storage/submissions in the writer's transaction for a new record and for each edit:
    refresh its flags and name, and put an edited record back to "received" so the correction (or any
    change to an approved record) is reviewed again."""
    info = _version_info(tx, item.form_id, item.form_version, item.form_version_pk)
    if revision > 1:
        _reopen(tx, item.instance_id, revision, principal, now, item.area_code, address)
        own = ", ".join("{}" for _ in OWN_FLAGS)
        tx.execute(f"DELETE FROM submission_flag WHERE submission = {{}} AND flag IN ({own})",
                   item.instance_id, *OWN_FLAGS)
    for flag in sorted(rules.flags_of(item.answers, info.types)):  # deferred (Tx.later): nothing reads them back
        tx.later("INSERT INTO submission_flag (submission, flag) VALUES ({}, {}) "
                 "ON CONFLICT (submission, flag) DO NOTHING", item.instance_id, flag)
    name = item.answers.get(info.name_field) if info.name_field else None
    if revision == 1 and registry.registers_person(item.registry):
        return  # its name is its person's (registry.NAME_OF): the registry step writes a row only if not
    if isinstance(name, str) and name.strip():
        # A new record's name is deferred; an edit's is written now. One multi-row INSERT cannot
        # update one row twice, and a batch holds one new submission per instance id (a second one
        # finds the first's row and goes the edit path, whose statements write the deferred first).
        (tx.later if revision == 1 else tx.execute)(registry.NAME_ROW, item.instance_id, name.strip()[:200],
                                                    rules.name_key(name)[:200])
    elif revision > 1:
        tx.execute("DELETE FROM submission_name WHERE submission = {}", item.instance_id)


def _reopen(tx: Tx, instance_id: uuid.UUID, revision: int, principal: Principal, now: dt.datetime, area_code: str,
            address: str) -> None:
    rows = tx.fetch("SELECT review_status FROM submission WHERE id = {}", instance_id)
    before = rows[0]["review_status"] if rows else rules.RECEIVED
    if before != rules.RECEIVED:
        tx.execute("UPDATE submission SET review_status = {} WHERE id = {}", rules.RECEIVED, instance_id)
        registry.follow_review(tx, instance_id, rules.RECEIVED, now)
        _record(tx, instance_id, revision, before, rules.RECEIVED, "", principal, now, area_code, address)


def _version_info(tx: Tx, form_id: str, version: str, version_pk: int) -> VersionInfo:
    memo: dict[tuple[str, str, int], VersionInfo] = tx.memo.setdefault("version_info", {})
    key = (form_id, version, version_pk)
    info = memo.get(key)
    if info is None:
        rows = tx.fetch("SELECT compiled FROM form_version WHERE id = {}", version_pk)
        compiled = forms.decode_compiled(rows[0]["compiled"])
        info = memo[key] = VersionInfo(rules.question_types(compiled), rules.name_field(compiled))
    return info


# --- what the phone asks for: my records that need correction ------------------------------------------------
class Correction(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    form_id: str
    form_version: str
    revision: int  # send the corrected answers with base_revision = this
    comment: str
    reviewer: str
    sent_back_at: dt.datetime


async def corrections_for(db: Database, principal: Principal, limit: int = 200) -> list[Correction]:
    rows = await db.fetch(
        "SELECT s.id AS id, s.form_id AS form_id, v.version AS form_version, s.revision AS revision, "
        "e.comment AS comment, e.at AS at, u.display_name AS reviewer FROM submission s "
        "JOIN form_version v ON v.id = s.form_version "
        "JOIN review_event e ON e.id = (SELECT MAX(x.id) FROM review_event x WHERE x.submission = s.id "
        "AND x.to_status = 'needs_correction') LEFT JOIN pantau_user u ON u.id = e.actor "
        "WHERE s.enumerator = {} AND s.review_status = 'needs_correction' ORDER BY e.at DESC LIMIT {}",
        principal.id, limit)
    return [Correction(instance_id=str(r["id"]), form_id=r["form_id"], form_version=r["form_version"],
                       revision=int(r["revision"]), comment=r["comment"], reviewer=r["reviewer"] or "",
                       sent_back_at=aware(r["at"])) for r in rows]

