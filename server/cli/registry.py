"""`pantau registry import FILE [--mapping NAME] [--area CODE] [--commit]`: the registry page's import
from the command line. A dry run unless --commit: every row is checked and each finding printed as
`FILE:ROW: level code message`; --report OUT.xlsx writes the rows back with their reasons for the
kecamatan to correct. Exit 1 when any row has an error (rows without errors are still committed with
--commit: the same choice the page offers), 2 for bad usage or a file that cannot be read."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import msgspec

from server.cli.common import prepared_settings, with_db
from server.domain import registry_import as checks
from server.domain.access import Principal
from server.domain.registry_file import FileProblem
from server.settings import Settings
from server.storage import registry_import as store
from server.storage import users
from server.storage.db import Database
from server.storage.writer import Writer

BAR = 30
IMPORTERS = ("staff", "admin")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("registry", help="the beneficiary registry")
    registry_sub = p.add_subparsers(dest="registry_command", metavar="SUBCOMMAND", parser_class=type(p))
    registry_sub.required = True
    imp = registry_sub.add_parser("import", help="check (and with --commit import) a beneficiary list, XLSX or CSV")
    imp.add_argument("file", help="the list: .xlsx or .csv (any common encoding and delimiter)")
    imp.add_argument("--programme", default="", help="programme code (default: the only one with a registration form)")
    imp.add_argument("--mapping", default="", help="a column mapping saved by name (page or --save-mapping)")
    imp.add_argument("--area", default="", help="kecamatan or desa code the list belongs to, e.g. 64.02.06")
    imp.add_argument("--sheet", default="", help="the sheet to read (default: the first)")
    imp.add_argument("--update", default="", help="fields a known NIK may change, comma-separated: "
                     + ", ".join(checks.UPDATABLE))
    imp.add_argument("--commit", action="store_true", help="import the rows without errors (default: dry run)")
    imp.add_argument("--confirm-warnings", action="store_true", help="with --commit: import rows with warnings too")
    imp.add_argument("--user", default="", help="with --commit: the staff or admin account the import is made by")
    imp.add_argument("--report", default="", help="write the rows with their status and reasons to this XLSX")
    imp.add_argument("--save-mapping", default="", help="save the mapping used under this name")
    imp.set_defaults(func=_import)


def _import(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        return _usage(f"berkas {path} tidak ada / file does not exist")
    update = [f.strip() for f in args.update.split(",") if f.strip()]
    if any(f not in checks.UPDATABLE for f in update):
        return _usage(f"--update: pilih dari / choose from {', '.join(checks.UPDATABLE)}")
    if args.area and not _known_area(args.area):
        return _usage(f"--area {args.area}: bukan kode kecamatan/desa Kutai Kartanegara / not a Kukar region code")
    if args.commit and not args.user:
        return _usage("--commit perlu --user (akun staf/admin) / --commit needs --user (a staff or admin account)")
    settings = prepared_settings()
    return with_db(settings, lambda db: _run(db, settings, args, path, update))


async def _run(db: Database, settings: Settings, args: argparse.Namespace, path: Path, update: list[str]) -> int:
    principal = await _principal(db, args.user) if args.commit else None
    if args.commit and principal is None:
        return _usage(f"--user {args.user}: bukan akun staf/admin yang aktif / not an active staff or admin account")
    intake = await store.intake_for(db, args.programme)
    mapping = await _mapping(db, args.mapping)
    if args.mapping and mapping is None:
        return _usage(f"--mapping {args.mapping}: tidak ada / no such mapping")
    started = time.monotonic()
    try:
        run = await store.dry_run(db, settings, intake, path, mapping=mapping, area=args.area, sheet=args.sheet,
                                  progress=_progress)
    except FileProblem as problem:
        sys.stderr.write(f"\n{path}: {problem.message('id')} / {problem.message('en')} [{problem.code}]\n")
        return 2
    sys.stderr.write("\n")
    if update:
        run.mapping = msgspec.structs.replace(run.mapping, update=update)
    _print(path, run, time.monotonic() - started)
    if args.save_mapping and principal is not None:
        await store.save_mapping(db, args.save_mapping, run.mapping, principal)
    if args.report:
        checks.write_reasons(path, run, Path(args.report), args.sheet)
        print(f"{path}: alasan per baris ditulis ke / reasons written to {args.report}")
    if run.missing:
        return 1
    if args.commit and principal is not None:
        await _commit(db, settings, intake, run, path, args.confirm_warnings, principal)
    return 1 if run.summary.error else 0


async def _commit(db: Database, settings: Settings, intake: store.IntakeForm, run: checks.DryRun, path: Path,
                  with_warnings: bool, principal: Principal) -> None:
    upload = store.Upload(file_name=path.name, sha256=store.sha256_of(path), mapping=run.mapping,
                          with_warnings=with_warnings)
    writer = Writer(db)
    await writer.start()
    try:
        outcome = await store.commit(db, writer, settings, intake, run, upload, principal, "cli")
    finally:
        await writer.stop()
    if outcome.already is not None:
        print(f"{path}: berkas ini sudah diimpor {outcome.already.at} oleh {outcome.already.by}: tidak ada yang "
              f"berubah / this file was imported before: nothing changed")
        return
    print(f"{path}: diimpor / imported: {outcome.created} baru/new, {outcome.updated} diperbarui/updated, "
          f"{outcome.unchanged} tetap/unchanged, {outcome.skipped} dilewati/skipped")


def _print(path: Path, run: checks.DryRun, seconds: float) -> None:
    layout = run.layout
    how = f"{layout.kind}" + (f", {layout.encoding}, pemisah/delimiter {layout.delimiter!r}" if layout.kind == "csv"
                              else f", lembar/sheet {layout.sheet}")
    print(f"{path}: {how}, judul kolom di baris/header on row {layout.header_row}")
    for field, column in run.mapping.columns.items():
        print(f"{path}: kolom/column {column!r} -> {field}")
    if run.missing:
        print(f"{path}: error import.missing_columns kolom untuk {', '.join(run.missing)} tidak ditemukan / "
              f"no column found for {', '.join(run.missing)}")
        return
    out = sys.stdout
    for result in run.results:
        for finding in result.findings:
            out.write(f"{path}:{result.row}: {finding.level} {finding.code} {finding.id}\n")
    s = run.summary
    print(f"{path}: {s.rows} baris/rows: {s.ok} ok, {s.warning} peringatan/warnings, {s.error} galat/errors "
          f"({seconds:.1f} s)")


async def _principal(db: Database, username: str) -> Principal | None:
    account = await users.get(db, username)
    if account is None or not account.active or account.role not in IMPORTERS:
        return None
    return Principal(id=account.id, username=account.username, display_name=account.display_name,
                     role=account.role, areas=account.areas)


async def _mapping(db: Database, name: str) -> checks.Mapping | None:
    return (await store.mappings(db)).get(name) if name else None


def _known_area(code: str) -> bool:
    regions = checks.regions()
    return code in regions.names


def _usage(message: str) -> int:
    sys.stderr.write(f"pantau: {message}\n")
    return 2


def _progress(done: int, total: int) -> None:
    share = done / total if total else 1.0
    filled = round(BAR * min(share, 1.0))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (BAR - filled)}] {done:>7} / {total} baris/rows")
    sys.stderr.flush()
