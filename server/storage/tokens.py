"""Personal API tokens for scripts: a person makes one, sees it once, and can revoke it. The database
keeps only the token's sha256 (a copy of the database cannot be replayed) and a short prefix to tell
tokens apart. A token acts as its owner, with the owner's current role and areas, and web/auth.py
accepts it only for reading (GET) the JSON API."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time

import msgspec

from server import clock
from server.domain.access import Principal
from server.errors import PantauError
from server.storage.db import Database

PREFIX = "pantau_"
MAX_ACTIVE = 10
MAX_NAME = 80
# last_used_at is written at most this often per token and process: a script paging through data
# must not turn every read into a write.
TOUCH_EVERY_S = 60.0
_TOUCHED: dict[str, float] = {}


class Token(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class Resolved(msgspec.Struct, frozen=True):
    """What web/auth.py keeps for a request made with a token (a session has a token_hash; this has none)."""

    principal: Principal
    token_hash: str | None = None


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def create(db: Database, principal: Principal, name: str) -> tuple[Token, str]:
    """The new token and its secret, which is shown once and never stored."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_NAME:
        raise PantauError("token.bad_name", max=MAX_NAME)
    if len([t for t in await list_for(db, principal) if t.active]) >= MAX_ACTIVE:
        raise PantauError("token.too_many", max=MAX_ACTIVE)
    secret = PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    rows = await db.fetch(
        "INSERT INTO api_token (user_id, name, token_hash, prefix, created_at) VALUES ({}, {}, {}, {}, {}) "
        "RETURNING id", principal.id, name, digest(secret), secret[: len(PREFIX) + 6], now)
    token = Token(id=int(rows[0]["id"]), name=name, prefix=secret[: len(PREFIX) + 6], created_at=now,
                  last_used_at=None, revoked_at=None)
    return token, secret


async def list_for(db: Database, principal: Principal) -> list[Token]:
    rows = await db.fetch("SELECT id, name, prefix, created_at, last_used_at, revoked_at FROM api_token "
                          "WHERE user_id = {} ORDER BY id DESC", principal.id)
    return [Token(id=int(r["id"]), name=r["name"], prefix=r["prefix"], created_at=_aware(r["created_at"]),
                  last_used_at=_aware(r["last_used_at"]), revoked_at=_aware(r["revoked_at"])) for r in rows]


async def revoke(db: Database, principal: Principal, token_id: int) -> Token:
    """Authorise by loading: someone else's token does not exist for you."""
    found = next((t for t in await list_for(db, principal) if t.id == token_id), None)
    if found is None:
        raise PantauError("http.not_found")
    if found.active:
        await db.fetch("UPDATE api_token SET revoked_at = {} WHERE id = {} AND user_id = {}", clock.now(), token_id,
                       principal.id)
    return found


async def resolve(db: Database, token: str) -> Resolved | None:
    """The token's owner as a Principal, or None (unknown, revoked, or the owner deactivated)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    hashed = digest(token)
    rows = await db.fetch(
        "SELECT t.id AS token_id, u.id AS id, u.username AS username, u.display_name AS display_name, "
        "u.role AS role, u.active AS active, a.area_code AS area_code FROM api_token t "
        "JOIN pantau_user u ON u.id = t.user_id LEFT JOIN user_area a ON a.user_id = u.id "
        "WHERE t.token_hash = {} AND t.revoked_at IS NULL ORDER BY a.area_code", hashed)
    if not rows or not rows[0]["active"]:
        return None
    row = rows[0]
    await _touch(db, hashed, int(row["token_id"]))
    areas = tuple(r["area_code"] for r in rows if r["area_code"])
    return Resolved(Principal(id=row["id"], username=row["username"], display_name=row["display_name"],
                              role=row["role"], areas=areas))


async def _touch(db: Database, hashed: str, token_id: int) -> None:
    now = time.monotonic()
    if now - _TOUCHED.get(hashed, -TOUCH_EVERY_S) < TOUCH_EVERY_S:
        return
    _TOUCHED[hashed] = now
    await db.fetch("UPDATE api_token SET last_used_at = {} WHERE id = {}", clock.now(), token_id)


def _aware(value: dt.datetime | str | None) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
