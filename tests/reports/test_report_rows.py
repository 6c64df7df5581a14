"""The period's rows leave storage as Structs, on either engine: each field holds the type its
Struct declares (the report reads them by name, not by position), and the rows are the ones the
fixture wrote."""

from __future__ import annotations

import datetime as dt
import typing
from collections.abc import Iterable
from pathlib import Path

import msgspec
import pytest

from server.reports import definitions
from server.settings import Settings
from server.storage import reports as store
from server.storage import sql
from tests.conftest import ON_POSTGRES
from tests.reports import seed

START, END = dt.date(2025, 10, 1), dt.date(2026, 3, 31)  # the quarter before 2026-Q1, and 2026-Q1


@pytest.fixture(scope="module")
def rows_settings(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Settings:
    template: Path | None = None if ON_POSTGRES else request.getfixturevalue("sqlite_template")
    return seed.module_settings(tmp_path_factory.mktemp("rows"), template)


@pytest.fixture(scope="module")
def fx(rows_settings: Settings) -> seed.Fixture:
    return seed.seed(rows_settings)


def _typed(found: Iterable[msgspec.Struct]) -> list[msgspec.Struct]:
    out = list(found)
    for row in out:
        hints = typing.get_type_hints(type(row))
        for name in row.__struct_fields__:
            wanted = hints[name]
            kinds = tuple(k for k in typing.get_args(wanted)) or (wanted,)
            assert isinstance(getattr(row, name), kinds), (type(row).__name__, name, getattr(row, name))
    return out


def test_the_period_rows_are_typed_structs_of_what_was_written(rows_settings: Settings, fx: seed.Fixture) -> None:
    visit_form = definitions.load("monev_triwulan").forms.visit
    programme = definitions.load("monev_triwulan").programme
    conn = sql.open_reader(rows_settings.database_url)
    try:
        people = _typed(store.people(conn, programme, "64.02", END, True))
        events = _typed(store.events(conn, visit_form, START, END, False))
        follow_ups = _typed(store.open_follow_ups(conn, visit_form, START, END, True))
        referrals = _typed(store.referrals(conn, visit_form, START, END, True))
        _typed(store.open_duplicates(conn, programme, "64.02"))
        named = store.named(conn, [fx.people[0].id])
    finally:
        conn.close()
    assert all(isinstance(r, store.PersonRow) for r in people)
    assert sorted(r.id for r in people) == sorted(p.id for p in fx.people if p.registered_on <= END.isoformat())
    within = [(v.person, v.day) for v in fx.visits if v.approved and START.isoformat() <= v.day <= END.isoformat()]
    approved = sorted(within + [(person, "2025-12-20") for person, _due, _closed in fx.follow_ups])  # opening them
    assert sorted((r.beneficiary, r.happened_on) for r in events) == approved
    assert {r.beneficiary for r in follow_ups} <= {p for p, _due, _closed in fx.follow_ups}
    opened = [(p, day) for p, day, _ in fx.referrals if START.isoformat() <= day <= END.isoformat()]
    assert sorted((r.beneficiary, r.opened_on) for r in referrals) == sorted(
        opened + [(person, "2025-12-20") for person, _due, _closed in fx.follow_ups])
    first = fx.people[0]
    assert named == {first.id: store.NamedPerson(name=first.name, nik_masked=named[first.id].nik_masked,
                                                 area_code=first.area)}
    shown = named[first.id].nik_masked  # a report names people with no more of the NIK than its province
    assert len(shown) == len(first.nik) and shown[:2] == first.nik[:2] and set(shown[2:]) == {"*"}
