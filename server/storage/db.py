"""The database: one engine per process, chosen by PANTAU_DATABASE_URL, bound to every table.

SQLite: Piccolo's stock engine opens a connection (and a thread) per query and gets "database is
locked" under concurrent writes (stack-notes P1). PantauSQLiteEngine keeps one WRITE connection per
process in WAL mode and serialises work on it with a lock; a transaction holds that lock from BEGIN
to COMMIT so no other task's query can slip into it. Plain SELECTs run on a separate READ connection,
synchronously on the event loop's thread: an indexed SQLite read takes tens of microseconds, far
less than handing it to a thread and back (aiosqlite), and under load those hand-offs were a third
of each request's CPU. WAL lets these reads run while the writer waits for its fsync. Long scans
(exports, reports) must not use this path: they run in threads or worker processes.
PostgreSQL: Piccolo's engine with an asyncpg pool opened and closed with the app."""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

import aiosqlite
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from server.errors import PantauError
from server.private_files import touch_private
from server.settings import Settings, sqlite_path
from server.storage import faults
from server.storage.replica import POOL_SIZE as REPLICA_POOL
from server.storage.replica import ReadSource, Replica
from server.storage.sql import BUSY_TIMEOUT_MS, for_asyncpg, for_sqlite, psycopg_url

CONNECT_TIMEOUT_S = 5  # PANTAU_DB_CONNECT_TIMEOUT
STATEMENT_TIMEOUT_S = 30  # PANTAU_DB_STATEMENT_TIMEOUT
# PostgreSQL: plan every execution of a prepared statement with its own parameters. psycopg and
# asyncpg prepare what they run often, and after five runs PostgreSQL may keep one generic plan for
# the connection's life: the writer's connection planned the registry's NIK lookup while the table
# was still empty (a sequential scan) and kept that plan as it grew, so each registration cost more
# than the one before (bench/submit_load: 1.2 -> 3.6 ms of PostgreSQL CPU per submission in 30 s).
# Planning these short queries costs tens of microseconds; a plan made for an empty table costs
# a scan of the whole table every time.
PLAN_CACHE_MODE = "force_custom_plan"


class _LockedTransaction(SQLiteTransaction):
    """A transaction on the engine's shared connection, holding the engine lock throughout."""

    engine: PantauSQLiteEngine

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        await self.engine.lock.acquire()
        try:
            self.connection = await self.engine.shared_connection()
            await self.begin()  # type: ignore[no-untyped-call]  # Piccolo's own methods are not annotated
        except BaseException:
            self.engine.lock.release()
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent:
            return exception is None
        try:
            if exception:
                if not self._rolled_back:
                    await self.rollback()  # type: ignore[no-untyped-call]
            elif not self._committed and not self._rolled_back:
                await self.commit()  # type: ignore[no-untyped-call]
        finally:
            self.engine.current_transaction.reset(self.context)
            self.engine.lock.release()
        return exception is None


class PantauSQLiteEngine(SQLiteEngine):
    def __init__(self, path: str, busy_timeout_ms: int = BUSY_TIMEOUT_MS, **kwargs: Any) -> None:
        super().__init__(path=path, timeout=busy_timeout_ms / 1000, **kwargs)
        self.busy_timeout_ms = busy_timeout_ms
        self._conn: aiosqlite.Connection | None = None
        self._lock: asyncio.Lock | None = None
        self._reader: sqlite3.Connection | None = None
        # Piccolo names the ContextVar after the path only; two engines on one file in one
        # process (tests) must not see each other's transactions.
        self.current_transaction = contextvars.ContextVar(f"pantau_sqlite_txn_{id(self)}", default=None)

    @property
    def lock(self) -> asyncio.Lock:
        if self._lock is None:
            self._lock = asyncio.Lock()
        return self._lock

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(**self.connection_kwargs)
        conn.row_factory = dict_factory  # type: ignore[assignment]
        # WAL lets readers (our read connection, backup, the CLI) run beside the writer; FULL sync
        # makes an acknowledged commit survive power loss too, and group commit pays for the fsync.
        for pragma in ("journal_mode = WAL", "synchronous = FULL", "foreign_keys = ON",
                       f"busy_timeout = {self.busy_timeout_ms}"):
            await conn.execute(f"PRAGMA {pragma}")
        return conn

    async def shared_connection(self) -> aiosqlite.Connection:
        if self._conn is None:
            self._conn = await self._connect()
        return self._conn

    def _read(self, query: str, args: list[Any]) -> list[dict[str, Any]]:
        if self._reader is None:
            reader = sqlite3.connect(self.path, timeout=self.busy_timeout_ms / 1000, isolation_level=None,
                                     detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES,
                                     check_same_thread=False)
            reader.row_factory = dict_factory
            reader.execute("PRAGMA query_only = ON")  # this connection can never write, by construction
            self._reader = reader
        cursor = self._reader.execute(query, args)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    async def _run_in_new_connection(
        self, query: str, args: list[Any] | None = None, query_type: str = "generic", table: Any = None
    ) -> list[dict[str, Any]]:
        if query.lstrip()[:6].upper() == "SELECT":
            return self._read(query, args or [])
        conn = await self.shared_connection()
        async with self.lock, conn.execute(query, args or []) as cursor:
            # dict_factory made each row a dict; aiosqlite's stubs only know its Row type.
            return cast(list[dict[str, Any]], list(await cursor.fetchall()))

    def transaction(
        self, transaction_type: TransactionType = TransactionType.immediate, allow_nested: bool = True
    ) -> SQLiteTransaction:
        return _LockedTransaction(engine=self, transaction_type=transaction_type, allow_nested=allow_nested)

    async def close(self) -> None:
        # aiosqlite threads are non-daemon: an unclosed connection hangs the process at exit (P2).
        if self._conn is not None:
            await self._conn.close()
        if self._reader is not None:
            self._reader.close()
        self._conn = self._reader = None


