"""`pantau forms load PATH...`: compile form files and publish them. Loading the same file again
creates nothing (same content hash); a changed file under an already published version label is
refused with the fix (raise the version). The files a workbook names (select_one_from_file,
csv-external) are read from beside it or given with --attach, as for `pantau forms check`."""

from __future__ import annotations

import argparse
from pathlib import Path

from server.cli.common import prepared_settings, with_db
from server.cli.forms import Attached, attach_argument, attached_files
from server.errors import PantauError
from server.storage import forms
from server.storage.db import Database

MAX_FORM_FILE = 1024 * 1024


def add_load_command(forms_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = forms_sub.add_parser("load", help="compile form files and publish them into the database")
    p.add_argument("paths", nargs="+", metavar="PATH")
    attach_argument(p)
    p.set_defaults(func=_load)


def _load(args: argparse.Namespace) -> int:
    from server.domain.compile import compile_source  # the compiler is heavy; other commands skip it

    compiled = []
    failed = 0
    attached = attached_files(args)
    for name in args.paths:
        path = Path(name)
        if not path.is_file():
            raise PantauError("form.file_missing", path=name)
        result = compile_source(path.read_bytes()[: MAX_FORM_FILE + 1], path.name, Attached(name, attached))
        for p in result.problems:
            print(f"{name}:{p.line}:{p.column} {p.code} {p.message_en}")
        if result.compiled is None:
            failed += 1
            continue
        compiled.append((path, result.compiled))

    async def publish_all(db: Database) -> None:
        for path, form in compiled:
            done = await forms.publish(db, form, path.read_bytes(), path.name)
            state = "diterbitkan / published" if done.created else "sudah ada / unchanged"
            print(f"{done.form_id} v{done.version}: {state}")

    if compiled:
        with_db(prepared_settings(seals=False), publish_all)
    return 1 if failed else 0
