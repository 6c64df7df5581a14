"""pyxform's own test forms that Pantau accepts open on /f/<id> (every 4th one, every workbook of
example_xls and every form whose names the import rewrote, to keep the test near 45 s), on both
databases. The import's figures (share accepted, refusals, tracebacks) touch no database and are
tests/domain/test_pyxform_corpus.py. The sample is taken from every form Pantau accepts, whether or
not pyxform converts it."""

from __future__ import annotations

import asyncio
import re

import msgspec

from server.domain.compile import compile_form, load_source
from server.settings import Settings
from server.storage import forms as stored_forms
from server.storage.db import Database
from tests.corpus.pyxform_corpus import compiled, forms


def _publish(settings: Settings, name: str, data: bytes, form_id: str) -> str:
    loaded = load_source(data, name)
    assert loaded.form is not None
    form = msgspec.structs.replace(loaded.form, settings=msgspec.structs.replace(loaded.form.settings, id=form_id))
    version = compile_form(form).compiled
    assert version is not None, name

    async def store() -> None:
        db = Database(settings.database_url)
        await db.open()
        try:
            await stored_forms.publish(db, version, data, name)
        finally:
            await db.close()

    asyncio.run(store())
    return form_id


def test_accepted_forms_open_on_the_fill_page(as_, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    accepted = [(name, data) for name, data in forms() if compiled(name).compiled is not None]
    assert len(accepted) > 500
    # Every form whose names the import rewrote (loops, a name in two groups, a form_id) is in too.
    sample = [(name, data) for i, (name, data) in enumerate(accepted)
              if i % 4 == 0 or not name.startswith(("test_", "entities__"))
              or any(p.code == "xlsform.renamed" for p in compiled(name).problems)]
    citra = as_("citra")
    for number, (name, data) in enumerate(sample):
        form_id = _publish(settings, name, data, f"korpus_{number}")
        page = citra.get(f"/f/{form_id}")
        assert page.status_code == 200, (name, page.text[:300])
        assert 'name="_id"' in page.text, name


def test_audio_and_video_show_their_upload_with_the_recorder(as_, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    data = dict(forms())["widgets.xls"]
    page = as_("citra").get(f"/f/{_publish(settings, 'widgets.xls', data, 'korpus_widgets')}")
    assert page.status_code == 200
    for accept, capture in (("audio/*", "user"), ("video/*", "environment")):
        assert f'accept="{accept}" capture="{capture}"' in page.text, accept
    inputs = re.findall(r'<input type="file"[^>]*>', page.text)
    assert inputs and not [i for i in inputs if " disabled" in i]


def test_a_loop_opens_as_one_group_per_choice(as_, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    name = "test_loop_L25.xlsx"  # begin_loop over c1 (thing1, thing2): q1 "Age", q2 "Size of %(label)s"
    page = as_("citra").get(f"/f/{_publish(settings, name, dict(forms())[name], 'korpus_loop')}")
    assert page.status_code == 200
    assert "Size of Thing 1" in page.text and "Size of Thing 2" in page.text and "%(label)s" not in page.text
    assert 'name="l1_thing2_q2"' in page.text


def test_a_last_saved_label_opens_and_reads_empty(as_, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    name = "test_last_saved_L43.xlsx"
    page = as_("citra").get(f"/f/{_publish(settings, name, dict(forms())[name], 'korpus_last_saved')}")
    assert page.status_code == 200
    assert 'data-t="Foo was previously ${last-saved#foo}">Foo was previously </span>' in page.text
