"""Starting a real `pantau serve` for a test and stopping it again: the one way the web tests (several
client addresses, requests truly at the same time) and the browser tests start their server."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def ready_seconds(base: float, load: float | None = None, cpus: int | None = None) -> float:
    """`base` seconds on an idle machine, stretched by how many runnable processes share each core
    (the 1-minute load average per CPU, up to 10x): on a shared 2-core machine a start that takes
    20 s alone can take minutes, and a fixed deadline then fails tests that nothing is wrong with."""
    load = os.getloadavg()[0] if load is None else load
    cpus = (os.cpu_count() or 1) if cpus is None else cpus
    return base * min(10.0, max(1.0, load / cpus))


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    """Until /readyz answers 200; an exit or a timeout fails the test with the server's own log. The
    deadline is `seconds` scaled by the machine's load, looked at again while waiting."""
    started = time.monotonic()
    while time.monotonic() - started < ready_seconds(seconds):
        if process.poll() is not None:
            raise AssertionError(f"pantau serve exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    waited = time.monotonic() - started
    raise AssertionError(f"pantau serve did not become ready in {waited:.0f} s: {log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def start(command: list[str], env: dict[str, str], url: str, log: Path, cwd: Path | None = None,
          ready_within: float = 60) -> subprocess.Popen[bytes]:
    """The server, started and ready; when it never becomes ready it is stopped and reaped before the
    failure is raised (a process left running leaks, and its ResourceWarning fails whichever test runs
    next). Its output is added to `log`, so a restarted server keeps the earlier lines."""
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_ready(url, process, log, ready_within)
    except BaseException:
        stop(process)
        raise
    return process


@contextmanager
def serve(command: list[str], env: dict[str, str], url: str, log: Path, cwd: Path | None = None,
          ready_within: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    """The server, started; stopped and reaped on the way out, also when it never became ready."""
    process = start(command, env, url, log, cwd, ready_within)
    try:
        yield process
    finally:
        stop(process)
