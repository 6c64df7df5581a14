"""Reviewing submissions: the list for staff and coordinators (only their areas), one submission with
labels, photos, the map link, NIK warnings and its history, and the review states: a record sent back
reaches the enumerator's phone with the comment, and the corrected revision is "received" again."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

import pytest

from server.domain.compile import compile_source
from server.settings import Settings
from server.storage import forms
from server.storage.db import Database
from tests.web.conftest import csrf_of, post_form
from tests.web.test_api_submissions import JPEG

FORM = b"""
settings: {id: uji_tinjau, version: "1", title: {id: Uji tinjau, en: Review test}}
choices:
  kecamatan: {wilayah: kecamatan 64.02}
  jk:
    L: {id: Laki-laki, en: Male}
    P: {id: Perempuan, en: Female}
  bantuan:
    pkh: {id: PKH, en: Cash transfer}
    sembako: {id: Sembako, en: Food aid}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}, required: yes}
  - {type: select_one kecamatan, name: kecamatan, label: {id: Kecamatan, en: Sub-district}, required: yes}
  - {type: select_one jk, name: jk, label: {id: Jenis kelamin, en: Sex}}
  - {type: select_multiple bantuan, name: bantuan, label: {id: Bantuan, en: Aid}}
  - {type: nik, name: nik, label: {id: NIK, en: NIK}}
  - {type: geopoint, name: lokasi, label: {id: Lokasi, en: Location}}
  - {type: image, name: foto, label: {id: Foto rumah, en: House photo}}
  - type: repeat
    name: anggota
    label: {id: Anggota, en: Member}
    fields:
      - {type: text, name: nama_anggota, label: {id: Nama anggota, en: Member name}}
      - {type: integer, name: umur, label: {id: Umur, en: Age}}
      - type: repeat
        name: sekolah
        label: {id: Sekolah, en: School}
        fields:
          - {type: text, name: nama_sekolah, label: {id: Nama sekolah, en: School name}}
