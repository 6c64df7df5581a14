"""Export of 100,000 registrasi_penerima submissions through a real `pantau serve` (SQLite, or
PostgreSQL with --db postgres): each format (CSV zip, XLSX, JSON lines, values as labels) is
downloaded over HTTP and thrown away while the time is taken; the server's peak memory (VmHWM) is
read afterwards. Then the submissions list: the first page of /data and five pages of the read API
walked by cursor (100 rows each), median request time. The rows are made fast with executemany into
a database built by `pantau db migrate` + `pantau forms load`.

Target: the slowest format <= 30 s, the server's peak RSS <= 300 MB.
Last line: `BENCH export <s> s rss_mb=<MB> db=<kind> list_ms=<ms> page_ms=<ms>` (s: the slowest
format's median over the rounds; list_ms: /data first page; page_ms: a read-API page by cursor)."""

from __future__ import annotations

import argparse
import datetime as dt
import http.cookiejar
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import PASSWORD, REPO, SECRET, _wait_ready, drop_database, free_port, fresh_database, median, run
from sample_answers import registrasi

FORMATS = ("csv", "xlsx", "jsonl")
NAMES = ("Siti Aminah", "Nur'aini", "Rahmawati", "Sri Wahyuni", "Dewi Lestari", "Fitri Handayani", "Yuliana")
DESA = ("64.02.06.1001", "64.02.06.1002", "64.02.06.2003", "64.02.13.1007", "64.02.13.2002")


def make_rows(database_url: str, count: int) -> None:
    """`count` approved submissions by one enumerator, spread over the areas, answers varied enough
    that labels, numbers and masked NIK all take their real paths."""
    postgres = database_url.startswith("postgresql://")
    if postgres:
        import psycopg

        conn: Any = psycopg.connect(database_url)
        mark = "%s"
    else:
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        mark = "?"
    version_pk = conn.execute("SELECT id FROM form_version ORDER BY id DESC LIMIT 1").fetchone()[0]
    enumerator = conn.execute("SELECT id FROM pantau_user WHERE username = 'citra'").fetchone()[0]
    start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC)
    rng = random.Random(9)
    base = registrasi("ab" * 32)

    def row(i: int) -> tuple[object, ...]:
        desa = DESA[i % len(DESA)]
        answers = {**base, "nama": f"{NAMES[i % len(NAMES)]} {i}", "desa": desa, "kecamatan": desa[:8],
                   "nik": "64**************", "no_kk": "64**************",
                   "penghasilan_bln": rng.randrange(300_000, 5_000_000, 50_000), "jml_art": 1 + i % 7,
                   "lantai": str(1 + i % 9), "bansos_diterima": ["pkh", "sembako"] if i % 3 else ["tidak_ada"]}
        received = start + dt.timedelta(seconds=30 * i, microseconds=i % 1000)
        ident = uuid.UUID(int=rng.getrandbits(128), version=4)
        return (ident if postgres else str(ident), version_pk, "registrasi_penerima", enumerator,
                desa, "0" * 64, json.dumps(answers), "approved", received if postgres else str(received))

    seven = ", ".join([mark] * 7)
    sql = ("INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, answers, "
           f"revision, review_status, received_at) VALUES ({seven}, 1, {mark}, {mark})")
    if postgres:
        with conn.cursor() as cursor:
            for first in range(0, count, 5000):
                cursor.executemany(sql, [row(i) for i in range(first, min(count, first + 5000))])
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")  # fresh statistics, as autovacuum would give a real database
    else:
        with conn:
            conn.executemany(sql, (row(i) for i in range(count)))
    conn.close()


def list_times(base: str, opener: urllib.request.OpenerDirector, rounds: int) -> tuple[float, float]:
    """Median ms of the /data page (first page of the form's records) and of a read-API page walked
    by cursor."""
    pages: list[float] = []
    firsts: list[float] = []
    first_page = f"{base}/data?form=registrasi_penerima&status=all"
    download(first_page, opener)  # the first request of a route builds its caches: not what a user waits for
    for _ in range(rounds):
        firsts += [download(first_page, opener)[0] * 1000 for _ in range(3)]
        url = f"{base}/api/v1/forms/registrasi_penerima/submissions?status=all&limit=100"
        for _page in range(5):
            began = time.perf_counter()
            with opener.open(url, timeout=60) as response:
                body = json.loads(response.read())
            pages.append((time.perf_counter() - began) * 1000)
            url = (f"{base}/api/v1/forms/registrasi_penerima/submissions?status=all&limit=100"
                   f"&cursor={urllib.parse.quote(body['next_cursor'])}")
    return median(firsts), median(pages)


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def download(url: str, opener: urllib.request.OpenerDirector) -> tuple[float, int]:
    began, size = time.perf_counter(), 0
    with opener.open(url, timeout=600) as response:
        while chunk := response.read(1 << 20):
            size += len(chunk)
    return time.perf_counter() - began, size


def sign_in(base: str) -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(base + "/masuk").read()
    csrf = next(c.value for c in jar if c.name == "csrftoken")
    opener.open(base + "/masuk", f"username=ani&password={PASSWORD}&_csrf_token={csrf}".encode()).read()
    return opener


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pantau-export-"))
    port = free_port()
    database_url = fresh_database(args.db, workdir)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), "PANTAU_DATABASE_URL": database_url,
           "PANTAU_DATA_DIR": str(workdir / "data"), "PANTAU_PORT": str(port), "PANTAU_LOG_LEVEL": "WARNING",
           "BENCH_PW": PASSWORD, "PANTAU_SECRET_KEY": SECRET}
    server = None
    try:
        run("db", "migrate", env=env, cwd=workdir)
        run("forms", "load", str(REPO / "forms/registrasi_penerima.yaml"), env=env, cwd=workdir)
        for name, role in (("ani", "staff"), ("citra", "enumerator")):
            run("users", "add", name, "--role", role, "--areas", "64.02.06", "--password-env", "BENCH_PW",
                env=env, cwd=workdir)
        began = time.perf_counter()
        make_rows(database_url, args.rows)
        print(f"made {args.rows} rows in {time.perf_counter() - began:.1f} s", flush=True)
        server = subprocess.Popen([sys.executable, "-m", "server.cli.main", "serve"], env=env, cwd=workdir,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base)
        opener = sign_in(base)
        times: dict[str, list[float]] = {f: [] for f in FORMATS}
        for round_no in range(args.rounds):
            for fmt in FORMATS:
                took, size = download(f"{base}/data/ekspor?form=registrasi_penerima&format={fmt}&values=labels",
                                      opener)
                times[fmt].append(took)
                print(f"round {round_no + 1} {fmt}: {took:.1f} s, {size / 1e6:.0f} MB, "
                      f"peak rss {peak_rss_mb(server.pid):.0f} MB", flush=True)
        slowest = max(median(t) for t in times.values())
        rss = peak_rss_mb(server.pid)
        first_ms, page_ms = list_times(base, opener, args.rounds)
        print(" ".join(f"{f}={median(t):.1f}s" for f, t in times.items()))
        print(f"BENCH export {slowest:.1f} s rss_mb={rss:.0f} db={args.db} list_ms={first_ms:.0f} "
              f"page_ms={page_ms:.0f}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)
        drop_database(database_url)


if __name__ == "__main__":
    main()
