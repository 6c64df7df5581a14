"""Throwaway PostgreSQL clusters of Debian's postgresql-common for the tests that need more than the
one server PANTAU_TEST_DATABASE_URL names: a primary and a hot standby made from it with
pg_basebackup, each on a free port, dropped afterwards. They need root (the clusters belong to the
postgres user) and fail loudly, never skip, when they cannot be made."""

from __future__ import annotations

import itertools
import os
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Pair:
    version: str
    primary: str  # cluster names
    standby: str
    primary_port: int
    standby_port: int

    @property
    def primary_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.primary_port}/postgres"

    @property
    def standby_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.standby_port}/postgres"

    def psql(self, port: int, sql: str) -> str:
        return _run("psql", "-X", "-q", "-At", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-c", sql)

    def stop_standby(self) -> None:
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.standby, "stop", "-m", "fast")

    def start_standby(self) -> None:
        """Again after stop_standby (nothing when it runs): it connects to the primary and streams
        what it missed."""
        running = subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.standby,
                                  "status"], capture_output=True, timeout=60, check=False)
        if running.returncode == 0:
            return
        _run("pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.standby, "start")


def _run(*args: str) -> str:
    done = subprocess.run(args, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout.strip()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_made = itertools.count(1)


@contextmanager
def primary_and_standby() -> Iterator[Pair]:
    assert os.geteuid() == 0, "the standby tests make PostgreSQL clusters: they run as root (as CI does)"
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]
    # The session's shared pair and a drill's own pair live side by side: each pair its own names.
    tag = f"pantau_t{os.getpid()}_{next(_made)}"
    pair = Pair(version, f"{tag}_p", f"{tag}_s", _free_port(), _free_port())
    try:
        # initdb --auth=trust writes pg_hba lines for replication connections too.
        _run("pg_createcluster", version, pair.primary, "-p", str(pair.primary_port), "--start", "--",
             "--auth=trust")
        _run("pg_createcluster", version, pair.standby, "-p", str(pair.standby_port), "--", "--auth=trust")
        data = Path(f"/var/lib/postgresql/{version}/{pair.standby}")
        _run("rm", "-rf", str(data))
        _run("install", "-d", "-o", "postgres", "-g", "postgres", "-m", "700", str(data))
        _run("su", "postgres", "-c", f"pg_basebackup -h 127.0.0.1 -p {pair.primary_port} -U postgres "
                                     f"-D {data} -R -X stream")
        _run("pg_ctlcluster", "--skip-systemctl-redirect", version, pair.standby, "start")
        yield pair
    finally:
        for name in (pair.standby, pair.primary):
            subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True, timeout=120,
                           check=False)
