"""Submissions: stored through the writer, decided by domain/intake. `store` is the one operation
that creates or edits a submission; it runs inside the writer's batch transaction, so the lookup
and the insert see the same database state. INSERT ... ON CONFLICT DO NOTHING covers a second
process inserting the same instance id at the same moment: we then decide again on its row. The
operation runs in the writer's thread (storage/writer.py), so it is plain synchronous code."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from server.domain import intake
from server.domain.access import Principal, may_revise
from server.errors import PantauError
from server.storage import audit, pii, registry, review
from server.storage.db import Database
from server.storage.sql import aware, uuid_text
from server.storage.write_tx import Tx
from server.storage.writer import Writer


class Incoming(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: uuid.UUID
    form_id: str
    form_version: str
    form_version_pk: int
    answers: dict[str, Any]
    content_hash: str
    area_code: str
    attachments: tuple[str, ...] = ()
    base_revision: int | None = None
    # What the beneficiary registry must do with it (an intake, a visit), NIK/KK already sealed.
    registry: registry.Prepared | None = None


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    form_id: str
    form_version: str
    revision: int
    received_at: dt.datetime
    outcome: str  # "new", "identical" (a retry: nothing stored again) or "edit"


class Summary(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    form_id: str
    form_version: str
    revision: int
    review_status: str
    area_code: str
    received_at: dt.datetime


_SELECT_ONE = (
    "SELECT s.content_hash AS content_hash, s.revision AS revision, s.form_id AS form_id, "
    "s.enumerator AS enumerator, s.received_at AS received_at, v.version AS form_version "
    "FROM submission s JOIN form_version v ON v.id = s.form_version WHERE s.id = {}"
)


def _existing(row: dict[str, Any] | None) -> intake.Existing | None:
    if row is None:
        return None
    return intake.Existing(content_hash=row["content_hash"], revision=int(row["revision"]), form_id=row["form_id"],
                           enumerator_id=row["enumerator"])


async def store(db: Database, writer: Writer, item: Incoming, principal: Principal, address: str,
                now: dt.datetime) -> Receipt:
    return await writer.run(lambda tx: _store(tx, item, principal, address, now))


def _store(tx: Tx, item: Incoming, principal: Principal, address: str, now: dt.datetime) -> Receipt:
    """Runs in the writer thread, inside the batch transaction. A first submission (no base
    revision) tries the INSERT straight away: almost every submission is new, and ON CONFLICT tells
    us when it is not, so the common case costs one statement less."""
    if item.base_revision is None and _insert(tx, item, principal, address, now,
                                              registry.identity_keys(item.registry)):
        _link_attachments(tx, item)
        review.after_store(tx, item, 1, principal, now, address)  # flags and the searchable name
        _registry_step(tx, item, principal, now, new=True)
        # No audit entry: the row itself is the creation's evidence (its id, enumerator, received_at
        # and sent_from cannot be changed, m0027), and the audit page lists it from there.
        return _receipt(item, 1, now, "new")
    # Locked (PostgreSQL): two edits of one record, or an edit and a review decision, in two open
    # transactions would both build on the revision they read, and the later commit would drop the
    # other's change (or approve a correction nobody saw). The second now waits and reads the first's.
    rows = tx.fetch(_SELECT_ONE + (" FOR UPDATE OF s" if tx.kind == "postgres" else ""), item.instance_id)
    if not rows:  # an edit of a record that does not exist (or not any more)
        raise PantauError("http.not_found")
    decision = intake.decide(_existing(rows[0]), item.content_hash, item.base_revision)
    return _settle(tx, decision, item, rows[0], principal, address, now)


def _settle(tx: Tx, decision: str, item: Incoming, row: dict[str, Any], principal: Principal, address: str,
            now: dt.datetime) -> Receipt:
    if not may_revise(principal, row["enumerator"]):
        raise PantauError("submission.conflict", instance_id=str(item.instance_id))  # not theirs: reveal nothing
    if decision == "identical":
        return Receipt(instance_id=str(item.instance_id), form_id=row["form_id"], form_version=row["form_version"],
                       revision=int(row["revision"]), received_at=aware(row["received_at"]), outcome="identical")
    if decision == "stale":
        raise PantauError("submission.stale", instance_id=str(item.instance_id), current=row["revision"])
    if decision == "conflict":
        raise PantauError("submission.conflict", instance_id=str(item.instance_id))
    revision = int(row["revision"]) + 1
    tx.execute(
        "INSERT INTO submission_revision (submission, revision, form_version, content_hash, answers, replaced_at, "
        "replaced_by) SELECT id, revision, form_version, content_hash, answers, {}, {} FROM submission WHERE id = {}",
        now, principal.id, item.instance_id)
    tx.execute(
        "UPDATE submission SET form_version = {}, content_hash = {}, answers = {}, revision = {}, area_code = {}, "
        "sealed = {} WHERE id = {}", item.form_version_pk, item.content_hash,
        msgspec.json.encode(item.answers).decode(), revision, item.area_code, _sealed(item), item.instance_id)
    _link_attachments(tx, item)
    review.after_store(tx, item, revision, principal, now, address)  # back to "received", flags, name
    area = _registry_step(tx, item, principal, now)
    tx.later(audit.INSERT, *audit.values(principal, "submission.edit", target_type="submission",
                                           target_id=str(item.instance_id), area_code=area,
                                           detail=f"revision={revision}", address=address))
    return _receipt(item, revision, now, "edit")


_INSERT = ("INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, answers, "
           "sealed, revision, review_status, received_at, sent_from) ")
_CONFLICT = " ON CONFLICT (id) DO NOTHING RETURNING id"


def _insert(tx: Tx, item: Incoming, principal: Principal, address: str, now: dt.datetime,
            lock: tuple[str, ...] = ()) -> bool:
    """The submission's row, if its instance id is new (the unique id decides: a second process
    inserting the same id at the same moment waits for the first's commit and then inserts nothing).
    `lock`: the registration's identity locks (PostgreSQL, registry.identity_keys), taken by the
    same statement first, a round trip fewer. Nothing deferred is a submission row, so it runs
    ahead of the batch's deferred rows."""
    values = (item.instance_id, item.form_version_pk, item.form_id, principal.id, item.area_code, item.content_hash,
              msgspec.json.encode(item.answers).decode(), _sealed(item), now, address[:64])
    if lock and tx.kind == "postgres":
        ordered = sorted(set(lock))
        # INSERT ... SELECT FROM the lock's row: the locks are taken before the row is inserted
        locks = ", ".join("pg_advisory_xact_lock(hashtextextended({}, 0))" for _ in ordered)
        row = "{}::uuid, {}::integer, {}, {}::integer, {}, {}, {}::jsonb, {}, 1, 'received', {}::timestamptz, {}"
        rows = tx.fetch_ahead(f"{_INSERT}SELECT {row} FROM (SELECT {locks}) AS identity_lock{_CONFLICT}",
                              *values, *ordered, fixed_plan=True)
    else:
        row = "{}, {}, {}, {}, {}, {}, {}, {}, 1, 'received', {}, {}"
        return tx.insert_ahead(f"{_INSERT}VALUES ({row}){_CONFLICT}", *values)
    return bool(rows)