"""
TENGGARONG, SAMBOJA = "64.02.06", "64.02.13"


def publish(settings: Settings, source: bytes = FORM, name: str = "uji_tinjau.yaml") -> None:
    result = compile_source(source, name)
    assert result.compiled is not None, result.problems

    async def run() -> None:
        db = Database(settings.database_url)
        await db.open()
        try:
            await forms.publish(db, result.compiled, source, name)
        finally:
            await db.close()

    asyncio.run(run())


def query(settings: Settings, sql: str, *args: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        db = Database(settings.database_url)
        await db.open()
        try:
            return [dict(row) for row in await db.fetch(sql, *args)]  # asyncpg gives Records
        finally:
            await db.close()

    return asyncio.run(run())


@pytest.fixture
def published(settings: Settings) -> None:
    publish(settings)


def answers(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"nama": "Siti Aminah", "kecamatan": TENGGARONG, "jk": "P", "bantuan": ["pkh", "sembako"],
                            "nik": "6402064101900001", "lokasi": "-0.4123 116.9856 12 8",
                            "anggota": [{"nama_anggota": "Rudi", "umur": 12,
                                         "sekolah": [{"nama_sekolah": "SDN 1"}, {"nama_sekolah": "SMPN 2"}]},
                                        {"nama_anggota": "Rina", "umur": 7}]}
    return {**base, **changes}


def submit(persona: Any, form_id: str = "uji_tinjau", version: str = "1", instance_id: str | None = None,
           base_revision: int | None = None, **changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {"instance_id": instance_id or str(uuid.uuid4()), "form_id": form_id,
                               "form_version": version, "answers": answers(**changes)}
    if base_revision is not None:
        payload["base_revision"] = base_revision
    response = persona.post("/api/v1/submissions", json=payload, headers={"x-csrftoken": csrf_of(persona)})
    assert response.status_code in (200, 201), response.text
    return response.json()  # type: ignore[no-any-return]


def upload(persona: Any) -> str:
    response = persona.post("/api/v1/attachments", content=JPEG,
                            headers={"content-type": "image/jpeg", "x-csrftoken": csrf_of(persona)})
    assert response.status_code == 201, response.text
    return str(response.json()["sha256"])


def decide(persona: Any, instance_id: str, status: str, comment: str = "", revision: int = 1) -> Any:
    return post_form(persona, f"/data/{instance_id}/tinjau",
                     {"status": status, "comment": comment, "revision": str(revision)})


def listed(page_html: str) -> list[str]:
    return re.findall(r'href="/data/([0-9a-f-]{36})', page_html)


# --- the list -------------------------------------------------------------------------------------------------
def test_coordinators_list_only_their_areas_and_staff_see_all(as_, published) -> None:  # type: ignore[no-untyped-def]
    mine = submit(as_("citra"), nama="Siti Tenggarong")
    theirs = submit(as_("dewi"), nama="Sari Samboja", kecamatan=SAMBOJA)
    budi = as_("budi").get("/data")
    assert budi.status_code == 200
    assert listed(budi.text) == [mine["instance_id"]] and "Sari Samboja" not in budi.text
    assert set(listed(as_("ani").get("/data").text)) == {mine["instance_id"], theirs["instance_id"]}
    assert listed(as_("ani").get(f"/data?area={SAMBOJA}").text) == [theirs["instance_id"]]  # the area filter
    assert listed(as_("ani").get(f"/data?area={TENGGARONG}").text) == [mine["instance_id"]]
    refused = as_("budi").get(f"/data?area={SAMBOJA}")
    assert refused.status_code == 403 and "Sari" not in refused.text
    assert as_("citra").get("/data").status_code == 403


def test_filters_by_status_name_enumerator_dates_and_flags(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    siti = submit(citra, nama="Siti Nur'aini")
    budi_rec = submit(citra, nama="Budi Santoso", nik="6402994101900001", _konfirmasi=["nik"])
    ani = as_("ani")
    assert listed(ani.get("/data?q=nuraini").text) == [siti["instance_id"]]  # punctuation and case do not matter
    assert listed(ani.get("/data?q=SANTOSO").text) == [budi_rec["instance_id"]]
    assert listed(ani.get("/data?flag=nik_warning").text) == [budi_rec["instance_id"]]
    assert listed(ani.get("/data?flag=warning&flag=edited").text) == []
    assert decide(ani, siti["instance_id"], "approved").status_code == 303
    assert listed(ani.get("/data?status=approved").text) == [siti["instance_id"]]
    assert set(listed(ani.get("/data?status=received&status=approved").text)) == {siti["instance_id"],
                                                                                  budi_rec["instance_id"]}
    assert len(listed(ani.get("/data?enumerator=citra&form=uji_tinjau&version=1").text)) == 2
    assert listed(ani.get("/data?enumerator=dewi").text) == []
    assert listed(ani.get("/data?since=2000-01-01&until=2000-01-31").text) == []


@pytest.mark.parametrize(("query_string", "code"), [
    ("colour=red", "review.bad_filter"),
    ("status=approvedd", "review.bad_filter"),
    ("flag=banyak", "review.bad_filter"),
    ("since=2026-13-01", "review.bad_filter"),
    ("since=2026-03-02&until=2026-03-01", "review.reversed_dates"),
    ("version=1", "review.bad_filter"),
    ("form=tidak_ada", "review.bad_filter"),
    ("form=uji_tinjau&cols=tidak_ada", "review.bad_filter"),
    ("area=64.02.06%27--", "review.bad_filter"),
    ("form=a&form=b", "review.bad_filter"),
    ("cursor=abc", "review.bad_cursor"),
])
def test_bad_filters_are_clear_4xx(as_, published, query_string: str, code: str) -> None:  # type: ignore[no-untyped-def]
    response = as_("ani").get(f"/data?{query_string}", headers={"accept": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == code


def test_pages_continue_with_a_signed_cursor_that_refuses_tampering(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    made = [submit(citra, nama=f"Orang {i}")["instance_id"] for i in range(55)]
    ani = as_("ani")
    first = ani.get("/data")
    page_one = listed(first.text)
    assert len(page_one) == 50
    next_url = re.search(r'href="(/data\?[^"]*cursor=[^"]+)"', first.text).group(1).replace("&amp;", "&")
    page_two = listed(ani.get(next_url).text)
    assert len(page_two) == 5 and not set(page_one) & set(page_two)
    assert set(page_one) | set(page_two) == set(made)
    assert page_one == sorted(page_one, key=made.index, reverse=True)  # newest first
    cursor = next_url.split("cursor=")[1]
    body, tag = cursor.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + tag
    for bad in (forged, cursor[:-3], cursor + "x"):
        response = ani.get(f"/data?cursor={bad}", headers={"accept": "application/json"})
        assert response.status_code == 400 and response.json()["code"] == "review.bad_cursor"
    other_filters = ani.get(f"/data?status=approved&cursor={cursor}", headers={"accept": "application/json"})
    assert other_filters.status_code == 400 and other_filters.json()["code"] == "review.bad_cursor"


def test_columns_are_chosen_per_form_with_labels_and_masked_nik(as_, published) -> None:  # type: ignore[no-untyped-def]
    submit(as_("citra"))
    page = as_("ani").get("/data?form=uji_tinjau&cols=jk,bantuan,nik&lang=en")
    assert page.status_code == 200
    assert "<th>Sex</th><th>Aid</th><th>NIK</th>" in page.text
    assert "<td>Female</td><td>Cash transfer; Food aid</td><td>64**************</td>" in page.text
    assert "6402064101900001" not in page.text


# --- one submission ----------------------------------------------------------------------------------------------
def test_submission_page_shows_labels_photo_map_link_and_masks_nik(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    photo = upload(citra)
    record = submit(citra, foto=photo)
    page = as_("budi").get(f"/data/{record['instance_id']}?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "Sex</dt><dd>Female" in text and "Aid</dt><dd>Cash transfer; Food aid" in text
    assert f'src="/api/v1/attachments/{photo}"' in text
    assert "https://www.openstreetmap.org/?mlat=-0.412300&amp;mlon=116.985600" in text
    assert "Member 2" in text and "School 2" in text and "SMPN 2" in text
    assert "64**************" in text and "6402064101900001" not in text
    assert "/nik" not in text  # a coordinator may not reveal NIK
    assert post_form(as_("budi"), f"/data/{record['instance_id']}/nik").status_code == 403
    indonesian = as_("budi").get(f"/data/{record['instance_id']}").text
    assert "Jenis kelamin</dt><dd>Perempuan" in indonesian


def test_staff_reveal_nik_and_the_reveal_is_audited(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    record = submit(as_("citra"))
    ani = as_("ani")
    assert f'action="/data/{record["instance_id"]}/nik"' in ani.get(f"/data/{record['instance_id']}").text
    # A GET never reveals: no link, prefetch or history entry can show a number.
    linked = ani.get(f"/data/{record['instance_id']}?nik=buka")
    assert linked.status_code == 200 and "6402064101900001" not in linked.text
    assert "no-store" not in linked.headers.get("cache-control", "")
    revealed = post_form(ani, f"/data/{record['instance_id']}/nik")
    assert revealed.status_code == 200 and "6402064101900001" in revealed.text
    assert revealed.headers["cache-control"] == "no-store"
    audited = query(settings, "SELECT actor, target_id FROM audit_log WHERE action = 'nik.reveal'")
    assert audited == [{"actor": "ani", "target_id": record["instance_id"]}]


def test_nik_warnings_are_shown_with_whether_they_were_confirmed(as_, published) -> None:  # type: ignore[no-untyped-def]
    record = submit(as_("citra"), nik="6402994101900001", _konfirmasi=["nik"])
    text = as_("ani").get(f"/data/{record['instance_id']}?lang=en").text
    assert "64.02.99" in text and "confirmed by the enumerator" in text
    assert "NIK/KK warning" in text


def test_others_records_do_not_exist_for_enumerators_and_other_areas(as_, published) -> None:  # type: ignore[no-untyped-def]
    tenggarong = submit(as_("citra"))["instance_id"]
    samboja = submit(as_("dewi"), kecamatan=SAMBOJA)["instance_id"]
    assert as_("citra").get(f"/data/{tenggarong}").status_code == 200  # their own, read-only
    assert "/tinjau" not in as_("citra").get(f"/data/{tenggarong}").text
    assert as_("citra").get(f"/data/{samboja}").status_code == 404
    assert as_("dewi").get(f"/data/{tenggarong}").status_code == 404
    assert as_("budi").get(f"/data/{samboja}").status_code == 404
    assert decide(as_("budi"), samboja, "approved").status_code == 404
    assert decide(as_("dewi"), tenggarong, "approved").status_code == 403


# --- review states ----------------------------------------------------------------------------------------------
def test_a_record_sent_back_reaches_the_phone_and_its_correction_is_received_again(as_, published,  # type: ignore[no-untyped-def]
                                                                                  settings) -> None:
    citra, budi = as_("citra"), as_("budi")
    record = submit(citra, nama="Siti Amina")
    instance_id = record["instance_id"]
    assert citra.get("/api/v1/corrections").json() == []
    sent_back = decide(budi, instance_id, "needs_correction", "Nama salah eja: Aminah, bukan Amina.")
    assert sent_back.status_code == 303
    corrections = citra.get("/api/v1/corrections").json()
    assert [(c["instance_id"], c["revision"], c["comment"], c["reviewer"]) for c in corrections] == [
        (instance_id, 1, "Nama salah eja: Aminah, bukan Amina.", "Budi")]
    assert as_("dewi").get("/api/v1/corrections").json() == []
    fixed = submit(citra, instance_id=instance_id, base_revision=1, nama="Siti Aminah")
    assert fixed["revision"] == 2 and fixed["outcome"] == "edit"
    assert citra.get("/api/v1/corrections").json() == []
    page = as_("ani").get(f"/data/{instance_id}?lang=en").text
    assert "<strong>Received</strong>" in page
    assert "<td>Name</td><td>Siti Amina</td><td>Siti Aminah</td>" in page  # what changed between revisions
    assert "Needs correction → Received" in page and "Received → Needs correction" in page
    rows = query(settings, "SELECT detail FROM audit_log WHERE action = 'submission.review' ORDER BY id")
    assert [r["detail"].split(" comment=")[0] for r in rows] == [
        "received->needs_correction revision=1", "needs_correction->received revision=2"]
    listed_flags = as_("ani").get("/data?flag=corrected&flag=edited").text
    assert listed(listed_flags) == [instance_id]


def test_decisions_follow_the_rules(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    instance_id = submit(as_("citra"))["instance_id"]
    ani = as_("ani")
    no_comment = decide(ani, instance_id, "needs_correction", "  ")
    assert no_comment.status_code == 400 and 'data-code="review.comment_required"' in no_comment.text
    unknown = decide(ani, instance_id, "hilang")
    assert unknown.status_code == 400
    assert decide(ani, instance_id, "approved", revision=2).status_code == 409  # not the revision they saw
    assert decide(ani, instance_id, "rejected", "Data ganda.").status_code == 303
    assert decide(ani, instance_id, "approved").status_code == 409  # rejected: only reopening is allowed
    assert decide(ani, instance_id, "received").status_code == 303
    assert decide(ani, instance_id, "approved").status_code == 303
    statuses = query(settings, "SELECT review_status FROM submission")
    assert statuses == [{"review_status": "approved"}]
    events = query(settings, "SELECT from_status, to_status, comment FROM review_event ORDER BY id")
    assert [(e["from_status"], e["to_status"]) for e in events] == [
        ("received", "rejected"), ("rejected", "received"), ("received", "approved")]
    assert query(settings, "SELECT COUNT(*) AS n FROM audit_log WHERE action = 'submission.review'") == [{"n": 3}]


def test_editing_an_approved_record_puts_it_back_for_review(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    record = submit(citra)
    assert decide(as_("budi"), record["instance_id"], "approved").status_code == 303
    submit(citra, instance_id=record["instance_id"], base_revision=1, jk="L")
    assert listed(as_("budi").get("/data?status=approved").text) == []
    assert listed(as_("budi").get("/data?status=received").text) == [record["instance_id"]]



def test_a_visit_is_found_by_its_beneficiarys_name_from_the_registry(as_, settings) -> None:  # type: ignore[no-untyped-def]
    import time_machine

    from tests.web.test_registry import NOW, REPO, SITI, publish_source, registered, visit

    with time_machine.travel(NOW, tick=True):
        for name in ("registrasi_penerima", "monev_uep"):
            publish_source(settings, (REPO / "forms" / f"{name}.yaml").read_bytes(), f"{name}.yaml")
        citra = as_("citra")
        intake_id = registered(citra)
        response = visit(citra, intake_id)
        assert response.status_code == 201, response.text
        first_name = SITI["nama"].split()[0].lower()
        found = listed(as_("ani").get(f"/data?q={first_name}").text)
        assert sorted(found) == sorted([intake_id, response.json()["instance_id"]])
        assert listed(as_("ani").get("/data?q=tidak-ada-nama").text) == []
