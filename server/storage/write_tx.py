"""The transaction an operation of the writer (storage/writer.py) sees, and the writer thread's
connection: Tx runs `{}`-placeholder SQL on SQLite (BEGIN IMMEDIATE ... COMMIT) and on PostgreSQL
(a batch without savepoints: one implicit transaction in libpq's pipeline mode, committed by its
Sync, see _Pipeline; a batch with savepoints: BEGIN ... COMMIT through libpq), with per-process
memos, deferred rows joined per table (storage/batch_sql) and the identity locks a registration takes."""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

import piccolo.engine.sqlite  # noqa: F401 - registers sqlite3 adapters/converters for UUID, datetime, bool

from server.storage import batch_sql
from server.storage.db import CLIENT_GRACE_S, Database
from server.storage.sql import for_psycopg, for_sqlite, psycopg_url


class Tx:
    """The open transaction as an operation sees it. SQL uses `{}` placeholders on both engines."""

    def __init__(self, conn: Any, kind: str, memo: dict[str, dict[Any, Any]] | None = None, *,
                 defer: bool = False, implicit: bool = False) -> None:
        self.conn = conn
        self.kind = kind
        # PostgreSQL, implicit: the batch's statements go through libpq's pipeline mode, in the
        # implicit transaction its Sync commits (Writer._attempt); None: BEGIN ... COMMIT
        self.pipeline = _Pipeline(conn) if implicit else None
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

    def fetch_ahead(self, sql: str, *args: Any, sees: tuple[str, ...] = (),
                    fixed_plan: bool = False) -> list[dict[str, Any]]:
        """fetch, ahead of the batch's deferred rows: for a statement whose result they cannot change
        (a submission's INSERT ON CONFLICT reads no deferred table) or change only through the rows
        a key of `sees` marks (Tx.later's `key`): those are written first when one is pending.
        `fixed_plan`: the statement reads no table (an INSERT of values), so its plan cannot depend on
        its parameters or the tables' sizes: on PostgreSQL it is prepared and planned once (_Pipeline)."""
        if self.pending_keys and not self.pending_keys.isdisjoint(sees):
            self.write_deferred()
        return self._fetch(sql, args, fixed_plan)

    def insert_ahead(self, sql: str, *args: Any) -> bool:
        """An `INSERT ... ON CONFLICT DO NOTHING` of one row, ahead of the batch's deferred rows as
        fetch_ahead (for a table nothing deferred writes): whether the row went in. SQLite answers
        with the statement's count of changed rows; PostgreSQL needs the statement to say
        `RETURNING` something and reads its rows. On SQLite a RETURNING row cost more to make,
        convert (the id back into a UUID) and read than the count."""
        if self.kind != "sqlite":
            return bool(self._fetch(sql, args, True))
        text = _COUNTED.get(sql)
        if text is None:
            text = _COUNTED[sql] = for_sqlite(sql.removesuffix(_RETURNING_ID))
        cursor = self._cursor or self._open()
        cursor.execute(text, args)
        return bool(cursor.rowcount == 1)

    def _fetch(self, sql: str, args: tuple[Any, ...], fixed_plan: bool = False) -> list[dict[str, Any]]:
        if self.pipeline is not None:
            return self.pipeline.run(self._sql(sql), args, fixed_plan=fixed_plan)
        cursor = self._cursor or self._open()
        cursor.execute(self._sql(sql), args)
        return list(cursor.fetchall()) if cursor.description else []

    def execute(self, sql: str, *args: Any) -> None:
        self.write_deferred()
        if self.pipeline is not None:
            self.pipeline.run(self._sql(sql), args)
            return
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
        if self.pipeline is not None:  # the extended protocol runs one statement per message
            for part in sql.split("; "):
                self.pipeline.run(part, None)
            return
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
        if self.pipeline is not None:
            # in the batch's pipeline, one round trip: executemany's own pipeline would Sync, and
            # commit the batch's implicit transaction halfway
            self.pipeline.run_many(self._sql(sql), rows)
            return
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
            if self.pipeline is not None:  # INSERTs of values (Tx.later): one plan for each shape
                for text, values in batch_sql.joined(grouped):
                    self.pipeline.run(text, values, raw=True, fixed_plan=True)
                return
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


WRITER_PLAN_CACHE_MODE = "auto"  # PostgreSQL, the writer's connection: see connect and _Pipeline
_RETURNING_ID = " RETURNING id"  # what Tx.insert_ahead's statements end with, for PostgreSQL
_COUNTED: dict[str, str] = {}  # Tx.insert_ahead's statement -> its SQLite text, without the RETURNING


