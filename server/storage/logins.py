"""Failed sign-ins, kept in the database so the limit holds across processes and restarts."""

from __future__ import annotations

import datetime as dt

from server import clock
from server.storage.db import Database
from server.storage.tables import LoginFailure


async def record_failure(db: Database, username: str, address: str) -> None:
    await LoginFailure.insert(LoginFailure(username=username[:80], address=address[:64], at=clock.now()))


async def recent_failures(db: Database, username: str, address: str, window: dt.timedelta) -> tuple[int, int]:
    since = clock.now() - window
    by_user = await LoginFailure.count().where((LoginFailure.username == username[:80]) & (LoginFailure.at > since))
    by_address = await LoginFailure.count().where(
        (LoginFailure.address == address[:64]) & (LoginFailure.at > since))
    return int(by_user), int(by_address)


async def clear(db: Database, username: str) -> None:
    await LoginFailure.delete().where(LoginFailure.username == username[:80])
