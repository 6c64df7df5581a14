"""The beneficiary registry through HTTP, with the shipped forms: an intake registers Siti (NIK sealed,
shown masked), a visit and a growth check go on her timeline, follow-ups stay open until a later
visit, duplicates are flagged and merged by staff, the phone gets its areas' beneficiaries, and
nothing outside one's areas exists."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hmac
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine

from server.domain import registry as rules
from server.domain.compile import compile_source
from server.settings import Settings
from server.storage import audit, forms, pii, review, sql
from server.storage.db import Database
from tests.domain.test_forms_shipped import CHILD, SITI, VISIT
from tests.web.conftest import csrf_of, post_form
from tests.web.test_api_submissions import JPEG

REPO = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)  # 10:00 WITA
SITI_NIK, SITI_KK = "6402064101900001", "6402061203150007"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def _run(settings: Settings, work: Any) -> Any:
    async def run() -> Any:
        db = Database(settings.database_url)
        await db.open()
        try:
            return await work(db)
        finally:
            await db.close()

    return asyncio.run(run())


def publish_source(settings: Settings, source: bytes, name: str) -> None:
    result = compile_source(source, name)
    assert result.compiled is not None, result.problems
    _run(settings, lambda db: forms.publish(db, result.compiled, source, name))


@pytest.fixture
def shipped(settings: Settings) -> None:
    for name in ("registrasi_penerima", "monev_uep", "cek_tumbuh_anak"):
        publish_source(settings, (REPO / "forms" / f"{name}.yaml").read_bytes(), f"{name}.yaml")


def insert_beneficiary(settings: Settings, name: str, area: str, *, nik: str = SITI_NIK, kk: str = SITI_KK,
                       programme: str = "bansos", next_due: str = "", updated_at: dt.datetime | None = None
                       ) -> uuid.UUID:
    """A registered beneficiary written straight to the database (for tests that need one quickly)."""
    keys, bid = pii.keys_of(settings), uuid.uuid4()
    when = updated_at or dt.datetime.now(dt.UTC)
    kecamatan = ".".join(area.split(".")[:3])

    async def work(db: Database) -> None:
        await db.fetch(
            "INSERT INTO beneficiary (id, programme, nik_index, nik_sealed, nik_masked, kk_index, kk_sealed, "
            "kk_masked, name, name_key, area_code, kecamatan, baseline, registered_on, next_due_on, visit_months, "
            "created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 3, {}, {})",
            bid, programme, pii.blind_index(keys, "nik", nik), pii.seal(keys, "nik", nik), rules.mask(nik),
            pii.blind_index(keys, "kk", kk), pii.seal(keys, "kk", kk), rules.mask(kk), name,
            name.lower(), area, kecamatan, "[]", "2026-01-05", next_due, when, when)

    _run(settings, work)
    return bid


def fetch(settings: Settings, sql: str, *args: Any) -> list[dict[str, Any]]:
    return _run(settings, lambda db: db.fetch(sql, *args))  # type: ignore[no-any-return]


def photo(persona: Any) -> str:
    headers = {"x-csrftoken": csrf_of(persona), "content-type": "image/jpeg"}
    return str(persona.post("/api/v1/attachments", content=JPEG, headers=headers).json()["sha256"])


def send(persona: Any, form_id: str, version: str, answers: dict[str, Any], instance_id: str | None = None,
         **extra: Any) -> Any:
    payload = {"instance_id": instance_id or str(uuid.uuid4()), "form_id": form_id, "form_version": version,
               "answers": answers, **extra}
    return persona.post("/api/v1/submissions", json=payload, headers={"x-csrftoken": csrf_of(persona)})


def intake(persona: Any, instance_id: str | None = None, **changes: Any) -> Any:
    picture = photo(persona)
    answers = {**SITI, "ttd_persetujuan": picture, "foto_penerima": picture, **changes}
    return send(persona, "registrasi_penerima", "2026041501", answers, instance_id)


def visit(persona: Any, beneficiary: str, **changes: Any) -> Any:
    answers = {**VISIT, "penerima": beneficiary, "tgl_kunjungan": "2026-04-10", "foto_usaha": photo(persona),
               **changes}
    return send(persona, "monev_uep", "2026041501", answers)


def growth_check(persona: Any, household: str, **changes: Any) -> Any:
    return send(persona, "cek_tumbuh_anak", "2026120601", {**CHILD, "keluarga": household, **changes})


def registered(persona: Any) -> str:
    instance_id = str(uuid.uuid4())
    response = intake(persona, instance_id)
    assert response.status_code == 201, response.text
    return instance_id


# --- intake, privacy -----------------------------------------------------------------------------
def test_an_intake_registers_siti_with_her_nik_sealed_and_shown_masked(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    siti = registered(citra)
    shown = citra.get(f"/api/v1/penerima/{siti}").json()["beneficiary"]
    assert shown["name"] == "Siti Aminah" and shown["nik_masked"] == "64**************"
    assert shown["kk_masked"] == "64**************" and shown["area_code"] == "64.02.06.1001"
    assert shown["next_due_on"] == "2026-06-30"  # quarterly after the registration on 31 March
    row = fetch(settings, "SELECT * FROM beneficiary WHERE id = {}", uuid.UUID(siti))[0]
    assert all(SITI_NIK not in str(v) and SITI_KK not in str(v) for v in row.values())
    keys = pii.keys_of(settings)
    assert pii.open_sealed(keys, "nik", row["nik_sealed"]) == SITI_NIK
    assert row["nik_index"] == pii.blind_index(keys, "nik", SITI_NIK)
    # The stored submission keeps both numbers masked; the sealed values sit beside it.
    answers = citra.get(f"/api/v1/submissions/{siti}").json()["answers"]
    assert answers["nik"] == "64**************" and answers["no_kk"] == "64**************"
    column = fetch(settings, "SELECT sealed FROM submission WHERE id = {}", uuid.UUID(siti))[0]["sealed"]
    held = pii.held_answers(column)
    assert [(path, kind) for path, (kind, _v) in sorted(held.items())] == [("nik", "nik"), ("no_kk", "kk")]
    sealed = [{"sealed": held["nik"][1]}, {"sealed": held["no_kk"][1]}]
    assert pii.open_sealed(keys, "kk", sealed[1]["sealed"]) == SITI_KK
    # the record reuses the answers' sealings (one encryption and one index per number)
    assert row["kk_index"] == pii.blind_index(keys, "kk", SITI_KK)
    assert (row["nik_sealed"], row["kk_sealed"]) == (sealed[0]["sealed"], sealed[1]["sealed"])
    page = citra.get(f"/penerima/{siti}")
    assert page.status_code == 200 and "64**************" in page.text and SITI_NIK not in page.text


def test_staff_reveal_the_nik_once_and_the_audit_log_records_it(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    siti = registered(as_("citra"))
    for name in ("citra", "budi"):
        assert post_form(as_(name), f"/penerima/{siti}/nik").status_code == 403
    shown = post_form(as_("ani"), f"/penerima/{siti}/nik")
    assert shown.status_code == 200 and SITI_NIK in shown.text and SITI_KK in shown.text
    assert shown.headers["cache-control"] == "no-store"
    entries = _run(settings, lambda db: audit.search(db, audit.AuditFilter(action="nik.reveal")))
    assert [(e.actor, e.target_id) for e in entries] == [("ani", siti)]


@pytest.mark.parametrize(("nik", "kk", "codes"), [
    ("0000000000000000", SITI_KK, [("nik", "nik.placeholder")]),
    ("1234567890123456", SITI_KK, [("nik", "nik.placeholder")]),
    ("640206410190001", SITI_KK, [("nik", "nik.length")]),  # 15 digits: one dropped
    ("6.40206E+15", SITI_KK, [("nik", "nik.excel")]),  # damaged by Excel
    (SITI_KK, SITI_KK, [("nik", "nik.is_kk"), ("no_kk", "kk.is_nik")]),  # the KK copied into the NIK
    ("6402063201900001", SITI_KK, [("nik", "nik.date")]),  # day 32
    (SITI_NIK, "0000000000000000", [("no_kk", "kk.placeholder")]),
])
def test_malformed_niks_are_refused_with_their_code_and_nothing_is_registered(  # type: ignore[no-untyped-def]
        as_, shipped, settings, nik, kk, codes) -> None:
    response = intake(as_("citra"), nik=nik, no_kk=kk)
    assert response.status_code == 422
    assert set(codes) <= {(e["path"], e["code"]) for e in response.json()["errors"]}  # (and maybe warnings)
    assert fetch(settings, "SELECT id FROM beneficiary") == []


def test_a_confirmed_nik_warning_stays_on_the_record_as_a_flag(as_, shipped) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    unticked = intake(citra, tgl_lahir="1990-01-02")  # the NIK says 1 January
    assert unticked.status_code == 422 and unticked.json()["errors"][0]["code"] == "nik.dob_mismatch"
    instance_id = str(uuid.uuid4())
    ticked = intake(citra, instance_id, tgl_lahir="1990-01-02", _konfirmasi=["nik"])
    assert ticked.status_code == 201, ticked.text
    assert citra.get(f"/api/v1/penerima/{instance_id}").json()["beneficiary"]["flags"] == ["nik.dob_mismatch"]
    assert "Tanggal lahir beda dengan NIK" in citra.get(f"/penerima/{instance_id}").text


# --- duplicates ----------------------------------------------------------------------------------
def test_a_second_intake_with_the_same_nik_updates_the_person(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    siti = registered(citra)
    again = str(uuid.uuid4())
    assert intake(citra, again, alamat="Jl. Baru 3", penghasilan_bln=2000000).status_code == 201
    assert fetch(settings, "SELECT COUNT(*) AS n FROM beneficiary")[0]["n"] == 1
    detail = citra.get(f"/api/v1/penerima/{again}").json()  # the second intake's id names Siti too
    assert detail["beneficiary"]["id"] == siti
    assert [e["kind"] for e in detail["timeline"]] == ["intake", "update"]
    baseline = {f["key"]: f["value"] for f in detail["beneficiary"]["baseline"]}
    assert baseline == {"pendapatan": 1250000, "desil": 3}  # the first intake's baseline stays


def test_re_registering_another_areas_person_makes_a_flagged_record_and_reveals_nothing(  # type: ignore[no-untyped-def]
        as_, shipped, settings) -> None:
    """same_nik: update must not move a person into an enumerator who could not see them: Dewi
    (Samboja) registering Siti's NIK gets a new record, flagged for staff to merge, and Siti's own
    record, area and history stay where they were."""
    citra, dewi = as_("citra"), as_("dewi")
    siti = registered(citra)
    again = str(uuid.uuid4())
    response = intake(dewi, again, kecamatan="64.02.13", desa="64.02.13.1007", alamat="Jl. Lain 9")
    assert response.status_code == 201, response.text
    rows = fetch(settings, "SELECT id, area_code, flags FROM beneficiary ORDER BY created_at")
    assert [str(r["area_code"]) for r in rows] == ["64.02.06.1001", "64.02.13.1007"]
    assert all("nik_ganda" in str(r["flags"]) for r in rows)
    assert dewi.get(f"/api/v1/penerima/{siti}").status_code == 404
    assert dewi.get(f"/api/v1/penerima/{again}").json()["beneficiary"]["id"] == again
    assert [e["kind"] for e in citra.get(f"/api/v1/penerima/{siti}").json()["timeline"]] == ["intake"]


FLAG_FORM = b"""
settings:
  id: daftar_uji
  version: "1"
  title: {id: Daftar uji, en: Test intake}
  registry:
    programme: uji
    creates: {nik: nik, kk: no_kk, name: nama, area: desa}
    same_nik: flag
    one_per_kk: yes
    visit_every: monthly
