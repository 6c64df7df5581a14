"""What every command needs: settings with the data directory and secret key in place, and a
database opened for the length of one coroutine (closed even on error: aiosqlite's threads would
otherwise keep the process alive, stack-notes P2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from server.private_files import private_dir
from server.settings import Settings, ensure_secret_key, load_settings, require_shared_secret_key
from server.storage.db import Database

T = TypeVar("T")


def prepared_settings(seals: bool = True) -> Settings:
    """Settings with the data directory made. seals: the command signs or seals with the secret key (NIKs,
    sessions); on PostgreSQL it then refuses without PANTAU_SECRET_KEY, as every node must share that
    key and one made here would seal what the others cannot open. A command that never uses the key
    makes none on PostgreSQL. SQLite makes its own in the data directory, as before."""
    settings = load_settings()
    if seals:
        require_shared_secret_key(settings)
    private_dir(Path(settings.data_dir))
    if not seals and not settings.is_sqlite:
        return settings
    return ensure_secret_key(settings)


def with_db(settings: Settings, work: Callable[[Database], Awaitable[T]]) -> T:
    async def run() -> T:
        db = Database.from_settings(settings)
        try:
            await db.open()
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())
