"""Queries for user accounts. Rows become `Account` Structs here; password hashes never leave
this module except to the verifier."""

from __future__ import annotations

import datetime as dt

import msgspec

from server import clock
from server.errors import PantauError
from server.storage.db import Database
from server.storage.tables import User


class Account(msgspec.Struct, frozen=True):
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: dt.datetime


_COLUMNS = (User.id, User.username, User.display_name, User.role, User.active, User.created_at)


async def create(db: Database, username: str, role: str, password_hash: str, display_name: str = "") -> Account:
    async with db.atomic():
        if await User.exists().where(User.username == username):
            raise PantauError("user.exists", username=username)
        await User.insert(
            User(username=username, role=role, password_hash=password_hash,
                 display_name=display_name or username, active=True, created_at=clock.now())
        )
    account = await get(db, username)
    assert account is not None
    return account


async def get(db: Database, username: str) -> Account | None:
    row = await User.select(*_COLUMNS).where(User.username == username).first()
    return msgspec.convert(row, Account) if row else None


async def list_all(db: Database) -> list[Account]:
    rows = await User.select(*_COLUMNS).order_by(User.username)
    return [msgspec.convert(r, Account) for r in rows]


async def active_admin_exists(db: Database) -> bool:
    return bool(await User.exists().where((User.role == "admin") & (User.active == True)))  # noqa: E712