choices:
  kecamatan: {wilayah: kecamatan 64.02}
  desa: {wilayah: desa 64.02}
fields:
  - {type: nik, name: nik, label: NIK, required: yes}
  - {type: no_kk, name: no_kk, label: KK, required: yes, parameters: {nik: nik}}
  - {type: text, name: nama, label: Nama, required: yes}
  - {type: select_one kecamatan, name: kecamatan, label: Kecamatan, required: yes}
  - {type: select_one desa, name: desa, label: Desa, required: yes, choice_filter: "parent = ${kecamatan}"}
"""


def flagged_intake(persona: Any, name: str, nik: str, kk: str = SITI_KK) -> str:
    instance_id = str(uuid.uuid4())
    answers = {"nik": nik, "no_kk": kk, "nama": name, "kecamatan": "64.02.06", "desa": "64.02.06.1001"}
    response = send(persona, "daftar_uji", "1", answers, instance_id)
    assert response.status_code == 201, response.text
    return instance_id


def test_with_same_nik_flag_a_second_intake_is_flagged_and_staff_merge_it(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish_source(settings, FLAG_FORM, "daftar_uji.yaml")
    citra, ani = as_("citra"), as_("ani")
    first, second = flagged_intake(citra, "Siti", SITI_NIK), flagged_intake(citra, "Siti A.", SITI_NIK)
    for one in (first, second):
        assert citra.get(f"/api/v1/penerima/{one}").json()["beneficiary"]["flags"] == ["nik_ganda"]
    assert as_("citra").get("/penerima/duplikat").status_code == 403
    page = ani.get("/penerima/duplikat")
    assert page.status_code == 200 and "NIK sama" in page.text and first in page.text and second in page.text
    assert post_form(ani, "/penerima/gabung", {"keep": first, "drop": first}).status_code == 400  # itself
    merged = post_form(ani, "/penerima/gabung", {"keep": first, "drop": second})
    assert merged.status_code == 302 and merged.headers["location"] == f"/penerima/{first}"
    kept = citra.get(f"/api/v1/penerima/{second}").json()  # the merged id leads to the kept record
    assert kept["beneficiary"]["id"] == first and kept["beneficiary"]["flags"] == []
    assert [e["submission"] for e in kept["timeline"]] == [first, second]  # every submission stays
    assert citra.get(f"/penerima/{second}", follow_redirects=False).headers["location"] == f"/penerima/{first}"
    again = post_form(ani, "/penerima/gabung", {"keep": first, "drop": second})
    assert again.status_code == 409
    entries = _run(settings, lambda db: audit.search(db, audit.AuditFilter(action="beneficiary.merge")))
    assert [(e.actor, e.target_id, e.detail) for e in entries] == [("ani", first, f"merged={second}")]


# --- a registration's name: its person's record holds it (registry.NAME_OF) ----------------------------------
def name_cell(page_html: str, instance_id: str) -> str:
    """The name column of the data list's row of this record."""
    found = re.search(rf'href="/data/{instance_id}[^"]*">[^<]*</a></td><td>([^<]*)', page_html)
    assert found, instance_id
    return found.group(1)


