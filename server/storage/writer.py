"""The single write path for submissions: callers hand the writer an operation, and a writer
thread runs many of them in ONE transaction (group commit). One bad item cannot sink its neighbours:
a batch runs first without savepoints, and when an item fails it is rolled back and run again with
a savepoint per item (Writer._commit). A caller's future resolves only after COMMIT returns, so an
acknowledged submission is durable (SQLite: WAL with synchronous=FULL; PostgreSQL: its commit, which
for a batch without savepoints is the Sync ending its pipeline: no BEGIN or COMMIT statements).
SQLite has one writer thread per process; on PostgreSQL a Writer may run several (PG_WRITER_THREADS),
and several processes write at once anyway: operations that read a row and then change it lock it
(Tx.for_update, Tx.lock_keys), and an item that loses a race with another transaction (deadlock,
serialization failure) runs again rather than failing its client.

Why a thread with a plain DB-API connection (sqlite3 / psycopg) rather than async queries: under
load the event loop is busy serving requests, and a batch made of hundreds of awaited statements
waited a loop turn for each (measured: 20 items per 110 ms batch, 150 sub/s). In its own thread
the batch runs at the driver's native speed while the loop keeps serving, and the fsync of one
commit is shared by the whole batch."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import queue
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import piccolo.engine.sqlite  # noqa: F401 - registers sqlite3 adapters/converters for UUID, datetime, bool

from server.errors import PantauError
from server.storage import faults
from server.storage.db import CLIENT_GRACE_S, Database
from server.storage.write_tx import Tx, connect

T = TypeVar("T")
log = logging.getLogger("pantau.writer")


Op = Callable[[Tx], Any]
_Item = tuple[Op, asyncio.Future[Any], asyncio.AbstractEventLoop]

# PostgreSQL: writer threads per process, each with its own connection and transaction
# (Writer(threads=...)). Several overlap their network waits (psycopg releases the GIL meanwhile),
# which pays when the database is across a network and the CPUs have room. Measured with
# bench/submit_load.py, 2 processes, PostgreSQL on the same 2-core machine: 1 thread ~640 sub/s
# (p99 ~250 ms), 2 ~580, 4 ~530 (p99 ~350 ms): the CPUs are full, and more threads only split the
# queue into smaller batches, i.e. more commits for the same work. The processes already write in
# parallel. SQLite always has ONE thread per process: one writer at a time (BEGIN IMMEDIATE, _WriteLock).
PG_WRITER_THREADS = 1
# Errors that say "this transaction lost a race, run it again", not "this item is wrong": deadlock,
# serialization failure, lock not available. Such an item is retried in a fresh transaction.
RETRY_SQLSTATES = frozenset({"40P01", "40001", "55P03"})
MAX_ATTEMPTS = 5


class Writer:
    def __init__(self, db: Database, *, max_batch: int = 256, threads: int | None = None) -> None:
        self.db = db
        self.max_batch = max_batch
        self.threads = 1 if db.kind == "sqlite" else (threads or PG_WRITER_THREADS)
        self._queue: queue.SimpleQueue[_Item | None] = queue.SimpleQueue()
        self._workers: list[threading.Thread] = []
        self._count = threading.Lock()
        self.batches = 0
        self.items = 0
        self.retries = 0
        self.reruns = 0  # batches run again with a savepoint per item because an item failed
        # A caller waits this long for its item at most: a writer stuck on a frozen connection (or a
        # lock) must not hold requests without an answer. The item may still commit later; the
        # client's retry with the same instance id then gets the receipt, never a second record.
        self.patience = db.statement_timeout + db.connect_timeout + 5
        self._watch = _Watchdog(db.statement_timeout + CLIENT_GRACE_S) if db.kind == "postgres" else None

    async def start(self) -> None:
        if self._workers:
            return
        started = [threading.Event() for _ in range(self.threads)]
        errors: list[BaseException] = []
        self._workers = [threading.Thread(target=self._main, args=(ready, errors), name=f"pantau-writer-{n}",
                                          daemon=True) for n, ready in enumerate(started)]
        for worker in self._workers:
            worker.start()
        await asyncio.to_thread(lambda: [ready.wait() for ready in started])
        if errors:  # one could not connect: stop the others, report the first error
            await self.stop()
            raise errors[0]

    async def stop(self) -> None:
        """Finish everything already queued, then stop: each thread takes one stop mark (None), and
        the marks queue behind every item already there."""
        workers, self._workers = self._workers, []
        if workers:
            for _ in workers:
                self._queue.put(None)
            for worker in workers:
                await asyncio.to_thread(worker.join)
            log.info("writer stopped: %d items in %d batches, %d retried, %d batches run again item by item",
                     self.items, self.batches, self.retries, self.reruns)

    async def run(self, op: Callable[[Tx], T]) -> T:
        if not self._workers:
            await self.start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((op, future, loop))
        # A timer that fails the future, rather than asyncio.wait_for (a second future, a callback and a
        # cancellation on every write): the item's own answer, if it comes later, is dropped (_settle).
        timer = loop.call_later(max(self.patience, _patience_of(op)), _expire, future)
        try:
            return await future
        except _Expired:
            self.db.outage.failed("timed out", "write")
            raise PantauError("db.unreachable", reason="timed out") from None
        finally:
            timer.cancel()

    def _main(self, started: threading.Event, errors: list[BaseException]) -> None:
        conn: Any = None
        try:
            conn = connect(self.db)
        except Exception as exc:
            errors.append(exc)
            started.set()
            while (item := self._queue.get()) is not None:  # until stop()'s mark for this thread
                item[2].call_soon_threadsafe(_settle, item[1], False, exc)
            return
        started.set()
        lock = _WriteLock(self.db)
        try:
            while (first := self._queue.get()) is not None:
                batch = [first]
                stopping = False
                while len(batch) < self.max_batch and not self._queue.empty():
                    item = self._queue.get_nowait()
                    if item is None:
                        stopping = True
                        break
                    batch.append(item)
                conn = self._commit(conn, lock, batch)
                if stopping:
                    break
        finally:
            if conn is not None:
                conn.close()
            lock.close()

    def _commit(self, conn: Any, lock: _WriteLock, batch: list[_Item]) -> Any:
        """Run the batch; an item (or the whole batch) that lost a race with another writer's
        transaction runs again in a fresh one once this one has committed and let go of its locks,
        so a deadlock costs a client a little time, never a failed submission.

        A batch runs first without a savepoint per item: almost every item succeeds, and the two
        statements each would cost are time the database is held (and round trips on PostgreSQL).
        When an item fails, everything is rolled back and the batch runs again carefully, each item
        in its own savepoint, so the failure stays that item's; the same when the deferred rows fail
        (then without deferring). Operations are functions of the transaction alone, so running
        one again is safe (the lost-race retries rely on the same)."""
        careful, defer = False, True
        for attempt in range(1, MAX_ATTEMPTS + 1):
            while True:
                conn, result = self._transaction(conn, lock, batch, defer=defer, careful=careful)
                if result is _CAREFULLY:
                    careful = True
                    with self._count:
                        self.reruns += 1
                elif result is _UNDEFERRED:
                    log.warning("writer: the deferred rows of a batch of %d failed; running it without", len(batch))
                    defer = False
                else:
                    break
            assert isinstance(result, list)
            again: list[_Item] = []
            for item, (ok, value) in zip(batch, result, strict=True):
                if not ok and attempt < MAX_ATTEMPTS and _lost_race(value):
                    again.append(item)
                else:
                    _op, future, loop = item
                    loop.call_soon_threadsafe(_settle, future, ok, value)
            if not again:
                break
            log.info("writer: %d of %d items lost a race (attempt %d), running them again",
                     len(again), len(batch), attempt)
            with self._count:
                self.retries += len(again)
            batch = again
        return conn

    def _transaction(self, conn: Any, lock: _WriteLock, batch: list[_Item], *, defer: bool,
                     careful: bool) -> tuple[Any, list[tuple[bool, Any]] | object]:
        """The batch; once more on a new connection when the one kept from before died before BEGIN
        went through (PostgreSQL restarted or the network was cut meanwhile): nothing ran yet."""
        conn, result = self._attempt(conn, lock, batch, defer=defer, careful=careful)
        if result is _STALE:  # only ever from a connection kept from before, so this runs once
            return self._attempt(None, lock, batch, defer=defer, careful=careful)
        return conn, result

    def _attempt(self, conn: Any, lock: _WriteLock, batch: list[_Item], *, defer: bool,
                 careful: bool) -> tuple[Any, list[tuple[bool, Any]] | object]:
        """The batch in one transaction: each item's outcome, or _CAREFULLY (not careful, and an item
        failed) or _UNDEFERRED (the deferred rows failed), after rolling everything back."""
        outcomes: list[tuple[bool, Any]] = []
        failed_deferred = [False]
        pipeline = None
        with lock:  # other processes' writers wait here, not in SQLite's sleeping busy handler
            fresh = conn is None
            try:
                if conn is None:  # lost earlier (database restarted): try again now
                    conn = connect(self.db)
                if self._watch is not None:
                    self._watch.begin(conn, max(_patience_of(op) for op, _future, _loop in batch))
                # careful: each item in its own savepoint, and its deferred rows with it (written
                # inside its savepoint rather than inside the next item's)
                # PostgreSQL without savepoints: no BEGIN and no COMMIT, the statements up to the
                # pipeline's Sync are one implicit transaction the Sync commits (write_tx._Pipeline).
                # Savepoints need a transaction block: a careful batch has its BEGIN.
                implicit = self.db.kind == "postgres" and not careful
                tx = Tx(conn, self.db.kind, self.db.memo, defer=defer and not careful, implicit=implicit)
                pipeline = tx.pipeline
                between = _Between(tx)
                if not implicit:
                    between.then("BEGIN IMMEDIATE" if self.db.kind == "sqlite" else "BEGIN")
                    try:
                        between.flush()
                    except Exception as exc:
                        if self.db.kind == "postgres" and faults.unavailable(exc) is not None and fresh is False:
                            return self._recover(conn), _STALE
                        raise
                try:
                    outcomes = _run_items(tx, between, batch, careful=careful, failed_deferred=failed_deferred)
                except BaseException:
                    if pipeline is not None:  # a ROLLBACK, then the Sync: nothing of the batch commits
                        pipeline.roll_back()
                    raise
            except _ItemFailed:
                if pipeline is not None and pipeline.sent <= 1 and fresh is False and pipeline.lost:
                    # the kept connection was dead at the batch's first statement: nothing ran yet
                    return self._recover(conn), _STALE
                return self._recover(conn), _CAREFULLY
            except Exception as exc:
                conn, failure = self._failed(conn, batch, exc, deferred=failed_deferred[0])
                if failure is not None:
                    return conn, failure
                outcomes = [(False, exc)] * len(batch)
            else:
                self.db.outage.recovered("write")
            finally:
                if self._watch is not None:
                    self._watch.end()
        with self._count:
            self.batches += 1
            self.items += len(batch)
        return conn, outcomes

    def _failed(self, conn: Any, batch: list[_Item], exc: Exception, *,
                deferred: bool) -> tuple[Any, list[tuple[bool, Any]] | object | None]:
        """A batch that raised, rolled back: 503s for every item when the database cannot serve (one
        log line per outage), _UNDEFERRED when the deferred rows failed, else None (each item fails
        with the error, logged unless it only lost a race)."""
        found = faults.unavailable(exc)
        if found is not None:
            self.db.outage.failed(found[0], "write", len(batch))
            return self._recover(conn), [(False, PantauError("db.unreachable", reason=found[0]))] * len(batch)
        if deferred and not _lost_race(exc):
            log.exception("deferred rows of a batch of %d failed", len(batch))
            return self._recover(conn), _UNDEFERRED
        if not _lost_race(exc):
            log.exception("batch of %d failed to commit", len(batch))
        return self._recover(conn), None

    def _recover(self, conn: Any) -> Any:
        """After a failed batch: roll back; when the connection itself is gone (the database
        restarted), drop it and let the next batch connect again."""
        if conn is None:
            return None
        try:
            conn.execute("ROLLBACK")
            return conn
        except Exception:
            with contextlib.suppress(Exception):
                conn.close()
            return None


def _run_items(tx: Tx, between: _Between, batch: list[_Item], *, careful: bool,
               failed_deferred: list[bool]) -> list[tuple[bool, Any]]:
    """Each item of an open transaction, then its deferred rows, then COMMIT. Careful: each item in a
    savepoint, so one that fails is undone alone; otherwise the first failure raises _ItemFailed."""
    outcomes: list[tuple[bool, Any]] = []
    for op, _future, _loop in batch:
        if careful:
            between.then("SAVEPOINT item")
            between.flush()
        mark = len(tx.deferred)
        try:
            outcomes.append((True, op(tx)))
        except Exception as exc:
            if not careful:
                raise _ItemFailed() from exc
            tx.execute("ROLLBACK TO SAVEPOINT item")  # also lets go of the row locks it took
            del tx.deferred[mark:]  # and its deferred rows
            outcomes.append((False, exc))
        if careful:
            between.then("RELEASE SAVEPOINT item")
    if tx.deferred:
        between.flush()
        try:
            tx.write_deferred()
        except Exception:
            failed_deferred[0] = True
            raise
    if tx.pipeline is not None:
        tx.pipeline.commit()  # the Sync: an error at commit is raised with its SQLSTATE
    else:
        between.then("COMMIT")
        between.flush()
    return outcomes


class _Watchdog:
    """PostgreSQL: a connection whose server stopped answering (frozen network, a stopped server)
    blocks its thread forever: statement_timeout is enforced by the server that no longer answers,
    and a peer's kernel may still acknowledge every packet. After `limit` seconds in one transaction
    the socket is shut down, libpq sees the connection end, and the batch fails over to 503s."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._busy: dict[int, tuple[Any, float]] = {}
        threading.Thread(target=self._watch, name="pantau-writer-watchdog", daemon=True).start()

    def begin(self, conn: Any, patience: float = 0.0) -> None:
        """`patience`: an item that says it is long (a bulk import) moves this transaction's limit."""
        with self._lock:
            self._busy[threading.get_ident()] = (conn, time.monotonic() + max(0.0, patience - self.limit))

    def end(self) -> None:
        with self._lock:
            self._busy.pop(threading.get_ident(), None)

    def _watch(self) -> None:
        while True:
            time.sleep(1)
            now = time.monotonic()
            with self._lock:
                stuck = [conn for conn, since in self._busy.values() if now - since > self.limit]
            for conn in stuck:
                with contextlib.suppress(Exception):
                    log.warning("writer: no answer from the database for %.0f s, closing the connection", self.limit)
                    with socket.socket(fileno=os.dup(conn.fileno())) as cut:  # a second handle on the same socket
                        cut.shutdown(socket.SHUT_RDWR)


