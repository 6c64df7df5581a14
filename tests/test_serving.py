"""The harness that starts a real `pantau serve` for web and browser tests: a server that never
becomes ready is stopped and reaped, and the readiness deadline grows with the machine's load."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

from tests.serving import ready_seconds, serve


def test_the_deadline_scales_with_the_load_per_core() -> None:
    assert ready_seconds(60, load=0.5, cpus=2) == 60  # idle: never shorter than asked
    assert ready_seconds(60, load=6.0, cpus=2) == 180  # three runnable processes per core
    assert ready_seconds(60, load=100.0, cpus=2) == 600  # but bounded
    assert ready_seconds(60) >= 60


def test_a_server_that_never_becomes_ready_is_stopped_and_reaped(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    # Listens nowhere and would run for ten minutes: the harness must not leave it behind.
    never = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    started = time.monotonic()
    with (pytest.raises(AssertionError, match="did not become ready"),
          serve([sys.executable, "-c", never], dict(os.environ), "http://127.0.0.1:9", tmp_path / "log",
                ready_within=3)):
        pass
    assert time.monotonic() - started < 3 * 10 + 15  # the deadline at most, and the stop
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):  # stopped, and waited for: not even a zombie is left
        os.kill(pid, 0)
