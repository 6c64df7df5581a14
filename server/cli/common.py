"""What every command needs: settings with the data directory and secret key in place, and a
database opened for the length of one coroutine (closed even on error: aiosqlite's threads would
otherwise keep the process alive, stack-notes P2)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from server.private_files import private_dir
from server.settings import Settings, ensure_secret_key, load_settings
from server.storage.db import Database

T = TypeVar("T")


def prepared_settings() -> Settings:
    settings = load_settings()
    private_dir(Path(settings.data_dir))
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
