"""`pantau backup` of a large SQLite database while submissions keep arriving: a real `pantau serve`
on a copy of a ~1 GB database takes bench/submit_load.py's load (wrk, 50 connections, every request
a new registration) and `pantau backup` runs meanwhile. The backup must finish, from one snapshot
(its submission count lies between the counts before and after it), and pass SQLite's integrity check.

The large database is built once and cached (BENCH_CACHE, default /tmp/pantau-bench): a real server
takes submit_load's load for a few seconds (registrations with their sealed NIK/KK and sender's
address, beneficiaries), then every table's rows are doubled in SQL under new ids until the file reaches the
size asked for. It is rebuilt when the migrations change.

Target: a 1 GB database in <= 60 s under the full load.
Last line: `BENCH backup <s> s size_mb=<MB of the copy> under_load_sub_s=<submissions stored per second
while the backup ran>`."""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import REPO, serving
from submit_load import body_template, lua_script

SECRET = {"PANTAU_SECRET_KEY": "bench-backup-secret-key-0123456789abcdef"}  # the seed's NIKs open with it
CACHE = Path(os.environ.get("BENCH_CACHE", "/tmp/pantau-bench"))
NEW_UUID = ("lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2))) || '-4' || "
            "substr(lower(hex(randomblob(2))), 2) || '-8' || substr(lower(hex(randomblob(2))), 2) || '-' || "
            "lower(hex(randomblob(6)))")


def schema_key() -> str:
    names = sorted(p.name for p in (REPO / "server/storage/migrations").glob("m*.py"))
    return hashlib.sha256("\n".join(names).encode()).hexdigest()[:10]


def start_load(server, round_no: int, seconds: int) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    """wrk as submit_load drives it, in the background: 50 connections, a new registration each."""
    server.sign_in("citra")
    script = lua_script(server, "/api/v1/submissions", body_template(server.upload_photo()), round_no)
    return subprocess.Popen(["wrk", "-t2", "-c50", f"-d{seconds}s", "--timeout", "10s", "-s", str(script), server.url],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def stop_load(load: subprocess.Popen[str]) -> None:
    load.send_signal(signal.SIGINT)
    try:
        load.wait(timeout=30)
    except subprocess.TimeoutExpired:
        load.kill()


def count(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT COUNT(*) FROM submission").fetchone()[0])
    finally:
        conn.close()


def grow(path: Path, size_mb: int) -> None:
    """Double the rows of the big tables under new ids until the file holds `size_mb`."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    while (size := os.path.getsize(path)) < size_mb * 1_000_000:
        share = min(1.0, size_mb * 1_000_000 / size - 1)  # the last round copies only what is missing
        conn.execute("BEGIN")
        limit = int(count(path) * share) + 1
        conn.execute("CREATE TEMP TABLE m AS SELECT id AS old, " + NEW_UUID + f" AS new FROM submission LIMIT {limit}")
        conn.execute("INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, answers, "
                     "sealed, revision, review_status, received_at, sent_from) SELECT m.new, form_version, form_id, "
                     "enumerator, area_code, content_hash, answers, sealed, revision, review_status, received_at, "
                     "sent_from "
                     "FROM submission JOIN m ON m.old = submission.id")  # the sealed NIK/KK answers with it (m0025)
        conn.execute("DROP TABLE m")
        columns = [row[1] for row in conn.execute("PRAGMA table_info(beneficiary)")]
        fresh = {"id": NEW_UUID, "nik_index": "lower(hex(randomblob(32)))", "kk_index": "lower(hex(randomblob(32)))",
                 "merged_into": "NULL"}
        people = int(conn.execute("SELECT COUNT(*) FROM beneficiary").fetchone()[0] * share) + 1
        conn.execute(f"INSERT INTO beneficiary ({', '.join(columns)}) SELECT "
                     f"{', '.join(fresh.get(c, c) for c in columns)} FROM beneficiary LIMIT {people}")
        conn.execute("COMMIT")
        print(f"  {os.path.getsize(path) / 1e6:,.0f} MB, {count(path):,} submissions", flush=True)
    conn.close()


def cached_database(size_mb: int) -> Path:
    cache = CACHE / f"backup-{size_mb}mb-{schema_key()}.sqlite3"
    if cache.exists():
        return cache
    CACHE.mkdir(parents=True, exist_ok=True)
    print(f"building a {size_mb} MB database (once; cached as {cache})", flush=True)
    building = Path(tempfile.mkdtemp(dir=CACHE)) / "seed.sqlite3"
    with serving("sqlite", extra_env=SECRET, ready_within=240) as server:
        load = start_load(server, 1, 8)
        load.wait(timeout=120)
        live = sqlite3.connect(server.database_url.removeprefix("sqlite:///"))
        live.execute("VACUUM INTO ?", (str(building),))
        live.close()
    grow(building, size_mb)
    os.replace(building, cache)
    building.parent.rmdir()
    return cache


def measure(size_mb: int, warmup: float) -> str:
    seed = cached_database(size_mb)
    with serving("sqlite", extra_env=SECRET, seed=seed, ready_within=240) as server:
        live = Path(server.database_url.removeprefix("sqlite:///"))
        target = server.workdir / "cadangan.sqlite3"
        load = start_load(server, 7, 600)
        try:
            time.sleep(warmup)
            before, started = count(live), time.monotonic()
            done = subprocess.run([sys.executable, "-m", "server.cli.main", "backup", str(target)], env=server.env,
                                  cwd=server.workdir, capture_output=True, text=True, timeout=900)
            seconds = time.monotonic() - started
            after = count(live)
        finally:
            stop_load(load)
        if done.returncode != 0:
            raise SystemExit(f"pantau backup failed: {done.stderr}")
        copied = count(target)
        check = sqlite3.connect(target).execute("PRAGMA quick_check").fetchone()[0]
        size = target.stat().st_size / 1e6
    assert before <= copied <= after, (before, copied, after)  # one snapshot taken during the run
    assert check == "ok", check
    rate = (after - before) / seconds
    return (f"BENCH backup {seconds:.1f} s size_mb={size:.0f} under_load_sub_s={rate:.0f} "
            f"submissions={copied} during={after - before} target_s=60")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1000)
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before the backup starts")
    args = parser.parse_args()
    print(measure(args.size_mb, args.warmup), flush=True)


if __name__ == "__main__":
    main()
