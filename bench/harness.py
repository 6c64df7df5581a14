"""What the HTTP benchmarks share: a fresh database (SQLite file or a new PostgreSQL database), a
real `pantau serve` subprocess with forms and a signed-in enumerator, and wrk as the load
generator (C, so the client does not eat the server's two cores)."""

from __future__ import annotations

import contextlib
import http.cookiejar
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PASSWORD = "kata-sandi-bench-1"
SECRET = "kunci-rahasia-bench-0123456789abcdef"  # `serve` on PostgreSQL needs one set


def _photo() -> bytes:
    """A real JPEG of a few KB (uploads are decoded and encoded again, so a fake one is refused)."""
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((96, 72), 48).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


JPEG = _photo()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(*args: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run([sys.executable, "-m", "server.cli.main", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    if done.returncode != 0:
        raise SystemExit(f"pantau {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    # BENCH_DB_PREFIX: several people share one PostgreSQL, each with databases under their own prefix
    # BENCH_PG_PORT: a bench that needs its own PostgreSQL server (submit_cost's, with
    # pg_stat_statements loaded) points the harness at it
    name = f"{os.environ.get('BENCH_DB_PREFIX', 'pantau_bench')}_{os.getpid()}"
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", _pg_port(), "-U", "postgres", "-d", "postgres",
                        "-c", sql], check=True)
    return f"postgresql://postgres@127.0.0.1:{_pg_port()}/{name}"


def _pg_port() -> str:
    return os.environ.get("BENCH_PG_PORT", "5432")


def drop_database(url: str) -> None:
    if url.startswith("postgresql://"):
        name = url.rsplit("/", 1)[1]
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", _pg_port(), "-U", "postgres", "-d", "postgres",
                        "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def multipart(parts: list[tuple[str, str, str, bytes]]) -> tuple[bytes, str]:
    """A multipart/form-data body of file parts (name, filename, content type, bytes) and its content type."""
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
        f"Content-Type: {kind}\r\n\r\n".encode() + data + b"\r\n" for name, filename, kind, data in parts)
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@dataclass
class Server:
    url: str
    database_url: str
    env: dict[str, str]
    workdir: Path
    cookies: http.cookiejar.CookieJar
    pid: int = 0  # the `pantau serve` process (or its wrapper)

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.cookies if c.name == name)  # type: ignore[return-value]

    def open(self, path: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))
        request = urllib.request.Request(self.url + path, data=data, headers=headers or {})
        with opener.open(request, timeout=30) as response:
            return bytes(response.read())

    def sign_in(self, username: str) -> None:
        self.open("/masuk")
        form = f"username={username}&password={PASSWORD}&_csrf_token={self.cookie('csrftoken')}".encode()
        self.open("/masuk", form, {"content-type": "application/x-www-form-urlencoded"})

    def upload_photo(self) -> str:
        body = self.open("/api/v1/attachments", JPEG, {"content-type": "image/jpeg",
                                                        "x-csrftoken": self.cookie("csrftoken")})
        return str(json.loads(body)["sha256"])

    def cookie_header(self) -> str:
        return "; ".join(f"{c.name}={c.value}" for c in self.cookies)


@contextlib.contextmanager
def serving(kind: str, forms: tuple[str, ...] = ("forms/registrasi_penerima.yaml",),
            extra_env: dict[str, str] | None = None, wrapper: tuple[str, ...] = (),
            ready_within: float = 60, seed: Path | None = None) -> Iterator[Server]:
    """wrapper: a command the server runs under (valgrind); ready_within: seconds it may take to start;
    seed: a SQLite database made by an earlier run of this harness (its users exist) to start from."""
    workdir = Path(tempfile.mkdtemp(prefix="pantau-bench-"))
    database_url = fresh_database(kind, workdir)
    if seed is not None:
        shutil.copyfile(seed, workdir / "bench.sqlite3")
    port = free_port()
    log_level = os.environ.get("BENCH_LOG_LEVEL", "")  # set it to see the server's log on stderr
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_DATABASE_URL": database_url,
           "PANTAU_DATA_DIR": str(workdir / "data"), "PANTAU_PORT": str(port),
           "PANTAU_LOG_LEVEL": log_level or "WARNING", "PANTAU_SECRET_KEY": SECRET,
           "PANTAU_BENCH_ROUTES": "true", "BENCH_PW": PASSWORD, **(extra_env or {})}
    run("db", "migrate", env=env, cwd=workdir)
    run("forms", "load", *[str(REPO / f) for f in forms], env=env, cwd=workdir)
    if seed is None:
        run("users", "add", "citra", "--role", "enumerator", "--areas", "64.02.06", "--password-env", "BENCH_PW",
            env=env, cwd=workdir)
    server = subprocess.Popen([*wrapper, sys.executable, "-m", "server.cli.main", "serve"], env=env, cwd=workdir,
                              stdout=subprocess.DEVNULL, stderr=None if log_level else subprocess.DEVNULL, text=True)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", ready_within)
        yield Server(f"http://127.0.0.1:{port}", database_url, env, workdir, http.cookiejar.CookieJar(), server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        drop_database(database_url)
        shutil.rmtree(workdir, ignore_errors=True)


def _wait_ready(url: str, within: float = 60) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url + "/readyz", timeout=2).read()
            return
        time.sleep(0.2)
    raise SystemExit(f"the server did not become ready within {within:.0f} s")


@dataclass
class WrkResult:
    requests_per_s: float
    p99_ms: float
    statuses: dict[str, int]
    errors: int


def wrk(url: str, script: Path, *, connections: int, seconds: int, threads: int = 2) -> WrkResult:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    done = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "10s",
                           "-s", str(script), url], capture_output=True, text=True, timeout=seconds + 120)
    out = done.stdout
    if "STATUSES" not in out:
        raise SystemExit(f"wrk failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99_ms = float(p99.group(1)) * scale[p99.group(2)] if p99 else float("nan")
    statuses = json.loads(re.search(r"STATUSES (\{.*\})", out).group(1))  # type: ignore[union-attr]
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    return WrkResult(rps, p99_ms, statuses, errors)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2
