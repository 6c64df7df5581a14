"""Fixtures of the storage tests: the writer thread over the test's database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from server.storage.db import Database
from server.storage.writer import Writer


@pytest.fixture
async def writer(db: Database) -> AsyncIterator[Writer]:
    running = Writer(db)
    await running.start()
    try:
        yield running
    finally:
        await running.stop()
