"""Change counters shared by every process and node on one database, so a per-process cache can be
kept for long and still be dropped within seconds of a change made elsewhere.

A change that some process may have cached (a form published, archived or reassigned; a user
deactivated or changed; a session ended) bumps its epoch IN THE SAME TRANSACTION as the change, so
no reader can see the new epoch with the old data. Each process reads the whole `epoch` table (a
handful of rows, one indexed read) at most every POLL_S seconds, when a cache asks; a cache whose
epoch moved is emptied. A change therefore reaches every process of every node within
POLL_S + one request, far inside the 5 s the ministry asks. Works the same on SQLite (several
worker processes on one file) and PostgreSQL (several nodes).

    cache = await epochs.cache(db, "forms")   # a dict, emptied when the "forms" epoch moves
    tx.execute(*epochs.bump("forms"))          # in a writer operation (storage/write_tx.Tx)
    await epochs.bump_now(db, "forms")         # inside `async with db.atomic():`

Epoch names are free strings up to 64 characters; NAMES lists the ones Pantau bumps today."""

from __future__ import annotations

import time
from typing import Any

from server.storage.db import Database

POLL_S = 1.0  # a process reads the epochs at most this often
FORMS = "forms"  # publish, archive/restore, assignment to roles and areas
USERS = "users"  # role, areas, password, deactivation of a user
SESSIONS = "sessions"  # a session ended (sign-out, password change, deactivation)
NAMES = (FORMS, USERS, SESSIONS)

_BUMP = ("INSERT INTO epoch (name, value) VALUES ({}, 1) "
         "ON CONFLICT (name) DO UPDATE SET value = epoch.value + 1")


def bump(name: str) -> tuple[str, str]:
    """SQL and argument for `tx.execute(*bump(name))` inside the transaction that makes the change."""
    return _BUMP, name


async def bump_now(db: Database, *names: str) -> None:
    """Bump inside the caller's `db.atomic()` block (or alone, in its own statement)."""
    for name in sorted(set(names)):  # one order everywhere: two transactions cannot deadlock on them
        await db.fetch(_BUMP, name)


class _State:
    def __init__(self) -> None:
        self.read_at = float("-inf")
        self.values: dict[str, int] = {}
        self.caches: dict[str, tuple[tuple[int, ...], dict[Any, Any]]] = {}


def _state(db: Database) -> _State:
    found = db.memo.setdefault("epochs", {})
    if "state" not in found:
        found["state"] = _State()
    state: _State = found["state"]
    return state


async def values(db: Database) -> dict[str, int]:
    """Every epoch as this process last read it, read again when older than POLL_S."""
    state = _state(db)
    now = time.monotonic()
    if now - state.read_at >= POLL_S:
        rows = await db.fetch("SELECT name, value FROM epoch")
        state.values = {str(r["name"]): int(r["value"]) for r in rows}
        state.read_at = now
    return state.values


async def current(db: Database, name: str) -> int:
    return (await values(db)).get(name, 0)


async def cache(db: Database, *names: str) -> dict[Any, Any]:
    """A per-process dict for data that changes only with the epochs `names`: the same dict while
    they all stay, a new empty one once any moved (in this process at once after its own
    bump_now/bump via forget(), in others within POLL_S)."""
    state = _state(db)
    found = await values(db)
    value = tuple(found.get(name, 0) for name in names)
    key = "+".join(names)
    held = state.caches.get(key)
    if held is None or held[0] != value:
        held = state.caches[key] = (value, {})
    return held[1]


def forget(db: Database) -> None:
    """This process made a change: read the epochs on the next ask instead of waiting for POLL_S."""
    _state(db).read_at = float("-inf")