class _Pipeline:
    """PostgreSQL: a batch without savepoints as ONE implicit transaction in libpq's pipeline mode,
    committed by the pipeline's Sync: no BEGIN and no COMMIT statements (two statements and a round
    trip fewer per batch). Each statement is sent with a flush request and its result read before the
    operation goes on, so it sees what the statements before it wrote and takes its own snapshot
    (READ COMMITTED), as inside BEGIN ... COMMIT.

    Driven through libpq itself (conn.pgconn) rather than psycopg's Pipeline: an error raised at the
    Sync (a deferred check's serialization failure at commit) comes as an error result with no
    command queued for it, which psycopg's Pipeline turned into an IndexError, losing the SQLSTATE the
    writer retries on. Here every result up to the Sync's is read and the first error is raised as
    psycopg raises it (errors.error_from_result). Parameters are adapted by psycopg's own Transformer,
    waits go through psycopg's generators (the GIL let go meanwhile).

    Plans: PostgreSQL plans a statement sent unnamed for its parameters every time (a custom plan).
    A statement whose plan cannot depend on them (`fixed_plan`: an INSERT of values, the registration's
    rows, no table read) is prepared once it repeats (_PREPARE_AFTER runs) and, as the writer's
    connection runs plan_cache_mode=auto, keeps one generic plan: parsed and planned once per
    connection instead of every time. Nothing else is ever prepared on that connection (psycopg's
    own preparing is off there, see connect), so a query that reads a table is planned for its
    parameters every time and no plan made on an empty table is kept (db.PLAN_CACHE_MODE's reason)."""

    def __init__(self, conn: Any) -> None:
        from psycopg.adapt import Transformer

        self.conn = conn
        self.pgconn = conn.pgconn
        self.sent = 0  # statements sent: 0 when a kept connection turns out dead (Writer: _STALE)
        self.aborted = False  # a statement failed: the implicit transaction is rolled back at the Sync
        self.open = True  # in pipeline mode, before the Sync
        self._tx = Transformer(conn)
        self._prepared = _prepared_of(conn)
        self.pgconn.enter_pipeline_mode()

    def run(self, query: Any, args: Any, *, raw: bool = False, fixed_plan: bool = False) -> list[dict[str, Any]]:
        """One statement (`%s` placeholders, or `$n` when `raw`) and its rows."""
        return self.run_many(query, [args], raw=raw, fixed_plan=fixed_plan)[0]

    def run_many(self, query: Any, rows: Any, *, raw: bool = False,
                 fixed_plan: bool = False) -> list[list[dict[str, Any]]]:
        """The statement once per parameter row, all sent in one round trip; their rows."""
        from psycopg import _queries, generators, pq

        pgconn = self.pgconn
        if self.aborted or not self.open:  # as inside BEGIN: nothing runs after an error until the transaction ends
            raise _in_failed()
        expected: list[tuple[bytes, Any, bytes] | None] = []  # per result to read: the Parse's, or None
        for args in rows:
            converted = (_queries.PostgresRawQuery if raw else _queries.PostgresQuery)(self._tx)
            converted.convert(query, args)
            name = self._name(converted.query, converted.types) if fixed_plan else None
            if name is None:
                pgconn.send_query_params(converted.query, converted.params, converted.types, converted.formats)
            else:
                if name not in self._prepared.names:
                    pgconn.send_prepare(name, converted.query, converted.types)
                    expected.append((converted.query, converted.types, name))
                pgconn.send_query_prepared(name, converted.params, converted.formats)
            expected.append(None)
            self.sent += 1
        pgconn.send_flush_request()
        self.conn.wait(generators.send(pgconn))
        found: list[list[dict[str, Any]]] = []
        error = None
        for prepared in expected:
            results = self.conn.wait(generators.fetch_many(pgconn))
            result = results[-1] if results else None
            if result is None or result.status in (pq.ExecStatus.FATAL_ERROR, pq.ExecStatus.PIPELINE_ABORTED):
                self.aborted = True
                if error is None and result is not None and result.status == pq.ExecStatus.FATAL_ERROR:
                    error = result
                if prepared is not None:
                    self._prepared.names.discard(prepared[2])
                    self._prepared.counts.pop(prepared[:2], None)
                continue
            if prepared is not None:
                self._prepared.names.add(prepared[2])
                continue
            found.append(self._rows(result))
        if self.aborted:
            if error is not None:
                raise _error(self.conn, error)
            raise _in_failed()
        return found

    @property
    def lost(self) -> bool:
        """Whether the connection is gone (closed by the server, cut, or by the writer's watchdog)."""
        from psycopg import pq

        return bool(self.pgconn.status != pq.ConnStatus.OK)

    def commit(self) -> None:
        """The Sync that commits the implicit transaction, and its outcome: an error the commit met
        (a deferred check) is raised with its SQLSTATE, so a lost race runs the batch again."""
        if self.aborted:
            raise _in_failed()
        error = self._sync()
        if error is not None:
            raise _error(self.conn, error)

    def roll_back(self) -> None:
        """End the implicit transaction without committing what it wrote (an item raised in Python:
        the Sync alone would commit the half-done batch): a ROLLBACK queued before the Sync, which
        PostgreSQL answers with a warning that no transaction is in progress and rolls the implicit
        one back (skipped when an error aborted it already; then the Sync rolls it back). A connection
        that cannot be brought out of pipeline mode is closed: the writer connects again."""
        from psycopg import pq

        if not self.open or self.pgconn.status != pq.ConnStatus.OK:
            return
        try:
            self.pgconn.send_query_params(b"ROLLBACK", None)
            self._sync()
        except Exception:
            with contextlib.suppress(Exception):
                self.conn.close()

    def _sync(self) -> Any:
        """Send the Sync, read every result up to its own (they are the only ones left), leave
        pipeline mode; the first error result met, if any."""
        from psycopg import errors, generators, pq

        pgconn = self.pgconn
        self.open = False
        pgconn.pipeline_sync()
        self.conn.wait(generators.send(pgconn))
        error, empty = None, 0
        while True:
            result = self.conn.wait(generators.fetch(pgconn))
            if result is None:  # the end of one statement's results
                empty += 1
                if empty > 2 or pgconn.status != pq.ConnStatus.OK:  # nothing more will come
                    raise errors.OperationalError("the connection ended before the commit's answer")
                continue
            empty = 0
            if result.status == pq.ExecStatus.PIPELINE_SYNC:
                break
            if result.status == pq.ExecStatus.FATAL_ERROR and error is None:
                error = result
        pgconn.exit_pipeline_mode()
        return error

    def _name(self, query: bytes, types: Any) -> bytes | None:
        """The prepared statement's name for a statement run often enough, else None (sent unnamed)."""
        prepared = self._prepared
        key = (query, types)
        count = prepared.counts.get(key, 0)
        if isinstance(count, bytes):
            return count
        if count + 1 < _PREPARE_AFTER or len(prepared.names) >= _PREPARED_MAX:
            if len(prepared.counts) > 4 * _PREPARED_MAX:  # statements seen once or twice: forget them
                prepared.counts = {k: v for k, v in prepared.counts.items() if isinstance(v, bytes)}
            prepared.counts[key] = count + 1
            return None
        prepared.made += 1
        name = prepared.counts[key] = b"pantau_%d" % prepared.made
        return name

    def _rows(self, result: Any) -> list[dict[str, Any]]:
        if not result.ntuples:
            return []
        encoding = self.conn.info.encoding
        names = [(result.fname(i) or b"?column?").decode(encoding) for i in range(result.nfields)]
        self._tx.set_pgresult(result)
        rows: list[dict[str, Any]] = self._tx.load_rows(
            0, result.ntuples, lambda values: dict(zip(names, values, strict=True)))
        return rows


