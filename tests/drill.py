"""The scale-out drill, shared by bench/scale_out.py (three nodes, 50 clients, 30 s) and the suite's
smaller run (tests/web/test_scale_out.py): on this one machine a PostgreSQL primary and a hot standby
made from it with pg_basebackup (tests/pg_clusters.py), several `pantau serve` nodes, each with its own
data directory and PANTAU_DATABASE_REPLICA_URL to the standby, and Debian's nginx in front of them
(round robin). Clients post valid registrations through nginx for a while; in the middle one node is
killed with SIGKILL (its whole process group, as a machine that dies) and started again; the nodes'
report schedule makes the quarterly report meanwhile. Then the database is counted.

nginx retries a request on another node only when the first could not be reached or did not answer
in time (`proxy_next_upstream error timeout`), and for a POST only on the submission paths: a
submission is idempotent by its instance id (a resend answers the first receipt), any other POST
(sign-in, a review decision, a form upload) is not retried by nginx. A client whose request still
failed sends the same body again, with the same instance id, as the phone's outbox does."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.pg_clusters import Pair, primary_and_standby

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))
from sample_answers import registrasi  # noqa: E402  the benches' valid registration

PASSWORD = "kata-sandi-drill-1"
DATABASE = "pantau_drill"
REPORT = "monev_triwulan"
RETRY_FOR_S = 60.0  # how long a client keeps resending one submission before it counts as failed
RETRY_PAUSE_S = 0.5
SUBMISSION_PATHS = ("= /api/v1/submissions", r"~ ^(/key/[^/]+)?/submission$")


def nginx_conf(folder: Path, port: int, upstreams: list[int]) -> str:
    """The proxy of several nodes: round robin, a node that refused or timed out marked down for 5 s.
    Everything nginx needs (pid, logs, temporary files) lives in `folder`."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=5s;" for p in upstreams)
    proxied = ("proxy_pass http://pantau; proxy_http_version 1.1; proxy_set_header Connection \"\"; "
               "proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr;")
    retried_posts = "\n".join(
        f"        location {where} {{ {proxied} proxy_next_upstream error timeout non_idempotent; }}"
        for where in SUBMISSION_PATHS)
    user = "user root;\n" if os.geteuid() == 0 else ""  # the temporary folder is root's, mode 0700
    return f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy; fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi; scgi_temp_path {folder}/scgi;
    log_format drill '$request_method $uri $status "$upstream_addr" "$upstream_status"';
    access_log {folder}/access.log drill;
    upstream pantau {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        client_max_body_size 64m;
        proxy_connect_timeout 2s;
        proxy_read_timeout 60s;
        proxy_next_upstream_tries 3;
{retried_posts}
        location / {{ {proxied} proxy_next_upstream error timeout; }}
    }}
}}
"""


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _photo() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.effect_noise((96, 72), 48).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def _form_version(form_id: str) -> str:
    from server.domain.compile import compile_source

    path = REPO / "forms" / f"{form_id}.yaml"
    compiled = compile_source(path.read_bytes(), path.name).compiled
    assert compiled is not None, f"{path} does not compile"
    return compiled.version


@dataclass
class Node:
    port: int
    env: dict[str, str]
    workdir: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def log(self) -> Path:
        return self.workdir / "serve.log"

    def start(self) -> None:
        self.starts += 1
        with open(self.log, "ab") as out:
            out.write(f"--- start {self.starts}\n".encode())
            out.flush()
            # Its own process group: the kill takes the node and its report worker, as a dead machine would.
            self.process = subprocess.Popen([sys.executable, "-m", "server.cli.main", "serve"], env=self.env,
                                            cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_ready(self, within: float = 120) -> None:
        from tests.serving import wait_until_ready

        assert self.process is not None
        wait_until_ready(f"http://127.0.0.1:{self.port}", self.process, self.log, within)

    def rendering(self) -> bool:
        """Whether a report worker (a spawned process of this node's group) is running now."""
        assert self.process is not None
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with suppress(OSError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.process.pid and b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                    return True
        return False

    def kill(self) -> None:
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@dataclass
class Tally:
    acked: set[str] = field(default_factory=set)
    latencies_ms: list[float] = field(default_factory=list)
    failed: int = 0  # submissions never acknowledged, even after resending with the same instance id
    saw_failure: int = 0  # submissions whose first sending failed (connection, 5xx, timeout)
    retried_ok: int = 0  # of those, acknowledged on a resend with the same instance id
    refused: dict[str, int] = field(default_factory=dict)  # unexpected answers (a 4xx): the drill's bug
    first_failure_at: float | None = None


@dataclass
class Outcome:
    nodes: int
    clients: int
    seconds: float
    tally: Tally
    stored: int
    distinct: int
    lost: int
    beneficiaries: int
    standby_rows: int
    reports_made: int
    report_runs: list[tuple[str, str, str]]  # scope, status, message
    report_queued_at_s: float | None  # relative to the start of the load
    report_made_at_s: float | None
    killed_at_s: float
    restart_s: float
    killed_renderer: bool  # the killed node was making the scheduled report at that moment
    proxy_down_at_s: float | None  # when nginx was killed (every client's connection cut), None: never
    proxy_down_s: float  # until it answered again
    nginx_retried: int  # requests nginx passed to a second node

    @property
    def rate(self) -> float:
        return len(self.tally.acked) / self.seconds

    @property
    def duplicates(self) -> int:
        return self.stored - self.distinct

    @property
    def p99_ms(self) -> float:
        ordered = sorted(self.tally.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else float("nan")

    def line(self) -> str:
        t = self.tally
        return (f"BENCH scale_out {self.rate:.0f} sub/s nodes={self.nodes} failed={t.failed} lost={self.lost} "
                f"duplicates={self.duplicates} reports_made={self.reports_made} p99_ms={self.p99_ms:.0f} "
                f"acked={len(t.acked)} stored={self.stored} beneficiaries={self.beneficiaries} "
                f"standby_rows={self.standby_rows} saw_failure={t.saw_failure} retried_ok={t.retried_ok} "
                f"nginx_retried={self.nginx_retried} proxy_down_at_s={_s(self.proxy_down_at_s)} "
                f"proxy_down_s={self.proxy_down_s:.1f} killed_at_s={self.killed_at_s:.1f} "
                f"restart_s={self.restart_s:.1f} killed_renderer={str(self.killed_renderer).lower()} "
                f"report_queued_at_s={_s(self.report_queued_at_s)} "
                f"report_made_at_s={_s(self.report_made_at_s)} clients={self.clients} seconds={self.seconds:.0f}")


def _s(value: float | None) -> str:
    return "none" if value is None else f"{value:.1f}"


def _run(env: dict[str, str], cwd: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "server.cli.main", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, f"pantau {' '.join(args)}: {done.stdout}{done.stderr}"


class Proxy:
    """nginx in front of the nodes, on one port for the whole drill. Everything nginx needs (pid, logs,
    temporary files) lives in `folder`; `kill` is the proxy's machine dying (SIGKILL, the connections
    in flight cut, a request the node already stored left without its answer) and `start` brings it
    back on the same port."""

    def __init__(self, folder: Path, upstreams: list[int]) -> None:
        self.binary = shutil.which("nginx") or "/usr/sbin/nginx"
        assert os.path.exists(self.binary), "nginx is missing: apt-get install -y nginx-light"
        folder.mkdir()
        self.folder = folder
        self.conf = folder / "nginx.conf"
        port = _free_port()
        self.conf.write_text(nginx_conf(folder, port, upstreams))
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary, "-p", str(self.folder), "-c", str(self.conf), "-e",
                                         str(self.folder / "error.log"), "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 30
        while True:
            log = self.folder / "error.log"
            assert self.process.poll() is None, f"nginx exited: {log.read_text('utf-8', 'replace')}"
            with suppress(httpx.HTTPError):
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            assert time.monotonic() < deadline, "nginx did not answer within 30 s"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # the master and its worker
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGQUIT)  # graceful: finish what is in flight
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def _nginx(folder: Path, upstreams: list[int]) -> Iterator[Proxy]:
    proxy = Proxy(folder, upstreams)
    try:
        proxy.start()
        yield proxy
    finally:
        proxy.stop()


def _body(n: int, photo: str, version: str) -> bytes:
    """A registration of a different person per number: NIK, birth date and No. KK follow from it
    (as in bench/submit_load.py), so each one is a new beneficiary."""
    serial = f"{n % 9999 + 1:04d}"
    yy = f"{70 + (n // 9999) % 30:02d}"
    dd, mm = f"{1 + (n // 9999) % 28:02d}", f"{1 + (n // (9999 * 28)) % 12:02d}"
    answers = {**registrasi(photo), "nik": f"6402064101{yy}{serial}", "tgl_lahir": f"19{yy}-01-01",
               "no_kk": f"640206{dd}{mm}15{serial}"}
    return json.dumps({"instance_id": str(uuid.uuid4()), "form_id": "registrasi_penerima", "form_version": version,
                       "answers": answers}).encode()


async def _sign_in(url: str) -> tuple[dict[str, str], str]:
    """The enumerator's cookies and an uploaded photo's hash, through nginx."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        await client.get("/masuk")
        token = client.cookies["csrftoken"]
        signed = await client.post("/masuk", data={"username": "citra", "password": PASSWORD, "_csrf_token": token})
        assert signed.status_code == 302, signed.text
        token = client.cookies["csrftoken"]  # a new one with the session
        sent = await client.post("/api/v1/attachments", content=_photo(),
                                 headers={"content-type": "image/jpeg", "x-csrftoken": token})
        assert sent.status_code == 201, sent.text
        return dict(client.cookies.items()), str(sent.json()["sha256"])


async def _clients(url: str, count: int, seconds: float, trouble: Any) -> Tally:
    """`count` clients, each sending one registration after another for `seconds`; a failed sending is
    sent again with the same body (the same instance id) until acknowledged or RETRY_FOR_S passes."""
    cookies, photo = await _sign_in(url)
    version = _form_version("registrasi_penerima")
    tally = Tally()
    numbers = iter(range(10**9))
    headers = {"content-type": "application/json", "x-csrftoken": cookies["csrftoken"]}
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    started = time.monotonic()
    end = started + seconds

    async def client(http: httpx.AsyncClient) -> None:
        while time.monotonic() < end:
            body = _body(next(numbers), photo, version)
            instance = json.loads(body)["instance_id"]
            first = time.monotonic()
            failed_once = False
            while True:
                try:
                    answer = await http.post("/api/v1/submissions", content=body, headers=headers)
                    status = answer.status_code
                except httpx.TransportError:
                    status = 0
                if status in (200, 201):
                    tally.acked.add(instance)
                    tally.latencies_ms.append((time.monotonic() - first) * 1000)
                    tally.retried_ok += failed_once
                    break
                if status and status not in (502, 503, 504):
                    key = f"{status} {answer.text[:200]}"
                    tally.refused[key] = tally.refused.get(key, 0) + 1
                    tally.failed += 1
                    break
                if not failed_once:
                    failed_once = True
                    tally.saw_failure += 1
                    if tally.first_failure_at is None:
                        tally.first_failure_at = time.monotonic() - started
                if time.monotonic() - first > RETRY_FOR_S:
                    tally.failed += 1
                    break
                await asyncio.sleep(RETRY_PAUSE_S)

    async with httpx.AsyncClient(base_url=url, cookies=cookies, limits=limits, timeout=30) as http:
        await asyncio.gather(trouble(started), *(client(http) for _ in range(count)))
    return tally


async def _count(primary: str, standby: str, acked: set[str], load_started: dt.datetime,
                 report_within: float) -> dict[str, Any]:
    import asyncpg

    db = await asyncpg.connect(primary)
    try:
        deadline = time.monotonic() + report_within
        while True:  # the scheduled report: queued once by whichever node came first, made by one
            runs = await db.fetch("SELECT r.id, r.scope, r.status, r.message, r.requested_at, "
                                  "(SELECT count(*) FROM report_edition e WHERE e.run = r.id) AS editions, "
                                  "(SELECT min(created_at) FROM report_edition e WHERE e.run = r.id) AS made "
                                  "FROM report_run r WHERE r.scheduled ORDER BY r.id")
            busy = not runs or any(r["status"] in ("queued", "rendering") for r in runs)
            if not busy or time.monotonic() > deadline:
                break
            await asyncio.sleep(1)
        row = await db.fetchrow("SELECT count(*) AS n, count(DISTINCT id) AS d, "
                                "(SELECT count(*) FROM beneficiary) AS p FROM submission")
        found = await db.fetchval("SELECT count(*) FROM submission WHERE id = ANY($1::uuid[])", list(acked))
        primary_lsn = await db.fetchval("SELECT pg_current_wal_lsn()")
    finally:
        await db.close()
    replica = await asyncpg.connect(standby)
    try:
        for _ in range(100):  # until the standby has replayed what the primary had when counted
            if await replica.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", primary_lsn):
                break
            await asyncio.sleep(0.2)
        standby_rows = await replica.fetchval("SELECT count(*) FROM submission")
    finally:
        await replica.close()

    def since(moment: dt.datetime | None) -> float | None:
        return None if moment is None else (moment - load_started).total_seconds()

    made = [r["made"] for r in runs if r["made"] is not None]
    return {"stored": int(row["n"]), "distinct": int(row["d"]), "beneficiaries": int(row["p"]),
            "lost": len(acked) - int(found), "standby_rows": int(standby_rows),
            "reports_made": sum(int(r["editions"]) for r in runs),
            "report_runs": [(str(r["scope"]), str(r["status"]), str(r["message"])) for r in runs],
            "report_queued_at_s": since(min((r["requested_at"] for r in runs), default=None)),
            "report_made_at_s": since(min(made, default=None))}


def _nginx_retried(access_log: Path) -> int:
    """Requests nginx passed on to a second node ("a, b" in $upstream_addr)."""
    if not access_log.exists():
        return 0
    return sum(1 for line in access_log.read_text(errors="replace").splitlines() if ", " in line.split('"')[1])


def drill(workdir: Path, *, nodes: int, clients: int, seconds: float, kill_at: float, victim: int | None = 1,
          proxy_down_at: float | None = None, proxy_down_for: float = 1.0, report_poll: int = 5,
          report_within: float = 240) -> Outcome:
    """Run the whole drill in `workdir` (a fresh folder) and count. Nothing is left running.

    victim: the node killed at `kill_at`, None for the one making the report. proxy_down_at: when nginx
    itself is killed, for `proxy_down_for` seconds: nginx absorbs a node's death (it passes the
    submission on), so this is the window in which the clients see the failures themselves (their
    connections cut, some after the node stored the submission, then refused) and resend."""
    with primary_and_standby() as pair:
        return _drill(pair, workdir, nodes=nodes, clients=clients, seconds=seconds, kill_at=kill_at, victim=victim,
                      proxy_down_at=proxy_down_at, proxy_down_for=proxy_down_for, report_poll=report_poll,
                      report_within=report_within)


def _drill(pair: Pair, workdir: Path, *, nodes: int, clients: int, seconds: float, kill_at: float, victim: int | None,
           proxy_down_at: float | None, proxy_down_for: float, report_poll: int, report_within: float) -> Outcome:
    pair.psql(pair.primary_port, f"CREATE DATABASE {DATABASE}")
    primary = f"postgresql://postgres@127.0.0.1:{pair.primary_port}/{DATABASE}"
    standby = f"postgresql://postgres@127.0.0.1:{pair.standby_port}/{DATABASE}"
    # One secret for every node: it signs the sessions and keys the NIK seals, so it must be the same.
    base = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_DATABASE_URL": primary,
            "PANTAU_DATABASE_REPLICA_URL": standby, "PANTAU_SECRET_KEY": secrets.token_urlsafe(48),
            "PANTAU_REPORT_SCHEDULE": REPORT, "PANTAU_REPORT_POLL": str(report_poll), "PANTAU_WORKERS": "1",
            "PANTAU_TRUSTED_PROXIES": "127.0.0.1", "PANTAU_LOG_LEVEL": "INFO", "DRILL_PW": PASSWORD,
            "PANTAU_DATA_DIR": str(workdir / "setup-data")}
    _run(base, workdir, "db", "migrate")
    _run(base, workdir, "forms", "load", *sorted(str(f) for f in (REPO / "forms").glob("*.yaml")))
    _run(base, workdir, "users", "add", "citra", "--role", "enumerator", "--areas", "64.02.06",
         "--password-env", "DRILL_PW")
    fleet = []
    for i in range(nodes):
        folder = workdir / f"node{i}"
        folder.mkdir()
        port = _free_port()
        fleet.append(Node(port, {**base, "PANTAU_PORT": str(port), "PANTAU_DATA_DIR": str(folder / "data")}, folder))
    restart = {"at": 0.0, "took": 0.0, "renderer": False}
    outage: dict[str, float | None] = {"at": None, "took": 0.0}
    try:
        for node in fleet:
            node.start()
        for node in fleet:
            node.wait_ready()
        with _nginx(workdir / "nginx", [n.port for n in fleet]) as proxy:

            async def kill(started: float) -> None:
                await asyncio.sleep(kill_at)
                # victim None: the node making the report, as soon as one is (else the second node at
                # the end of the load), so the drill shows its lease running out and another node taking it.
                chosen = 1 if victim is None else victim
                while victim is None and time.monotonic() - started < seconds:
                    making = [i for i, node in enumerate(fleet) if node.rendering()]
                    if making:
                        chosen = making[0]
                        break
                    await asyncio.sleep(0.2)
                restart["renderer"] = fleet[chosen].rendering()
                restart["at"] = time.monotonic() - started
                fleet[chosen].kill()
                fleet[chosen].start()
                began = time.monotonic()
                await asyncio.to_thread(fleet[chosen].wait_ready)
                restart["took"] = time.monotonic() - began

            async def proxy_down(started: float) -> None:
                if proxy_down_at is None:
                    return
                await asyncio.sleep(proxy_down_at)
                outage["at"] = time.monotonic() - started
                proxy.kill()
                await asyncio.sleep(proxy_down_for)
                await asyncio.to_thread(proxy.start)
                outage["took"] = time.monotonic() - started - (outage["at"] or 0.0)

            async def trouble(started: float) -> None:
                await asyncio.gather(kill(started), proxy_down(started))

            load_started = dt.datetime.now(dt.UTC)
            tally = asyncio.run(_clients(proxy.url, clients, seconds, trouble))
        counted = asyncio.run(_count(primary, standby, tally.acked, load_started, report_within))
    finally:
        for node in fleet:
            node.stop()
    return Outcome(nodes=nodes, clients=clients, seconds=seconds, tally=tally, killed_at_s=restart["at"],
                   restart_s=restart["took"], killed_renderer=bool(restart["renderer"]),
                   nginx_retried=_nginx_retried(workdir / "nginx" / "access.log"),
                   proxy_down_at_s=outage["at"], proxy_down_s=outage["took"] or 0.0,
                   **counted)
