"""The fill page without JavaScript: a plain multipart post goes through the
same submission path as the JSON API. The posted names, as fill.html writes them:

    nama=Siti                         a field, by its name (groups do not appear)
    warna=merah  warna=biru           a select_multiple: once per ticked choice
    anggota[0].nama_art=Ani           a field of repeat instance 0 (nested: rumah[0].anggota[1].x)
    foto=<file>  or  foto=<sha256>    a photo: a file part, or the hash of one stored by an earlier post
    _konfirmasi=nik                   "the warnings of nik were checked" (in a repeat: anggota[0]._konfirmasi)
    _id, _versi, _csrf_token          the instance uuid made when the form opened, the version, CSRF
    _aksi=tambah:anggota | hapus:anggota[1] | hitung   re-render (add, remove, show choices), store nothing
"""

from __future__ import annotations

import hashlib
import os
import re
import uuid
from typing import Any

import msgspec
import pytest

from server.settings import Settings
from server.storage import attachments
from tests.web.conftest import csrf_of
from tests.web.test_api_submissions import JPEG, photo_size, publish
from tests.web.test_fill_page import FORM
from tests.web.test_registry import fetch

COUNTED = b"""
settings: {id: uji_hitung, version: "1", title: {id: Uji hitung, en: Count test}}
fields:
  - {type: integer, name: jml, label: {id: Jumlah anak, en: Children}, required: yes}
  - type: repeat
    name: anak
    label: {id: Anak, en: Child}
    repeat_count: ${jml}
    fields:
      - {type: text, name: nama_anak, label: {id: Nama anak, en: Child's name}, required: yes}
"""
VALID = {"setuju": "ya", "nama": "Siti Aminah", "umur": "41", "kecamatan": "64.02.06",
         "desa": "64.02.06.1001", "anggota[0].nama_art": "Siti Aminah"}


@pytest.fixture
def published(settings: Settings) -> None:
    publish(settings, FORM)
    publish(settings, COUNTED)


def post(persona: Any, data: dict[str, Any], files: list[Any] | None = None, form_id: str = "uji_isi",
         instance_id: str | None = None, **kw: Any) -> Any:
    fields = {"_csrf_token": csrf_of(persona), "_id": instance_id or str(uuid.uuid4()), "_versi": "1", **data}
    parts = files if files is not None else [("foto", ("", b"", "application/octet-stream"))]
    return persona.post(f"/f/{form_id}", data=fields, files=parts, follow_redirects=False, **kw)


def stored(persona: Any) -> list[dict[str, Any]]:
    return [persona.get(f"/api/v1/submissions/{i['instance_id']}").json()
            for i in persona.get("/api/v1/submissions").json()]


