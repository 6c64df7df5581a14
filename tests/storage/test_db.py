"""The engine and the schema: SQLite pragmas, migrations on both engines, the schema the
migrations build matches the Piccolo tables the code queries through."""

from __future__ import annotations

import sqlite3

import pytest

from server.errors import PantauError
from server.storage import migrate
from server.storage.db import Database
from server.storage.tables import TABLES
from tests.conftest import ON_POSTGRES


async def test_migrate_applies_everything_once(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    await db.open()
    try:
        assert await migrate.pending(db) == migrate.available()
        assert await migrate.migrate(db) == migrate.available()
        assert await migrate.pending(db) == []
        assert await migrate.migrate(db) == []  # running it again changes nothing
    finally:
        await db.close()


async def _columns(db: Database, table: str) -> set[str]:
    if db.kind == "sqlite":
        rows = await db.fetch(f"PRAGMA table_info({table})")
        return {r["name"] for r in rows}
    rows = await db.fetch("SELECT column_name FROM information_schema.columns WHERE table_name = {}", table)
    return {r["column_name"] for r in rows}


async def test_schema_matches_piccolo_tables(db: Database) -> None:
    for table in TABLES:
        declared = {c._meta.db_column_name for c in table._meta.columns}
        assert await _columns(db, table._meta.tablename) == declared, table._meta.tablename


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite pragmas; the PostgreSQL run checks the pool instead")
async def test_sqlite_runs_in_wal_with_foreign_keys_and_busy_timeout(db: Database) -> None:
    assert (await db.fetch("PRAGMA journal_mode"))[0]["journal_mode"] == "wal"
    assert (await db.fetch("PRAGMA foreign_keys"))[0]["foreign_keys"] == 1
    assert (await db.fetch("PRAGMA busy_timeout"))[0]["timeout"] >= 5000


@pytest.mark.skipif(not ON_POSTGRES, reason="only the PostgreSQL run has a pool")
async def test_postgres_uses_a_pool_opened_with_the_database(db: Database) -> None:
    assert db.engine.pool is not None  # type: ignore[union-attr]
    await db.close()
    assert db.engine.pool is None  # type: ignore[union-attr]
    await db.open()


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(Exception) as caught:
        async with db.atomic():
            await db.fetch(
                "INSERT INTO form_version (form, version, content_hash, compiled, source, published_at) "
                "VALUES (9999, '1', 'h', {}, '', '2026-01-01T00:00:00+00:00')", "{}"
            )
    assert "foreign" in str(caught.value).lower()


async def test_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.atomic():
            await db.fetch("INSERT INTO form (form_id, created_at) VALUES ('x', '2026-01-01T00:00:00+00:00')")
            raise RuntimeError("boom")
    assert await db.fetch("SELECT id FROM form") == []


def test_missing_database_folder_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PantauError) as caught:
        Database(f"sqlite:///{tmp_path}/no/such/dir/pantau.sqlite3")
    assert caught.value.code == "db.dir_missing"


async def test_unreachable_postgres_is_a_clear_error() -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/nothing")
    with pytest.raises(PantauError) as caught:
        await db.open()
    assert caught.value.code == "db.unreachable"


@pytest.mark.skipif(ON_POSTGRES, reason="file-level check of SQLite")
async def test_other_connections_see_committed_rows(db: Database, database_url: str) -> None:
    async with db.atomic():
        await db.fetch("INSERT INTO form (form_id, created_at) VALUES ('seen', '2026-01-01T00:00:00+00:00')")
    other = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        assert other.execute("SELECT form_id FROM form").fetchall() == [("seen",)]
    finally:
        other.close()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL's plan cache")
async def test_postgres_plans_prepared_statements_for_their_parameters(db: Database) -> None:
    """A statement prepared while its table is empty must not keep the plan made then as the table
    grows. With PostgreSQL's default the registry's NIK lookup kept a generic plan that found rows by
    programme alone (every row of it) and filtered on the NIK: each registration cost more than the
    one before. The asyncpg pool plans each execution (force_custom_plan); the writer's connection
    never prepares a query that reads a table (write_tx._Pipeline: only INSERTs of values keep a
    plan), so the lookup run there often, on an empty table, is not among its prepared statements
    and is planned for the grown table's rows."""
    from server.storage.write_tx import Tx
    from server.storage.writer import Writer

    find = ("SELECT id, nik_index, flags, area_code FROM beneficiary WHERE programme = {} AND nik_index = {} "
            "AND status = 'active' ORDER BY created_at, id FOR UPDATE")

    def grown(tx: Tx) -> list[dict[str, object]]:
        tx.execute("INSERT INTO beneficiary (id, programme, name, name_key, area_code, kecamatan, baseline, "
                   "registered_on, created_at, updated_at, nik_index) SELECT gen_random_uuid(), 'bansos', 'x', "
                   "'x', '64.02.06.1001', '64.02.06', {}, '2026-01-01', now(), now(), md5(i::text) "
                   "FROM generate_series(1, 20000) AS i", "{}")
        tx.fetch(find, "bansos", "x")
        return tx.fetch("SELECT statement FROM pg_prepared_statements")

    writer = Writer(db)
    try:
        for _ in range(8):  # past the point where PostgreSQL may settle on a generic plan
            await writer.run(lambda tx: tx.fetch(find, "bansos", "x"))
        prepared = await writer.run(grown)
    finally:
        await writer.stop()
    assert not [p for p in prepared if "FROM beneficiary" in str(p["statement"])], prepared
    rows = await db.fetch("SELECT current_setting('plan_cache_mode') AS mode")
    assert rows[0]["mode"] == "force_custom_plan"


def test_each_process_pool_fits_what_postgres_accepts() -> None:
    """pool_size_for: the full pool when there is room, a smaller one for many processes, the size
    asked for when it fits, and a clear refusal when even two connections per process do not fit."""
    from server.errors import PantauError
    from server.storage.db import MAX_POOL, pool_size_for

    assert pool_size_for(2, 100, 3, 10) == MAX_POOL
    assert pool_size_for(12, 100, 3, 10) == (100 - 3 - 10 - 5) // 12 - 3  # 3 each
    assert pool_size_for(2, 100, 3, 10, requested=4) == 4
    with pytest.raises(PantauError) as caught:
        pool_size_for(2, 100, 3, 10, requested=50)  # asked for, does not fit: said, not quietly shrunk
    assert caught.value.code == "serve.too_many_connections"
    with pytest.raises(PantauError) as caught:
        pool_size_for(64, 100, 3, 10)
    assert caught.value.code == "serve.too_many_connections" and caught.value.params["workers"] == 64
