"""Sign-in attempts, kept in the database so the limit holds across processes and restarts. An
attempt is taken (counted and written) in one locked transaction BEFORE the password is checked:
reading the count, checking the slow hash and only then writing let forty guesses sent at once all
read "no failures yet". The attempt row stands as a failure until the password proves right."""

from __future__ import annotations

from server import clock
from server.domain import sign_in
from server.storage.db import Database

_RECENT = (
    "SELECT (SELECT count(*) FROM login_failure WHERE username = {} AND address = {} AND at > {}) AS pair, "
    "(SELECT count(*) FROM login_failure WHERE username = {} AND at > {}) AS person, "
    "(SELECT count(*) FROM login_failure WHERE address = {} AND at > {}) AS address, "
    "(SELECT count(*) FROM login_address k JOIN pantau_user u ON u.id = k.user_id "
    " WHERE u.username = {} AND k.address = {}) AS known")


async def take_attempt(db: Database, username: str, address: str) -> int | None:
    """The attempt's id, or None when the limit refuses it (nothing is written then)."""
    username, address = username[:80], address[:64]
    now = clock.now()
    since = now - sign_in.WINDOW
    async with db.atomic():
        if db.kind == "postgres":
            # Every attempt takes the same two locks in the same order, so two cannot deadlock; on
            # SQLite the transaction is BEGIN IMMEDIATE, which already makes it the only writer.
            await db.fetch("SELECT pg_advisory_xact_lock(hashtextextended({}, 0)), "
                           "pg_advisory_xact_lock(hashtextextended({}, 0))",
                           *sorted((f"sign-in:a:{address}", f"sign-in:u:{username}")))
        row = (await db.fetch(_RECENT, username, address, since, username, since, address, since,
                              username, address))[0]
        recent = sign_in.Recent(pair=int(row["pair"]), person=int(row["person"]), address=int(row["address"]),
                                known_address=int(row["known"]) > 0)
        if sign_in.refused(recent):
            return None
        taken = await db.fetch("INSERT INTO login_failure (username, address, at) VALUES ({}, {}, {}) RETURNING id",
                               username, address, now)
    return int(taken[0]["id"])


async def succeeded(db: Database, attempt_id: int, user_id: int, username: str, address: str) -> None:
    """The password was right: this attempt and the pair's earlier failures no longer count (guesses
    from other addresses still do), and the address becomes one the person signs in from."""
    username, address, now = username[:80], address[:64], clock.now()
    async with db.atomic():
        await db.fetch("DELETE FROM login_failure WHERE username = {} AND address = {} AND id <= {}",
                       username, address, attempt_id)
        await db.fetch("INSERT INTO login_address (user_id, address, first_at, last_at) VALUES ({}, {}, {}, {}) "
                       "ON CONFLICT (user_id, address) DO UPDATE SET last_at = excluded.last_at",
                       user_id, address, now, now)


async def recent_failures(db: Database, username: str) -> int:
    since = clock.now() - sign_in.WINDOW
    rows = await db.fetch("SELECT count(*) AS n FROM login_failure WHERE username = {} AND at > {}",
                          username[:80], since)
    return int(rows[0]["n"])


async def unlock(db: Database, username: str) -> int:
    """An admin lifts every lock on this person (all addresses); returns the failures forgotten."""
    async with db.atomic():
        rows = await db.fetch("SELECT count(*) AS n FROM login_failure WHERE username = {}", username[:80])
        await db.fetch("DELETE FROM login_failure WHERE username = {}", username[:80])
    return int(rows[0]["n"])

