"""`pantau forms load PATH...`: compile form files and publish them. Loading the same file again
creates nothing (same content hash); a changed file under an already published version label is
refused with the fix (raise the version). The files a workbook names (select_one_from_file,
csv-external) are read from beside it or given with --attach, as for `pantau forms check`; so are
the image, audio and video files its media columns name, which are checked as the upload page checks
them (storage/form_media.checked) and stored with the form. A media file not found is a warning."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from server.cli.attach import Attached, attach_argument, attached_files
from server.cli.common import prepared_settings, with_db
from server.domain.form import Form
from server.domain.form_media import bad_name, named_files
from server.errors import PantauError
from server.settings import Settings
from server.storage import form_media, forms
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

    settings = prepared_settings(seals=False) if compiled else None
    ready = []
    for path, form in compiled:  # media checked before anything is published: a bad file stops its form
        assert settings is not None
        files = _media_files(path, form.definition, attached, settings.max_form_media_bytes)
        if files is None:
            failed += 1
        else:
            ready.append((path, form, files))

    async def publish_all(db: Database) -> None:
        assert settings is not None
        for path, form, files in ready:
            done = await forms.publish(db, form, path.read_bytes(), path.name)
            state = "diterbitkan / published" if done.created else "sudah ada / unchanged"
            print(f"{done.form_id} v{done.version}: {state}")
            await _store_media(db, settings, form.definition.settings.id, files)

    if ready and settings is not None:
        with_db(settings, publish_all)
    return 1 if failed else 0


Checked = dict[str, tuple[bytes, str]]


def _media_files(path: Path, definition: Form, attached: dict[str, Path], limit: int) -> Checked | None:
    """The media files the form names, from --attach or beside the form file, each checked as the
    upload page checks it (read to limit + 1: a larger one is too large): name -> (bytes, content
    type). One not found is a warning; None when one is refused (the form is not published)."""
    named = named_files(definition)
    files: Checked = {}
    refused = False
    for name, kind in named.items():
        target = attached.get(name, path.resolve().parent / name)
        if bad_name(name) or not target.is_file():
            print(f"{path}: form.missing_media {name} ({kind}) not found beside the form or given with --attach")
            continue
        with target.open("rb") as file:
            data = file.read(limit + 1)
        try:
            files[name] = (data, form_media.checked(name, data, named, limit))
        except PantauError as exc:
            print(f"{target}: {exc.code} {exc.message('en')}")
            refused = True
    return None if refused else files


async def _store_media(db: Database, settings: Settings, form_id: str, files: Checked) -> None:
    stored = await form_media.listed(db, form_id)
    for name, (data, content_type) in files.items():
        if name in stored and stored[name].sha256 == hashlib.sha256(data).hexdigest():
            continue  # loaded before: no second audit row
        await form_media.save(db, settings.data_dir, None, form_id, name, data, content_type, by="pantau forms load")
        print(f"{form_id}: media {name} ({content_type}, {len(data)} bytes)")
