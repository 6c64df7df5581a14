"""Drafts, their test submissions and form assignments in storage, on a real database."""

from __future__ import annotations

import uuid

import pytest

from server.domain.access import Principal
from server.storage import access, form_drafts
from server.storage.db import Database
from server.storage.writer import Writer

ANI = Principal(id=1, username="ani", display_name="Ani", role="staff")
CITRA = Principal(id=2, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))
DEWI = Principal(id=3, username="dewi", display_name="Dewi", role="enumerator", areas=("64.02.13.2005",))
BUDI = Principal(id=4, username="budi", display_name="Budi", role="coordinator", areas=("64.02.06",))


pytestmark = pytest.mark.usefixtures("ani")  # the drafts' author, in the database before any draft


@pytest.fixture
async def ani(db: Database) -> None:
    await db.fetch(
        "INSERT INTO pantau_user (id, username, password_hash, role, created_at) VALUES "
        "(1, 'ani', '-', 'staff', CURRENT_TIMESTAMP)"
    )


async def test_a_draft_is_saved_replaced_and_deleted_with_its_test_submissions(db: Database, writer: Writer) -> None:
    await form_drafts.save(writer, ANI, "uji", "settings: {}\n", "a" * 64)
    await form_drafts.save(writer, ANI, "uji", "settings: {id: uji}\n", "b" * 64)
    draft = await form_drafts.get(db, "uji")
    assert draft is not None and draft.source == "settings: {id: uji}\n" and draft.updated_by == "ani"
    instance = uuid.uuid4()
    _, first = await form_drafts.add_test_submission(writer, ANI, draft.pk, instance, {"umur": 3})
    _, again = await form_drafts.add_test_submission(writer, ANI, draft.pk, instance, {"umur": 3})
    assert (first, again) == ("new", "identical")
    assert [t.answers for t in await form_drafts.test_submissions(db, "uji")] == [{"umur": 3}]
    assert await db.fetch("SELECT id FROM submission") == []  # never with the real data
    assert await form_drafts.delete(writer, ANI, "uji") is True
    assert await form_drafts.get(db, "uji") is None
    assert await db.fetch("SELECT id FROM draft_submission") == []
    assert await form_drafts.delete(writer, ANI, "uji") is False


async def test_a_draft_never_published_is_listed_as_a_draft(db: Database, writer: Writer) -> None:
    await form_drafts.save(writer, ANI, "baru", "x", "c" * 64)
    [row] = await form_drafts.overview(db)
    assert (row.form_id, row.status, row.has_draft, row.versions, row.submissions) == ("baru", "draft", True, [], 0)


async def test_an_assignment_is_stored_and_read_back_at_once(db: Database, writer: Writer) -> None:
    assert await access.open_to(db, CITRA, "uji")  # no assignment: everyone who fills
    await form_drafts.set_assignment(writer, ANI, "uji", form_drafts.Assignment(("enumerator",), ("64.02.13",)))
    assert await form_drafts.assignment(db, "uji") == form_drafts.Assignment(("enumerator",), ("64.02.13",))
    assert not await access.open_to(db, CITRA, "uji")
    assert await access.open_to(db, DEWI, "uji")
    await form_drafts.set_assignment(writer, ANI, "uji", form_drafts.Assignment())
    assert await access.open_to(db, CITRA, "uji")
