"""Starting a real `pantau serve` for a test and stopping it again: the one way the web tests (several
client addresses, requests truly at the same time) and the browser tests start their server."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def wait_until_ready(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    """Until /readyz answers 200; an exit or a timeout fails the test with the server's own log."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"pantau serve exited: {log.read_text(errors='replace')}")
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"pantau serve did not become ready in {seconds:g} s: {log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serve(command: list[str], env: dict[str, str], url: str, log: Path, cwd: Path | None = None
          ) -> Iterator[subprocess.Popen[bytes]]:
    with open(log, "wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_until_ready(url, process, log)
            yield process
        finally:
            stop(process)
