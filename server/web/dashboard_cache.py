"""The home page's figures, kept per (report, period, scope, basis, viewer) with the data stamp and
the moment they were made. A view after a write does not wait for the report's scan (over a minute
at 100,000 submissions on a busy machine): it shows the last complete figures, stamped with the time
of the data they count and marked as being made again, while ONE background job per key makes them
again with the same code path as the first view. Each figure shown is therefore always the report's
figure for the data as of its stamp, never a mixture of partial updates. A key's scans begin at
least `min_interval` seconds apart (PANTAU_DASHBOARD_RESCAN_S): a stream of writes costs one scan a
minute, not one after another. `prime` makes a key's figures in the background before anyone asks
(the server's start), and a view of a key being made waits for that job rather than scanning too."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

import msgspec

from server.storage import faults

T = TypeVar("T")
Key = tuple[str, ...]
log = logging.getLogger("pantau.dashboard")
_SIZE = 64
SHUTDOWN_WAIT_S = 5.0  # a scan still running at shutdown is abandoned after this: its result has no reader
# Scans at once in one process: each is a report's scan, and the box has few cores that also serve
# phones; views of other keys meanwhile keep showing their stamped figures.
MAX_SCANS = 2


class Made(msgspec.Struct, Generic[T], frozen=True):
    value: T
    version: str  # the data stamp and the day the figures were made for
    as_of: dt.datetime  # read before the stamp, so the figures count at least every write before it


class Shown(msgspec.Struct, Generic[T], frozen=True):
    value: T
    as_of: dt.datetime
    current: bool  # False: newer data came in after as_of and the figures are being made again


class Figures(Generic[T]):
    """The cache and its background jobs; one per process (the app's lifespan resets it)."""

    def __init__(self) -> None:
        self._made: OrderedDict[Key, Made[T]] = OrderedDict()
        self._jobs: dict[Key, asyncio.Task[None]] = {}
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._slots: asyncio.Semaphore | None = None  # made on the app's loop, at the first job
        self._began: dict[Key, float] = {}  # monotonic time each key's last scan began
        self._resting: set[Key] = set()  # jobs waiting out the interval, not scanning yet
        self.min_interval = 0.0

    async def get(self, key: Key, version: str, make: Callable[[], Awaitable[Made[T]]]) -> Shown[T]:
        """The figures for `key`: current if made for `version`; else the last ones made, with a job
        making them again; made here only when there are none yet (the first view of a key)."""
        with self._lock:
            found = self._made.get(key)
            if found is not None:
                self._made.move_to_end(key)
            job = self._jobs.get(key) if found is None else None
        if job is not None:  # being made in the background (the start's warm-up): wait for it
            await asyncio.wait([job])
            with self._lock:
                found = self._made.get(key)
            if found is not None:
                return await self.get(key, version, make)
        if found is None:
            self._began[key] = time.monotonic()
            made = await make()
            self._keep(key, made)
            return Shown(made.value, made.as_of, True)
        if found.version != version:
            self._refresh(key, make)
            return Shown(found.value, found.as_of, False)
        return Shown(found.value, found.as_of, True)

    def _keep(self, key: Key, made: Made[T]) -> None:
        with self._lock:
            old = self._made.get(key)
            if old is not None and old.as_of > made.as_of:
                return  # a slower job that began earlier must not replace newer figures
            self._made[key] = made
            self._made.move_to_end(key)
            while len(self._made) > _SIZE:
                self._made.popitem(last=False)

    async def prime(self, key: Key, make: Callable[[], Awaitable[Made[T]]]) -> None:
        """Make the key's figures in a background job unless they exist or are being made; returns
        when that job is done (the caller primes keys one after another, not all at once)."""
        with self._lock:
            if key in self._made or key in self._jobs:
                return
            job = self._jobs[key] = asyncio.get_running_loop().create_task(self._run(key, make))
        await asyncio.wait([job])

    def _refresh(self, key: Key, make: Callable[[], Awaitable[Made[T]]]) -> None:
        with self._lock:
            if key in self._jobs:
                return  # one job per key: views during a scan do not start more scans
            self._jobs[key] = asyncio.get_running_loop().create_task(self._run(key, make))

    async def _run(self, key: Key, make: Callable[[], Awaitable[Made[T]]]) -> None:
        if self._slots is None:
            self._slots = asyncio.Semaphore(MAX_SCANS)
        try:
            wait = self._began.get(key, -math.inf) + self.min_interval - time.monotonic()
            if wait > 0:  # this key was scanned a moment ago: the stamped figures stay shown meanwhile
                self._resting.add(key)
                try:
                    await asyncio.sleep(wait)
                finally:
                    self._resting.discard(key)
            async with self._slots:
                self._began[key] = time.monotonic()
                self._keep(key, await make())
        except Exception as exc:  # the old figures stay shown, still stamped; the next view tries again
            down = faults.unavailable(exc)
            if down is None:
                log.exception("the home page's figures could not be made again")
            else:  # an outage is logged by the requests that meet it, not as a traceback per scan
                log.warning("the home page's figures could not be made: database unavailable (%s)", down[0])
        finally:
            with self._lock:
                self._jobs.pop(key, None)
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block (a thread other than the app's loop) until no job runs; False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._jobs, timeout)

    async def settle(self) -> None:
        """At shutdown: a job still waiting out the interval is dropped, a scan gets a few seconds."""
        with self._lock:
            for key in self._resting:
                self._jobs[key].cancel()
            running = list(self._jobs.values())
        if running:
            await asyncio.wait(running, timeout=SHUTDOWN_WAIT_S)

    def reset(self, min_interval: float = 0.0) -> None:
        with self._lock:
            self._made.clear()
            self._began.clear()
            self._slots = None  # a new app runs on a new event loop
            self.min_interval = min_interval
