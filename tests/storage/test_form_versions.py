"""A published version is decoded once per process: its generated validation goes with it."""

from __future__ import annotations

from pathlib import Path

from server.domain import codegen
from server.domain.compile import compile_source
from server.storage import forms
from server.storage.db import Database

FORM = Path(__file__).resolve().parents[2] / "forms" / "monev_uep.yaml"


async def test_the_newest_version_is_the_one_already_loaded_with_its_generated_validation(db: Database) -> None:
    compiled = compile_source(FORM.read_bytes(), FORM.name).compiled
    assert compiled is not None
    await forms.publish(db, compiled, FORM.read_bytes(), FORM.name)
    by_version = await forms.load_version(db, compiled.form_id, compiled.version)
    assert by_version is not None
    generated = codegen.generated(by_version.compiled)
    newest = await forms.load_version(db, compiled.form_id)
    assert newest is by_version and codegen.generated(newest.compiled) is generated
    assert await forms.load_version(db, compiled.form_id) is by_version
