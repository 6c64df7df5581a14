"""When the database cannot serve (a full disk, a lock held beyond the timeout, an unreadable file, a
refused, lost or frozen PostgreSQL connection) a request is answered 503 `db.unreachable` with
Retry-After, never 500: the client (the phone's outbox) keeps the item and tries again. `unavailable`
tells such faults from bugs (a bad query is still a 500 with its traceback).

An outage is logged as one line when it starts, one line a minute with the count of failed requests
while it lasts, and one line when it ends, not a traceback per request (a full disk under load had
written 31 MB of them). Reads and writes are followed apart: on a full disk reads still succeed,
and a successful read must not end the writes' outage (that would log a start and an end per request)."""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import threading
from typing import Literal

from server import clock

Channel = Literal["read", "write"]
log = logging.getLogger("pantau.db")
REPORT_EVERY = dt.timedelta(minutes=1)
# SQLite primary result codes that mean "the database cannot serve now", with a short reason.
_SQLITE = {5: "locked (busy)", 6: "locked", 7: "out of memory", 8: "read-only", 10: "disk I/O error",
           11: "database file damaged", 13: "disk full", 14: "cannot open the database file",
           15: "locking protocol", 26: "not a database file"}
_SQLITE_WRITES = {5, 6, 8, 13}  # faults that stop writes while reads go on (WAL readers take no lock)
# SQLSTATE classes: 08 connection exception, 53 insufficient resources (disk full, too many
# connections), 57 operator intervention (statement timeout, shutdown), 58 system error (I/O).
_SQLSTATE_CLASSES = {"08": "connection lost", "53": "insufficient resources", "57": "cancelled or shut down",
                     "58": "system error"}


def unavailable(exc: BaseException) -> tuple[str, Channel] | None:
    """(short reason, channel) when `exc` (or what caused it) says the database is unavailable."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 5:
        found = _classify(current)
        if found is not None:
            return found
        current = current.__cause__ or current.__context__
        seen += 1
    return None


def _classify(exc: BaseException) -> tuple[str, Channel] | None:
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if code in _SQLITE:
            return _SQLITE[code], "write" if code in _SQLITE_WRITES else "read"
        return None
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate[:2] in _SQLSTATE_CLASSES:
        return ("timed out" if sqlstate == "57014" else _SQLSTATE_CLASSES[sqlstate[:2]]), "read"
    if isinstance(exc, TimeoutError):
        return "timed out", "read"
    if isinstance(exc, OSError):  # refused, reset, unreachable: the drivers raise these as they are
        return "connection refused or lost", "read"
    module, name = type(exc).__module__, type(exc).__name__
    kinds = {kind.__name__ for kind in type(exc).__mro__}  # psycopg's ConnectionTimeout is an OperationalError
    if module.startswith("psycopg") and kinds & {"OperationalError", "InterfaceError"} and not sqlstate:
        return "connection refused or lost", "read"
    if module.startswith("asyncpg") and name in ("InterfaceError", "ConnectionDoesNotExistError",
                                                 "InternalClientError") and "connection" in str(exc):
        return "connection lost", "read"
    return None


class Outage:
    """The process's record of a database outage per channel, and its few log lines."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._since: dict[Channel, dt.datetime] = {}
        self._total: dict[Channel, int] = {}
        self._minute: dict[Channel, tuple[dt.datetime, int]] = {}

    def active(self, channel: Channel) -> bool:
        return channel in self._since

    def failed(self, reason: str, channel: Channel, requests: int = 1) -> None:
        now = clock.now()
        with self._lock:
            if channel not in self._since:
                self._since[channel], self._total[channel] = now, 0
                self._minute[channel] = (now, 0)
                log.error("database unavailable for %ss: %s; answering 503 until it is back", channel, reason)
            self._total[channel] += requests
            started, count = self._minute[channel]
            count += requests
            if now - started >= REPORT_EVERY:
                log.warning("database still unavailable for %ss (%s): %d requests failed in the last minute, "
                            "%d since %s", channel, reason, count, self._total[channel],
                            self._since[channel].strftime("%H:%M:%S"))
                started, count = now, 0
            self._minute[channel] = (started, count)

    def recovered(self, channel: Channel) -> None:
        if channel not in self._since:  # the common case, without the lock
            return
        now = clock.now()
        with self._lock:
            since = self._since.pop(channel, None)
            if since is None:
                return
            total = self._total.pop(channel, 0)
            self._minute.pop(channel, None)
        log.warning("database available again for %ss after %d s: %d requests failed", channel,
                    int((now - since).total_seconds()), total)
