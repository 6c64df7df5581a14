"""Server-side sessions. The cookie holds a random token; the database holds only its sha256, so a
copy of the database cannot be replayed as cookies. A tampered or unknown cookie simply matches
no row. Deleting a user's rows ends their sessions at once, in every process."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import msgspec

from server import clock
from server.domain.access import Principal
from server.storage.db import Database
from server.storage.tables import User, UserArea, UserSession


class Session(msgspec.Struct, frozen=True):
    token_hash: str
    principal: Principal
    expires_at: dt.datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


async def create(db: Database, user_id: int, address: str, days: int) -> str:
    token = secrets.token_urlsafe(32)
    now = clock.now()
    await UserSession.insert(UserSession(token_hash=token_hash(token), user_id=user_id, created_at=now,
                                         expires_at=now + dt.timedelta(days=days), address=address[:64]))
    return token


async def resolve(db: Database, token: str) -> Session | None:
    if not token or len(token) > 100:
        return None
    digest = token_hash(token)
    row = await UserSession.select(
        UserSession.expires_at, UserSession.user_id.id, UserSession.user_id.username,
        UserSession.user_id.display_name, UserSession.user_id.role, UserSession.user_id.active,
    ).where(UserSession.token_hash == digest).first()
    if row is None or not row["user_id.active"] or row["expires_at"] <= clock.now():
        return None
    user_id = row["user_id.id"]
    areas = tuple(r["area_code"] for r in await UserArea.select(UserArea.area_code).where(
        UserArea.user_id == user_id).order_by(UserArea.area_code))
    principal = Principal(id=user_id, username=row["user_id.username"], display_name=row["user_id.display_name"],
                          role=row["user_id.role"], areas=areas)
    return Session(token_hash=digest, principal=principal, expires_at=row["expires_at"])


async def end(db: Database, token: str) -> None:
    await UserSession.delete().where(UserSession.token_hash == token_hash(token))


async def purge_expired(db: Database) -> None:
    await UserSession.delete().where(UserSession.expires_at <= clock.now())


__all__ = ["Session", "User", "create", "end", "purge_expired", "resolve", "token_hash"]