def test_a_registration_keeps_no_name_row_and_is_listed_and_found_by_its_persons_name(  # type: ignore[no-untyped-def]
        as_, shipped, settings) -> None:
    siti = registered(as_("citra"))
    assert fetch(settings, "SELECT submission FROM submission_name") == []  # the person's record has the name
    ani = as_("ani")
    assert name_cell(ani.get("/data").text, siti) == "Siti Aminah"
    assert siti in ani.get("/data?q=aminah").text and siti not in ani.get("/data?q=sari").text


def test_a_re_registration_renames_the_person_and_the_first_intake_keeps_the_name_it_gave(  # type: ignore[no-untyped-def]
        as_, shipped, settings) -> None:
    """same_nik: update: the second intake of Siti's NIK renames her record; the first intake goes on
    showing "Siti Aminah" (its name is kept in a row before the rename) and the second its own."""
    citra, ani = as_("citra"), as_("ani")
    first = registered(citra)
    second = str(uuid.uuid4())
    assert intake(citra, second, nama="Siti Aminah Putri").status_code == 201
    assert [r["name"] for r in fetch(settings, "SELECT name FROM beneficiary")] == ["Siti Aminah Putri"]
    listing = ani.get("/data").text
    assert (name_cell(listing, first), name_cell(listing, second)) == ("Siti Aminah", "Siti Aminah Putri")
    rows = fetch(settings, "SELECT submission, name FROM submission_name ORDER BY name")
    assert [(str(r["submission"]), r["name"]) for r in rows] == [(first, "Siti Aminah"), (second, "Siti Aminah Putri")]
    found = ani.get("/data?q=aminah putri").text  # the first is about the person, who has that name now
    assert first in found and second in found


