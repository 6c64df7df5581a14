"""Sessions (storage/sessions.py) are kept per process until the SESSIONS or USERS epoch moves.
These tests prove the cache is used (a row removed behind its back still resolves), and that every
way Pantau ends or changes a session reaches this process at once and another within POLL_S. Two
Database objects on one database stand for two processes; tests/web/test_nodes.py drills two real
servers."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import time

import time_machine

from server.storage import epochs, sessions, users
from server.storage.db import Database


async def _signed_in(db: Database, username: str = "citra", days: int = 7) -> tuple[int, str]:
    account = await users.create(db, username, "enumerator", "x", areas=("64.02.01",))
    return account.id, await sessions.create(db, account.id, "127.0.0.1", days)


async def test_a_resolved_session_is_kept_until_its_epoch_moves(db: Database) -> None:
    _, token = await _signed_in(db)
    first = await sessions.resolve(db, token)
    assert first is not None and first.principal.username == "citra"
    await db.fetch("DELETE FROM user_session")  # behind the cache's back: no epoch moves
    kept = await sessions.resolve(db, token)
    assert kept == first  # served from the cache, without a query
    async with db.atomic():
        await epochs.bump_now(db, epochs.SESSIONS)
    epochs.forget(db)
    assert await sessions.resolve(db, token) is None  # the epoch moved: read again, and gone


async def test_signing_out_ends_the_session_at_once_in_this_process(db: Database) -> None:
    _, token = await _signed_in(db)
    assert await sessions.resolve(db, token) is not None
    await sessions.end(db, token)
    assert await sessions.resolve(db, token) is None


async def test_a_deactivation_and_a_new_role_reach_another_process_within_the_poll(
        db: Database, database_url: str) -> None:
    user_id, token = await _signed_in(db)
    other = Database(database_url)
    await other.open(bind_tables=False)  # the tables stay bound to `db`, whose writes these are
    try:
        before = await sessions.resolve(other, token)
        assert before is not None and before.principal.role == "enumerator"
        await users.set_role(db, user_id, "coordinator", ("64.02",))
        started = time.monotonic()
        while (now := await sessions.resolve(other, token)) is not None and now.principal.role == "enumerator":
            assert time.monotonic() - started < epochs.POLL_S + 0.5
            await asyncio.sleep(0.05)
        assert now is not None and now.principal.role == "coordinator" and now.principal.areas == ("64.02",)
        await users.set_active(db, user_id, False)
        started = time.monotonic()
        while await sessions.resolve(other, token) is not None:
            assert time.monotonic() - started < epochs.POLL_S + 0.5
            await asyncio.sleep(0.05)
    finally:
        await other.close()


async def test_a_new_password_ends_the_other_sessions_but_keeps_the_one_asked(db: Database) -> None:
    user_id, token = await _signed_in(db)
    second = await sessions.create(db, user_id, "127.0.0.1", 7)
    assert await sessions.resolve(db, token) is not None and await sessions.resolve(db, second) is not None
    await users.set_password(db, user_id, "y", keep_session=sessions.token_hash(second))
    assert await sessions.resolve(db, token) is None
    assert await sessions.resolve(db, second) is not None


async def test_a_kept_session_still_expires(db: Database) -> None:
    _, token = await _signed_in(db, days=1)
    assert await sessions.resolve(db, token) is not None  # now kept
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=1, minutes=1)):
        assert await sessions.resolve(db, token) is None
    assert await sessions.resolve(db, token) is not None  # back in its lifetime, the same kept session


async def test_unknown_cookies_are_not_kept_and_the_cache_is_bounded(db: Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    for _ in range(50):
        assert await sessions.resolve(db, secrets.token_urlsafe(32)) is None
    kept = await epochs.cache(db, epochs.SESSIONS, epochs.USERS)
    assert kept == {}
    monkeypatch.setattr(sessions, "CACHE_MAX", 3)
    user_id, _ = await _signed_in(db)
    tokens = [await sessions.create(db, user_id, "127.0.0.1", 7) for _ in range(5)]
    for token in tokens:
        assert await sessions.resolve(db, token) is not None
        assert len(kept) <= 3
