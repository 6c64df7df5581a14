"""Submitting through the JSON API: validated with the form's compiled rules, stored exactly once
by instance id, photos by content hash, and nothing outside one's areas."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import io
import re
import uuid

import pytest
from PIL import Image

from server.domain.compile import compile_source
from server.settings import Settings
from server.storage import forms
from server.storage.db import Database
from tests.web.conftest import csrf_of

FORM = b"""
settings: {id: uji_api, version: "1", title: {id: Uji API, en: API test}}
choices:
  kecamatan: {wilayah: kecamatan 64.02}
  desa: {wilayah: desa 64.02}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}, required: yes}
  - {type: integer, name: umur, label: {id: Umur, en: Age}, constraint: ". >= 0 and . <= 120"}
  - {type: select_one kecamatan, name: kecamatan, label: {id: Kecamatan, en: Sub-district}, required: yes}
  - {type: select_one desa, name: desa, label: {id: Desa, en: Village}, choice_filter: "parent = ${kecamatan}"}
  - {type: image, name: foto, label: {id: Foto, en: Photo}}
"""
def _jpeg(size: tuple[int, int] = (48, 32)) -> bytes:
    """A real photo, small: uploads are decoded and encoded again, so a test photo must decode."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, "JPEG")
    return out.getvalue()


JPEG = _jpeg()


def photo_size(data: bytes) -> tuple[int, int]:
    """What a stored photo is: re-encoded, so the same picture, not the same bytes."""
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def publish(settings: Settings, source: bytes = FORM) -> None:
    result = compile_source(source, "uji_api.yaml")
    assert result.compiled is not None, result.problems

    async def run() -> None:
        db = Database(settings.database_url)
        await db.open()
        try:
            await forms.publish(db, result.compiled, source, "uji_api.yaml")
        finally:
            await db.close()

    asyncio.run(run())


@pytest.fixture
def published(settings: Settings) -> None:
    publish(settings)


def body(**answers: object) -> dict[str, object]:
    base = {"nama": "Siti Aminah", "umur": 41, "kecamatan": "64.02.06", "desa": "64.02.06.1001"}
    return {"instance_id": str(uuid.uuid4()), "form_id": "uji_api", "form_version": "1", "answers": {**base, **answers}}


def send(persona, payload, **kw):  # type: ignore[no-untyped-def]
    return persona.post("/api/v1/submissions", json=payload, headers={"x-csrftoken": csrf_of(persona)}, **kw)


