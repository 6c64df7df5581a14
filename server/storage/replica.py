"""Heavy reads from a PostgreSQL hot standby (PANTAU_DATABASE_REPLICA_URL): exports, report
datasets, dashboard figures and registry searches. Writes, and the reads that must see them (the
receipt, one's own lists right after a submission, review decisions), stay on the primary.

The standby is used while it keeps up: its lag is read at most once a second per process, and when it
lags more than PANTAU_REPLICA_MAX_LAG seconds, is down, or is not a standby at all, those reads go to
the primary and the log says why, once a minute, not on every request."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger("pantau.replica")

CHECK_EVERY_S = 1.0  # how stale the process's view of the lag may be
LOG_EVERY_S = 60.0  # one line a minute while the standby cannot be used
POOL_SIZE = 4

# Lag: nothing once the standby has applied all it received while streaming; else the time since the
# last transaction it replayed (paused replay, a cut stream, a slow disk).
_LAG = """SELECT pg_is_in_recovery() AS standby, pg_last_xact_replay_timestamp() AS replayed, now() AS now,
  COALESCE((SELECT status = 'streaming' FROM pg_stat_wal_receiver LIMIT 1), false) AS streaming,
  pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn() AS applied"""


@dataclass(frozen=True)
class ReadSource:
    """Where a heavy read goes: the standby with the time its data reaches, or the primary (None)."""

    db: Any  # storage/db.Database (not imported: db.py imports this module)
    data_time: dt.datetime | None = None

    @property
    def on_replica(self) -> bool:
        return self.data_time is not None


class Replica:
    def __init__(self, db: Any, max_lag_s: int) -> None:
        """db: an unopened storage/db.Database of the standby's URL."""
        self.url = db.url
        self.max_lag_s = max_lag_s
        self.db = db
        self._opened = False
        self._checked_at = -CHECK_EVERY_S
        self._usable: dt.datetime | None = None  # the replayed time when usable at the last check
        self._logged: dict[str, float] = {}
        self._lock = asyncio.Lock()

    async def source(self, primary: Any) -> ReadSource:
        async with self._lock:
            # A read on the standby failed since the last look (it went down): look again now, so only
            # the requests already under way when it died see the 503.
            failed = self._opened and self.db.outage.active("read")
            if failed or time.monotonic() - self._checked_at >= CHECK_EVERY_S:
                self._usable = await self._check()
                self._checked_at = time.monotonic()
        return ReadSource(self.db, self._usable) if self._usable is not None else ReadSource(primary)

    async def close(self) -> None:
        if self._opened:
            self._opened = False
            await self.db.close()

    async def _check(self) -> dt.datetime | None:
        """The standby's replayed time when it may serve, else None (and a log line a minute)."""
        try:
            if not self._opened:
                await self.db.open(bind_tables=False)
                self._opened = True
            [row] = await self.db.fetch(_LAG)
        except Exception as exc:  # down, refusing, misconfigured: the primary serves meanwhile
            self._say("down", f"cannot be reached ({type(exc).__name__}: {exc})")
            return None
        return self._judge(row)

    def _judge(self, row: Any) -> dt.datetime | None:
        now: dt.datetime = row["now"]
        replayed: dt.datetime | None = row["replayed"]
        if not row["standby"]:
            self._say("not_standby", "is not a standby (pg_is_in_recovery() is false)")
            return None
        if row["streaming"] and row["applied"]:
            return now if replayed is None else replayed  # all it was sent is applied: no lag
        lag = (now - replayed).total_seconds() if replayed is not None else float("inf")
        if lag > self.max_lag_s:
            self._say("lag", f"lags {lag:.0f} s, more than PANTAU_REPLICA_MAX_LAG={self.max_lag_s}")
            return None
        return replayed

    def _say(self, reason: str, words: str) -> None:
        now = time.monotonic()
        if now - self._logged.get(reason, -LOG_EVERY_S) >= LOG_EVERY_S:
            self._logged[reason] = now
            log.warning("replica %s %s: heavy reads go to the primary", _safe(self.url), words)


def _safe(url: str) -> str:
    """The URL without its password, for the log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)))
