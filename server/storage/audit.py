"""The audit log: who did what, to which record, when and from where. This module only ever
INSERTs and SELECTs; the database refuses UPDATE and DELETE on the table (migration m0002)."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import msgspec
from piccolo.columns.combination import WhereRaw

from server import clock
from server.domain.access import Principal
from server.errors import PantauError
from server.storage.db import Database
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


class Entry(msgspec.Struct, frozen=True):
    id: int
    at: dt.datetime
    actor: str
    action: str
    target_type: str
    target_id: str
    area_code: str
    detail: str
    address: str


class AuditFilter(msgspec.Struct, frozen=True):
    action: str = ""
    actor: str = ""
    target: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    before_id: int | None = None  # keyset cursor: entries older than this id


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
    if wanted.before_id is not None:
        query = query.where(AuditLog.id < wanted.before_id)
    rows = await query.order_by(AuditLog.id, ascending=False).limit(limit)
    return [msgspec.convert(r, Entry) for r in rows]


def _start_of(day: dt.date) -> dt.datetime:
    # Stored times are UTC text on SQLite: compare in UTC or the strings sort wrongly.
    return dt.datetime.combine(day, dt.time(0), tzinfo=clock.WITA).astimezone(dt.UTC)


def encode_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"a:{entry_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, value = raw.split(":", 1)
        if kind != "a" or not value.isdigit():
            raise ValueError(raw)
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise PantauError("audit.bad_filter", detail="cursor") from None