def test_a_valid_submission_is_stored_once_and_a_retry_gets_the_same_receipt(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    payload = body()
    first = send(citra, payload)
    assert first.status_code == 201, first.text
    receipt = first.json()
    assert receipt["outcome"] == "new" and receipt["revision"] == 1
    again = send(citra, payload)
    assert again.status_code == 200
    assert again.json()["received_at"] == receipt["received_at"] and again.json()["outcome"] == "identical"
    stored = citra.get(f"/api/v1/submissions/{payload['instance_id']}").json()
    assert stored["answers"]["nama"] == "Siti Aminah" and stored["area_code"] == "64.02.06.1001"
    assert [i["instance_id"] for i in citra.get("/api/v1/submissions").json()] == [payload["instance_id"]]


def test_same_id_with_other_answers_is_a_409_and_nothing_changes(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    payload = body()
    assert send(citra, payload).status_code == 201
    changed = {**payload, "answers": {**payload["answers"], "nama": "Siti Berubah"}}
    conflict = send(citra, changed)
    assert conflict.status_code == 409 and conflict.json()["code"] == "submission.conflict"
    assert citra.get(f"/api/v1/submissions/{payload['instance_id']}").json()["answers"]["nama"] == "Siti Aminah"


def test_an_edit_names_its_base_revision(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    payload = body()
    send(citra, payload)
    edited = {**payload, "answers": {**payload["answers"], "umur": 42}, "base_revision": 1}
    response = send(citra, edited)
    assert response.status_code == 200 and response.json()["revision"] == 2
    stale = send(citra, {**edited, "answers": {**payload["answers"], "umur": 43}})
    assert stale.status_code == 409 and stale.json()["code"] == "submission.stale"


def test_rules_are_checked_again_on_the_server(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    payload = body(umur=130, nama="")
    response = send(citra, payload)
    assert response.status_code == 422
    problems = {e["path"]: e["code"] for e in response.json()["errors"]}
    assert set(problems) == {"umur", "nama"}
    assert citra.get(f"/api/v1/submissions/{payload['instance_id']}").status_code == 404


def test_a_desa_outside_the_chosen_kecamatan_is_refused(as_, published) -> None:  # type: ignore[no-untyped-def]
    response = send(as_("citra"), body(desa="64.02.13.1007"))
    assert response.status_code == 422 and [e["path"] for e in response.json()["errors"]] == ["desa"]


def test_enumerators_submit_only_in_their_areas(as_, published) -> None:  # type: ignore[no-untyped-def]
    response = send(as_("dewi"), body())  # dewi works in Samboja; the record is in Tenggarong
    assert response.status_code == 403 and response.json()["code"] == "submission.outside_area"
    # Named at the region question, so the phone can open the form there to fix it.
    assert [(e["path"], e["code"]) for e in response.json()["errors"]] == [("desa", "submission.outside_area")]
    ok = send(as_("dewi"), body(kecamatan="64.02.13", desa="64.02.13.1007"))
    assert ok.status_code == 201


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"{not json", 400),
        (b'{"instance_id": "x", "form_id": "uji_api", "form_version": "1", "answers": {}}', 400),
        (b'{"instance_id": "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11", "form_id": "uji_api", "form_version": "1"}', 400),
        (b'{"instance_id": "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11", "form_id": "uji_api", "form_version": "1", '
         b'"answers": {}, "extra": 1}', 400),
        (b'{"instance_id": "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11", "form_id": "lain", "form_version": "1", '
         b'"answers": {}}', 404),
        (b'{"instance_id": "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11", "form_id": "uji_api", "form_version": "9", '
         b'"answers": {}}', 404),
        (b"\xff\xfe\x00 invalid utf-8", 400),
        (b'{"instance_id": "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11", "form_id": "' + b"a" * 100 + b'", '
         b'"form_version": "1", "answers": {}}', 400),
        (b'{"answers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 400),  # msgspec's RecursionError, not a 500
    ],
)
def test_malformed_bodies_are_clear_4xx(as_, published, payload: bytes, status: int) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = citra.post("/api/v1/submissions", content=payload,
                          headers={"x-csrftoken": csrf_of(citra), "content-type": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["code"]


def test_thousands_of_unknown_answers_get_a_count_and_a_bounded_list(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = send(citra, body(**{f"palsu_{i}": "x" for i in range(5000)}))
    assert response.status_code == 422
    problem = response.json()
    assert "5000" in problem["detail"] and len(problem["errors"]) == 1000


def test_script_in_answers_is_stored_as_text(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    payload = body(nama="<script>alert('x')</script>")
    assert send(citra, payload).status_code == 201
    stored = citra.get(f"/api/v1/submissions/{payload['instance_id']}").json()
    assert stored["answers"]["nama"] == "<script>alert('x')</script>"


def test_json_api_needs_the_csrf_header(as_, published) -> None:  # type: ignore[no-untyped-def]
    response = as_("citra").post("/api/v1/submissions", json=body())
    assert response.status_code == 403


def test_anonymous_api_calls_get_401_json(as_, published) -> None:  # type: ignore[no-untyped-def]
    anon = as_(None)
    response = send(anon, body())
    assert response.status_code == 401 and response.json()["code"] == "http.unauthorized"


def test_photos_are_stored_by_hash_checked_by_bytes_and_limited(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    headers = {"x-csrftoken": csrf_of(citra), "content-type": "image/jpeg"}
    up = citra.post("/api/v1/attachments", content=JPEG, headers=headers)
    assert up.status_code == 201, up.text
    digest = up.json()["sha256"]
    assert citra.post("/api/v1/attachments", content=JPEG, headers=headers).json()["sha256"] == digest
    fake = citra.post("/api/v1/attachments", content=b"<html>not a photo</html>", headers=headers)
    assert fake.status_code == 415 and fake.json()["code"] == "attachment.not_image"
    huge = citra.post("/api/v1/attachments", content=b"\xff\xd8\xff" + b"0" * settings.max_attachment_bytes,
                      headers=headers)
    assert huge.status_code == 413 and huge.json()["code"] == "attachment.too_large"
    missing = send(citra, body(foto="0" * 64))
    assert missing.status_code == 422 and missing.json()["code"] == "attachment.missing"
    payload = body(foto=digest)
    assert send(citra, payload).status_code == 201
    assert photo_size(citra.get(f"/api/v1/attachments/{digest}").content) == photo_size(JPEG)


def test_other_areas_cannot_see_a_submission_or_its_photo(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    up = citra.post("/api/v1/attachments", content=JPEG,
                    headers={"x-csrftoken": csrf_of(citra), "content-type": "image/jpeg"}).json()["sha256"]
    payload = body(foto=up)
    send(citra, payload)
    url = f"/api/v1/submissions/{payload['instance_id']}"
    dewi, budi, ani = as_("dewi"), as_("budi"), as_("ani")
    assert dewi.get(url).status_code == 404
    assert dewi.get(f"/api/v1/attachments/{up}").status_code == 404
    assert budi.get(url).status_code == 200 and budi.get(f"/api/v1/attachments/{up}").status_code == 200
    assert ani.get(url).status_code == 200
    retry_by_dewi = send(dewi, {**payload, "answers": {**payload["answers"], "kecamatan": "64.02.13",
                                                       "desa": "64.02.13.1007"}})
    assert retry_by_dewi.status_code == 409  # someone else's id: refused, and nothing about it revealed


NIK_FORM = b"""
settings: {id: uji_nik, version: "1", title: {id: Uji NIK}}
choices:
  jk: {L: {id: Laki-laki}, P: {id: Perempuan}}
fields:
  - {type: date, name: tgl_daftar, label: {id: Tanggal}, required: yes}
  - {type: select_one jk, name: jenis_kelamin, label: {id: Jenis kelamin}, required: yes}
  - {type: date, name: tgl_lahir, label: {id: Tanggal lahir}, required: yes}
  - type: nik
    name: nik
    label: {id: NIK}
    required: yes
    parameters: {sex: jenis_kelamin, birth_date: tgl_lahir, registered: tgl_daftar}
"""


def test_a_nik_warning_needs_the_confirm_tick(as_, settings) -> None:  # type: ignore[no-untyped-def]
    result = compile_source(NIK_FORM, "uji_nik.yaml")
    assert result.compiled is not None, result.problems

    async def run() -> None:
        db = Database(settings.database_url)
        await db.open()
        try:
            await forms.publish(db, result.compiled, NIK_FORM, "uji_nik.yaml")
        finally:
            await db.close()

    asyncio.run(run())
    citra = as_("citra")
    # 6402064101900001 encodes a woman born 1 January 1990; the enumerator entered a man.
    answers = {"tgl_daftar": "2026-03-02", "jenis_kelamin": "L", "tgl_lahir": "1990-01-01", "nik": "6402064101900001"}
    payload = {"instance_id": str(uuid.uuid4()), "form_id": "uji_nik", "form_version": "1", "answers": answers}
    unticked = send(citra, payload)
    assert unticked.status_code == 422
    assert [(e["path"], e["code"]) for e in unticked.json()["errors"]] == [("nik", "nik.sex_mismatch")]
    ticked = send(citra, {**payload, "answers": {**answers, "_konfirmasi": ["nik"]}})
    assert ticked.status_code == 201, ticked.text
    assert [w["code"] for w in ticked.json()["warnings"]] == ["nik.sex_mismatch"]


def test_a_photo_keeps_the_phones_bytes_but_not_its_gps_and_a_broken_one_is_refused(as_, published,  # type: ignore[no-untyped-def]
                                                                                    settings) -> None:
    from tests.storage.test_photo_clean import _exif, _scene, _segments
    from tests.web.live import query

    citra = as_("citra")
    headers = {"x-csrftoken": csrf_of(citra), "content-type": "image/jpeg"}
    out = io.BytesIO()
    _scene(800, 600).save(out, "JPEG", quality=80, exif=_exif().tobytes())
    sent = out.getvalue()
    up = citra.post("/api/v1/attachments", content=sent, headers=headers)
    assert up.status_code == 201 and up.json()["size"] == len(sent)
    served = citra.get(f"/api/v1/attachments/{up.json()['sha256']}").content
    [app1] = [segment for marker, segment in _segments(sent) if marker == 0xE1]
    assert served == sent.replace(app1, b"", 1) and b"KameraMerek" not in served
    with Image.open(io.BytesIO(served)) as kept:
        assert kept.getexif().get_ifd(0x8825) == {} and kept.size == (800, 600)
    before = asyncio.run(query(settings, "SELECT sha256 FROM attachment"))
    cut = citra.post("/api/v1/attachments", content=sent[:len(sent) // 2], headers=headers)
    assert cut.status_code == 415 and cut.json()["code"] == "attachment.not_image"
    assert "bukan foto" in cut.json()["detail_id"]
    assert asyncio.run(query(settings, "SELECT sha256 FROM attachment")) == before  # nothing written for it


def _audit_rows(page: str) -> list[str]:
    return [row for row in page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]]


def test_a_new_record_is_on_the_audit_page_from_its_own_row(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    """A registration writes no audit row: the page shows its creation from the submission row (who,
    when, the record, its area, the address), under every filter that matches it and none that
    does not; its edit is an audit row as before, listed above it."""
    citra, ani = as_("citra"), as_("ani")
    payload = body()
    sid = payload["instance_id"]
    assert send(citra, payload).status_code == 201
    edited = {**payload, "answers": {**payload["answers"], "umur": 42}, "base_revision": 1}
    assert send(citra, edited).status_code == 200

    async def logged() -> list[str]:
        db = Database(settings.database_url)
        await db.open()
        try:
            return [r["action"] for r in await db.fetch("SELECT action FROM audit_log WHERE target_id = {}", sid)]
        finally:
            await db.close()

    assert asyncio.run(logged()) == ["submission.edit"]
    rows = _audit_rows(ani.get(f"/audit?target={sid}").text)
    assert len(rows) == 2 and "submission.edit" in rows[0] and "Data diubah" in rows[0]
    assert "Data dikirim" in rows[1] and "<code>submission.create</code>" in rows[1]
    assert f"submission:{sid}" in rows[1] and "(64.02.06.1001)" in rows[1] and "<td>citra</td>" in rows[1]
    assert "testclient" in rows[1]  # the address the registration came from
    assert "Record sent" in ani.get(f"/audit?target={sid}&lang=en").text
    today = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    for query, shown in (("action=submission.create", True), ("action=submission.create&actor=citra", True),
                         ("actor=dewi", False), ("action=submission.edit", False),
                         (f"since={today}&until={today}", True), (f"until={today - dt.timedelta(days=1)}", False),
                         (f"target={uuid.uuid4()}", False), ("target=bukan-uuid", False)):
        page = ani.get(f"/audit?{query}")
        assert page.status_code == 200, query
        assert any("Data dikirim" in r and sid in r for r in _audit_rows(page.text)) is shown, query


def test_the_audit_page_pages_through_creations_and_log_rows(as_, published) -> None:  # type: ignore[no-untyped-def]
    """More entries than a page: following the "older" links lists each once, newest first; a link
    of the page before creations were read from submissions (`a:ID`) is a clear 400 when ID is not
    in the log."""
    citra, ani = as_("citra"), as_("ani")
    sent = [body() for _ in range(53)]
    for payload in sent:
        assert send(citra, payload).status_code == 201
    seen: list[str] = []
    link, pages = "/audit?action=submission.create", 0
    while link:
        page = ani.get(link.replace("&amp;", "&")).text
        pages += 1
        seen += [r.split("submission:")[1].split("<")[0] for r in _audit_rows(page) if "submission:" in r]
        older = re.search(r'href="(/audit\?[^"]*cursor=[^"]*)"', page)
        link = older[1] if older else ""
    assert seen == [p["instance_id"] for p in reversed(sent)] and pages == 2
    old = base64.urlsafe_b64encode(b"a:999999").decode().rstrip("=")
    refused = ani.get(f"/audit?cursor={old}")
    assert refused.status_code == 400 and "audit.bad_filter" in refused.text