def _patience_of(op: Any) -> float:
    """An operation may state how long it is allowed to take (`patience`, seconds): a registry import
    of 100,000 people is one transaction of minutes, far over a request's patience; without it the
    caller would be told 503 while the import still commits, and PostgreSQL's watchdog would cut it."""
    if op.__class__ is _FUNCTION and "patience" not in op.__dict__:  # a request's lambda: no AttributeError made
        return 0.0
    return float(getattr(op, "patience", 0.0))


_FUNCTION = type(_patience_of)


class _ItemFailed(Exception):
    """An item failed in a batch run without savepoints."""


_CAREFULLY = object()  # run the batch again with a savepoint per item
_UNDEFERRED = object()  # run the batch again writing deferred rows at once
_STALE = object()  # the kept connection was dead before BEGIN: run the batch on a new one


class _WriteLock:
    """SQLite: the writers of all Pantau processes on one database file take turns through an
    exclusive flock on a file beside it, held from BEGIN to COMMIT. Without it a second process's
    BEGIN IMMEDIATE meets SQLITE_BUSY and sleeps in SQLite's busy handler (1, 2, 5 ... 100 ms steps)
    while the first keeps committing; flock wakes the waiter as soon as the lock is free.
    PostgreSQL: nothing to do (its own locks and the advisory locks order concurrent writers)."""

    def __init__(self, db: Database) -> None:
        self._path = f"{db.engine.path}-writer.lock" if db.kind == "sqlite" else None  # type: ignore[union-attr]
        self._fd: int | None = None

    def __enter__(self) -> None:
        if self._path is not None:
            if self._fd is None:  # opened by the writer thread, closed when it stops
                self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(self._fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class _Between:
    """The writer's own statements between two operations (RELEASE of one item's savepoint, the
    SAVEPOINT of the next; BEGIN, COMMIT) sent together: on PostgreSQL as one simple query, one round
    trip instead of two (a statement that fails stops the rest, and the batch fails as it would
    have). Operations' statements are never joined: each item's error must stay its own."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self.pending: list[str] = []

    def then(self, sql: str) -> None:
        self.pending.append(sql)

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:  # an empty query would still cost PostgreSQL a round trip
            return
        if self.tx.kind == "postgres":
            self.tx.command("; ".join(pending))
        else:  # sqlite3 runs one statement per call (and a call costs no round trip)
            for sql in pending:
                self.tx.execute(sql)


def _lost_race(exc: BaseException) -> bool:
    return getattr(exc, "sqlstate", None) in RETRY_SQLSTATES


class _Expired(Exception):
    """The caller's patience ran out before the writer answered (Writer.run)."""


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(_Expired())


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():  # cancelled (the client left), or the caller's patience ran out
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
