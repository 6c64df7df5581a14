"""A published version keeps its source as text: a form uploaded as an XLSForm workbook (bytes a text
column cannot hold: PostgreSQL refuses NUL) is kept as the YAML it became, which compiles to the same
form."""

from __future__ import annotations

from pathlib import Path

from server.domain.compile import compile_source
from server.domain.xlsform_export import export_xlsform
from server.storage import forms
from server.storage.db import Database

REPO = Path(__file__).resolve().parents[2]


async def test_a_workbook_is_kept_as_the_yaml_it_became(db: Database) -> None:
    shipped = compile_source((REPO / "forms" / "monev_uep.yaml").read_bytes(), "monev_uep.yaml").compiled
    assert shipped is not None
    workbook = export_xlsform(shipped.definition)
    assert b"\x00" in workbook
    compiled = compile_source(workbook, "monev_uep.xlsx").compiled
    assert compiled is not None
    await forms.publish(db, compiled, workbook, "monev_uep.xlsx")
    [row] = await db.fetch("SELECT source FROM form_version")
    again = compile_source(str(row["source"]).encode(), "monev_uep.yaml").compiled
    assert again is not None and again.content_hash == compiled.content_hash