def _sealed(item: Incoming) -> str:
    """The submission's sealed NIK/KK answers for its `sealed` column (pii.held)."""
    return pii.held(item.registry.sealed) if item.registry is not None else ""


def _registry_step(tx: Tx, item: Incoming, principal: Principal, now: dt.datetime, new: bool = False) -> str:
    """The hook for the beneficiary registry: an intake creates or updates a beneficiary, a
    visit records an event about one, in this same savepoint, so a refused reference (unknown, or
    outside one's areas) leaves no submission either. Returns the submission's area, which for a
    visit is its beneficiary's."""
    if item.registry is None:
        return item.area_code
    return registry.apply(tx, item.registry, item.instance_id, principal, now, new=new) or item.area_code


def _link_attachments(tx: Tx, item: Incoming) -> None:
    for digest in sorted(set(item.attachments)):
        tx.later("INSERT INTO submission_attachment (submission, sha256) VALUES ({}, {}) "
                 "ON CONFLICT (submission, sha256) DO NOTHING", item.instance_id, digest)


def _receipt(item: Incoming, revision: int, now: dt.datetime, outcome: str) -> Receipt:
    return Receipt(instance_id=uuid_text(item.instance_id), form_id=item.form_id, form_version=item.form_version,
                   revision=revision, received_at=now, outcome=outcome)


async def sent_by(db: Database, principal: Principal, limit: int = 200) -> list[Summary]:
    """What the server holds from this person, newest first (the phone's "Terkirim" page)."""
    rows = await db.fetch(
        "SELECT s.id AS instance_id, s.form_id AS form_id, v.version AS form_version, s.revision AS revision, "
        "s.review_status AS review_status, s.area_code AS area_code, s.received_at AS received_at "
        "FROM submission s JOIN form_version v ON v.id = s.form_version WHERE s.enumerator = {} "
        "ORDER BY s.received_at DESC LIMIT {}", principal.id, limit)
    return [msgspec.convert({**r, "instance_id": str(r["instance_id"])}, Summary) for r in rows]
