"""Personal app keys for ODK Collect and KoboCollect, as ODK Central's app users: a person
makes one per device on the account page, and the app is set up with the server URL
https://<host>/key/<key>/ (a QR code), so no password is typed on the phone. The database keeps only
the key's sha256 and a short prefix to tell keys apart. A key acts as its owner, with the owner's
current role and areas, on the OpenRosa routes only (web/openrosa.py)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time

import msgspec

from server import clock
from server.domain.access import Principal
from server.errors import PantauError
from server.storage.db import Database

KEY_BYTES = 36  # 48 URL-safe characters: 288 random bits
KEY_RE = re.compile(r"[A-Za-z0-9_-]{48}\Z")
PREFIX_LEN = 6
MAX_ACTIVE = 10
MAX_NAME = 80
TOUCH_EVERY_S = 60.0  # last_used_at is written at most this often per key and process
_TOUCHED: dict[str, float] = {}


class AppKey(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


async def create(db: Database, principal: Principal, name: str) -> tuple[AppKey, str]:
    """The new key and its secret, which is shown once (as a QR code) and never stored."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise PantauError("app_key.bad_name", max=MAX_NAME)
    if len([k for k in await list_for(db, principal) if k.active]) >= MAX_ACTIVE:
        raise PantauError("app_key.too_many", max=MAX_ACTIVE)
    secret = secrets.token_urlsafe(KEY_BYTES)
    now = clock.now()
    rows = await db.fetch(
        "INSERT INTO app_key (user_id, name, key_hash, prefix, created_at) VALUES ({}, {}, {}, {}, {}) "
        "RETURNING id", principal.id, name, digest(secret), secret[:PREFIX_LEN], now)
    key = AppKey(id=int(rows[0]["id"]), name=name, prefix=secret[:PREFIX_LEN], created_at=now, last_used_at=None,
                 revoked_at=None)
    return key, secret


async def list_for(db: Database, principal: Principal) -> list[AppKey]:
    rows = await db.fetch("SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM app_key "
                          "WHERE user_id = {} ORDER BY id DESC", principal.id)
    return [AppKey(id=int(r["id"]), name=r["name"], prefix=r["prefix"], created_at=_aware(r["created_at"]),
                   last_used_at=_aware(r["last_used_at"]), revoked_at=_aware(r["revoked_at"])) for r in rows]


async def revoke(db: Database, principal: Principal, key_id: int) -> AppKey:
    """Authorise by loading: someone else's key does not exist for you."""
    found = next((k for k in await list_for(db, principal) if k.id == key_id), None)
    if found is None:
        raise PantauError("http.not_found")
    if found.active:
        await db.fetch("UPDATE app_key SET revoked_at = {} WHERE id = {} AND user_id = {}", clock.now(), key_id,
                       principal.id)
    return found


async def resolve(db: Database, key: str) -> Principal | None:
    """The key's owner, or None (malformed, unknown, revoked, or the owner deactivated)."""
    if not KEY_RE.match(key):
        return None
    hashed = digest(key)
    rows = await db.fetch(
        "SELECT k.id AS key_id, u.id AS id, u.username AS username, u.display_name AS display_name, "
        "u.role AS role, u.active AS active, a.area_code AS area_code FROM app_key k "
        "JOIN pantau_user u ON u.id = k.user_id LEFT JOIN user_area a ON a.user_id = u.id "
        "WHERE k.key_hash = {} AND k.revoked_at IS NULL ORDER BY a.area_code", hashed)
    if not rows or not rows[0]["active"]:
        return None
    row = rows[0]
    await _touch(db, hashed, int(row["key_id"]))
    areas = tuple(r["area_code"] for r in rows if r["area_code"])
    return Principal(id=row["id"], username=row["username"], display_name=row["display_name"], role=row["role"],
                     areas=areas)


async def _touch(db: Database, hashed: str, key_id: int) -> None:
    now = time.monotonic()
    if now - _TOUCHED.get(hashed, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
        return
    _TOUCHED[hashed] = now
    await db.fetch("UPDATE app_key SET last_used_at = {} WHERE id = {}", clock.now(), key_id)


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
