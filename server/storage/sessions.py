"""Server-side sessions. The cookie holds a random token; the database holds only its sha256, so a
copy of the database cannot be replayed as cookies. A tampered or unknown cookie simply matches
no row.

Every request resolves its cookie, so each process keeps the sessions it resolved (at most
CACHE_MAX) until the SESSIONS or USERS epoch moves: signing out, a new password, a deactivation and
a change of role or areas bump one of them in the transaction that makes the change, which empties
this cache in the process that made it at once and in every other process and node within
epochs.POLL_S. Expiry is checked on every hit."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import msgspec

from server import clock
from server.domain.access import Principal
from server.storage import epochs
from server.storage.db import Database
from server.storage.sql import aware
from server.storage.tables import UserSession


class Session(msgspec.Struct, frozen=True):
    token_hash: str
    principal: Principal
    expires_at: dt.datetime


# An empty hash to copy: hashlib.sha256() looks the algorithm up in OpenSSL by name on every call.
_SHA256 = hashlib.sha256()


def token_hash(token: str) -> str:
    digest = _SHA256.copy()
    digest.update(token.encode("utf-8", "replace"))
    return digest.hexdigest()


async def create(db: Database, user_id: int, address: str, days: int) -> str:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    await UserSession.insert(UserSession(token_hash=token_hash(token), user_id=user_id, created_at=now,
                                         expires_at=now + dt.timedelta(days=days), address=address[:64]))
    return token


CACHE_MAX = 20_000  # sessions kept per process; about 0.5 KB each


async def resolve(db: Database, token: str) -> Session | None:
    if not token or len(token) > 100:
        return None
    digest = token_hash(token)
    kept = await epochs.cache(db, epochs.SESSIONS, epochs.USERS)
    session: Session | None = kept.get(digest)
    if session is None:
        session = await _read(db, digest)
        if session is None:  # unknown, ended or deactivated: not kept, a guessed cookie costs no memory
            return None
        if len(kept) >= CACHE_MAX:
            kept.clear()
        kept[digest] = session
    return session if session.expires_at > clock.now() else None


async def _read(db: Database, digest: str) -> Session | None:
    # One round trip, raw SQL: this runs on every request, and building the ORM join cost more than
    # the query. One row per area the user holds (or one row with a NULL area).
    rows = await db.fetch(
        "SELECT s.expires_at AS expires_at, u.id AS id, u.username AS username, u.display_name AS display_name, "
        "u.role AS role, u.active AS active, a.area_code AS area_code FROM user_session s "
        "JOIN pantau_user u ON u.id = s.user_id LEFT JOIN user_area a ON a.user_id = u.id "
        "WHERE s.token_hash = {} ORDER BY a.area_code", digest)
    if not rows or not rows[0]["active"]:
        return None
    row = rows[0]
    areas = tuple(r["area_code"] for r in rows if r["area_code"])
    principal = Principal(id=row["id"], username=row["username"], display_name=row["display_name"],
                          role=row["role"], areas=areas)
    return Session(token_hash=digest, principal=principal, expires_at=aware(row["expires_at"]))


async def end(db: Database, token: str) -> None:
    async with db.atomic():
        await UserSession.delete().where(UserSession.token_hash == token_hash(token))
        await epochs.bump_now(db, epochs.SESSIONS)  # a process that keeps sessions drops them
    epochs.forget(db)


async def purge_expired(db: Database) -> None:
    await UserSession.delete().where(UserSession.expires_at <= clock.now())


