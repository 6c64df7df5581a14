"""The transaction an operation of the writer (storage/writer.py) sees, and the writer thread's
connection: Tx runs `{}`-placeholder SQL on SQLite (BEGIN IMMEDIATE ... COMMIT) and on PostgreSQL
(BEGIN ... COMMIT through libpq), with per-process memos, deferred rows joined per table
(storage/batch_sql) and the identity locks a registration takes."""

from __future__ import annotations

import sqlite3
from typing import Any

import piccolo.engine.sqlite  # noqa: F401 - registers sqlite3 adapters/converters for UUID, datetime, bool

from server.storage import batch_sql
from server.storage.db import CLIENT_GRACE_S, PLAN_CACHE_MODE, Database
from server.storage.sql import for_psycopg, for_sqlite, psycopg_url


class Tx:
    """The open transaction as an operation sees it. SQL uses `{}` placeholders on both engines."""

    def __init__(self, conn: Any, kind: str, memo: dict[str, dict[Any, Any]] | None = None, *,
                 defer: bool = False) -> None:
        self.conn = conn
        self.kind = kind
        self.memo = {} if memo is None else memo  # the database's per-process caches (Database.memo)
        self._sql = for_sqlite if kind == "sqlite" else for_psycopg  # `{}` -> this driver's placeholder
        self.defer = defer
        self.deferred: list[tuple[str, tuple[Any, ...]]] = []
        self.pending_keys: set[str] = set()
        # one cursor for the transaction's statements: making a psycopg Cursor costs ~36 K instructions
        self._cursor: Any = None
        self._raw: Any = None  # PostgreSQL: the deferred rows' cursor ($n parameters, see write_deferred)

    def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        self.write_deferred()  # every statement sees the rows written before it in the batch
        return self._fetch(sql, args)

    def fetch_ahead(self, sql: str, *args: Any, sees: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """fetch, ahead of the batch's deferred rows: for a statement whose result they cannot change
        (a submission's INSERT ON CONFLICT reads no deferred table) or change only through the rows
        a key of `sees` marks (Tx.later's `key`): those are written first when one is pending."""
        if self.pending_keys and not self.pending_keys.isdisjoint(sees):
            self.write_deferred()
        return self._fetch(sql, args)

    def insert_ahead(self, sql: str, *args: Any) -> bool:
        """An `INSERT ... ON CONFLICT DO NOTHING` of one row, ahead of the batch's deferred rows as
        fetch_ahead (for a table nothing deferred writes): whether the row went in. SQLite answers
        with the statement's count of changed rows; PostgreSQL needs the statement to say
        `RETURNING` something and reads its rows. On SQLite a RETURNING row cost more to make,
        convert (the id back into a UUID) and read than the count."""
        if self.kind != "sqlite":
            return bool(self._fetch(sql, args))
        text = _COUNTED.get(sql)
        if text is None:
            text = _COUNTED[sql] = for_sqlite(sql.removesuffix(_RETURNING_ID))
        cursor = self._cursor or self._open()
        cursor.execute(text, args)
        return bool(cursor.rowcount == 1)

    def _fetch(self, sql: str, args: tuple[Any, ...]) -> list[dict[str, Any]]:
        cursor = self._cursor or self._open()
        cursor.execute(self._sql(sql), args)
        return list(cursor.fetchall()) if cursor.description else []

    def execute(self, sql: str, *args: Any) -> None:
        self.write_deferred()
        (self._cursor or self._open()).execute(self._sql(sql), args)

    def command(self, sql: str) -> None:
        """A statement without parameters or rows: the writer's own BEGIN, COMMIT and savepoints
        (_Between), on PostgreSQL several joined by `;`. There it goes straight through libpq
        (PQexec: one round trip, as a cursor's, and the GIL let go meanwhile), not through psycopg's
        cursor, whose machinery cost a batch of one registration about 50 µs of CPU for BEGIN and COMMIT."""
        if self.kind != "postgres":
            self.execute(sql)
            return
        self.write_deferred()
        _command(self.conn, sql)

    def _open(self) -> Any:
        self._cursor = self.conn.cursor()
        return self._cursor

    def many(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """One statement for many rows (executemany: one prepared statement on SQLite, a pipeline
        on PostgreSQL), for a bulk write such as an imported beneficiary list."""
        if not rows:
            return
        self.write_deferred()
        cursor = self.conn.cursor()
        try:
            cursor.executemany(self._sql(sql), rows)
        finally:
            cursor.close()

    def later(self, sql: str, *args: Any, key: tuple[str, ...] = ()) -> None:
        """An `INSERT INTO t (columns) VALUES ({}, ...) [ON CONFLICT ...]` of a row nothing in this
        item reads back: in a batch it is written with every other deferred row just before the next
        statement that could see it (Tx.fetch, Tx.execute) or before COMMIT, on PostgreSQL as ONE
        statement (a multi-row INSERT per table, all tables in one WITH), on SQLite one executemany
        per table; dropped with its item if the item fails. A new registration's rows of seven tables
        thus cost one statement per batch instead of one per row. `key`: marks the row for
        Tx.fetch_ahead (a new beneficiary's NIK and KK, which a later intake's duplicate check must
        see). Outside a batch, written now."""
        if self.defer:
            self.deferred.append((sql, args))
            self.pending_keys.update(key)
        else:
            self.execute(sql, *args)

    def write_deferred(self) -> None:
        if not self.deferred:
            return
        grouped: dict[str, list[tuple[Any, ...]]] = {}
        for sql, args in self.deferred:  # per statement in the items' order; the statements are independent
            grouped.setdefault(sql, []).append(args)
        self.deferred = []
        self.pending_keys = set()
        if self.kind == "postgres":
            # A raw cursor ($1, $2 ... in the text): psycopg parses a %s text of more than 50 parameters
            # in Python on every call (it caches only smaller ones), and a registration's rows have ~70.
            # Not prepared: its text changes with the batch's shape, and each text psycopg prepared
            # would push a repeating statement out of its cache of 100 (a DEALLOCATE each time).
            if self._raw is None:  # one per transaction, as the other statements' cursor
                from psycopg import RawCursor

                self._raw = RawCursor(self.conn)
            for text, values in batch_sql.joined(grouped):
                self._raw.execute(text, values, prepare=False)
            return
        cursor = self._cursor or self._open()  # the transaction's own: a cursor per table cost more than its rows
        for sql, rows in grouped.items():
            cursor.executemany(self._sql(sql), rows)

    @property
    def for_update(self) -> str:
        """The suffix for a SELECT that reads rows this operation goes on to change. On PostgreSQL
        other writers (threads, processes) run at the same time under READ COMMITTED: without the row
        lock two of them read the same version and the later UPDATE silently undoes the earlier one.
        SQLite has no FOR UPDATE and needs none: BEGIN IMMEDIATE makes this writer the only one."""
        return " FOR UPDATE" if self.kind == "postgres" else ""

    def lock_keys(self, *keys: str) -> None:
        """Transaction-scoped advisory locks, for what has no row to lock yet (a NIK nobody has
        registered, a form's assignment list): in sorted order, so two holders of the same keys cannot
        deadlock, and in one round trip. PostgreSQL only, for the reason given at for_update."""
        if self.kind != "postgres" or not keys:
            return
        ordered = sorted(set(keys))
        self.execute("SELECT " + ", ".join("pg_advisory_xact_lock(hashtextextended({}, 0))" for _ in ordered),
                     *ordered)


_RETURNING_ID = " RETURNING id"  # what Tx.insert_ahead's statements end with, for PostgreSQL
_COUNTED: dict[str, str] = {}  # Tx.insert_ahead's statement -> its SQLite text, without the RETURNING


def _command(conn: Any, sql: str) -> None:
    """PostgreSQL: `sql` through PQexec, raising what psycopg's own commands raise: the error of the
    statement that failed (its class by SQLSTATE), or OperationalError when the connection is gone
    (storage/faults then answers 503 and the writer connects again)."""
    from psycopg import errors, pq

    pgconn = conn.pgconn
    if pgconn.status != pq.ConnStatus.OK:
        raise errors.OperationalError("the connection is closed")
    result = pgconn.exec_(sql.encode())
    if result.status == pq.ExecStatus.COMMAND_OK:
        return
    if pgconn.status != pq.ConnStatus.OK:
        raise errors.OperationalError(result.get_error_message(conn.info.encoding) or "the connection is closed")
    raise errors.error_from_result(result, encoding=conn.info.encoding)


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> dict[str, Any]:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


def connect(db: Database) -> Any:
    """A blocking connection for the writer thread, with the same durability settings as the engine."""
    if db.kind == "sqlite":
        busy_ms = db.statement_timeout * 1000
        conn = sqlite3.connect(db.engine.path, timeout=busy_ms / 1000, isolation_level=None,  # type: ignore[union-attr]
                               detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES, check_same_thread=False)
        conn.row_factory = _dict_row
        for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON", f"busy_timeout = {busy_ms}"):
            conn.execute(f"PRAGMA {pragma}")
        return conn
    import psycopg
    from psycopg.rows import dict_row

    # connect_timeout and statement_timeout: a request fails over to a 503 instead of hanging; the
    # keepalives and tcp_user_timeout let the kernel drop a connection whose peer vanished.
    return psycopg.connect(psycopg_url(db.url), autocommit=True, row_factory=dict_row,
                           connect_timeout=db.connect_timeout, keepalives=1, keepalives_idle=30, keepalives_interval=5,
                           keepalives_count=3, tcp_user_timeout=(db.statement_timeout + CLIENT_GRACE_S) * 1000,
                           options=f"-c plan_cache_mode={PLAN_CACHE_MODE} "
                                   f"-c statement_timeout={db.statement_timeout * 1000}")