class PantauPostgresEngine(PostgresEngine):
    async def check_version(self) -> None:
        """Piccolo connects from the constructor to check the server version and only warns when it
        cannot; Database.open() checks reachability instead and says so clearly."""


class Database:
    """The engine plus what the app needs around it: open, close, atomic, kind."""

    def __init__(self, url: str, pool_size: int = 0, *, connect_timeout: int = CONNECT_TIMEOUT_S,
                 statement_timeout: int = STATEMENT_TIMEOUT_S) -> None:
        self.url = url
        self.pool_size = pool_size or MAX_POOL
        # A request waits at most this long for a connection, a statement or (SQLite) a lock, and then
        # fails over to a 503 rather than hanging (a frozen PostgreSQL held requests 10 s+).
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self.outage = faults.Outage()
        self.kind = "sqlite" if url.startswith("sqlite:") else "postgres"
        self.engine: PantauSQLiteEngine | PostgresEngine
        self.sqlite_file: Path | None = None
        if self.kind == "sqlite":
            path = sqlite_path(url)
            if not path.parent.is_dir():
                raise PantauError("db.dir_missing", path=str(path.parent))
            self.sqlite_file = path
            self.engine = PantauSQLiteEngine(path=str(path), busy_timeout_ms=statement_timeout * 1000)
        else:
            # statement_timeout is PostgreSQL's own limit; command_timeout the client's, a little later,
            # for a connection that no longer answers at all (frozen network: nothing cancels it there).
            self.engine = PantauPostgresEngine(config={
                "dsn": psycopg_url(url), "timeout": connect_timeout,
                "command_timeout": statement_timeout + CLIENT_GRACE_S,
                "server_settings": {"plan_cache_mode": PLAN_CACHE_MODE,
                                    "statement_timeout": str(statement_timeout * 1000)}})
        self._pool_open = False
        self._previous_engine: Any = None
        self._bound = False
        # Short-lived per-process caches that belong to this database (a form's status, its
        # assignment): kept here, not in module globals, so two databases never see each other's.
        self.memo: dict[str, dict[Any, Any]] = {}
        # PostgreSQL's hot standby for the heavy reads (storage/replica.py), when one is set.
        self.replica: Replica | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        db = cls(settings.database_url, settings.db_pool_size, connect_timeout=settings.db_connect_timeout,
                 statement_timeout=settings.db_statement_timeout)
        if settings.database_replica_url and db.kind == "postgres":
            standby = cls(settings.database_replica_url, REPLICA_POOL, connect_timeout=settings.db_connect_timeout,
                          statement_timeout=settings.db_statement_timeout)
            db.replica = Replica(standby, settings.replica_max_lag)
        return db

    async def heavy_reads(self) -> ReadSource:
        """Where exports, report datasets, dashboard figures and registry searches read: the standby
        while it keeps up, else this database."""
        return await self.replica.source(self) if self.replica is not None else ReadSource(self)

    async def open(self, *, bind_tables: bool = True) -> None:
        """Open and bind the tables to this engine. Pantau runs one Database per process; the
        binding is restored on close so a short-lived one (CLI step, test helper) leaves no trace. A
        standby's (bind_tables=False) serves raw reads only: the tables stay bound to the primary."""
        from server.storage.tables import bind

        if self.sqlite_file is not None:
            touch_private(self.sqlite_file)  # before SQLite makes it with the umask's mode; WAL/SHM follow it
        self._bound = bind_tables
        if bind_tables:
            self._previous_engine = bind(self.engine)
        try:
            if isinstance(self.engine, PostgresEngine) and not self._pool_open:
                # reset=_keep_session: asyncpg's default reset runs a query (RESET ALL, UNLISTEN, ...) on
                # every release, i.e. a second round trip per query. Pantau changes no session state.
                await self.engine.start_connection_pool(min_size=min(2, self.pool_size), max_size=self.pool_size,
                                                       reset=_keep_session)
                self._pool_open = True
            await self._fetch("SELECT 1 AS ok")  # not fetch(): at start the driver's own words say more
        except (OSError, sqlite3.Error) as exc:
            raise PantauError("db.unreachable", reason=str(exc)) from None
        except Exception as exc:  # asyncpg raises its own hierarchy (auth, missing database)
            if type(exc).__module__.startswith("asyncpg"):
                raise PantauError("db.unreachable", reason=str(exc)) from None
            raise

    async def close(self) -> None:
        from server.storage.tables import bind

        if self.replica is not None:
            await self.replica.close()
        if self._bound:
            bind(self._previous_engine)
        if isinstance(self.engine, PostgresEngine):
            if self._pool_open:
                await self.engine.close_connection_pool()
                self._pool_open = False
        else:
            await self.engine.close()

    @asynccontextmanager
    async def atomic(self) -> AsyncIterator[Any]:
        """One transaction; IMMEDIATE on SQLite so the write lock is taken up front."""
        async with self.engine.transaction() as txn:
            yield txn

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        """Raw SQL with `{}` placeholders on both engines. A database that cannot serve is
        PantauError db.unreachable (a 503), counted in the process's outage record."""
        try:
            try:
                rows = await self._fetch(sql, *args)
            except Exception as exc:
                if not await self._dropped_stale_connections(exc):
                    raise
                rows = await self._fetch(sql, *args)  # once, on a fresh connection
        except PantauError:
            raise
        except Exception as exc:
            error = self.unreachable(exc, "read")
            if error is exc:
                raise
            raise error from None
        self.outage.recovered("read")
        return rows

    async def _dropped_stale_connections(self, exc: BaseException) -> bool:
        """PostgreSQL came back after a restart or a cut network: the pool's connections are dead,
        and each would fail one request. On a connection that died in use (not one that could not be
        made), drop them all and let the read run once more on a new one (a SELECT can run twice)."""
        engine = self.engine
        if not isinstance(engine, PostgresEngine) or engine.pool is None or isinstance(exc, OSError):
            return False
        if engine.current_transaction.get() is not None or faults.unavailable(exc) is None:
            return False
        await engine.pool.expire_connections()
        return True

    def unreachable(self, exc: BaseException, channel: faults.Channel) -> BaseException:
        """db.unreachable for a fault that means the database cannot serve (counted once), else exc."""
        found = faults.unavailable(exc)
        if found is None:
            return exc
        reason, kind = found
        self.outage.failed(reason, channel if channel == "write" else kind)
        return PantauError("db.unreachable", reason=reason)

    async def _fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        engine = self.engine
        if isinstance(engine, PantauSQLiteEngine) and engine.current_transaction.get() is None:
            # The hot path (session, form status, photo checks): skip Piccolo's QueryString, whose
            # template parsing cost more than the indexed read itself.
            return await engine._run_in_new_connection(for_sqlite(sql), list(args))
        if isinstance(engine, PostgresEngine) and engine.pool is not None and engine.current_transaction.get() is None:
            # The same hot path on PostgreSQL: straight to the pool (Piccolo's template parsing was a
            # fifth of the read's CPU). The rows are the same asyncpg Records Piccolo returns.
            async with engine.pool.acquire() as connection:
                return list(await connection.fetch(for_asyncpg(sql), *args))
        from piccolo.querystring import QueryString

        return list(await engine.run_querystring(QueryString(sql, *args)))

    async def execute_ddl(self, ddl: str) -> None:
        await self.engine.run_ddl(ddl)


