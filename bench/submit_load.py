"""Submission throughput over HTTP: 50 concurrent clients post valid registrasi_penerima answers,
each with a fresh instance id, to a real `pantau serve`; then every acknowledged submission must be
in the database exactly once. The same run measures a no-op endpoint that decodes the same body
into the same Struct, and reports the ratio (what validation and durable storage cost on top of
HTTP). Runs on SQLite and PostgreSQL: `make bench NAME=submit_load`.

Targets: >= 1500 sub/s on each database, p99 <= 250 ms, failed = 0, lost = 0,
ratio_noop >= 0.4."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import Server, WrkResult, median, serving, wrk
from sample_answers import registrasi

LUA = r"""
-- Each request carries a new, unique instance id: thread number, round and a counter. It also
-- registers a different person: NIK, birth date and No. KK follow from the same number, so the
-- registry does the work of a real intake (a new beneficiary), not 10,000 updates of one person.
local counter = 0
statuses = {}
local threads = {}
function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end
function init(args)
  statuses = {}
end
function request()
  counter = counter + 1
  local id = string.format("%08x-%04x-4000-8000-%012x", ROUND, tid, counter)
  local n = ROUND * 1000000 + counter * 2 + tid - 1
  local serial = string.format("%04d", n % 9999 + 1)
  local yy = string.format("%02d", 70 + math.floor(n / 9999) % 30)  -- aged 27-56: a PRSE is 18-59
  local dd = string.format("%02d", 1 + math.floor(n / 9999) % 28)
  local mm = string.format("%02d", 1 + math.floor(n / (9999 * 28)) % 12)
  local body = string.gsub(TEMPLATE, "__ID__", id)
  body = string.gsub(body, "__NIK__", "6402064101" .. yy .. serial)
  body = string.gsub(body, "__LAHIR__", "19" .. yy .. "-01-01")
  body = string.gsub(body, "__KK__", "640206" .. dd .. mm .. "15" .. serial)
  return wrk.format("POST", PATH, HEADERS, body)
end
function response(status, headers, body)
  local key = tostring(status)
  statuses[key] = (statuses[key] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local s = thread:get("statuses")
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do table.insert(parts, string.format('"%s": %d', k, v)) end
  io.write("STATUSES {" .. table.concat(parts, ", ") .. "}\n")
end
"""


def lua_script(server: Server, path: str, template: str, round_no: int) -> Path:
    headers = {"Content-Type": "application/json", "Cookie": server.cookie_header(),
               "X-CSRFToken": server.cookie("csrftoken")}
    lua_headers = "{" + ", ".join(f'["{k}"] = {json.dumps(v)}' for k, v in headers.items()) + "}"
    script = server.workdir / f"load_{path.strip('/').replace('/', '_')}_{round_no}.lua"
    script.write_text(f"ROUND = {round_no}\nPATH = {json.dumps(path)}\nHEADERS = {lua_headers}\n"
                      f"TEMPLATE = {json.dumps(template)}\n" + LUA)
    return script


async def stored_rows(database_url: str) -> tuple[int, int, int]:
    """Submissions, distinct instance ids and beneficiaries, in one statement: the server may still be
    finishing requests that were in flight when wrk stopped."""
    from server.storage.db import Database

    db = Database(database_url)
    await db.open()
    try:
        row = (await db.fetch("SELECT COUNT(*) AS n, COUNT(DISTINCT id) AS d, "
                              "(SELECT COUNT(*) FROM beneficiary) AS p FROM submission"))[0]
        return int(row["n"]), int(row["d"]), int(row["p"])
    finally:
        await db.close()


def form_version(form_id: str) -> str:
    """The version the shipped form file declares, so the bench follows the form when it is bumped."""
    from server.domain.compile import compile_source

    path = Path(__file__).resolve().parents[1] / "forms" / f"{form_id}.yaml"
    compiled = compile_source(path.read_bytes(), path.name).compiled
    assert compiled is not None, f"{path} does not compile"
    return compiled.version


def body_template(photo: str) -> str:
    """A registrasi_penerima submission with placeholders the Lua script fills per request."""
    answers = {**registrasi(photo), "nik": "__NIK__", "tgl_lahir": "__LAHIR__", "no_kk": "__KK__"}
    return json.dumps({"instance_id": "__ID__", "form_id": "registrasi_penerima",
                       "form_version": form_version("registrasi_penerima"), "answers": answers})


def measure(kind: str, connections: int, seconds: int, rounds: int, workers: int) -> str:
    with serving(kind, extra_env={"PANTAU_WORKERS": str(workers)}) as server:
        server.sign_in("citra")
        photo = server.upload_photo()
        template = body_template(photo)
        submits: list[WrkResult] = []
        noops: list[WrkResult] = []
        for round_no in range(1, rounds + 1):
            noops.append(wrk(server.url, lua_script(server, "/api/v1/bench/noop", template, round_no),
                             connections=connections, seconds=seconds))
            submits.append(wrk(server.url, lua_script(server, "/api/v1/submissions", template, round_no),
                               connections=connections, seconds=seconds))
        acked = sum(r.statuses.get("201", 0) for r in submits)
        failed = sum(sum(n for code, n in r.statuses.items() if code != "201") + r.errors for r in submits)
        rows, distinct, people = asyncio.run(stored_rows(server.database_url))
    rate = median([r.requests_per_s for r in submits])
    noop = median([r.requests_per_s for r in noops])
    p99 = median([r.p99_ms for r in submits])
    lost = max(0, acked - distinct)
    return (f"BENCH submit_load {rate:.0f} sub/s db={kind} p99_ms={p99:.0f} failed={failed} lost={lost} "
            f"ratio_noop={rate / noop:.2f} noop_rps={noop:.0f} acked={acked} rows={rows} duplicates={rows - distinct} "
            f"beneficiaries={people} "
            f"connections={connections} workers={workers} rounds={rounds} target_sub_s=1500 target_p99_ms=250")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    # One worker process per core, as PANTAU_WORKERS=0 would pick here (the machine has 2 cores).
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    kinds = ("sqlite", "postgres") if args.db == "both" else (args.db,)
    for kind in kinds:
        print(measure(kind, args.connections, args.seconds, args.rounds, args.workers), flush=True)


if __name__ == "__main__":
    main()
