"""Applies the migrations in storage/migrations, each in its own transaction together with its
row in pantau_migration, so a crash leaves a migration either fully applied or not at all. Two
processes migrating at once serialise on the write lock (SQLite) or an advisory lock (PostgreSQL)."""

from __future__ import annotations

import importlib
import pkgutil

from server import clock
from server.storage import migrations
from server.storage.db import Database

PK = {"sqlite": "INTEGER PRIMARY KEY AUTOINCREMENT", "postgres": "SERIAL PRIMARY KEY"}
LEDGER = "pantau_migration"
ADVISORY_KEY = 7_264_020  # any constant; "64.02" for Kukar


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules(migrations.__path__) if m.name.startswith("m"))


async def _ensure_ledger(db: Database) -> None:
    await db.execute_ddl(
        f"CREATE TABLE IF NOT EXISTS {LEDGER} (name VARCHAR(200) PRIMARY KEY NOT NULL, "
        "applied_at TIMESTAMPTZ NOT NULL)"
    )


async def applied(db: Database) -> set[str]:
    await _ensure_ledger(db)
    return {row["name"] for row in await db.fetch(f"SELECT name FROM {LEDGER}")}


async def pending(db: Database) -> list[str]:
    done = await applied(db)
    return [name for name in available() if name not in done]


async def migrate(db: Database, until: str | None = None) -> list[str]:
    """Apply every pending migration (`until`: those up to and including that one, as a database
    made by an older release has them); returns the names applied now."""
    await _ensure_ledger(db)
    ran: list[str] = []
    for name in available():
        if until is not None and name > until:
            break
        module = importlib.import_module(f"{migrations.__name__}.{name}")
        async with db.atomic():
            if db.kind == "postgres":
                await db.fetch("SELECT pg_advisory_xact_lock({})", ADVISORY_KEY)
            if await db.fetch(f"SELECT name FROM {LEDGER} WHERE name = {{}}", name):
                continue  # another process applied it while we waited
            specific = getattr(module, f"{db.kind.upper()}_STATEMENTS", [])
            for statement in [*module.STATEMENTS, *specific]:
                await db.execute_ddl(statement.replace("{pk}", PK[db.kind]))
            rewrite = getattr(module, "rewrite", None)  # data SQL alone cannot reach, e.g. inside JSON
            if rewrite is not None:
                await rewrite(db)
            await db.fetch(f"INSERT INTO {LEDGER} (name, applied_at) VALUES ({{}}, {{}})", name, clock.now())
        ran.append(name)
    return ran