CLIENT_GRACE_S = 2  # the client gives up this long after PostgreSQL's statement_timeout would have
MAX_POOL = 10  # PostgreSQL read connections per process, unless PANTAU_DB_POOL_SIZE says otherwise
# Besides its pool, a server process holds its writer's connection, and a report or export it runs
# opens one more; the margin keeps room for the CLI (migrate, backup) and an operator's psql.
PER_PROCESS_EXTRA = 3
MARGIN = 5


async def _keep_session(connection: Any) -> None:
    return None


def pool_size_for(workers: int, max_connections: int, reserved: int, in_use: int, requested: int = 0) -> int:
    """The read pool each of `workers` processes may open so that together they stay within what
    PostgreSQL accepts (max_connections less the superuser reserve and the connections already
    open): up to MAX_POOL, or `requested` (PANTAU_DB_POOL_SIZE) when it fits. Refuses with a clear
    error when it does not fit, rather than failing requests with "too many clients" under load."""
    budget = max_connections - reserved - in_use - MARGIN
    fits = budget // workers - PER_PROCESS_EXTRA
    least = requested or 2  # fewer than two read connections per process would queue every request
    if fits < least:
        raise PantauError("serve.too_many_connections", workers=workers, needed=workers * (least + PER_PROCESS_EXTRA),
                          available=max(budget, 0), max_connections=max_connections)
    return min(requested or MAX_POOL, fits)


async def connection_budget(db: Database) -> tuple[int, int, int]:
    """PostgreSQL's max_connections, its superuser reserve, and the client connections open now."""
    rows = await db.fetch(
        "SELECT current_setting('max_connections')::int AS most, "
        "current_setting('superuser_reserved_connections')::int AS reserved, "
        "(SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS in_use")
    return int(rows[0]["most"]), int(rows[0]["reserved"]), int(rows[0]["in_use"])


def sqlite_file(settings: Settings) -> Path | None:
    return settings.sqlite_path if settings.is_sqlite else None
