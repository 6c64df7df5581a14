"""Instructions per submission, counted by callgrind in the server process: the noise-free twin of
submit_load's ratio_noop. The machine is shared, and CPU time per request swings by a third from
one run to the next (the no-op's own CPU per request did); an instruction count does not move with
what else the machine is doing, so a change to the submission path shows in it even when a
throughput run cannot tell it from the noise. `make bench NAME=submit_cost` posts valid
registrasi_penerima submissions one after another (each a new person, as in submit_load) to a
`pantau serve` running under valgrind, on SQLite and on PostgreSQL, then as many no-op posts of the
same body, and prints instructions per request for both and their ratio. Two stages in between
say where a submission's instructions go: `signed_in_minstr` (the session, the route's dependencies,
the receipt as the answer) and `validated_minstr` (and the form loaded and the answers validated);
the submission minus the latter is the storage side (photo check, registry, content hash, writer).

What it counts: the server process (its event loop and its writer thread), not the kernel's work
for the sockets or the fsync. On PostgreSQL the bench also counts the database's side of each
submission: it makes its own throwaway cluster with pg_stat_statements loaded (pg_createcluster,
dropped afterwards; the shared server on 5432 does not load it) and prints, per submission, the
statements run (`pg_statements`), rows written (`pg_rows`), index entries written (`pg_index_entries`:
the B-tree leaf inserts the database actually logged, read back from its write-ahead log with
pg_walinspect between the two readings: one INSERT_LEAF or INSERT_POST record, or a leaf split
carrying the new entry, per entry; so a partial index counts only the rows that match it, a HOT
update counts none, and the index entries of anything else the server wrote in the window count too),
transactions (`pg_xacts`), the CPU of the backends that serve clients (`pg_cpu_ms`: their time on
the CPU from /proc/PID/schedstat, in nanoseconds, backend by backend; autovacuum's workers are left
out, see pg_counters) and the statements' execution time (`pg_exec_ms`, pg_stat_statements'
total_exec_time: what the statements themselves took, without their planning, the commits and the
protocol around them). Requests go one at a time, so each submission pays a whole writer batch (its
commit) that under load is shared by many. With BENCH_SHOW_BACKENDS=1 the bench lists, on stderr,
each backend's CPU in the window and the CPU of those left out. `--show-statements` lists what the
counted submissions ran, from pg_stat_statements: calls and rows per submission for each statement,
most called first, then rows and index entries per table and the entries per index."""

from __future__ import annotations

import argparse
import glob
import http.client
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import Server, serving
from submit_load import body_template

WARM = 20  # requests of each kind before counting: caches filled, statements prepared
# The no-op, then the submission path in stages (server/web/controllers/api.py): signed in with the
# receipt as the answer; + the form loaded and the answers validated; the whole submission (stored).
STAGES = ("/api/v1/bench/noop", "/api/v1/bench/signed_in", "/api/v1/bench/validated", "/api/v1/submissions")


# Names as a registry has them: words shared by many people, whole names by few.
GIVEN = ("Siti", "Nur", "Sri", "Dewi", "Rina", "Wati", "Yuni", "Lina", "Ani", "Rahma", "Fitri", "Ratna", "Indah",
         "Maya", "Putri", "Ayu")
FAMILY = ("Aminah", "Hasanah", "Rahayu", "Lestari", "Wulandari", "Handayani", "Susanti", "Kurniasih", "Sari",
          "Anggraini", "Purnama", "Safitri")


def body(template: str, n: int) -> str:
    """A valid registration of person n, a different person of a different family each: name, birth
    date (and so the NIK's date digits) and No. KK follow from n. submit_load's people all share a
    name and a birth date, which makes the server's background probable-duplicates check
    (storage/duplicates.check_new, once a minute) score every earlier person and write a pair for
    each; under valgrind that pass falls inside the counted window and was counted as the
    registrations' work (up to 26 M instructions and 57 statements per registration in one run)."""
    dd, mm, yy = 1 + n % 28, 1 + n // 28 % 12, 70 + n // 336 % 30
    serial = f"{n % 9999 + 1:04d}"
    # The card's issue day follows n // 9999, so two n with one serial (the warm-up's 500_000 + k and
    # the counted k + 50) are still two families: with one issue day for all, 20 of 100 counted
    # registrations shared a No. KK with a warm-up person and were flagged and counted as duplicates.
    issued = f"{1 + n // 9999 % 28:02d}0115"
    name = f"{GIVEN[n % len(GIVEN)]} {FAMILY[n // len(GIVEN) % len(FAMILY)]}"
    return (template.replace("__ID__", str(uuid.uuid4())).replace('"nama": "Siti Aminah"', f'"nama": "{name}"')
            .replace("__NIK__", f"640206{40 + dd:02d}{mm:02d}{yy:02d}{serial}")
            .replace("__LAHIR__", f"19{yy:02d}-{mm:02d}-{dd:02d}").replace("__KK__", f"640206{issued}{serial}"))