def test_a_merged_intake_keeps_showing_and_being_found_by_the_name_it_gave(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish_source(settings, FLAG_FORM, "daftar_uji.yaml")
    citra, ani = as_("citra"), as_("ani")
    first, second = flagged_intake(citra, "Siti", SITI_NIK), flagged_intake(citra, "Siti Anwar", SITI_NIK)
    assert post_form(ani, "/penerima/gabung", {"keep": first, "drop": second}).status_code == 302
    assert name_cell(ani.get("/data").text, second) == "Siti Anwar"  # not the kept record's "Siti"
    found = ani.get("/data?q=anwar").text
    assert second in found and first not in found
    assert "NIK sama" not in ani.get("/penerima/duplikat").text


def test_a_second_recipient_on_one_family_card_is_flagged(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish_source(settings, FLAG_FORM, "daftar_uji.yaml")
    citra = as_("citra")
    mother, son = flagged_intake(citra, "Siti", SITI_NIK), flagged_intake(citra, "Budi", "6402061509050003")
    for one in (mother, son):
        assert citra.get(f"/api/v1/penerima/{one}").json()["beneficiary"]["flags"] == ["kk_ganda"]
    assert "No. KK sama" in as_("ani").get("/penerima/duplikat").text


# --- visits, follow-ups, growth ------------------------------------------------------------------
def test_a_visit_goes_on_the_timeline_with_income_against_the_intake(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    siti = registered(citra)
    response = visit(citra, siti)
    assert response.status_code == 201, response.text
    detail = citra.get(f"/api/v1/penerima/{siti}").json()
    assert detail["beneficiary"]["last_visit_on"] == "2026-04-10"
    assert detail["beneficiary"]["next_due_on"] == "2026-07-10"  # quarterly
    page = citra.get(f"/penerima/{siti}").text
    assert "Berkembang" in page and "+Rp 1.250.000 dibanding Rp 1.250.000 saat pendaftaran" in page
    stored = citra.get(f"/api/v1/submissions/{response.json()['instance_id']}").json()
    assert stored["area_code"] == "64.02.06.1001"  # a visit belongs to its beneficiary's area


def test_a_follow_up_stays_open_until_a_later_visit(as_, shipped) -> None:  # type: ignore[no-untyped-def]
    citra, budi, dewi = as_("citra"), as_("budi"), as_("dewi")
    siti = registered(citra)
    asked = visit(citra, siti, tindak_lanjut=["tambahan_modal"], tgl_target_tl="2026-04-12")
    assert asked.status_code == 201, asked.text
    for persona in (citra, budi):
        schedule = persona.get("/penerima/jadwal").text
        assert "Tambahan bahan/modal" in schedule and "terlambat" in schedule  # due 12 April, today is the 15th
    assert "Tambahan bahan/modal" not in dewi.get("/penerima/jadwal").text
    assert "<strong>terlambat</strong>" in citra.get(f"/penerima/{siti}").text  # open on the person's page too
    assert visit(citra, siti, tgl_kunjungan="2026-04-14").status_code == 201
    assert "selesai 2026-04-14" in citra.get(f"/penerima/{siti}").text
    follow_ups = citra.get(f"/api/v1/penerima/{siti}").json()["follow_ups"]
    assert [(f["due_on"], f["closed_on"]) for f in follow_ups] == [("2026-04-12", "2026-04-14")]
    assert "Tambahan bahan/modal" not in citra.get("/penerima/jadwal").text


def test_due_and_overdue_visits_are_listed_for_ones_areas(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    insert_beneficiary(settings, "Rahmawati", "64.02.06.1001", next_due="2026-04-01")
    insert_beneficiary(settings, "Jumiati", "64.02.06.1002", nik="6402064202850002", next_due="2026-04-20")
    insert_beneficiary(settings, "Wati", "64.02.13.1007", nik="6402134303800003", next_due="2026-04-02")
    page = as_("budi").get("/penerima/jadwal").text
    overdue, soon = page.split("Kunjungan 14 hari ke depan")
    assert "Rahmawati" in overdue and "Jumiati" in soon and "Wati" not in page
    assert "Wati" in as_("dewi").get("/penerima/jadwal").text


def test_referring_to_a_beneficiary_outside_ones_area_is_refused_and_nothing_is_stored(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    siti = registered(as_("citra"))
    dewi = as_("dewi")
    for reference in (siti, str(uuid.uuid4())):  # Siti lives in Tenggarong; the other id names nobody
        response = visit(dewi, reference, lokasi="-1.0 117.0 10 5")
        assert response.status_code == 422 and response.json()["code"] == "registry.unknown_beneficiary"
        assert dewi.get(f"/api/v1/penerima/{reference}").status_code == 404
    malformed = visit(dewi, "640206******0001 – Siti Aminah")
    assert [e["code"] for e in malformed.json()["errors"]] == ["answer.beneficiary"]
    assert fetch(settings, "SELECT id FROM submission WHERE form_id = 'monev_uep'") == []
    assert fetch(settings, "SELECT id FROM beneficiary_event WHERE kind = 'visit'") == []


def test_a_growth_check_returns_z_scores_and_asks_to_measure_again_when_implausible(as_, shipped) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    siti = registered(citra)
    ok = growth_check(citra, siti)
    assert ok.status_code == 201, ok.text
    notices = {w["code"]: w["message"] for w in ok.json()["warnings"]}
    assert notices["growth.result"].startswith("Hasil: TB/U") and "growth.implausible" not in notices
    odd = growth_check(citra, siti, panjang_tinggi=50.0, tgl_ukur="2026-04-01")  # 50 cm at 18 months
    codes = [w["code"] for w in odd.json()["warnings"]]
    assert "growth.implausible" in codes
    page = citra.get(f"/penerima/{siti}").text
    assert "Cek tumbuh anak" in page and "Ayu" in page and "Ukur ulang" in page
    events = citra.get(f"/api/v1/penerima/{siti}").json()["timeline"]
    assert [e["summary"]["growth"]["implausible"] for e in events if e["kind"] == "growth"] == [[], ["haz", "whz"]]


# --- the phone's copy and search -----------------------------------------------------------------
def test_the_phones_copy_holds_only_ones_areas_and_updates_incrementally(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    earlier = NOW - dt.timedelta(hours=1)
    siti = insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001", updated_at=earlier)
    insert_beneficiary(settings, "Wati", "64.02.13.1007", nik="6402134303800003", updated_at=earlier)
    citra = as_("citra")
    first = citra.get("/api/v1/penerima", headers={"accept-encoding": "gzip"})
    body = first.json()
    assert body["columns"] == ["id", "nik", "name", "desa", "last_visit", "kk_tag", "birth_date"]
    assert body["rows"] == [[str(siti), "64**************", "Siti Aminah", "64.02.06.1001", "", "", ""]]
    assert body["kk_key"] == ""  # a copy of every programme: no KK tags (those are a programme's)
    assert body["desa"] == {"64.02.06.1001": "Jahab"} and body["more"] is False
    unchanged = citra.get(f"/api/v1/penerima?sejak={body['cursor']}").json()
    assert unchanged["rows"] == []
    assert visit(citra, str(siti)).status_code == 201
    changed = citra.get(f"/api/v1/penerima?sejak={body['cursor']}").json()
    assert [r[0] for r in changed["rows"]] == [str(siti)] and changed["rows"][0][4] == "2026-04-10"
    assert citra.get("/api/v1/penerima?sejak=rusak").json()["code"] == "registry.bad_query"


def test_a_programmes_copy_tags_each_kk_with_the_key_it_gives_and_holds_no_kk(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    other_kk = "6402061104120003"
    siti = insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001")
    rahma = insert_beneficiary(settings, "Rahmawati", "64.02.06.1001", nik="6402064505880002", kk=other_kk)
    body = as_("citra").get("/api/v1/penerima", params={"program": "bansos"}).json()
    key = base64.urlsafe_b64decode(body["kk_key"] + "==")
    assert key == pii.kk_tag_key(pii.keys_of(settings), "bansos")
    expected = {str(siti): hmac.digest(key, SITI_KK.encode(), "sha256").hex()[:5],
                str(rahma): hmac.digest(key, other_kk.encode(), "sha256").hex()[:5]}
    assert {row[0]: row[5] for row in body["rows"]} == expected
    assert len(set(expected.values())) == 2
    assert SITI_KK not in json.dumps(body) and other_kk not in json.dumps(body)
    # Each programme's copy has a key of its own, and none is the blind index's.
    assert pii.kk_tag_key(pii.keys_of(settings), "lansia") != key != pii.keys_of(settings).index


def test_search_by_name_prefix_nik_or_desa_within_ones_areas(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    siti = str(insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001"))
    insert_beneficiary(settings, "Sitj Lain", "64.02.06.1001", nik="6402064202850002")
    citra, dewi = as_("citra"), as_("dewi")

    def ids(persona: Any, query: str) -> list[str]:
        return [row[0] for row in persona.get("/api/v1/penerima/cari", params={"q": query}).json()["rows"]]

    assert ids(citra, "siti") == [siti] and ids(citra, "SITI am") == [siti] and ids(citra, "jahab")[:1] == [siti]
    assert ids(dewi, "siti") == []
    assert "Siti Aminah" in citra.get("/penerima", params={"q": "sit"}).text
    # A whole NIK is a reveal: only for those who may reveal, and then found / not found only.
    refused = citra.get("/api/v1/penerima/cari", params={"q": "6402-0641-0190-0001"})
    assert refused.status_code == 403 and refused.json()["code"] == "registry.id_search_forbidden"
    ani = as_("ani")
    in_url = ani.get("/api/v1/penerima/cari", params={"q": "6402-0641-0190-0001"})
    assert in_url.status_code == 400 and in_url.json()["code"] == "registry.id_search_by_post"
    checked = ani.post("/api/v1/penerima/cek", json={"nomor": "6402-0641-0190-0001"},
                       headers={"x-csrftoken": csrf_of(ani)})
    assert checked.json() == {"found": True}


def test_an_edited_intake_corrects_the_person_and_an_edited_visit_its_follow_up(as_, shipped) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    siti = registered(citra)
    picture = photo(citra)
    corrected = {**SITI, "ttd_persetujuan": picture, "foto_penerima": picture, "nama": "Siti Aminah Rahman"}
    edit = send(citra, "registrasi_penerima", "2026041501", corrected, siti, base_revision=1)
    assert edit.status_code == 200 and edit.json()["outcome"] == "edit", edit.text
    detail = citra.get(f"/api/v1/penerima/{siti}").json()
    assert detail["beneficiary"]["name"] == "Siti Aminah Rahman" and len(detail["timeline"]) == 1
    answers = {**VISIT, "penerima": siti, "tgl_kunjungan": "2026-04-10", "foto_usaha": photo(citra),
               "tindak_lanjut": ["pelatihan_lanjutan"], "tgl_target_tl": "2026-05-10"}
    visit_id = str(uuid.uuid4())
    assert send(citra, "monev_uep", "2026041501", answers, visit_id).status_code == 201
    assert [f["due_on"] for f in citra.get(f"/api/v1/penerima/{siti}").json()["follow_ups"]] == ["2026-05-10"]
    no_follow_up = {**answers, "tindak_lanjut": ["tidak_perlu"], "tgl_target_tl": None}
    assert send(citra, "monev_uep", "2026041501", no_follow_up, visit_id, base_revision=1).status_code == 200
    assert citra.get(f"/api/v1/penerima/{siti}").json()["follow_ups"] == []


def test_an_intake_sent_back_is_corrected_without_retyping_the_masked_nik(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    citra, budi = as_("citra"), as_("budi")
    siti = registered(citra)
    sent_back = post_form(budi, f"/data/{siti}/tinjau", {"status": "needs_correction", "revision": "1",
                                                          "comment": "Alamat kurang lengkap."})
    assert sent_back.status_code == 303
    page = citra.get(f"/perbaiki/{siti}").text
    assert 'value="64**************"' in page and SITI_NIK not in page  # the phone gets the masks only
    stored = citra.get(f"/api/v1/submissions/{siti}").json()["answers"]
    fixed = send(citra, "registrasi_penerima", "2026041501", {**stored, "alamat": "Jl. Danau Aji 12 RT 5"}, siti,
                 base_revision=1)
    assert fixed.status_code == 200 and fixed.json()["outcome"] == "edit", fixed.text
    # Revision 2 carries the whole numbers again, sealed; the person is still one record.
    plain = _run(settings, lambda db: review.sealed_values(db, settings, uuid.UUID(siti)))
    assert plain == {"nik": SITI_NIK, "no_kk": SITI_KK}
    assert fetch(settings, "SELECT COUNT(*) AS n FROM beneficiary")[0]["n"] == 1
    # Only the record's own enumerator: Dewi cannot pass Citra's record's masks off as numbers.
    dewi_try = send(as_("dewi"), "registrasi_penerima", "2026041501", stored, siti, base_revision=2)
    assert dewi_try.status_code == 422 and "nik.length" in dewi_try.text


def test_the_pages_speak_english_when_asked(as_, shipped) -> None:  # type: ignore[no-untyped-def]
    citra, ani = as_("citra"), as_("ani")
    siti = registered(citra)
    assert visit(citra, siti, tindak_lanjut=["tambahan_modal"], tgl_target_tl="2026-04-20").status_code == 201
    assert growth_check(citra, siti).status_code == 201
    page = citra.get(f"/penerima/{siti}?lang=en").text
    assert "Timeline" in page and "Growth check" in page and "height-for-age" in page and "at intake" in page
    assert "Due visits and follow-ups" in citra.get("/penerima/jadwal?lang=en").text
    listing = citra.get("/penerima?lang=en").text
    assert "Beneficiaries" in listing and '<a href="/draf">Drafts</a>' in listing  # the menu too
    assert "Possible duplicates" in ani.get("/penerima/duplikat?lang=en").text


# --- programmes, referrals, labels ---------------------------------------------------------------
def test_a_visit_form_refuses_a_beneficiary_of_another_programme(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    other = str(insert_beneficiary(settings, "Rina", "64.02.06.1001", programme="pkh"))
    citra = as_("citra")
    response = visit(citra, other)
    assert response.status_code == 422 and response.json()["code"] == "registry.other_programme"
    assert "pkh" in response.json()["detail"] and "bansos" in response.json()["detail"]
    assert fetch(settings, "SELECT id FROM submission WHERE form_id = 'monev_uep'") == []


def test_the_phones_copy_and_search_can_be_limited_to_one_programme(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    siti = str(insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001"))
    rina = str(insert_beneficiary(settings, "Siti Rina", "64.02.06.1001", nik="6402064202850002", programme="pkh"))
    citra = as_("citra")
    assert {r[0] for r in citra.get("/api/v1/penerima").json()["rows"]} == {siti, rina}
    assert [r[0] for r in citra.get("/api/v1/penerima", params={"program": "bansos"}).json()["rows"]] == [siti]
    found = citra.get("/api/v1/penerima/cari", params={"q": "siti", "program": "pkh"}).json()["rows"]
    assert [r[0] for r in found] == [rina]


def test_a_stunted_child_must_be_referred_and_the_referral_is_followed_up(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    siti = registered(citra)
    short = {"panjang_tinggi": 72.0}  # a girl of 18 months: HAZ about -3 (pendek/sangat pendek)
    refused = growth_check(citra, siti, **short)
    assert refused.status_code == 422
    assert [(e["path"], e["code"]) for e in refused.json()["errors"]] == [("rujukan", "growth.referral_required")]
    assert "TB/U < −2" in refused.json()["errors"][0]["message"]
    assert fetch(settings, "SELECT id FROM submission WHERE form_id = 'cek_tumbuh_anak'") == []
    referred = growth_check(citra, siti, rujukan="puskesmas", **short)
    assert referred.status_code == 201, referred.text
    follow_ups = citra.get(f"/api/v1/penerima/{siti}").json()["follow_ups"]
    assert [(f["actions"], f["due_on"], f["closed_on"]) for f in follow_ups] == [(["puskesmas"], "2026-04-13", "")]
    assert "Rujukan: Puskesmas" in citra.get("/penerima/jadwal").text
    # A normal child needs no referral; a later check closes the open one.
    assert growth_check(citra, siti, tgl_ukur="2026-04-14").status_code == 201
    assert citra.get(f"/api/v1/penerima/{siti}").json()["follow_ups"][0]["closed_on"] == "2026-04-14"


def test_the_beneficiary_page_shows_the_target_groups_label(as_, shipped) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    siti = registered(citra)
    assert "Perempuan rawan sosial ekonomi (PRSE)" in citra.get(f"/penerima/{siti}").text
    assert "Socio-economically vulnerable woman (PRSE)" in citra.get(f"/penerima/{siti}?lang=en").text


def test_the_data_list_filters_by_the_registrys_flags_as_they_are_now(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish_source(settings, FLAG_FORM, "daftar_uji.yaml")
    citra, ani = as_("citra"), as_("ani")
    first, second = flagged_intake(citra, "Siti", SITI_NIK), flagged_intake(citra, "Siti A.", SITI_NIK)
    son = flagged_intake(citra, "Budi", "6402061509050003")  # another NIK on Siti's family card
    migrant = str(uuid.uuid4())  # a NIK issued in Jakarta: a warning, ticked, kept on the record
    answers = {"nik": "3171014101900001", "no_kk": "6402061104120003", "nama": "Rina", "kecamatan": "64.02.06",
               "desa": "64.02.06.1001", "_konfirmasi": ["nik"]}
    assert send(citra, "daftar_uji", "1", answers, migrant).status_code == 201

    def listed(flag: str) -> set[str]:
        page = ani.get("/data", params={"form": "daftar_uji", "status": "all", "flag": flag})
        assert page.status_code == 200, page.text
        return set(re.findall(r'href="/data/([0-9a-f-]{36})', page.text))

    assert listed("nik_ganda") == {first, second}
    assert listed("kk_ganda") == {first, second, son}
    assert listed("penerima_nik") == {migrant}
    assert post_form(ani, "/penerima/gabung", {"keep": first, "drop": second}).status_code == 302
    assert listed("nik_ganda") == set()  # merged: no longer a duplicate
    assert ani.get("/data", params={"flag": "ganda"}).status_code == 400


def test_only_forms_with_a_beneficiary_question_load_the_picker(as_, shipped) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    visit_page = citra.get("/f/monev_uep").text
    assert "/js/picker.js" in visit_page and "/vendor/idb.js" in visit_page and "data-bnf" in visit_page
    assert "/js/picker.js" not in citra.get("/f/registrasi_penerima").text  # its first load stays light
    rules = citra.get("/f/monev_uep/aturan", params={"v": "2026041501", "lang": "id"}).json()
    assert rules["program"] == "bansos" and rules["msg"]["pick_search"] == "Cari nama, desa atau NIK"


def test_a_reports_visits_come_in_one_order_so_the_same_data_makes_the_same_edition(as_, shipped,  # type: ignore[no-untyped-def]
                                                                                      settings) -> None:
    """Two visits to one person on one day: the one received last is their latest, never whichever
    the database hands over last (an edition of unchanged data must not change)."""
    import json

    from server.storage import reports

    citra = as_("citra")
    person = registered(citra)
    sent = [visit(citra, person, tgl_kunjungan=day, status_usaha=status)
            for day, status in (("2026-04-10", "berkembang"), ("2026-04-10", "menurun"), ("2026-04-09", "stabil"))]
    assert all(r.status_code == 201 for r in sent), [r.text for r in sent]
    conn = sql.open_reader(settings.database_url)
    try:
        rows = list(reports.events(conn, "monev_uep", dt.date(2026, 4, 1), dt.date(2026, 6, 30), True))
    finally:
        conn.close()
    order = [(row.happened_on[:10], json.loads(row.answers)["status_usaha"]) for row in rows]
    assert order == [("2026-04-09", "stabil"), ("2026-04-10", "berkembang"), ("2026-04-10", "menurun")]


def test_the_beneficiary_page_links_the_forms_about_them_that_the_reader_may_fill(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    siti = insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001")
    page = as_("citra").get(f"/penerima/{siti}").text
    links = re.findall(r'href="(/f/[a-z_]+\?penerima=[0-9a-f-]+)"', page)
    assert sorted(links) == [f"/f/cek_tumbuh_anak?penerima={siti}", f"/f/monev_uep?penerima={siti}"]
    assert "/f/registrasi_penerima?penerima" not in page  # an intake is not about an existing person
    assert "?penerima=" not in as_("budi").get(f"/penerima/{siti}").text  # a coordinator does not fill forms