def test_a_plain_post_is_stored_once_and_its_retry_gets_the_same_receipt(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra, instance_id = as_("citra"), str(uuid.uuid4())
    data = {**VALID, "warna": ["merah", "biru"], "gaji": "Rp 1.250.000", "waktu": "2026-03-31T10:15",
            "anggota[1].nama_art": "Budi", "anggota[1].umur_art": "12", "paham": "OK"}
    files = [("foto", ("foto.jpg", JPEG, "image/jpeg"))]
    first = post(citra, data, files, instance_id=instance_id)
    assert first.status_code == 201, first.text
    assert instance_id in first.text and "Terkirim" in first.text and 'href="/f/uji_isi"' in first.text
    again = post(citra, data, files, instance_id=instance_id)
    assert again.status_code == 200 and "Sudah diterima" in again.text
    [row] = stored(citra)
    answers = row["answers"]
    assert answers["warna"] == ["merah", "biru"] and answers["gaji"] == 1250000 and answers["umur"] == 41
    assert answers["waktu"] == "2026-03-31T10:15:00+08:00" and answers["paham"] == "OK"
    assert [a["nama_art"] for a in answers["anggota"]] == ["Siti Aminah", "Budi"]
    shown = citra.get(f"/api/v1/attachments/{answers['foto']}").content
    assert len(answers["foto"]) == 64 and photo_size(shown) == photo_size(JPEG)


def test_errors_come_back_at_their_fields_with_the_answers_kept(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = post(citra, {**VALID, "umur": "130", "nama": "", "anggota[0].nama_art": ""})
    assert response.status_code == 422 and 'data-code="submission.invalid"' in response.text
    page = response.text
    assert '<p class="err" id="e-umur">Umur 0 sampai 120.</p>' in page
    assert 'id="e-nama">Wajib diisi.' in page and 'id="e-anggota[0].nama_art">Wajib diisi.' in page
    assert 'name="umur" aria-describedby=" e-umur" aria-invalid="true" inputmode="numeric" value="130"' in page
    assert 'href="#f-umur"' in page  # the summary at the top links to the field
    assert 'value="64.02.06.1001" selected' in page
    assert stored(citra) == []


def test_answers_that_are_not_relevant_are_dropped(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = post(citra, {"setuju": "tidak", "nama": "Tidak dipakai", "anggota[0].nama_art": "Ani"})
    assert response.status_code == 201, response.text
    [row] = stored(citra)
    assert "nama" not in row["answers"] and row["answers"]["setuju"] == "tidak"


def test_a_warning_needs_the_tick_before_anything_is_stored(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    data = {**VALID, "jk": "L", "nik": "6402064101900001"}  # a woman's NIK (day 41) for a man
    warned = post(citra, data)
    assert warned.status_code == 422 and "berbeda dengan isian" in warned.text
    assert 'name="_konfirmasi" value="nik"' in warned.text and stored(citra) == []
    ticked = post(citra, {**data, "_konfirmasi": "nik"})
    assert ticked.status_code == 201, ticked.text
    assert stored(citra)[0]["answers"]["_konfirmasi"] == ["nik"]


def test_repeat_instances_are_added_and_removed_by_posting(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    added = post(citra, {**VALID, "_aksi": "tambah:anggota"})
    assert added.status_code == 200 and 'name="anggota[1].nama_art"' in added.text
    assert 'value="Siti Aminah"' in added.text and 'class="err"' not in added.text
    removed = post(citra, {**VALID, "anggota[1].nama_art": "Budi", "_aksi": "hapus:anggota[0]"})
    assert removed.status_code == 200
    assert 'name="anggota[0].nama_art" aria-required="true" value="Budi"' in removed.text
    assert 'name="anggota[1].nama_art"' not in removed.text
    assert stored(citra) == []


def test_showing_the_choices_again_cascades_without_javascript(as_, published) -> None:  # type: ignore[no-untyped-def]
    page = post(as_("dewi"), {"setuju": "ya", "kecamatan": "64.02.13", "_aksi": "hitung"}).text  # Samboja's
    assert 'value="64.02.13.1007"' in page and 'value="64.02.06.1001"' not in page
    assert 'formaction="/f/uji_isi#f-desa"' in page


def test_a_counted_repeat_follows_its_count_after_a_post(as_, published) -> None:  # type: ignore[no-untyped-def]
    page = post(as_("citra"), {"jml": "3", "_aksi": "hitung"}, form_id="uji_hitung").text
    assert 'name="anak[2].nama_anak"' in page and 'name="anak[3].nama_anak"' not in page


def test_a_file_that_is_not_a_photo_is_an_error_at_its_field(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = post(citra, VALID, [("foto", ("foto.jpg", b"GIF89a not a jpeg", "image/jpeg"))])
    assert response.status_code == 422 and 'id="e-foto">Berkas ini bukan foto JPEG, PNG atau WebP.' in response.text
    big = JPEG[:4] + b"\0" * (5 * 1024 * 1024 + 10)
    response = post(citra, VALID, [("foto", ("besar.jpg", big, "image/jpeg"))])
    assert response.status_code == 422 and 'id="e-foto">Foto lebih dari 5 MB.' in response.text
    assert "bait" not in response.text and "bytes" not in response.text  # people read MB
    assert stored(citra) == []


def test_a_photo_posted_without_javascript_is_scaled_like_the_phones(as_, published, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    """The runtime scales a photo to 1600 px before sending; a page without JavaScript sends the
    camera's full picture, so the server scales it the same way: both paths store the same size."""
    import io

    from PIL import Image

    big, png = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (2400, 1800), (40, 160, 90)).save(big, "JPEG", quality=90)
    Image.new("RGB", (600, 1800), (200, 30, 30)).save(png, "PNG")  # decoded whole: at most 1.1 MP
    citra = as_("citra")
    response = post(citra, VALID, [("foto", ("kamera.jpg", big.getvalue(), "image/jpeg")),
                                   ("ttd", ("ttd.png", png.getvalue(), "image/png"))])
    assert response.status_code == 201, response.text
    [row] = stored(citra)
    photo = attachments.stored_bytes(settings.data_dir, row["answers"]["foto"], settings.database_url)
    assert photo[:3] == b"\xff\xd8\xff" and photo_size(photo) == (1600, 1200)
    tall = attachments.stored_bytes(settings.data_dir, row["answers"]["ttd"], settings.database_url)
    assert tall[:3] == b"\xff\xd8\xff" and photo_size(tall) == (533, 1600)  # a JPEG, as the phone sends


def test_a_png_too_large_to_scale_is_kept_as_sent_and_a_larger_one_refused(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    """A PNG must be decoded whole to be scaled: beyond 1.1 MP (4 bytes a pixel) that would cost the
    node over 10 MB, so a 3 MP one (a phone's screenshot is 2.6) is kept as sent, over the form's
    limit, rather than lost; beyond 4 MP the page says to send a JPEG or scale it first, and nothing
    is stored."""
    import io

    from PIL import Image

    png, huge = io.BytesIO(), io.BytesIO()
    Image.new("RGB", (1000, 3000), (200, 30, 30)).save(png, "PNG")
    Image.new("RGB", (1500, 3000), (200, 30, 30)).save(huge, "PNG")
    citra = as_("citra")
    response = post(citra, VALID, [("ttd", ("ttd.png", huge.getvalue(), "image/png"))])
    assert response.status_code == 422 and "4.5 MP" in response.text and "4.0 MP" in response.text
    assert not stored(citra)
    response = post(citra, VALID, [("ttd", ("ttd.png", png.getvalue(), "image/png"))])
    assert response.status_code == 201, response.text
    [row] = stored(citra)
    kept = attachments.stored_bytes(settings.data_dir, row["answers"]["ttd"], settings.database_url)
    assert kept[:4] == b"\x89PNG" and photo_size(kept) == (1000, 3000)


def test_script_in_answers_is_stored_as_text_and_shown_escaped(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra, script = as_("citra"), "<script>alert('x')</script>"
    shown = post(citra, {**VALID, "nama": script, "umur": "130"})
    assert shown.status_code == 422 and script not in shown.text and "&lt;script&gt;" in shown.text
    assert post(citra, {**VALID, "nama": script}).status_code == 201
    assert stored(citra)[0]["answers"]["nama"] == script


def _multipart(token: str, raw: bytes) -> bytes:
    return (b'--XX\r\nContent-Disposition: form-data; name="_csrf_token"\r\n\r\n' + token.encode() + b"\r\n"
            b'--XX\r\nContent-Disposition: form-data; name="_id"\r\n\r\n6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11\r\n'
            b'--XX\r\nContent-Disposition: form-data; name="_versi"\r\n\r\n1\r\n'
            b'--XX\r\nContent-Disposition: form-data; name="nama"\r\n\r\n' + raw + b"\r\n--XX--\r\n")


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        ({"_id": "bukan-uuid"}, 400, "http.bad_request"),
        ({"_versi": "9"}, 404, "http.not_found"),
        ({"_versi": "../x"}, 400, "http.bad_request"),
        ({"nama": "x" * 5000}, 400, "http.field_too_long"),
        ({"nama": ["satu", "dua"]}, 400, "http.bad_request"),
        ({"_aksi": "hapus-semua"}, 400, "http.bad_request"),
        ({"_konfirmasi": "<b>"}, 400, "http.bad_request"),
        ({f"anggota[{i}].nama_art": "x" for i in range(201)}, 400, "http.bad_request"),
    ],
)
def test_malformed_posts_are_clear_4xx_pages_and_store_nothing(as_, published, data, status, code) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = post(citra, {**VALID, **data})
    assert response.status_code == status and f"<code>{code}</code>" in response.text, response.text[:300]
    assert '<html lang="id">' in response.text
    assert stored(citra) == []


def test_bytes_that_are_not_utf8_are_a_400_not_a_500(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = citra.post("/f/uji_isi", content=_multipart(csrf_of(citra), b"\xff\xfe Siti"),
                          headers={"content-type": "multipart/form-data; boundary=XX"})
    assert response.status_code == 400 and "UTF-8" in response.text


def test_a_file_where_text_belongs_is_refused(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = post(citra, VALID, [("nama", ("nama.txt", b"Siti", "text/plain"))])
    assert response.status_code == 400 and stored(citra) == []


def test_unknown_forms_and_people_who_may_not_fill(as_, published) -> None:  # type: ignore[no-untyped-def]
    assert post(as_("citra"), VALID, form_id="tidak_ada").status_code == 404
    assert post(as_("budi"), VALID).status_code == 403
    anonymous = post(as_(None), VALID)
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/masuk")


def test_a_post_without_the_csrf_token_is_refused(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = citra.post("/f/uji_isi", data={"_id": str(uuid.uuid4()), "_versi": "1", **VALID},
                          files=[("foto", ("", b"", "application/octet-stream"))])
    assert response.status_code == 403 and "http.csrf" in response.text


def test_outside_ones_area_the_answers_stay_on_the_page(as_, published) -> None:  # type: ignore[no-untyped-def]
    response = post(as_("dewi"), VALID)  # dewi works in Samboja; the record is in Tenggarong
    assert response.status_code == 403 and 'data-code="submission.outside_area"' in response.text
    assert 'value="Siti Aminah"' in response.text


HYPHENS = b"""
settings: {id: uji-strip, version: "1", title: {id: Uji strip, en: Hyphen test}}
fields:
  - {type: integer, name: item-count, label: {id: Jumlah barang, en: Items}, required: yes}
  - type: repeat
    name: item-repeat
    label: {id: Barang, en: Item}
    fields:
      - {type: text, name: item-name, label: {id: Nama barang, en: Item name}, required: yes}
      - {type: integer, name: item-left, label: {id: Sisa, en: Left}, constraint: ". <= ${item-count}"}
"""


def test_names_with_a_hyphen_fill_and_store_through_a_plain_post(as_, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    publish(settings, HYPHENS)
    citra = as_("citra")
    page = citra.get("/f/uji-strip")
    assert page.status_code == 200 and 'name="item-count"' in page.text
    refused = post(citra, {"item-count": "2", "item-repeat[0].item-name": "Beras", "item-repeat[0].item-left": "3"},
                   form_id="uji-strip")
    assert refused.status_code == 422 and 'id="e-item-repeat[0].item-left"' in refused.text
    done = post(citra, {"item-count": "2", "item-repeat[0].item-name": "Beras", "item-repeat[0].item-left": "1",
                        "item-repeat[1].item-name": "Gula"}, form_id="uji-strip")
    assert done.status_code == 201, done.text
    [row] = stored(citra)
    assert row["answers"]["item-count"] == 2
    items = row["answers"]["item-repeat"]
    assert [(i["item-name"], i.get("item-left")) for i in items] == [("Beras", 1), ("Gula", None)]


def test_a_recording_over_ten_megabytes_is_taken_without_javascript(as_, settings) -> None:  # type: ignore[no-untyped-def]
    """The app's body limit is 10 MB; the post without JavaScript carries a recording up to the
    server's own file limit (PANTAU_MAX_FILE_BYTES, 20 MB by default), as the phone and Collect do."""
    from tests.web.test_file_answers import AUDIO
    from tests.web.test_file_answers import FORM as FILES_FORM

    assert settings.max_file_bytes == 20 * 1024 * 1024
    publish(settings, FILES_FORM)
    citra = as_("citra")
    data = AUDIO["mp3"][:16] + os.urandom(12 * 1024 * 1024)
    answer = post(citra, {"nama": "Siti Aminah"}, files=[("suara", ("rekaman.mp3", data, "audio/mpeg"))],
                  form_id="uji_api")
    shown = re.findall(r"<(?:h1|p)[^>]*>([^<]+)", answer.text)
    assert answer.status_code == 201, (answer.status_code, shown)  # the receipt
    rows = fetch(settings, "SELECT answers FROM submission WHERE form_id = 'uji_api'")
    assert len(rows) == 1, shown
    sha = msgspec.json.decode(rows[0]["answers"])["suara"]
    assert sha == hashlib.sha256(data).hexdigest()
    assert citra.get(f"/api/v1/attachments/{sha}").content == data
