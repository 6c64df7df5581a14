"""Queries for user accounts and the areas they hold. Rows become `Account` Structs here; password
hashes leave this module only through `password_hash_of`, for the verifier."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from server import clock
from server.errors import PantauError
from server.storage import epochs
from server.storage.db import Database
from server.storage.tables import User, UserArea, UserSession


class Account(msgspec.Struct, frozen=True):
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: dt.datetime
    areas: tuple[str, ...] = ()


class Credentials(msgspec.Struct, frozen=True, kw_only=True):
    """What the password check needs of an account, and nothing it does not."""

    user_id: int
    password_hash: str
    active: bool


_COLUMNS = (User.id, User.username, User.display_name, User.role, User.active, User.created_at)


async def _areas_of(user_ids: list[int]) -> dict[int, tuple[str, ...]]:
    if not user_ids:
        return {}
    rows = await UserArea.select(UserArea.user_id, UserArea.area_code).where(
        UserArea.user_id.is_in(user_ids)).order_by(UserArea.area_code)
    found: dict[int, list[str]] = {}
    for row in rows:
        found.setdefault(row["user_id"], []).append(row["area_code"])
    return {k: tuple(v) for k, v in found.items()}


async def _accounts(rows: list[dict[str, Any]]) -> list[Account]:
    areas = await _areas_of([r["id"] for r in rows])
    return [msgspec.convert({**r, "areas": areas.get(r["id"], ())}, Account) for r in rows]


async def create(db: Database, username: str, role: str, password_hash: str, display_name: str = "",
                 areas: tuple[str, ...] = ()) -> Account:
    async with db.atomic():
        if await User.exists().where(User.username == username):
            raise PantauError("user.exists", username=username)
        rows = await User.insert(
            User(username=username, role=role, password_hash=password_hash,
                 display_name=display_name or username, active=True, created_at=clock.now())
        ).returning(User.id)
        await _replace_areas(rows[0]["id"], areas)
    account = await get(db, username)
    assert account is not None
    return account


async def _replace_areas(user_id: int, areas: tuple[str, ...]) -> None:
    await UserArea.delete().where(UserArea.user_id == user_id)
    for code in sorted(set(areas)):
        await UserArea.insert(UserArea(user_id=user_id, area_code=code))


async def get(db: Database, username: str) -> Account | None:
    rows = await User.select(*_COLUMNS).where(User.username == username)
    found = await _accounts(rows)
    return found[0] if found else None


async def get_by_id(db: Database, user_id: int) -> Account | None:
    rows = await User.select(*_COLUMNS).where(User.id == user_id)
    found = await _accounts(rows)
    return found[0] if found else None


async def list_all(db: Database) -> list[Account]:
    return await _accounts(await User.select(*_COLUMNS).order_by(User.username))


async def password_hash_of(db: Database, username: str) -> Credentials | None:
    row = await User.select(User.id, User.password_hash, User.active).where(User.username == username).first()
    if row is None:
        return None
    return Credentials(user_id=row["id"], password_hash=row["password_hash"], active=bool(row["active"]))


async def active_admin_exists(db: Database) -> bool:
    return bool(await User.exists().where((User.role == "admin") & (User.active == True)))  # noqa: E712


async def active_admins(db: Database) -> int:
    return int(await User.count().where((User.role == "admin") & (User.active == True)))  # noqa: E712


async def set_role(db: Database, user_id: int, role: str, areas: tuple[str, ...]) -> None:
    async with db.atomic():
        await User.update({User.role: role}).where(User.id == user_id)
        await _replace_areas(user_id, areas)
        await epochs.bump_now(db, epochs.USERS)
    epochs.forget(db)


async def set_password(db: Database, user_id: int, password_hash: str, *, keep_session: str | None = None) -> None:
    """A new password ends every other session of that user (a stolen session stops working)."""
    async with db.atomic():
        await User.update({User.password_hash: password_hash}).where(User.id == user_id)
        query = UserSession.delete().where(UserSession.user_id == user_id)
        if keep_session:
            query = query.where(UserSession.token_hash != keep_session)
        await query
        await epochs.bump_now(db, epochs.USERS, epochs.SESSIONS)
    epochs.forget(db)


async def set_active(db: Database, user_id: int, active: bool) -> None:
    async with db.atomic():
        await User.update({User.active: active}).where(User.id == user_id)
        if not active:  # deactivation ends their sessions at once
            await UserSession.delete().where(UserSession.user_id == user_id)
        await epochs.bump_now(db, epochs.USERS, epochs.SESSIONS)
    epochs.forget(db)
