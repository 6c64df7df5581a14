"""The scale-out drill on one machine (tests/drill.py does the work): a PostgreSQL primary and a hot
standby made with pg_basebackup on ports of their own (removed afterwards), three `pantau serve`
nodes reading heavy pages from the standby, nginx in front (round robin; a submission is retried on
another node when the first cannot be reached, since it is idempotent by instance id). 50 clients
post valid registrations through nginx for 30 s; in the middle one node is killed with SIGKILL and
started again (nginx passes its submissions on to another node, so no client sees it), and later nginx
itself is killed for a second (every client's connection cut, some after their submission was stored:
the clients see the failure and resend the same instance id); the nodes' report schedule makes the
quarterly report meanwhile. Needs root (the clusters belong to the postgres user) and nginx-light.

    .venv/bin/python bench/scale_out.py

Targets: lost = 0, duplicates = 0, reports_made = 1, failed = 0, saw_failure > 0 and
retried_ok = saw_failure (every client that saw a failure succeeded on resending the same instance
id). The rate is reported, with no target: three nodes, two PostgreSQL clusters, nginx and the
clients share two cores here."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.drill import drill


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--kill-at", type=float, help="seconds into the load (default: half way)")
    parser.add_argument("--kill-renderer", action="store_true",
                        help="kill the node making the scheduled report, once one is (from --kill-at on)")
    parser.add_argument("--proxy-down-at", type=float,
                        help="seconds into the load when nginx itself is killed for a second, so that clients see "
                             "failures and resend (default: at 70%%; negative: never)")
    parser.add_argument("--keep", action="store_true", help="keep the working folder (node and nginx logs)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="pantau-scale-out-"))
    try:
        outcome = drill(workdir, nodes=args.nodes, clients=args.clients, seconds=args.seconds,
                        kill_at=args.seconds / 2 if args.kill_at is None else args.kill_at,
                        victim=None if args.kill_renderer else 1,
                        proxy_down_at=(args.seconds * 0.7 if args.proxy_down_at is None
                                       else None if args.proxy_down_at < 0 else args.proxy_down_at))
        for scope, status, message in outcome.report_runs:
            print(f"scheduled report {scope}: {status} {message}".rstrip())
        for answer, count in outcome.tally.refused.items():
            print(f"refused {count}x: {answer}")
        print(outcome.line(), flush=True)
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
