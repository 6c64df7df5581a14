"""The home page's figures cache (web/dashboard_cache) on its own, with makers that count: the first
view of a key makes its figures; a view after the data changed gets the last ones, marked not
current, and starts one job however many views follow; the job's figures are shown next; a slow job
that began earlier never replaces newer figures; at most MAX_SCANS jobs scan at once."""

from __future__ import annotations

import asyncio
import datetime as dt

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
