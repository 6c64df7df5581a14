"""The beneficiary registry's writes. `prepare` runs before the writer (it seals NIK/KK, so the
crypto costs the writer thread nothing); `apply` runs in the writer thread, inside the savepoint of
the submission it belongs to, so a submission and its registry change are stored together or not
at all; `merge` is the staff's merge of two records. Reads are in storage/registry_read.py."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from server.domain import basis
from server.domain import registry as rules
from server.domain.access import Principal, sees_area
from server.domain.answers import Validation
from server.domain.compile import CompiledForm
from server.errors import PantauError
from server.settings import Settings
from server.storage import audit, pii, registry_read
from server.storage.sql import json_text, uuid_or_none
from server.storage.write_tx import Tx

MAX_MERGE_HOPS = 16  # a chain of merges longer than this is a loop, never real data


class SealedId(msgspec.Struct, frozen=True):
    index: str
    sealed: str
    masked: str


class Prepared(msgspec.Struct, frozen=True, kw_only=True):
    """A submission ready for the writer: its answers as stored (NIK/KK masked), their sealed values,
    and what the registry must do (None: nothing)."""

    answers: dict[str, Any]
    sealed: list[pii.SealedAnswer] = []
    intent: rules.Intent | None = None
    nik: SealedId | None = None  # the registered person's NIK and KK
    kk: SealedId | None = None


def prepare(compiled: CompiledForm, validation: Validation, settings: Settings, today: dt.date) -> Prepared | None:
    """Seal NIK/KK answers and work out the registry step before the writer, so the crypto costs the
    writer thread nothing. None: the form has neither NIK/KK answers nor a registry block."""
    keys = pii.keys_of(settings)
    fields = _id_fields(compiled)
    by_value: dict[tuple[pii.Kind, str], pii.SealedAnswer] = {}
    answers, sealed = (pii.seal_answers(fields, validation.answers, keys, by_value) if fields
                       else (validation.answers, []))
    intent = rules.intent_of(compiled, validation, today)
    if intent is None and not sealed:
        return None
    person = intent.creates.person if intent and intent.creates else None
    if person is None:
        return Prepared(answers=answers, sealed=sealed, intent=intent)
    return Prepared(answers=answers, sealed=sealed, intent=intent, nik=_sealed(keys, "nik", person.nik, by_value),
                    kk=_sealed(keys, "kk", person.kk, by_value))


def _id_fields(compiled: CompiledForm) -> pii.IdFields | None:
    """The form's NIK/KK questions and repeats, once per form version; None for a form without
    NIK/KK questions (most forms skip the walk entirely)."""
    memo = compiled.memo()
    if "id_fields" not in memo:
        fields = pii.id_fields({name: info.type for name, info in compiled.fields.items()})
        memo["id_fields"] = fields if fields.kinds else None
    found: pii.IdFields | None = memo["id_fields"]
    return found


def _sealed(keys: pii.Keys, kind: pii.Kind, digits: str | None,
            by_value: dict[tuple[pii.Kind, str], pii.SealedAnswer]) -> SealedId | None:
    """The person's NIK or KK as the record keeps it. The answer it came from was sealed and indexed a
    moment ago (seal_answers): that serves the record too, rather than a second encryption and HMAC."""
    if not digits:
        return None
    answer = by_value.get((kind, digits))
    if answer is not None:
        return SealedId(answer.index, answer.sealed, rules.mask(digits))
    return SealedId(pii.blind_index(keys, kind, digits), pii.seal(keys, kind, digits), rules.mask(digits))


# --- in the writer thread ----------------------------------------------------------------------
def apply(tx: Tx, prepared: Prepared, submission_id: uuid.UUID, principal: Principal, now: dt.datetime,
          *, new: bool = False) -> str | None:
    """The registry step of storing one submission: the intake or the event (its sealed NIK/KK answers
    go into the submission row itself: submissions._sealed). Returns the area the submission belongs
    to when the registry decides it (a visit belongs to its beneficiary's area), else None. `new`:
    the submission row was inserted in this savepoint, so nothing can refer to it yet and the lookups
    an edit needs are skipped (on PostgreSQL each statement is a round trip of the writer thread)."""
    intent = prepared.intent
    if intent is None:
        return None
    for reference in intent.references:
        visible(tx, reference, principal)
    if intent.creates is not None:
        return _intake(tx, prepared, intent.form_id, intent.creates, submission_id, principal, now, new)
    if intent.event is not None:
        return _record_event(tx, intent, intent.event, submission_id, principal, now, new)
    return None


def resolve(tx: Tx, beneficiary_id: str | uuid.UUID, *, lock: bool = False) -> dict[str, Any] | None:
    """The active record an id names: the id of a merged record leads to the one it was merged into,
    and the id of an intake that updated an existing record to that record (a phone may have
    referred to it offline before the server linked it). `lock`: hold each record read until the
    transaction ends (PostgreSQL), for an operation that goes on to change it; a record merged
    meanwhile is then seen as merged and followed."""
    current = uuid_or_none(beneficiary_id)
    for _ in range(MAX_MERGE_HOPS):
        if current is None:
            return None
        rows = tx.fetch("SELECT id, programme, status, merged_into, area_code, nik_index, kk_index, flags, "
                        "registered_on, visit_months FROM beneficiary WHERE id = {}"
                        + (tx.for_update if lock else ""), current)
        if not rows:
            linked = tx.fetch("SELECT beneficiary FROM beneficiary_event WHERE submission = {}", current)
            current = uuid_or_none(linked[0]["beneficiary"]) if linked else None
            continue
        if rows[0]["status"] == "merged":
            current = uuid_or_none(rows[0]["merged_into"])
            continue
        return rows[0]
    return None


def visible(tx: Tx, beneficiary_id: str, principal: Principal, *, lock: bool = False) -> dict[str, Any]:
    row = resolve(tx, beneficiary_id, lock=lock)
    if row is None or not sees_area(principal, row["area_code"]):
        # Outside one's areas a beneficiary does not exist: the same answer as an unknown id.
        raise PantauError("registry.unknown_beneficiary", beneficiary=beneficiary_id)
    return row


def _intake(tx: Tx, prepared: Prepared, form_id: str, creates: rules.Creates, submission_id: uuid.UUID,
            principal: Principal, now: dt.datetime, new: bool) -> str:
    person = creates.person
    if not new:  # a new submission's INSERT took them (storage/submissions._insert, identity_keys)
        _lock_identity(tx, creates, prepared)
    linked = [] if new else tx.fetch("SELECT beneficiary, kind FROM beneficiary_event WHERE submission = {}",
                                     submission_id)
    same_nik: list[dict[str, Any]] | None = None  # read once, under the identity lock, for both uses
    same_kk: list[dict[str, Any]] | None = None
    if linked:  # an edit of an intake: the same person, corrected
        target, kind = uuid_or_none(linked[0]["beneficiary"]), str(linked[0]["kind"])
    else:
        if prepared.nik and prepared.kk and creates.one_per_kk:
            same_nik, same_kk = _others_by_nik_and_kk(tx, creates.programme, prepared.nik.index, prepared.kk.index)
        else:
            same_nik = _others(tx, creates.programme, "nik_index", prepared.nik.index) if prepared.nik else []
        # Only a record the enumerator may already see is updated: re-registering another area's
        # person would otherwise move them (and their history) into this enumerator's view. Such an
        # intake makes a new record, flagged nik_ganda, for staff to merge.
        same = [r for r in same_nik if sees_area(principal, str(r["area_code"]))]
        target, kind = (same[0]["id"], "update") if same and creates.same_nik == "update" else (None, "intake")
    inserted = target is None
    # The baseline figures as JSON, once: the record's baseline column and its event's summary hold the
    # same text (encoding the Structs gives what encoding their to_builtins gives).
    baseline = msgspec.json.encode(person.baseline)
    if target is None:  # a new record: its flags and schedule go into its INSERT
        target = submission_id
        flags = _flag_duplicates(tx, target, prepared, creates, same_nik, same_kk)
        _insert_person(tx, target, prepared, creates, principal, now, flags, baseline)
    else:
        if target != submission_id:  # another intake's person (an edit's own name row is written already)
            pin_name(tx, target, person.name[:200])
        if new and person.name.strip():  # this intake's person is not its own: its name needs a row (NAME_OF)
            tx.later(NAME_ROW, submission_id, person.name.strip()[:200], rules.name_key(person.name)[:200])
        _update_person(tx, target, prepared, creates, now, baseline, keep_baseline=kind == "update")
        _set_flags(tx, target, _flag_duplicates(tx, target, prepared, creates, same_nik, same_kk))
    summary = {"figures": msgspec.Raw(baseline), "flags": person.flags}  # the figures' JSON as the record's
    _upsert_event(tx, target, submission_id, form_id, kind, person.registered_on, summary, now,
                  new=new)
    if not inserted:  # the UPDATE above holds its row: reschedule reads every committed visit
        reschedule(tx, target, now, locked=True)
    return person.area_code


# A submission's name (review: the list's name column, the name search) is its row in submission_name,
# or else the name of the person whose id is its id: an intake that registered a new person keeps no
# name row of its own (the person's record holds the same answer: one row and one index entry fewer
# per registration). Before a person's name changes, their intake's name is kept in a row (pin_name),
# so the intake goes on showing, and being found by, the name it gave.
NAME_OF = "COALESCE(n.name, o.name)"  # n: the submission's submission_name row, o: beneficiary o.id = s.id
NAME_ROW = ("INSERT INTO submission_name (submission, name, name_key) VALUES ({}, {}, {}) "
            "ON CONFLICT (submission) DO UPDATE SET name = excluded.name, name_key = excluded.name_key")


def registers_person(prepared: Prepared | None) -> bool:
    """Whether a new submission registers a person (its form's name field is the registry's
    `creates.name`, review.name_field): its name row is then the registry step's to write or not."""
    return prepared is not None and prepared.intent is not None and prepared.intent.creates is not None


def pin_name(tx: Tx, person: uuid.UUID, name: str) -> None:
    """Before `person`'s name becomes `name`: the intake that registered them (its id is theirs), if it
    has no name row, gets one with the name it gave (NAME_OF)."""
    tx.execute("INSERT INTO submission_name (submission, name, name_key) SELECT b.id, b.name, b.name_key "
               "FROM beneficiary b JOIN submission s ON s.id = b.id WHERE b.id = {} AND b.name <> {} "
               "ON CONFLICT (submission) DO NOTHING", person, name)


def identity_keys(prepared: Prepared | None) -> tuple[str, ...]:
    """The advisory lock keys of a registration (_lock_identity), for the submission's INSERT to take
    them in the same statement; () when the submission registers nobody."""
    intent = prepared.intent if prepared is not None else None
    if prepared is None or intent is None or intent.creates is None:
        return ()
    return _identity(intent.creates.programme, prepared)


def _identity(programme: str, prepared: Prepared) -> tuple[str, ...]:
    """The (programme, NIK) and (programme, KK) keys: the advisory locks, and the marks of a new
    record still deferred in the batch (Tx.later's key, Tx.fetch_ahead's sees)."""
    return tuple(f"{programme}:{kind}:{sealed.index}"
                 for kind, sealed in (("nik", prepared.nik), ("kk", prepared.kk)) if sealed is not None)


def _lock_identity(tx: Tx, creates: rules.Creates, prepared: Prepared) -> None:
    """On PostgreSQL several Pantau processes write at once, each with its own writer: two intakes
    of one NIK in two open transactions would each miss the other's uncommitted record and both
    create an unflagged person. A transaction-scoped advisory lock per (programme, NIK) and
    (programme, KK) makes the second wait until the first commits; its duplicate check then sees
    the first record and updates or flags as same_nik says. Taken in a fixed order, so two intakes
    sharing both numbers cannot deadlock. (SQLite has one writer: BEGIN IMMEDIATE serialises.)"""
    tx.lock_keys(*_identity(creates.programme, prepared))


_PERSON_COLUMNS = ("nik_index, nik_sealed, nik_masked, kk_index, kk_sealed, kk_masked, name, name_key, sex, "
                   "birth_date, area_code, kecamatan, target_group, guardian_name")


def _person_values(prepared: Prepared, person: rules.Person) -> tuple[Any, ...]:
    nik, kk = prepared.nik or SealedId("", "", ""), prepared.kk or SealedId("", "", "")
    return (nik.index, nik.sealed, nik.masked, kk.index, kk.sealed, kk.masked, person.name[:200],
            rules.name_key(person.name)[:200], person.sex, person.birth_date, person.area_code,
            rules.kecamatan_of(person.area_code), person.group[:40], person.guardian[:200])


_INSERT_PERSON = (f"INSERT INTO beneficiary (id, programme, {_PERSON_COLUMNS}, baseline, registered_on, visit_months, "
                  "flags, last_visit_on, next_due_on, created_by, created_at, updated_at) "
                  f"VALUES ({', '.join(['{}'] * 25)})")


def _insert_person(tx: Tx, target: uuid.UUID, prepared: Prepared, creates: rules.Creates, principal: Principal,
                   now: dt.datetime, flags: set[str], baseline: bytes) -> None:
    """A new record has no visits yet: its next visit is due from its registration (as reschedule
    would work out; nothing can have recorded a visit to an id that did not exist)."""
    person = creates.person
    due = rules.next_due(person.registered_on, creates.visit_months)
    values = (target, creates.programme, *_person_values(prepared, person), baseline.decode(),
              person.registered_on, creates.visit_months, " ".join(sorted(flags)), "", due, principal.id, now, now)
    # Deferred: a later intake of the same NIK or KK in the batch writes it first (fetch_ahead's sees)
    tx.later(_INSERT_PERSON, *values, key=_identity(creates.programme, prepared))


def _update_person(tx: Tx, target: uuid.UUID, prepared: Prepared, creates: rules.Creates, now: dt.datetime,
                   baseline: bytes, keep_baseline: bool) -> None:
    # A re-registration keeps the baseline of the first intake (visits are compared with it); an
    # edit of that first intake corrects it.
    assignments = ", ".join(f"{column.strip()} = {{}}" for column in _PERSON_COLUMNS.split(","))
    also = "" if keep_baseline else ", baseline = {}"
    values = _person_values(prepared, creates.person) + (() if keep_baseline else (baseline.decode(),))
    tx.execute(f"UPDATE beneficiary SET {assignments}{also}, visit_months = {{}}, updated_at = {{}} "
               "WHERE id = {}", *values, creates.visit_months, now, target)


def _others(tx: Tx, programme: str, column: str, index: str) -> list[dict[str, Any]]:
    """Active records of the programme with this blind index (column is one of two fixed names),
    locked on PostgreSQL: the caller rewrites their flags, and an intake sharing only the KK (another
    identity lock) or a merge may be rewriting them at the same moment."""
    assert column in ("nik_index", "kk_index")
    kind = column.removesuffix("_index")
    return tx.fetch_ahead(f"SELECT id, nik_index, flags, area_code FROM beneficiary WHERE programme = {{}} "
                          f"AND {column} = {{}} AND status = 'active' ORDER BY created_at, id{tx.for_update}",
                          programme, index, sees=(f"{programme}:{kind}:{index}",))


def _others_by_nik_and_kk(tx: Tx, programme: str, nik_index: str, kk_index: str
                          ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """_others for the NIK and for the KK in one statement: one statement fewer while the writer
    holds the database (SQLite) or waits for a round trip (PostgreSQL). SQLite: a UNION ALL, each
    half on its own index (with `nik_index = ? OR kk_index = ?` SQLite read every record of the
    programme). PostgreSQL: the OR, which it answers from both indexes at once (a BitmapOr), because
    FOR UPDATE is not allowed with UNION."""
    sees = (f"{programme}:nik:{nik_index}", f"{programme}:kk:{kk_index}")  # a new record deferred in the batch
    if tx.kind == "sqlite":
        half = "SELECT id, nik_index, kk_index, flags, area_code, created_at FROM beneficiary WHERE programme = {} AND "
        rows = tx.fetch_ahead(f"{half}nik_index = {{}} AND status = 'active' UNION ALL "
                        f"{half}kk_index = {{}} AND status = 'active' ORDER BY created_at, id",
                              programme, nik_index, programme, kk_index, sees=sees)
    else:
        rows = tx.fetch_ahead("SELECT id, nik_index, kk_index, flags, area_code FROM beneficiary WHERE programme = {} "
                              "AND (nik_index = {} OR kk_index = {}) AND status = 'active' ORDER BY created_at, id"
                              + tx.for_update, programme, nik_index, kk_index, sees=sees)
    unique = list({str(r["id"]): r for r in rows}.values())  # SQLite: a record with both appears twice
    return [r for r in unique if r["nik_index"] == nik_index], [r for r in unique if r["kk_index"] == kk_index]


def _flag_duplicates(tx: Tx, target: uuid.UUID, prepared: Prepared, creates: rules.Creates,
                     same_nik: list[dict[str, Any]] | None, same_kk: list[dict[str, Any]] | None = None) -> set[str]:
    """The record's flags: its confirmed NIK/KK warnings, plus nik_ganda when another active record
    of the programme has the NIK, plus kk_ganda when the programme allows one recipient per KK and
    another recipient shares the card. The other records get the flag here; the caller stores the
    returned flags on the record. same_nik, same_kk: the NIK's and the KK's records when the caller
    has read them already."""
    flags = set(creates.person.flags)
    shared: list[tuple[str, list[dict[str, Any]]]] = []
    if prepared.nik:
        if same_nik is None:
            same_nik = _others(tx, creates.programme, "nik_index", prepared.nik.index)
        shared.append((rules.DUPLICATE_NIK, [r for r in same_nik if uuid_or_none(r["id"]) != target]))
    if creates.one_per_kk and prepared.kk:
        if same_kk is None:
            same_kk = _others(tx, creates.programme, "kk_index", prepared.kk.index)
        family = [r for r in same_kk if uuid_or_none(r["id"]) != target]
        own_nik = prepared.nik.index if prepared.nik else None
        shared.append((rules.SHARED_KK, [r for r in family if r["nik_index"] != own_nik or not own_nik]))
    for flag, rows in shared:
        if rows:
            flags.add(flag)
        for row in rows:
            _set_flags(tx, row["id"], set(str(row["flags"]).split()) | {flag})
    return flags


def _set_flags(tx: Tx, beneficiary: Any, flags: set[str]) -> None:
    tx.execute("UPDATE beneficiary SET flags = {} WHERE id = {}", " ".join(sorted(flags)), uuid_or_none(beneficiary))


def _record_event(tx: Tx, intent: rules.Intent, event: rules.Event, submission_id: uuid.UUID, principal: Principal,
                  now: dt.datetime, new: bool) -> str:
    # Locked first: two visits to one person in two open transactions would each reschedule from
    # the visits they can see, and the later commit would keep a schedule missing the other visit;
    # a merge moving this person's events would miss this one.
    row = visible(tx, event.beneficiary_id, principal, lock=True)
    if intent.programme and row["programme"] != intent.programme:
        # A visit form belongs to its programme: its timeline, follow-ups and schedule are that
        # programme's, and a recipient of another programme is not this form's to visit.
        raise PantauError("registry.other_programme", beneficiary=event.beneficiary_id, found=row["programme"],
                          programme=intent.programme)
    target = uuid_or_none(row["id"])
    assert target is not None
    summary: dict[str, Any] = {"figures": msgspec.to_builtins(event.figures)}
    if event.growth is not None:
        summary |= {"growth": msgspec.to_builtins(event.growth), "child": event.child}
    if event.follow_up is not None:
        summary["follow_up"] = msgspec.to_builtins(event.follow_up)
    previous = _upsert_event(tx, target, submission_id, intent.form_id, event.kind, event.happened_on, summary, now,
                             new=new)
    tx.execute("UPDATE follow_up SET closed_on = {}, closed_by = {} WHERE beneficiary = {} AND form_id = {} "
               "AND closed_on = '' AND submission <> {} AND opened_on <= {}",
               event.happened_on, submission_id, target, intent.form_id, submission_id, event.happened_on)
    _follow_up(tx, target, submission_id, intent.form_id, event, new)
    reschedule(tx, target, now, locked=True)
    if previous is not None:  # an edit moved the visit away from this person
        reschedule(tx, previous, now)
    tx.execute("UPDATE submission SET area_code = {} WHERE id = {}", row["area_code"], submission_id)
    return str(row["area_code"])


def _follow_up(tx: Tx, target: uuid.UUID, submission_id: uuid.UUID, form_id: str, event: rules.Event,
               new: bool) -> None:
    """A visit that asks for a follow-up opens one; an edit that no longer asks removes it (unless a
    later visit already closed it: that history stays)."""
    ask = event.follow_up
    if ask is None:
        if not new:
            tx.execute("DELETE FROM follow_up WHERE submission = {} AND closed_on = ''", submission_id)
        return
    values = (" ".join(ask.actions), json_text({"text": ask.text}), event.happened_on, ask.due_on)
    if not new and tx.fetch("SELECT id FROM follow_up WHERE submission = {}", submission_id):
        tx.execute("UPDATE follow_up SET beneficiary = {}, actions = {}, detail = {}, opened_on = {}, due_on = {} "
                   "WHERE submission = {}", target, *values, submission_id)
    else:
        tx.execute("INSERT INTO follow_up (beneficiary, submission, form_id, actions, detail, opened_on, due_on) "
                   "VALUES ({}, {}, {}, {}, {}, {}, {})", target, submission_id, form_id, *values)


def _upsert_event(tx: Tx, target: uuid.UUID, submission_id: uuid.UUID, form_id: str, kind: str, happened_on: str,
                  summary: dict[str, Any], now: dt.datetime, *, new: bool) -> uuid.UUID | None:
    """One event per submission; an edit rewrites it. Returns the beneficiary it named before, if other."""
    rows = [] if new else tx.fetch("SELECT beneficiary FROM beneficiary_event WHERE submission = {}", submission_id)
    if rows:
        tx.execute("UPDATE beneficiary_event SET beneficiary = {}, kind = {}, happened_on = {}, summary = {}, "
                   "recorded_at = {} WHERE submission = {}", target, kind, happened_on, json_text(summary), now,
                   submission_id)
        before = uuid_or_none(rows[0]["beneficiary"])
        return before if before != target else None
    tx.later("INSERT INTO beneficiary_event (beneficiary, submission, form_id, kind, happened_on, summary, "
             "recorded_at) VALUES ({}, {}, {}, {}, {}, {}, {})",
             target, submission_id, form_id, kind, happened_on, json_text(summary), now)
    return None


def reschedule(tx: Tx, target: Any, now: dt.datetime, *, locked: bool = False) -> None:
    """Last visit and next due date from the events themselves, so edits, late syncs and merges
    cannot leave them stale. The record is locked (PostgreSQL) BEFORE its events are read: this
    statement's snapshot then includes every visit committed by another writer, and a visit still
    uncommitted elsewhere reschedules after us. `locked`: the caller holds the row lock already."""
    if not locked and tx.kind == "postgres":
        tx.execute("SELECT id FROM beneficiary WHERE id = {} FOR UPDATE", uuid_or_none(target))
    person = uuid_or_none(target)
    visits = registry_read.EVENTS_OF.format(columns="happened_on, kind")
    rows = tx.fetch("SELECT b.registered_on AS registered_on, b.visit_months AS visit_months, "
                    f"(SELECT MAX(e.happened_on) FROM ({visits}) e WHERE e.kind IN ('visit', 'growth')) AS last_visit "
                    "FROM beneficiary b WHERE b.id = {}", person, person, person, person)
    if not rows:
        return
    last = rows[0]["last_visit"] or ""
    due = rules.next_due(last or rows[0]["registered_on"], int(rows[0]["visit_months"]))
    tx.execute("UPDATE beneficiary SET last_visit_on = {}, next_due_on = {}, updated_at = {} WHERE id = {}",
               last, due, now, uuid_or_none(target))


# --- merging two records (staff) ------------------------------------------------------------------
def merge(tx: Tx, keep_id: uuid.UUID, drop_id: uuid.UUID, principal: Principal, address: str,
          now: dt.datetime) -> None:
    """`drop` becomes part of `keep`: its events and follow-ups move, every submission stays, and its
    id keeps working (it resolves to `keep`). Audited as beneficiary.merge."""
    if keep_id == drop_id:
        raise PantauError("registry.merge_self")
    # Both locked (in id order: two merges of one pair cannot deadlock), so two merges of the pair
    # at once cannot each see both records active and merge them into each other.
    rows = {uuid_or_none(r["id"]): r for r in tx.fetch(
        "SELECT id, programme, status, area_code, nik_index, kk_index, flags FROM beneficiary WHERE id IN ({}, {}) "
        f"ORDER BY id{tx.for_update}", keep_id, drop_id)}
    keep, drop = rows.get(keep_id), rows.get(drop_id)
    if keep is None or drop is None:
        raise PantauError("http.not_found")
    for row in (keep, drop):
        if row["status"] != "active":
            raise PantauError("registry.merge_merged", beneficiary=str(row["id"]))
    if keep["programme"] != drop["programme"]:
        raise PantauError("registry.merge_programme", keep=keep["programme"], drop=drop["programme"])
    # the events in the two parts beneficiary_event_timeline (m0026) and the key find
    tx.execute("UPDATE beneficiary_event SET beneficiary = {} WHERE beneficiary = {} AND beneficiary <> submission",
               keep_id, drop_id)
    tx.execute("UPDATE beneficiary_event SET beneficiary = {} WHERE submission = {} AND beneficiary = {}",
               keep_id, drop_id, drop_id)
    tx.execute("UPDATE follow_up SET beneficiary = {} WHERE beneficiary = {}", keep_id, drop_id)
    tx.execute("UPDATE beneficiary SET status = 'merged', merged_into = {}, updated_at = {} WHERE id = {}",
               keep_id, now, drop_id)
    for row in (keep, drop):
        _unflag_resolved(tx, str(row["programme"]), row)
    reschedule(tx, keep_id, now, locked=True)
    tx.later(audit.INSERT, *audit.values(principal, "beneficiary.merge", target_type="beneficiary",
                                           target_id=str(keep_id), area_code=str(keep["area_code"]),
                                           detail=f"merged={drop_id}", address=address))


# --- a reviewer's decision on the intake that registered a person -------------------------------------
def follow_review(tx: Tx, submission_id: uuid.UUID, review_status: str, now: dt.datetime) -> None:
    """Called with every change of a submission's review status. When the submission is the intake
    that registered a person (the person's id is its id), the person is active or rejected as
    domain/basis.py says: a duplicate rejected by a reviewer stops being anyone's beneficiary (lists,
    the phone's copy, reports), and reopening the intake brings them back with their history. The
    duplicate flags of the records sharing their NIK/KK follow, as after a merge."""
    rows = tx.fetch("SELECT id, programme, status, nik_index, kk_index, flags FROM beneficiary WHERE id = {}"
                    + tx.for_update, submission_id)
    wanted = basis.person_status(review_status)
    if not rows or rows[0]["status"] not in (basis.PERSON_ACTIVE, basis.PERSON_REJECTED) \
            or rows[0]["status"] == wanted:
        return  # not a registering intake, merged away, or no change
    row = rows[0]
    # updated_at moves, so the phones' copies drop (or get back) the person on their next sync.
    tx.execute("UPDATE beneficiary SET status = {}, updated_at = {} WHERE id = {}", wanted, now, submission_id)
    if wanted == basis.PERSON_REJECTED:
        _unflag_resolved(tx, str(row["programme"]), row)
    else:
        _reflag(tx, str(row["programme"]), row)


def _reflag(tx: Tx, programme: str, row: dict[str, Any]) -> None:
    """A person back in the registry shares their NIK (and, where they were flagged for it, their KK)
    with the active records that have it again: each of them is flagged as an intake would."""
    own = set(str(row["flags"]).split())
    for flag, column in ((rules.DUPLICATE_NIK, "nik_index"), (rules.SHARED_KK, "kk_index")):
        if not row[column] or (flag == rules.SHARED_KK and flag not in own):
            continue
        found = _others(tx, programme, column, str(row[column]))  # the person is among them: active again
        sharing = [r for r in found if flag == rules.DUPLICATE_NIK or r["nik_index"] != row["nik_index"]
                   or uuid_or_none(r["id"]) == uuid_or_none(row["id"])]
        for other in sharing:
            flags = set(str(other["flags"]).split())
            _set_flags(tx, other["id"], flags | {flag} if len(sharing) > 1 else flags - {flag})


def _unflag_resolved(tx: Tx, programme: str, row: dict[str, Any]) -> None:
    """After a merge, a duplicate flag stays only where another active record still shares the NIK/KK."""
    for flag, column in ((rules.DUPLICATE_NIK, "nik_index"), (rules.SHARED_KK, "kk_index")):
        if not row[column]:
            continue
        sharing = _others(tx, programme, column, str(row[column]))
        if len(sharing) == 1:  # only one active record left with this value: nobody to share it with
            _set_flags(tx, sharing[0]["id"], set(str(sharing[0]["flags"]).split()) - {flag})
