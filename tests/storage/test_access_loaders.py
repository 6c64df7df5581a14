"""storage/access.form_version_for, read as sentences: a form assigned to Samboja is filled by Dewi
and nobody else who fills, read by every reviewer, and edited by staff; each refusal is the need's
403 or the caller's own "no such form" code. (Every route's use of the loaders is walked in
tests/web/test_route_loaders.py.)"""

from __future__ import annotations

import msgspec
import pytest

from server.domain.access import Principal
from server.domain.compile import compile_source
from server.errors import PantauError
from server.storage import access, form_drafts, forms, users
from server.storage.db import Database
from server.storage.writer import Writer

ANI = Principal(id=1, username="ani", display_name="Ani", role="staff")
BUDI = Principal(id=2, username="budi", display_name="Budi", role="coordinator", areas=("64.02.06",))
CITRA = Principal(id=3, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))
DEWI = Principal(id=4, username="dewi", display_name="Dewi", role="enumerator", areas=("64.02.13",))
FORM = b"""
settings: {id: uji_akses, version: "1", title: {id: Uji akses}}
fields:
  - {type: text, name: nama, label: {id: Nama}}
"""


@pytest.fixture
async def samboja_form(db: Database, writer: Writer) -> None:
    author = await users.create(db, "ani", "staff", "x", "Ani", ())  # the assignment is audited under her id
    compiled = compile_source(FORM, "uji_akses.yaml").compiled
    assert compiled is not None
    await forms.publish(db, compiled, FORM, "uji_akses.yaml")
    samboja = form_drafts.Assignment((), ("64.02.13",))
    await form_drafts.set_assignment(writer, msgspec.structs.replace(ANI, id=author.id), "uji_akses", samboja)


async def _code(db: Database, principal: Principal, need: access.FormNeed, **kw: str) -> str:
    try:
        loaded = await access.form_version_for(db, principal, "uji_akses", "1", need=need, **kw)
    except PantauError as refused:
        return refused.code
    return loaded.form_id


@pytest.mark.usefixtures("samboja_form")
async def test_who_may_fill_read_and_edit_a_form_assigned_to_samboja(db: Database) -> None:
    assert await _code(db, DEWI, "fill") == "uji_akses"
    assert await _code(db, CITRA, "fill") == "http.not_found"  # not assigned to her: as if it did not exist
    assert await _code(db, CITRA, "fill", missing="submission.unknown_form") == "submission.unknown_form"
    assert await _code(db, BUDI, "fill") == "http.forbidden"  # a coordinator does not fill
    assert await _code(db, BUDI, "review") == "uji_akses"  # a reviewer reads every form
    assert await _code(db, CITRA, "review") == "http.not_found"  # an enumerator only her assigned ones
    assert await _code(db, ANI, "edit") == "uji_akses"
    assert await _code(db, DEWI, "edit") == "http.forbidden"
    assert [v.version for v in await access.form_versions_for(db, DEWI, "uji_akses")] == ["1"]
    with pytest.raises(PantauError) as refused:
        await access.form_versions_for(db, CITRA, "uji_akses")
    assert refused.value.code == "export.unknown_form"
