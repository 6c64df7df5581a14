"""`pantau reports render NAME --period 2026-Q3 --scope 64.02 --out FILE.pdf`: a report made offline,
in this process, with a progress bar on stderr. Bad input (unknown report, period or scope, or a
period that has not begun) is one line and exit code 2, before any work; `pantau reports list`
names the shipped reports, `pantau reports editions` the editions made, with their fingerprints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from server import clock
from server.cli.common import prepared_settings, with_db
from server.clock import WITA
from server.reports import definitions, worker
from server.storage import reports as store
from server.storage.db import Database

BAR = 30


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("reports", help="evaluation reports (PDF)")
    reports_sub = p.add_subparsers(dest="reports_command", metavar="SUBCOMMAND", parser_class=type(p))
    reports_sub.required = True
    render = reports_sub.add_parser("render", help="render one report to a PDF file, offline")
    render.add_argument("name", help="report name, e.g. monev_triwulan (see `pantau reports list`)")
    render.add_argument("--period", required=True, help="2026-Q3 (triwulan), 2026-07, 2026-S2 or 2026")
    render.add_argument(
        "--scope",
        default=definitions.KABUPATEN,
        help="64.02 (Kutai Kartanegara, default) or a kecamatan code such as 64.02.06",
    )
    render.add_argument("--out", required=True, help="the PDF file to write")
    render.add_argument(
        "--all",
        action="store_true",
        dest="include_all",
        help="count received and sent-back submissions too, never rejected ones (the cover and footnotes say so)",
    )
    render.set_defaults(func=_render)
    listing = reports_sub.add_parser("list", help="the report definitions in reports/")
    listing.set_defaults(func=_list)
    made = reports_sub.add_parser("editions", help="the editions made on the server: fingerprint, final or provisional")
    made.add_argument("name", nargs="?", default="", help="only this report")
    made.set_defaults(func=_editions)


def _list(args: argparse.Namespace) -> int:
    for name in definitions.names():
        definition = definitions.load(name)
        print(f"{name}\t{definition.period}\t{definition.title}")
    return 0


def _editions(args: argparse.Namespace) -> int:
    """One line per edition, newest run first: two editions with the same fingerprint were made
    from the same figures; SEMENTARA marks one made before its period ended."""

    async def lines(db: Database) -> list[str]:
        found = []
        for run in await store.runs_in(db, None):
            if args.name and run.report != args.name:
                continue
            for e in await store.editions_of(db, run.id):
                made = e.created_at.astimezone(WITA).strftime("%Y-%m-%d %H:%M") if e.created_at else ""
                status = "SEMENTARA/provisional" if e.provisional else "final"
                basis = "semua/all" if e.include_all else "disetujui/approved"
                found.append(
                    f"{run.report}\t{run.period}\t{run.scope}\tedisi {e.edition}\t{made} WITA\t{status}\t"
                    f"{e.fingerprint or '-'}\t{basis}\tsha256 {e.sha256}"
                )
        return found

    for line in with_db(prepared_settings(), lines):
        print(line)
    return 0


def _render(args: argparse.Namespace) -> int:
    # Checked before the settings and the database: a typo answers at once, with exit code 2.
    definition = definitions.load(args.name)
    period = definitions.period_for(definition, args.period)
    scope = definitions.scope_for(definition, args.scope)
    made_on = clock.today()
    definitions.require_started(period, made_on)
    out = Path(args.out)
    if not out.parent.resolve().is_dir():
        sys.stderr.write(f"pantau: folder {out.parent} tidak ada / does not exist\n")
        return 2
    settings = prepared_settings()
    job = worker.Job(
        url=settings.database_url,
        data_dir=settings.data_dir,
        report=definition.name,
        period=period.code,
        scope=scope,
        include_all=args.include_all,
        made_on=made_on,
    )
    pdf, made = worker.build_pdf(job, _progress)
    out.write_bytes(pdf)
    sys.stderr.write("\n")
    status = "SEMENTARA/provisional" if made.provisional else "final"
    print(
        f"{out}: {made.pages} halaman/pages, {made.size:,} bytes, {made.seconds:.1f} s, sha256 {made.sha256}, "
        f"sidik data/fingerprint {made.fingerprint}, {status}"
    )
    return 0


def _progress(step: str, done: float) -> None:
    filled = round(BAR * done)
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {done * 100:3.0f}% {step:<24}")
    sys.stderr.flush()
