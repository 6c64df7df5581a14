"""Committing an office's beneficiary list on a real database (SQLite, and PostgreSQL with
PANTAU_TEST_DATABASE_URL): the stored people (sealed NIK/KK, blind index, masked), their timeline
("diimpor dari <file> oleh <user>"), the enumerators' slice, the reports' approved basis from the
date of import, all or nothing, idempotent per file, and updates limited to the updatable fields
with the old and new values on the timeline. Expected values are computed here from the rows."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import msgspec
import pytest

from server import clock
from server.domain import registry_import as ri
from server.domain.access import Principal
from server.domain.compile import compile_source
from server.errors import PantauError
from server.settings import Settings
from server.storage import forms, pii, registry_read, sql
from server.storage import registry_import as store
from server.storage import reports as report_store
from server.storage.db import Database
from tests.conftest import REPO
from tests.domain.test_registry_import import ANI, BUDI, KK1, KK2, SITI, office_rows, office_xlsx

STAFF = Principal(id=1, username="ani", display_name="Ani", role="staff")
CITRA = Principal(id=2, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))


@pytest.fixture
async def intake(db: Database) -> store.IntakeForm:
    source = (REPO / "forms" / "registrasi_penerima.yaml").read_bytes()
    result = compile_source(source, "registrasi_penerima.yaml")
    assert result.compiled is not None
    await forms.publish(db, result.compiled, source, "registrasi_penerima.yaml")
    for user, name, role in ((1, "ani", "staff"), (2, "citra", "enumerator")):
        await db.fetch("INSERT INTO pantau_user (id, username, display_name, password_hash, role, created_at) "
                       "VALUES ({}, {}, {}, 'x', {}, {})", user, name, name.title(), role, clock.now())
    return await store.intake_for(db, "bansos")


async def dry_run(db: Database, settings: Settings, intake: store.IntakeForm, path: Path,
                  mapping: ri.Mapping | None = None) -> ri.DryRun:
    run = ri.check_file(path, today=clock.today(), groups=intake.groups, one_per_kk=intake.one_per_kk,
                        mapping=mapping)
    await store.compare_with_registry(db, settings, intake, run)
    return run


def upload(path: Path, mapping: ri.Mapping, with_warnings: bool = True) -> store.Upload:
    return store.Upload(file_name=path.name, sha256=hashlib.sha256(path.read_bytes()).hexdigest(), mapping=mapping,
                        with_warnings=with_warnings)


async def test_an_office_list_becomes_registered_people_with_their_timeline(  # type: ignore[no-untyped-def]
        db, writer, settings, intake, tmp_path) -> None:
    path = office_xlsx(tmp_path / "uep_2025.xlsx", office_rows())
    run = await dry_run(db, settings, intake, path)
    assert intake.one_per_kk and intake.form_id == "registrasi_penerima"
    outcome = await store.commit(db, writer, settings, intake, run, upload(path, run.mapping), STAFF)
    assert (outcome.created, outcome.updated, outcome.skipped) == (3, 0, 0)
    keys, today = pii.keys_of(settings), clock.today().isoformat()
    rows = {pii.open_sealed(keys, "nik", r["nik_sealed"]): r for r in await db.fetch(
        "SELECT * FROM beneficiary ORDER BY name")}
    expected = {SITI: ("SITI AMINAH", "P", "1990-07-05", "prse", KK1), BUDI: ("Budi Santoso", "L", "1958-03-12",
                                                                             "lansia", KK1),
                ANI: ("ANI", "P", "1985-11-30", "fakir_miskin", KK2)}
    assert set(rows) == set(expected)
    for nik, (name, sex, born, group, kk) in expected.items():
        row = rows[nik]
        assert (row["name"], row["sex"], row["birth_date"], row["target_group"]) == (name, sex, born, group)
        assert row["nik_index"] == pii.blind_index(keys, "nik", nik) and row["nik_masked"] == nik[:2] + "*" * 14
        assert pii.open_sealed(keys, "kk", row["kk_sealed"]) == kk and row["registered_on"] == today
        assert row["area_code"].startswith("64.02.16." if nik == ANI else "64.02.06.")
        assert row["visit_months"] == intake.visit_months and row["next_due_on"] > today
    # Siti and Budi share a family card in a one-recipient-per-family programme: both flagged as an intake would.
    assert "kk_ganda" in rows[SITI]["flags"] and "kk_ganda" in rows[BUDI]["flags"]
    assert "kk_ganda" not in rows[ANI]["flags"]
    events = await registry_read.timeline(db, str(rows[SITI]["id"]))
    assert [(e.kind, e.happened_on) for e in events] == [("import", today)]
    assert events[0].summary["figures"][0]["text"]["id"] == "diimpor dari uep_2025.xlsx oleh ani"
    # The enumerator of Tenggarong finds Siti and Budi (not Ani, in Tenggarong Seberang) in her slice.
    found = await registry_read.slice_for(db, CITRA, "", clock.now() + dt.timedelta(hours=1))
    assert sorted(r.name for r in found.rows) == ["Budi Santoso", "SITI AMINAH"]
    # Reports count them as approved records from the date of import, through the same basis.
    conn = sql.open_reader(settings.database_url)
    try:
        counted = list(report_store.people(conn, "bansos", "64.02", clock.today(), False))
        before = list(report_store.people(conn, "bansos", "64.02", clock.today() - dt.timedelta(days=1), False))
    finally:
        conn.close()
    assert sorted(r.id for r in counted) == sorted(str(r["id"]) for r in rows.values()) and before == []
    audit = await db.fetch("SELECT action, detail FROM audit_log WHERE action = 'registry.import'")
    assert len(audit) == 1 and f"sha256={hashlib.sha256(path.read_bytes()).hexdigest()}" in audit[0]["detail"]


async def test_the_same_file_again_changes_nothing_and_says_so(db, writer, settings, intake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = office_xlsx(tmp_path / "uep.xlsx", office_rows())
    run = await dry_run(db, settings, intake, path)
    first = await store.commit(db, writer, settings, intake, run, upload(path, run.mapping), STAFF)
    again = await store.commit(db, writer, settings, intake, run, upload(path, run.mapping), STAFF)
    assert first.created == 3 and again.already is not None and again.already.created == 3
    assert again.already.by == "ani"
    assert (await db.fetch("SELECT COUNT(*) AS n FROM beneficiary"))[0]["n"] == 3
    assert await store.previous_import(db, "bansos", upload(path, run.mapping).sha256) is not None


async def test_warnings_are_imported_only_when_confirmed(db, writer, settings, intake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = office_xlsx(tmp_path / "uep.xlsx", office_rows())
    run = await dry_run(db, settings, intake, path)
    assert [r.level for r in run.results] == ["ok", "warning", "ok"]
    outcome = await store.commit(db, writer, settings, intake, run, upload(path, run.mapping, False), STAFF)
    assert (outcome.created, outcome.skipped) == (2, 1)
    names = sorted(r["name"] for r in await db.fetch("SELECT name FROM beneficiary"))
    assert names == ["ANI", "SITI AMINAH"]


async def test_a_known_nik_updates_only_the_updatable_fields_and_the_timeline_has_old_and_new(  # type: ignore[no-untyped-def]
        db, writer, settings, intake, tmp_path) -> None:
    first = office_xlsx(tmp_path / "2024.xlsx", office_rows()[:1])
    run = await dry_run(db, settings, intake, first)
    await store.commit(db, writer, settings, intake, run, upload(first, run.mapping), STAFF)
    changed = office_rows()[:1]
    changed[0][1], changed[0][8] = "Siti Aminah Binti Umar", "fakir miskin"
    second = office_xlsx(tmp_path / "2025.xlsx", changed)
    run = await dry_run(db, settings, intake, second)
    assert [f.code for f in run.results[0].findings] == ["import.exists"]
    mapping = msgspec.structs.replace(run.mapping, update=["name"])
    outcome = await store.commit(db, writer, settings, intake, run, upload(second, mapping), STAFF)
    assert (outcome.created, outcome.updated) == (0, 1)
    row = (await db.fetch("SELECT id, name, target_group FROM beneficiary"))[0]
    assert (row["name"], row["target_group"]) == ("Siti Aminah Binti Umar", "prse")  # the group is not updatable here
    # the import that registered her (its record's id is hers) goes on showing the name it gave (registry.NAME_OF)
    pinned = await db.fetch("SELECT submission, name FROM submission_name")
    assert [(str(r["submission"]), r["name"]) for r in pinned] == [(str(row["id"]), "SITI AMINAH")]
    events = await registry_read.timeline(db, str(row["id"]))
    change = events[-1].summary["figures"][1]
    assert change["value"] == {"old": "SITI AMINAH", "new": "Siti Aminah Binti Umar"}
    # The same values a third time: nothing to change, nothing added to the timeline.
    third = office_xlsx(tmp_path / "2026.xlsx", [[*changed[0][:8], "PRSE"]])
    run = await dry_run(db, settings, intake, third)
    outcome = await store.commit(db, writer, settings, intake, run, upload(third, mapping), STAFF)
    assert (outcome.updated, outcome.unchanged) == (0, 1)
    assert len(await registry_read.timeline(db, str(row["id"]))) == 2


async def test_a_failure_in_the_middle_stores_nothing(db, writer, settings, intake, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = office_xlsx(tmp_path / "uep.xlsx", office_rows())
    run = await dry_run(db, settings, intake, path)
    ghost = Principal(id=99, username="hantu", display_name="Hantu", role="staff")  # no such user: the FK fails
    with pytest.raises(Exception):  # noqa: B017 - the database's own integrity error, whichever engine
        await store.commit(db, writer, settings, intake, run, upload(path, run.mapping), ghost)
    for table in ("beneficiary", "submission", "beneficiary_event", "registry_import"):
        assert (await db.fetch(f"SELECT COUNT(*) AS n FROM {table}"))[0]["n"] == 0, table


async def test_without_a_registration_form_nothing_is_imported(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PantauError) as caught:
        await store.intake_for(db, "bansos")
    assert caught.value.code == "import.no_intake"


async def test_mappings_are_saved_by_name_and_read_back(db, intake) -> None:  # type: ignore[no-untyped-def]
    mapping = ri.Mapping(columns={"nik": "NIK", "name": "NAMA"}, update=["name"])
    await store.save_mapping(db, "DTSEN kecamatan", mapping, STAFF)
    await store.save_mapping(db, "DTSEN kecamatan", msgspec.structs.replace(mapping, update=[]), STAFF)
    assert await store.mappings(db) == {"DTSEN kecamatan": ri.Mapping(columns={"nik": "NIK", "name": "NAMA"})}


async def test_imported_people_are_found_by_the_picker_and_merge_like_any_other(  # type: ignore[no-untyped-def]
        db, writer, settings, intake, tmp_path) -> None:
    import uuid

    from server.storage import registry
    from tests.storage.test_registry import add

    path = office_xlsx(tmp_path / "uep_2025.xlsx", office_rows())
    run = await dry_run(db, settings, intake, path)
    await store.commit(db, writer, settings, intake, run, upload(path, run.mapping), STAFF)
    keys = pii.keys_of(settings)
    ids = {pii.open_sealed(keys, "nik", r["nik_sealed"]): str(r["id"]) for r in await db.fetch(
        "SELECT id, nik_sealed FROM beneficiary")}
    # The follow-up form's picker: the name search within the enumerator's areas, and the programme's
    # offline copy with each person's KK tag (the phone's shared-KK warning).
    found = await registry_read.search(db, CITRA, "siti", programme="bansos")
    assert [(str(r.id), r.name) for r in found] == [(ids[SITI], "SITI AMINAH")]
    copy = await registry_read.slice_for(db, CITRA, "", clock.now() + dt.timedelta(hours=1), programme="bansos",
                                         keys=keys)
    assert sorted(str(r.id) for r in copy.rows) == sorted([ids[SITI], ids[BUDI]])
    # Siti registered again through an intake is merged with her imported record: the imported id
    # then leads to the kept one, and the phone's copy lists it as merged.
    again = await add(db, "Siti Aminah", "64.02.06.1001", programme="bansos", nik=SITI)
    await writer.run(lambda tx: registry.merge(tx, again, uuid.UUID(ids[SITI]), STAFF, "-", clock.now()))
    kept = await writer.run(lambda tx: registry.resolve(tx, ids[SITI]))
    assert kept is not None and str(kept["id"]) == str(again)
    later = await registry_read.slice_for(db, CITRA, "", clock.now() + dt.timedelta(hours=1), programme="bansos")
    assert (ids[SITI], str(again)) in later.removed
    events = await registry_read.timeline(db, str(again))
    assert [e.kind for e in events].count("import") == 1  # the imported record's event moved with the merge
