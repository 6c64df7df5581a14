"""Raw SQL at the storage boundary, once: Pantau's queries use `{}` placeholders on both engines, and
this module turns them into each driver's style, opens the blocking read connections that exports
and reports stream from, and converts the values a row brings back (text timestamps, JSON columns,
UUIDs in text) into the types the Structs leaving storage declare.

Drivers and their placeholder styles: sqlite3/aiosqlite `?`, psycopg `%s` (a literal `%` doubled),
asyncpg `$1, $2, ...`. A compiled statement is kept per text, so the hot reads pay a dict lookup."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
from piccolo.engine.sqlite import convert_datetime_in, convert_uuid_in

from server.settings import sqlite_path

BUSY_TIMEOUT_MS = 30_000  # SQLite: how long to wait for a lock (PANTAU_DB_STATEMENT_TIMEOUT in a server)

_QMARK: dict[str, str] = {}
_FORMAT: dict[str, str] = {}
_NUMERIC: dict[str, str] = {}


# --- SQLite parameters ---------------------------------------------------------------------------------
# Piccolo's adapters (piccolo.engine.sqlite) turn a UUID into str(value) and a datetime into its UTC
# text; both run in Python for every parameter, and one submission passes its own id about ten times
# and its timestamp about five (the submission, the person, the event, the photo links, the audit
# entry). The same adapters, remembering the last value they turned (by identity): the text stored
# is the same, made once per submission.
_LAST_UUID: tuple[Any, str] = (None, "")
_LAST_DATETIME: tuple[Any, str] = (None, "")


def _uuid_in(value: uuid.UUID) -> str:
    global _LAST_UUID
    last = _LAST_UUID  # one read of one tuple: the writer thread and the read pool's threads share it
    if last[0] is value:
        return last[1]
    text = convert_uuid_in(value)
    _LAST_UUID = (value, text)
    return text


def _datetime_in(value: dt.datetime) -> str:
    global _LAST_DATETIME
    last = _LAST_DATETIME
    if last[0] is value:
        return last[1]
    text = convert_datetime_in(value)
    _LAST_DATETIME = (value, text)
    return text


def uuid_text(value: uuid.UUID) -> str:
    """str(value), through the adapter's memory: a submission's id made text for its receipt and audit
    entry is then the text its statements' parameters reuse (one UUID.__str__ in Python, not three)."""
    return _uuid_in(value)


# In place of piccolo's, which its import above registered first.
sqlite3.register_adapter(uuid.UUID, _uuid_in)
sqlite3.register_adapter(dt.datetime, _datetime_in)


# --- placeholders --------------------------------------------------------------------------------------
def for_sqlite(sql: str) -> str:
    """`{}` -> `?` (sqlite3, aiosqlite)."""
    compiled = _QMARK.get(sql)
    if compiled is None:
        compiled = _QMARK[sql] = sql.replace("{}", "?")
    return compiled


def for_psycopg(sql: str) -> str:
    """`{}` -> `%s`, and a literal `%` (a LIKE pattern written into the text) -> `%%`."""
    compiled = _FORMAT.get(sql)
    if compiled is None:
        compiled = _FORMAT[sql] = sql.replace("%", "%%").replace("{}", "%s")
    return compiled


def for_asyncpg(sql: str) -> str:
    """`{}` -> `$1`, `$2`, ... in order."""
    compiled = _NUMERIC.get(sql)
    if compiled is None:
        compiled = _NUMERIC[sql] = numbered(sql)
    return compiled


def numbered(sql: str) -> str:
    """`{}` -> `$1`, `$2`, ... in order, not cached: for a text its caller makes once and keeps (the
    writer's joined INSERTs, one per batch shape)."""
    parts = sql.split("{}")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], 1))


def marks(count: int) -> str:
    """`{}, {}, {}` for an IN list of `count` values."""
    return ", ".join(["{}"] * count)


# --- blocking connections ------------------------------------------------------------------------------
def psycopg_url(url: str) -> str:
    """psycopg and asyncpg accept postgresql://; Heroku-style settings still say postgres://."""
    return url.replace("postgres://", "postgresql://", 1)


def open_reader(url: str) -> Any:
    """A read-only connection of its own for a long scan (an export, a report's period): on the
    shared connections it would block the event loop or hold up the writer."""
    if url.startswith("sqlite:"):
        lite = sqlite3.connect(str(sqlite_path(url)), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        lite.execute("PRAGMA query_only = ON")
        return lite
    import psycopg

    conn = psycopg.connect(psycopg_url(url))
    conn.read_only = True
    return conn


def cursor(conn: Any, sql: str, args: Iterable[Any], *, batch: int, name: str | None = None) -> Any:
    """A cursor over `sql` on a reader, fetching `batch` rows at a time. On PostgreSQL a `name`
    makes it a server-side cursor: the rows stream instead of all arriving in memory at once."""
    if isinstance(conn, sqlite3.Connection):
        found = conn.execute(for_sqlite(sql), list(args))
        found.arraysize = batch
        return found
    found = conn.cursor(name=name) if name else conn.cursor()
    if name:
        found.itersize = batch
    found.execute(for_psycopg(sql), list(args))
    return found


def rows(conn: Any, sql: str, args: Iterable[Any], *, batch: int, name: str | None = None) -> Iterator[Any]:
    """The rows of `sql` one by one, the cursor closed when the caller stops."""
    found = cursor(conn, sql, args, batch=batch, name=name)
    try:
        yield from found
    finally:
        found.close()


# --- values -----------------------------------------------------------------------------------------
def aware(value: dt.datetime | str) -> dt.datetime:
    """A timestamp with its zone. SQLite hands back text when a join or an expression hides the
    column's declared type, and a naive value there was written in UTC."""
    found = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return found if found.tzinfo else found.replace(tzinfo=dt.UTC)


def aware_or_none(value: dt.datetime | str | None) -> dt.datetime | None:
    return None if value is None else aware(value)


def json_value(value: Any) -> Any:
    """A JSON column as Python: PostgreSQL's drivers decode json(b) already, SQLite returns text."""
    return msgspec.json.decode(value) if isinstance(value, str | bytes) else value


def json_object(value: Any) -> dict[str, Any]:
    """A JSON column that should hold an object; {} when it is empty, null, malformed or not one."""
    try:
        found = json_value(value or b"{}")
    except msgspec.DecodeError:
        return {}
    return found if isinstance(found, dict) else {}


def json_text(value: Any) -> str:
    """A value to store in a JSON column, as text both engines accept."""
    return msgspec.json.encode(value).decode()


def uuid_or_none(value: Any) -> uuid.UUID | None:
    """A UUID column: asyncpg returns UUIDs, SQLite and psycopg text; None for empty or malformed."""
    if value is None or value == "":
        return None
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
