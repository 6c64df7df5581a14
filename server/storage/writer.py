"""The single write path for submissions: callers hand the writer an operation, the writer runs
many of them in ONE transaction (group commit), each inside its own savepoint so one bad item
cannot sink its neighbours. A caller's future resolves only after COMMIT returns, so an
acknowledged submission is durable. On SQLite this is also what removes "database is locked":
there is exactly one writer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from server.storage.db import Database

T = TypeVar("T")
log = logging.getLogger("pantau.writer")

Op = Callable[[], Awaitable[Any]]


class Writer:
    def __init__(self, db: Database, *, max_batch: int = 256) -> None:
        self.db = db
        self.max_batch = max_batch
        self._queue: asyncio.Queue[tuple[Op, asyncio.Future[Any]] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0
        self.items = 0

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="pantau-writer")

    async def stop(self) -> None:
        """Finish everything already queued, then stop."""
        if self._task is not None:
            await self._queue.put(None)
            await self._task
            self._task = None

    async def run(self, op: Callable[[], Awaitable[T]]) -> T:
        if self._task is None:  # CLI and tests without a running app: one transaction of one
            async with self.db.atomic():
                return await op()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        await self._queue.put((op, future))
        return await future

    async def _loop(self) -> None:
        stopping = False
        while not stopping:
            first = await self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch and not self._queue.empty():
                item = self._queue.get_nowait()
                if item is None:
                    stopping = True
                    break
                batch.append(item)
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Op, asyncio.Future[Any]]]) -> None:
        outcomes: list[tuple[bool, Any]] = []
        try:
            async with self.db.atomic() as txn:
                for op, _future in batch:
                    savepoint = await txn.savepoint()
                    try:
                        outcomes.append((True, await op()))
                        await savepoint.release()
                    except Exception as exc:
                        await savepoint.rollback_to()
                        outcomes.append((False, exc))
        except Exception as exc:
            log.exception("batch of %d failed to commit", len(batch))
            outcomes = [(False, exc)] * len(batch)
        self.batches += 1
        self.items += len(batch)
        for (ok, value), (_op, future) in zip(outcomes, batch, strict=True):
            if future.cancelled():
                continue
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
