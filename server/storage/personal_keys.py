"""What a person's API tokens (storage/tokens.py, for scripts) and app keys (storage/app_keys.py, for
ODK Collect) share: a secret made for one use, shown once and kept only as its sha256 (a copy of the
database cannot be replayed) and a short prefix to tell them apart; listed, revoked by its owner, and
resolved to its owner with the owner's current role and areas. last_used_at is written at most once a
minute per secret and process: a script or a phone syncing must not turn every read into a write."""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from dataclasses import dataclass
from typing import Any

import msgspec

from server import clock
from server.domain.access import Principal
from server.errors import PantauError
from server.storage.db import Database
from server.storage.sql import aware

MAX_ACTIVE = 10
MAX_NAME = 80
TOUCH_EVERY_S = 60.0
_TOUCHED: dict[str, float] = {}


@dataclass(frozen=True)
class Kind:
    table: str  # api_token | app_key
    hash_column: str  # token_hash | key_hash
    errors: str  # the catalogue's prefix: <errors>.bad_name, <errors>.too_many


class PersonalKey(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


def clean_name(kind: Kind, name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise PantauError(f"{kind.errors}.bad_name", max=MAX_NAME)
    return name


async def create(db: Database, kind: Kind, principal: Principal, name: str, secret: str,
                 prefix: str) -> PersonalKey:
    """Keep `secret` (made by the caller) for `principal` under `name`: its hash and prefix only."""
    name = clean_name(kind, name)
    if len([k for k in await list_for(db, kind, principal) if k.active]) >= MAX_ACTIVE:
        raise PantauError(f"{kind.errors}.too_many", max=MAX_ACTIVE)
    now = clock.now()
    rows = await db.fetch(
        f"INSERT INTO {kind.table} (user_id, name, {kind.hash_column}, prefix, created_at) "
        "VALUES ({}, {}, {}, {}, {}) RETURNING id", principal.id, name, digest(secret), prefix, now)
    return PersonalKey(id=int(rows[0]["id"]), name=name, prefix=prefix, created_at=now, last_used_at=None,
                       revoked_at=None)


async def list_for(db: Database, kind: Kind, principal: Principal) -> list[PersonalKey]:
    rows = await db.fetch(f"SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM {kind.table} "
                          "WHERE user_id = {} ORDER BY id DESC", principal.id)
    return [PersonalKey(id=int(r["id"]), name=r["name"], prefix=r["prefix"], created_at=aware(r["created_at"]),
                        last_used_at=_maybe(r["last_used_at"]), revoked_at=_maybe(r["revoked_at"])) for r in rows]


async def revoke(db: Database, kind: Kind, principal: Principal, key: PersonalKey) -> None:
    """Revoke one of the person's own keys, as storage/access loaded it (token_for, app_key_for);
    the owner is in the WHERE as well, so no other person's key can be named here."""
    if key.active:
        await db.fetch(f"UPDATE {kind.table} SET revoked_at = {{}} WHERE id = {{}} AND user_id = {{}}", clock.now(),
                       key.id, principal.id)


async def owner(db: Database, kind: Kind, secret: str) -> Principal | None:
    """The secret's owner, or None (unknown, revoked, or the owner deactivated)."""
    hashed = digest(secret)
    rows = await db.fetch(
        "SELECT k.id AS key_id, u.id AS id, u.username AS username, u.display_name AS display_name, "
        f"u.role AS role, u.active AS active, a.area_code AS area_code FROM {kind.table} k "
        "JOIN pantau_user u ON u.id = k.user_id LEFT JOIN user_area a ON a.user_id = u.id "
        f"WHERE k.{kind.hash_column} = {{}} AND k.revoked_at IS NULL ORDER BY a.area_code", hashed)
    if not rows or not rows[0]["active"]:
        return None
    row = rows[0]
    await _touch(db, kind, hashed, int(row["key_id"]))
    areas = tuple(r["area_code"] for r in rows if r["area_code"])
    return Principal(id=row["id"], username=row["username"], display_name=row["display_name"], role=row["role"],
                     areas=areas)


async def _touch(db: Database, kind: Kind, hashed: str, key_id: int) -> None:
    now = time.monotonic()
    if now - _TOUCHED.get(hashed, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
        return
    _TOUCHED[hashed] = now
    await db.fetch(f"UPDATE {kind.table} SET last_used_at = {{}} WHERE id = {{}}", clock.now(), key_id)


def _maybe(value: Any) -> dt.datetime | None:
    return None if value is None else aware(value)
