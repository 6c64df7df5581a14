"""pyxform's own test forms (tests/data/pyxform_corpus, pinned commit in its README) against Pantau's
import: of the forms pyxform converts, the share Pantau accepts, the rest refused with messages
that name the feature, sheet and row in both languages, and never a traceback. Accepted forms open
on /f/<id> (every 4th one and every workbook of example_xls, to keep the test near 30 s)."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from server.domain.compile import compile_form, load_source
from server.settings import Settings
from server.storage import forms
from server.storage.db import Database
from tests.corpus.pyxform_corpus import Figures, Outcome, report, run

# The share of the forms pyxform converts that Pantau accepts as they are. The aim is 90 %;
# this floor is what the import reaches today (see the report of the test run), so it cannot slip back.
FLOOR = 0.76


@pytest.fixture(scope="module")
def figures() -> Figures:
    return run()


def test_no_form_of_the_corpus_gives_a_traceback(figures: Figures) -> None:
    crashed = [o.name for o in figures.outcomes if o.traceback]
    assert crashed == [], report(figures)
    assert len(figures.converted) > 500  # the corpus is there: the workbooks and the markdown forms


def test_the_share_accepted_does_not_fall_below_the_floor(figures: Figures) -> None:
    print(report(figures))
    assert figures.share() >= FLOOR, report(figures)


def test_every_refusal_names_the_feature_sheet_and_row_in_both_languages(figures: Figures) -> None:
    for outcome in figures.converted:
        if outcome.accepted or outcome.result is None:
            continue
        errors = [p for p in outcome.result.problems if p.severity == "error"]
        assert errors, outcome.name
        for p in errors:
            assert "[" in p.file and p.line >= 1, (outcome.name, p.format())  # file.xlsx[sheet]:row
            assert p.message_id and p.message_en and p.message_id != p.message_en, (outcome.name, p.format())


def _publish(settings: Settings, outcome: Outcome, data: bytes, form_id: str) -> str:
    loaded = load_source(data, outcome.name)
    assert loaded.form is not None
    form = msgspec.structs.replace(loaded.form, settings=msgspec.structs.replace(loaded.form.settings, id=form_id))
    compiled = compile_form(form).compiled
    assert compiled is not None, outcome.name

    async def store() -> None:
        db = Database(settings.database_url)
        await db.open()
        try:
            await forms.publish(db, compiled, data, outcome.name)
        finally:
            await db.close()

    asyncio.run(store())
    return form_id


def test_accepted_forms_open_on_the_fill_page(figures: Figures, as_, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    accepted = [o for o in figures.converted if o.accepted]
    sample = [o for i, o in enumerate(accepted) if i % 4 == 0 or not o.name.startswith(("test_", "entities__"))]
    citra = as_("citra")
    for number, outcome in enumerate(sample):
        form_id = _publish(settings, outcome, figures.data[outcome.name], f"korpus_{number}")
        page = citra.get(f"/f/{form_id}")
        assert page.status_code == 200, (outcome.name, page.text[:300])
        assert 'name="_id"' in page.text, outcome.name