# PostgreSQL: statements _Pipeline prepares per connection (the registration's two and the shapes of
# the deferred rows' WITH that repeat), after how many runs (psycopg's own threshold)
_PREPARED_MAX = 100
_PREPARE_AFTER = 5


class _Prepared:
    def __init__(self) -> None:
        self.counts: dict[tuple[bytes, Any], int | bytes] = {}  # statement -> runs so far, or its name
        self.names: set[bytes] = set()  # names the server has (their Parse succeeded)
        self.made = 0  # names given so far


def _prepared_of(conn: Any) -> _Prepared:
    prepared = getattr(conn, "_pantau_prepared", None)
    if prepared is None:
        prepared = conn._pantau_prepared = _Prepared()
    return prepared


def _error(conn: Any, result: Any) -> Exception:
    from psycopg import errors

    return errors.error_from_result(result, encoding=conn.info.encoding)


def _in_failed() -> Exception:
    from psycopg import errors

    return errors.InFailedSqlTransaction("current transaction is aborted, commands ignored until end of "
                                         "transaction block")


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
    # plan_cache_mode=auto with psycopg's preparing off: only what _Pipeline prepares (statements
    # whose plan cannot go wrong) keeps a generic plan; everything else is sent unnamed and planned
    # for its parameters each time, as db.PLAN_CACHE_MODE (force_custom_plan) makes the pool do.
    pg = psycopg.connect(psycopg_url(db.url), autocommit=True, row_factory=dict_row,
                         connect_timeout=db.connect_timeout, keepalives=1, keepalives_idle=30, keepalives_interval=5,
                         keepalives_count=3, tcp_user_timeout=(db.statement_timeout + CLIENT_GRACE_S) * 1000,
                         options=f"-c plan_cache_mode={WRITER_PLAN_CACHE_MODE} "
                                 f"-c statement_timeout={db.statement_timeout * 1000}")
    pg.prepare_threshold = None
    return pg
