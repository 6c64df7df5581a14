"""Shared fixtures: a real database for every test. SQLite by default (a fresh migrated file per
test, copied from one migrated template); PostgreSQL when PANTAU_TEST_DATABASE_URL is set (migrated
once per session, every table truncated before each test). Nothing of ours is mocked."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import msgspec
import pytest

from server.settings import Settings
from server.storage import migrate
from server.storage.db import Database
from tests.pg_clusters import Pair, primary_and_standby

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("PANTAU_TEST_DATABASE_URL", "")
ON_POSTGRES = PG_URL.startswith(("postgresql://", "postgres://"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """CI runs the suite once per database; a test that touches none runs in the SQLite pass only."""
    if ON_POSTGRES:
        skip = pytest.mark.skip(reason="no_database: it runs in the SQLite pass")
        for item in items:
            if item.get_closest_marker("no_database"):
                item.add_marker(skip)


def _run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


async def _migrated(url: str) -> None:
    db = Database(url)
    try:
        await db.open()
        if db.kind == "postgres" and await migrate.pending(db):
            # A previous test left a partial schema (it emptied the ledger): start from nothing.
            await db.execute_ddl("DROP SCHEMA public CASCADE")
            await db.execute_ddl("CREATE SCHEMA public")
        await migrate.migrate(db)
        if db.kind == "postgres":
            tables = [r["tablename"] for r in await db.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> {}",
                migrate.LEDGER)]
            if tables:
                await db.execute_ddl(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    finally:
        await db.close()


@pytest.fixture(scope="session")
def standby_pair() -> Iterator[Pair]:
    """One PostgreSQL primary with a hot standby for the session's standby tests (making them takes
    half a minute on a loaded machine): a test that stops the standby starts it again."""
    with primary_and_standby() as made:
        yield made


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "pantau.sqlite3"
    _run(_migrated(f"sqlite:///{path}"))
    return path


@pytest.fixture
def database_url(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    if ON_POSTGRES:
        _run(_migrated(PG_URL))
        return PG_URL
    target = tmp_path / "pantau.sqlite3"
    shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
    return f"sqlite:///{target}"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all (to test migrations and refusal to serve)."""
    if ON_POSTGRES:
        async def reset() -> None:
            db = Database(PG_URL)
            await db.open()
            try:
                await db.execute_ddl("DROP SCHEMA public CASCADE")
                await db.execute_ddl("CREATE SCHEMA public")
            finally:
                await db.close()

        _run(reset())
        yield PG_URL
        _run(reset())  # the next test's migrate() starts from nothing again
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    # dashboard_rescan_s=0: a test's write is counted by the next background scan at once (the
    # interval between scans has its own tests in tests/web/test_dashboard_cache.py).
    return Settings(database_url=database_url, data_dir=str(tmp_path / "data"), secret_key="k" * 48,
                    log_level="WARNING", dashboard_rescan_s=0)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await database.open()
    try:
        yield database
    finally:
        await database.close()


@pytest.fixture
def client(settings: Settings) -> Iterator[object]:
    from litestar.testing import TestClient

    from server.web.app import create_app

    with TestClient(app=create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def with_settings(settings: Settings, **changes: object) -> Settings:
    return msgspec.structs.replace(settings, **changes)
