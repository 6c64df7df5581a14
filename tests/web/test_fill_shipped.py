"""Every shipped form opens on the phone page: a question type without a widget would be a 500."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from server.domain.compile import compile_source
from server.settings import Settings
from server.storage import forms
from server.storage.db import Database
from tests.conftest import REPO

SHIPPED = sorted((REPO / "forms").glob("*.yaml"))


def _publish(settings: Settings, path: Path) -> str:
    source = path.read_bytes()
    result = compile_source(source, path.name)
    assert result.compiled is not None, result.problems

    async def run() -> None:
        db = Database(settings.database_url)
        await db.open()
        try:
            await forms.publish(db, result.compiled, source, path.name)
        finally:
            await db.close()

    asyncio.run(run())
    return result.compiled.form_id


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_shipped_form_opens_in_both_languages(as_, settings, path: Path) -> None:  # type: ignore[no-untyped-def]
    form_id = _publish(settings, path)
    citra = as_("citra")
    for lang in ("id", "en"):
        page = citra.get(f"/f/{form_id}?lang={lang}")
        assert page.status_code == 200, page.text[:500]
        assert 'name="_id"' in page.text  # the instance id, made when the form opens