def instructions(out_prefix: str, pid: int) -> int:
    """Dump callgrind's counters of the running server and add up its threads' totals."""
    for old in glob.glob(out_prefix + "*"):
        os.remove(old)
    subprocess.run(["callgrind_control", "--dump", str(pid)], capture_output=True, check=True, timeout=120)
    deadline = time.monotonic() + 60
    total = 0
    while time.monotonic() < deadline and not total:
        time.sleep(0.5)
        for path in glob.glob(out_prefix + "*"):
            for line in Path(path).read_text(errors="replace").splitlines():
                if line.startswith(("summary:", "totals:")):
                    total += int(line.split()[1])
                    break
    if not total:
        raise SystemExit("callgrind wrote no counts")
    return total


def measure(kind: str, count: int, show_statements: bool = False, keep: str = "") -> str:
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("valgrind is not installed: apt-get install -y valgrind")
    out_prefix = f"/tmp/pantau-submit-cost-{os.getpid()}-{kind}.out"
    wrapper = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out_prefix}",
               *(("--separate-threads=yes",) if keep else ()))
    # a server under valgrind takes minutes to start on a busy machine (600 s was not always enough)
    ready_within = float(os.environ.get("BENCH_READY_WITHIN", "1800"))
    with serving(kind, extra_env={"PANTAU_WORKERS": "1"}, wrapper=wrapper, ready_within=ready_within) as server:
        server.sign_in("citra")
        template = body_template(server.upload_photo())
        if '"nama": "Siti Aminah"' not in template:
            raise SystemExit("bench/sample_answers.py's registration changed its name: body() names no one")
        port = int(server.url.rsplit(":", 1)[1])
        held = [http.client.HTTPConnection("127.0.0.1", port, timeout=300)]
        headers = {"Content-Type": "application/json", "Cookie": server.cookie_header(),
                   "X-CSRFToken": server.cookie("csrftoken")}

        def post(path: str, n: int) -> None:
            held[0].request("POST", path, body(template, n), headers)
            response = held[0].getresponse()
            response.read()
            if response.status not in (200, 201):
                raise SystemExit(f"{path} answered {response.status}")

        def counted(path: str, first: int) -> float:
            # A new connection, opened before the count: the database counters' wait outlasts the
            # server's keep-alive, which closes the idle one.
            held[0].close()
            held[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
            post(STAGES[0], first)
            subprocess.run(["callgrind_control", "--zero", str(server.pid)], capture_output=True, check=True,
                           timeout=120)
            for n in range(first, first + count):
                post(path, n)
            return instructions(out_prefix, server.pid) / count

        for n in range(WARM):
            for path in STAGES:
                post(path, 500_000 + n if path == STAGES[-1] else n)
        day_pass_done(server)
        signed_in, validated = (counted(path, 0) for path in STAGES[1:3])
        before, wal_before, cpu_before = pg_counters(server.database_url) if kind == "postgres" else ({}, "", {})
        shown_before = statements(server.database_url) if show_statements and kind == "postgres" else {}
        tables_before = tables(server.database_url) if show_statements and kind == "postgres" else {}
        submit = counted(STAGES[3], 0)
        if keep:  # the counted submissions' dump, one file per thread, for callgrind_annotate
            os.makedirs(keep, exist_ok=True)
            for path in glob.glob(out_prefix + "*"):
                shutil.copy(path, os.path.join(keep, f"{kind}-" + os.path.basename(path)))
        after, wal_after, _cpu = (pg_counters(server.database_url, wal_before, cpu_before) if kind == "postgres"
                                  else ({}, "", {}))
        if after:
            before["cpu_ms"] = 0.0  # after's is already the difference, backend by backend
        if show_statements and kind == "postgres":
            print_statements(shown_before, statements(server.database_url), count)
            print_tables(tables_before, tables(server.database_url), count)
            print_indexes(index_entries(server.database_url, wal_before, wal_after), count)
        if after:  # the reading before is itself a statement and a transaction that the one after sees
            own = 3 if show_statements else 1  # and so are --show-statements' two readings before
            after["statements"] -= own
            after["xacts"] -= own
        noop = counted(STAGES[0], 0)
        stored = rows(server)
    for old in glob.glob(out_prefix + "*"):
        os.remove(old)
    if stored != WARM + count:
        raise SystemExit(f"{stored} submissions stored, {WARM + count} sent")
    return (f"BENCH submit_cost {submit / 1e6:.2f} Minstr/sub db={kind} noop_minstr={noop / 1e6:.3f} "
            f"ratio_instr={noop / submit:.3f} signed_in_minstr={signed_in / 1e6:.3f} "
            f"validated_minstr={validated / 1e6:.3f} requests={count} workers=1"
            + "".join(f" pg_{k}={(after[k] - before[k]) / count:.{2 if k.endswith('_ms') else 1}f}" for k in after))


STATS = """SELECT
  (SELECT coalesce(sum(calls), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = current_database()),
  (SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_user_tables),
  pg_current_wal_lsn(),
  (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()),
  (SELECT string_agg(pid || ':' || replace(coalesce(backend_type, ''), ' ', '_'), ' ') FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()),
  (SELECT coalesce(sum(s.total_exec_time), 0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
    WHERE d.datname = current_database() AND s.query NOT LIKE '%pg_stat%'
      AND s.query NOT LIKE '%pg_current_wal_lsn%' AND s.query NOT LIKE '%pg_get_wal%')"""


def pg_counters(url: str, since: str = "", cpu_before: dict[int, int] | None = None
                ) -> tuple[dict[str, float], str, dict[int, int]]:
    """The database's own counters of this bench's database. Backends report their statistics when
    idle, at most about every 10 s: wait that long first. `since` (the WAL position of the reading
    before) makes index_entries the entries logged since then (without it, 0); the WAL position of
    this reading comes second, and each server backend's CPU nanoseconds third. cpu_ms is the CPU of
    the backends that serve clients (backend_type 'client backend', and a query's parallel workers)
    since `cpu_before`, read from /proc/PID/schedstat (nanoseconds on the CPU; /proc/PID/stat's
    utime+stime come in clock ticks of 10 ms, 0.1 ms a submission in a count of 100, and each
    backend's are rounded down). Left out: autovacuum's workers (the database's housekeeping, which
    runs when it will: it was in the sum before), the bench's own reading, and the cluster's
    processes of no database (checkpointer, WAL writer). A backend that started since counts whole
    (its start was work in the window); one that ended since is lost, which a pooled server's
    backends rarely do. exec_ms is pg_stat_statements' execution time of the server's statements,
    the bench's own readings left out."""
    time.sleep(11)
    port, name = url.rsplit(":", 1)[1].split("/")
    out = subprocess.run(["psql", "-X", "-At", "-F", "|", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", name,
                          "-c", STATS], capture_output=True, text=True, check=True).stdout.strip()
    statements, rows_, lsn, xacts, pids, exec_ms = out.split("|")
    by_pid, left_out = {}, {}
    for pid, _colon, backend_type in (found.partition(":") for found in pids.split()):
        try:
            ns = int(Path(f"/proc/{pid}/schedstat").read_text().split()[0])
        except OSError:
            continue
        if backend_type in SERVING:
            by_pid[int(pid)] = ns
        else:
            left_out[f"{backend_type} {pid}"] = ns
    cpu = sum(n - (cpu_before or {}).get(pid, 0) for pid, n in by_pid.items())
    if cpu_before is not None and os.environ.get("BENCH_SHOW_BACKENDS"):
        for pid, n in sorted(by_pid.items()):
            print(f"backend {pid}: {(n - cpu_before.get(pid, 0)) / 1e6:9.1f} ms"
                  + ("" if pid in cpu_before else " (started in the window)"), file=sys.stderr)
        for what, n in sorted(left_out.items()):
            print(f"left out {what}: {n / 1e6:9.1f} ms since it started", file=sys.stderr)
    entries = sum(n for _table, n in index_entries(url, since, lsn).values()) if since else 0
    return {"statements": float(statements), "rows": float(rows_), "index_entries": float(entries),
            "xacts": float(xacts), "cpu_ms": cpu / 1e6, "exec_ms": float(exec_ms)}, lsn, by_pid


SERVING = ("client_backend", "parallel_worker")  # pg_stat_activity's backend_type, spaces as _


# A B-tree entry written: into a leaf (INSERT_LEAF), into a posting list of equal keys (INSERT_POST),
# or as the page splits (SPLIT_L / SPLIT_R carry the new entry; an upper level's split, rare in a
# count this small, is counted too); a BRIN index's summary written or widened counts as one entry.
# Block 0 of a record is the index the entry went into. The system catalogs' own (autovacuum's
# ANALYZE writing pg_statistic, ~13 entries per submission in a count of 10) are left out.
WAL_ENTRIES = """SELECT i.relname, t.relname, count(*)
  FROM pg_get_wal_records_info('{start}', '{end}') w
  JOIN pg_class i ON i.relfilenode = substring(w.block_ref from 'blkref #0: rel \\d+/\\d+/(\\d+)')::oid
  JOIN pg_index x ON x.indexrelid = i.oid JOIN pg_class t ON t.oid = x.indrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace
  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
    AND (w.resource_manager = 'Btree' AND w.record_type IN ('INSERT_LEAF', 'INSERT_POST', 'SPLIT_L', 'SPLIT_R')
         OR w.resource_manager = 'BRIN' AND w.record_type IN ('INSERT', 'UPDATE', 'SAMEPAGE_UPDATE'))
    AND substring(w.block_ref from 'blkref #0: rel \\d+/(\\d+)/')::oid
        = (SELECT oid FROM pg_database WHERE datname = current_database())
  GROUP BY i.relname, t.relname"""


def index_entries(url: str, start: str, end: str) -> dict[str, tuple[str, int]]:
    """Index -> (its table, entries written between two WAL positions), from pg_walinspect."""
    port, name = url.rsplit(":", 1)[1].split("/")
    out = subprocess.run(["psql", "-X", "-At", "-F", "|", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", name,
                          "-c", WAL_ENTRIES.format(start=start, end=end)],
                         capture_output=True, text=True, check=True).stdout
    return {f[0]: (f[1], int(f[2])) for f in (line.split("|") for line in out.splitlines())}


SHOWN = """SELECT s.query, sum(s.calls), sum(s.rows), sum(s.total_plan_time), sum(s.total_exec_time)
  FROM pg_stat_statements s
  JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() GROUP BY s.query"""


def statements(url: str) -> dict[str, tuple[int, int, float, float]]:
    """pg_stat_statements of this bench's database: query -> (calls, rows, planning ms, execution ms;
    planning is 0 unless --track-planning). The counters are the
    statements' own (updated as each ends), so no wait is needed; pg_counters waited already."""
    port, name = url.rsplit(":", 1)[1].split("/")
    out = subprocess.run(["psql", "-X", "-At", "-F", "\x1f", "-R", "\x1e", "-h", "127.0.0.1", "-p", port,
                          "-U", "postgres", "-d", name, "-c", SHOWN], capture_output=True, text=True,
                         check=True).stdout
    found = {}
    for record in out.split("\x1e"):
        if record.strip():
            query, calls, rows_, plan, run = record.split("\x1f")
            found[" ".join(query.split())] = (int(calls), int(rows_), float(plan), float(run))
    return found


def print_statements(before: dict[str, tuple[int, int, float, float]],
                     after: dict[str, tuple[int, int, float, float]], count: int) -> None:
    """`--show-statements`: what the counted submissions ran, per submission (calls, rows, planning and
    execution ms, query), most called first; the bench's own readings of the counters left out."""
    rows_ = []
    for query, (calls, returned, plan, run) in after.items():
        if "pg_stat_statements" in query:
            continue
        calls0, returned0, plan0, run0 = before.get(query, (0, 0, 0.0, 0.0))
        if calls > calls0:
            rows_.append(((calls - calls0) / count, (returned - returned0) / count, (plan - plan0) / count,
                          (run - run0) / count, query))
    print(f"{'calls':>6} {'rows':>6} {'plan':>6} {'exec':>6}  query (per submission, {count} submissions; ms)")
    for calls, returned, plan, run, query in sorted(rows_, key=lambda r: -r[0]):
        print(f"{calls:6.2f} {returned:6.2f} {plan:6.3f} {run:6.3f}  {query[:400]}")
    print(f"{sum(r[0] for r in rows_):6.2f} {'':6} {sum(r[2] for r in rows_):6.3f} {sum(r[3] for r in rows_):6.3f}"
          "  in all")


TABLES = """SELECT relname, n_tup_ins, n_tup_upd, n_tup_hot_upd, n_tup_del,
  (SELECT count(*) FROM pg_index i WHERE i.indrelid = relid) FROM pg_stat_user_tables"""


def tables(url: str) -> dict[str, tuple[int, ...]]:
    """pg_stat_user_tables: table -> (inserted, updated, HOT-updated, deleted rows, indexes)."""
    port, name = url.rsplit(":", 1)[1].split("/")
    out = subprocess.run(["psql", "-X", "-At", "-F", "|", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", name,
                          "-c", TABLES], capture_output=True, text=True, check=True).stdout
    return {fields[0]: tuple(int(f) for f in fields[1:]) for fields in (line.split("|") for line in out.splitlines())}


def print_tables(before: dict[str, tuple[int, ...]], after: dict[str, tuple[int, ...]], count: int) -> None:
    """`--show-statements`: rows written per submission by table (what pg_rows and pg_index_entries add up)."""
    print(f"{'ins':>6} {'upd':>6} {'hot':>6} {'del':>6} {'idx':>4}  table (per submission)")
    for table, (ins, upd, hot, dele, indexes) in sorted(after.items()):
        was = before.get(table, (0, 0, 0, 0, indexes))
        moved = [(ins - was[0]) / count, (upd - was[1]) / count, (hot - was[2]) / count, (dele - was[3]) / count]
        if any(moved):
            print(" ".join(f"{m:6.2f}" for m in moved) + f" {indexes:4d}  {table}")


def print_indexes(entries: dict[str, tuple[str, int]], count: int) -> None:
    """`--show-statements`: index entries written per submission, per index (what pg_index_entries adds up)."""
    print(f"{'entries':>7}  index (table), per submission")
    for index, (table, n) in sorted(entries.items(), key=lambda e: (e[1][0], e[0])):
        print(f"{n / count:7.2f}  {index} ({table})")
    print(f"{sum(n for _t, n in entries.values()) / count:7.2f}  in all")


@contextmanager
def own_cluster(track_planning: bool = False) -> Iterator[str]:
    """A throwaway PostgreSQL cluster with pg_stat_statements loaded and pg_walinspect in every new
    database, on a free port. track_planning: pg_stat_statements times each statement's planning too
    (it costs a little backend CPU itself: for --show-statements, not for pg_cpu_ms)."""
    version = sorted(os.listdir("/etc/postgresql"), key=lambda v: [int(p) for p in v.split(".")])[-1]
    name = f"pantau_cost{os.getpid()}"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = str(probe.getsockname()[1])
    try:
        subprocess.run(["pg_createcluster", version, name, "-p", port, "--start",
                        "-o", "shared_preload_libraries=pg_stat_statements",
                        *(("-o", "pg_stat_statements.track_planning=on") if track_planning else ()),
                        "--", "--auth=trust"],
                       capture_output=True, check=True, timeout=180)
        subprocess.run(["psql", "-q", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", "template1", "-c",
                        "CREATE EXTENSION pg_stat_statements; CREATE EXTENSION pg_walinspect"],
                       capture_output=True, check=True)
        yield port
    finally:
        subprocess.run(["pg_dropcluster", "--stop", version, name], capture_output=True, timeout=120, check=False)


def day_pass_done(server: Server, within: float = 240) -> None:
    """Wait for the day's probable-duplicates pass over the whole registry (storage/duplicates.nightly,
    run by the server's first round a minute after it starts, once a day from 02:00 WITA): under
    valgrind it takes seconds and would otherwise fall inside a counted window as the registrations'
    work. The minute's check of new people still runs in the windows: that is work a registration
    causes (cheap for people who share no birth date, card or whole name)."""
    import asyncio

    from server.storage.db import Database

    async def done() -> bool:
        db = Database(server.database_url)
        await db.open(bind_tables=False)
        try:
            found = await db.fetch("SELECT COUNT(*) AS n FROM duplicate_pass WHERE finished_at IS NOT NULL")
            return int(found[0]["n"]) > 0
        finally:
            await db.close()

    deadline = time.monotonic() + within
    while not asyncio.run(done()):
        if time.monotonic() > deadline:
            print(f"the day's duplicates pass had not finished within {within:.0f} s (before 02:00 WITA it "
                  "does not run): counting anyway", file=sys.stderr)
            return
        time.sleep(5)


def rows(server: Server) -> int:
    import asyncio

    from submit_load import stored_rows

    return asyncio.run(stored_rows(server.database_url))[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--show-statements", action="store_true",
                        help="PostgreSQL: list the statements the counted submissions ran, per submission")
    parser.add_argument("--track-planning", action="store_true",
                        help="PostgreSQL: time the statements' planning too (listed by --show-statements)")
    parser.add_argument("--keep-callgrind", default="", metavar="DIR",
                        help="copy the counted submissions' callgrind dump (one file per thread) into DIR")
    args = parser.parse_args()
    for kind in ("sqlite", "postgres") if args.db == "both" else (args.db,):
        if kind == "postgres":
            with own_cluster(args.track_planning) as port:
                os.environ["BENCH_PG_PORT"] = port
                print(measure(kind, args.requests, args.show_statements, args.keep_callgrind), flush=True)
        else:
            print(measure(kind, args.requests, keep=args.keep_callgrind), flush=True)


if __name__ == "__main__":
    main()
