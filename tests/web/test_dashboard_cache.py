"""The home page's figures cache (web/dashboard_cache) on its own, with makers that count: the first
view of a key makes its figures; a view after the data changed gets the last ones, marked not
current, and starts one job however many views follow; the job's figures are shown next; a slow job
that began earlier never replaces newer figures; at most MAX_SCANS jobs scan at once; a key's scans
begin at least min_interval apart; a primed key is made once, its first view waiting for that job."""

from __future__ import annotations

import asyncio
import datetime as dt
import time

from server.web import dashboard_cache
from server.web.dashboard_cache import Figures, Made

T0 = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)


def test_a_changed_stamp_shows_the_last_figures_then_one_job_makes_them_again() -> None:
    async def scenario() -> None:
        cache: Figures[str] = Figures()
        made: list[str] = []
        gate = asyncio.Event()

        async def make(version: str, minutes: int, wait: bool = False) -> Made[str]:
            made.append(version)
            if wait:
                await gate.wait()
            return Made(f"figures of {version}", version, T0 + dt.timedelta(minutes=minutes))

        first = await cache.get(("k",), "v1", lambda: make("v1", 0))
        assert (first.value, first.current, made) == ("figures of v1", True, ["v1"])
        for _ in range(3):  # three views after a write: the old figures, stamped, and one job
            shown = await cache.get(("k",), "v2", lambda: make("v2", 5, wait=True))
            assert (shown.value, shown.as_of, shown.current) == ("figures of v1", T0, False)
        await asyncio.sleep(0)
        assert made == ["v1", "v2"]
        gate.set()
        await cache.settle()
        now = await cache.get(("k",), "v2", lambda: make("v2", 9))
        assert (now.value, now.current, now.as_of) == ("figures of v2", True, T0 + dt.timedelta(minutes=5))
        cache._keep(("k",), Made("older", "v0", T0))  # a slow job's result, begun before
        assert (await cache.get(("k",), "v2", lambda: make("v2", 9))).value == "figures of v2"

    asyncio.run(scenario())


def test_at_most_max_scans_jobs_run_at_once() -> None:
    async def scenario() -> int:
        cache: Figures[str] = Figures()
        running, peak = 0, 0

        async def make(version: str) -> Made[str]:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1
            return Made(version, version, T0)

        keys = [(f"k{n}",) for n in range(6)]
        for key in keys:
            await cache.get(key, "v1", lambda: make("v1"))
        for key in keys:
            await cache.get(key, "v2", lambda: make("v2"))
        await cache.settle()
        shown = [await cache.get(key, "v2", lambda: make("v3")) for key in keys]
        assert [s.value for s in shown] == ["v2"] * len(keys) and all(s.current for s in shown)
        return peak

    assert asyncio.run(scenario()) == dashboard_cache.MAX_SCANS


def test_a_keys_scans_begin_at_least_the_interval_apart_and_a_resting_job_is_dropped_at_shutdown() -> None:
    async def scenario() -> tuple[list[float], list[str]]:
        cache: Figures[str] = Figures()
        cache.reset(min_interval=0.5)
        began: list[float] = []
        made: list[str] = []

        async def make(version: str) -> Made[str]:
            began.append(time.monotonic())
            made.append(version)
            return Made(version, version, T0 + dt.timedelta(seconds=len(made)))

        await cache.get(("k",), "v1", lambda: make("v1"))
        shown = await cache.get(("k",), "v2", lambda: make("v2"))  # a write right after the first scan
        assert (shown.value, shown.current) == ("v1", False)
        await asyncio.sleep(0.1)
        assert made == ["v1"], "the second scan waits out the interval, the stamped figures stay shown"
        assert await asyncio.to_thread(cache.wait_idle, 5)
        assert (await cache.get(("k",), "v2", lambda: make("v2"))).value == "v2"
        # A write just after that scan: its job rests; shutdown drops it without waiting the interval.
        await cache.get(("k",), "v3", lambda: make("v3"))
        await asyncio.sleep(0)
        stopping = time.monotonic()
        await cache.settle()
        assert time.monotonic() - stopping < 0.4
        return began, made

    began, made = asyncio.run(scenario())
    assert made == ["v1", "v2"]
    assert began[1] - began[0] >= 0.5


def test_a_primed_key_is_made_once_and_its_first_view_waits_for_that_job() -> None:
    async def scenario() -> list[str]:
        cache: Figures[str] = Figures()
        made: list[str] = []
        gate = asyncio.Event()

        async def make(version: str) -> Made[str]:
            made.append(version)
            await gate.wait()
            return Made(f"figures of {version}", version, T0)

        priming = asyncio.create_task(cache.prime(("k",), lambda: make("v1")))
        await asyncio.sleep(0)
        viewing = asyncio.create_task(cache.get(("k",), "v1", lambda: make("by the view")))
        await asyncio.sleep(0.05)
        assert not viewing.done()
        gate.set()
        shown = await viewing
        await priming
        assert (shown.value, shown.current) == ("figures of v1", True)
        await cache.prime(("k",), lambda: make("again"))  # already made: nothing to do
        return made

    assert asyncio.run(scenario()) == ["v1"]
