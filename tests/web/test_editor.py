"""The form editor over HTTP: every save validated on the server, evolution rules
enforced, drafts and their test submissions kept apart from real data, publish, archive and
restore, assignment limiting who sees a form, uploads and downloads. Ani is staff."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import uuid
import zipfile
from typing import Any

import pytest

from server.settings import Settings
from server.storage.db import Database
from tests.web.conftest import csrf_of, post_form

FORM_ID = "uji_editor"


def doc(*fields: dict[str, Any], version: str = "1", choices: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "settings": {"id": FORM_ID, "version": version, "title": {"id": "Uji editor", "en": "Editor test"}},
        "fields": list(fields),
    }
    if choices:
        out["choices"] = choices
    return out


UMUR = {"type": "integer", "name": "umur", "label": {"id": "Umur", "en": "Age"}, "required": True}
NAMA = {"type": "text", "name": "nama", "label": {"id": "Nama", "en": "Name"}}
BEKERJA = {"type": "select_one ya_tidak", "name": "bekerja", "label": {"id": "Bekerja?", "en": "Working?"}}
YA_TIDAK = {
    "ya_tidak": [
        {"name": "ya", "label": {"id": "Ya", "en": "Yes"}},
        {"name": "tidak", "label": {"id": "Tidak", "en": "No"}},
    ]
}


def save(persona, body: dict[str, Any], form_id: str = FORM_ID):  # type: ignore[no-untyped-def]
    return persona.post(f"/formulir/{form_id}/draf", json=body, headers={"x-csrftoken": csrf_of(persona)})


def publish(persona, form_id: str = FORM_ID, **data: str):  # type: ignore[no-untyped-def]
    return post_form(persona, f"/formulir/{form_id}/terbit", data)


def rows(settings: Settings, sql: str, *args: Any) -> list[dict[str, Any]]:
    async def run() -> list[dict[str, Any]]:
        db = Database(settings.database_url)
        await db.open()
        try:
            return await db.fetch(sql, *args)
        finally:
            await db.close()

    return asyncio.run(run())


@pytest.fixture
def ani(as_):  # type: ignore[no-untyped-def]
    return as_("ani")


def published_v1(ani) -> None:  # type: ignore[no-untyped-def]
    assert save(ani, {"document": doc(UMUR, NAMA, BEKERJA, choices=YA_TIDAK)}).status_code == 200
    assert publish(ani).status_code == 303


def test_a_structure_is_saved_as_canonical_yaml_and_both_views_come_back(ani, settings) -> None:  # type: ignore[no-untyped-def]
    answer = save(ani, {"document": doc(UMUR, NAMA)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["saved"] is True and body["problems"] == [] and len(body["content_hash"]) == 64
    assert "name: umur" in body["yaml"] and body["document"]["fields"][0]["name"] == "umur"
    stored = rows(settings, "SELECT source FROM form_draft WHERE form_id = {}", FORM_ID)
    assert stored[0]["source"] == body["yaml"]
    # The text view saves the same definition; the structure comes back from it.
    again = save(ani, {"yaml": body["yaml"].replace("Umur", "Umur (tahun)")})
    assert again.status_code == 200 and again.json()["document"]["fields"][0]["label"]["id"] == "Umur (tahun)"
    page = ani.get(f"/formulir/{FORM_ID}")
    assert page.status_code == 200 and "Umur (tahun)" in page.text


def test_a_hand_made_broken_definition_is_refused_and_nothing_is_stored(ani, settings) -> None:  # type: ignore[no-untyped-def]
    assert save(ani, {"document": doc(UMUR)}).status_code == 200
    before = rows(settings, "SELECT source FROM form_draft WHERE form_id = {}", FORM_ID)
    broken = dict(NAMA, relevant="${tidak_ada} > 1")
    answer = save(ani, {"document": doc(UMUR, broken)})
    assert answer.status_code == 422
    problems = answer.json()["problems"]
    assert [(p["code"], p["field"]) for p in problems] == [("form.unknown_reference", "nama")]
    assert problems[0]["message"] and problems[0]["message_en"]  # Indonesian first, English beside it
    assert rows(settings, "SELECT source FROM form_draft WHERE form_id = {}", FORM_ID) == before
    for bad in (b"{", b'{"yaml": 1}', b'{"yaml": "a", "document": {}}', b"{}"):
        response = ani.post(
            f"/formulir/{FORM_ID}/draf",
            content=bad,
            headers={"x-csrftoken": csrf_of(ani), "content-type": "application/json"},
        )
        assert response.status_code == 400, bad


def test_the_form_name_cannot_change_in_a_save(ani) -> None:  # type: ignore[no-untyped-def]
    changed = doc(UMUR)
    changed["settings"]["id"] = "lain"
    answer = save(ani, {"document": changed})
    assert answer.status_code == 422 and [p["code"] for p in answer.json()["problems"]] == ["form.id_mismatch"]


def test_a_retype_of_a_published_field_is_refused_with_a_new_name_suggested(ani) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)
    retyped = dict(UMUR, type="text")
    answer = save(ani, {"document": doc(retyped, NAMA, BEKERJA, choices=YA_TIDAK)})
    assert answer.status_code == 422
    [found] = answer.json()["problems"]
    assert (found["code"], found["field"]) == ("form.retyped", "umur") and "umur_2" in found["hint"]
    # The suggested fix is accepted: a new name, the old field removed (its data stays in exports).
    fixed = save(ani, {"document": doc(dict(retyped, name="umur_2"), NAMA, BEKERJA, choices=YA_TIDAK)})
    assert fixed.status_code == 200
    diff = ani.get(f"/formulir/{FORM_ID}/terbit")
    assert 'data-field="umur_2"' in diff.text and "kind-removed" in diff.text and "kind-added" in diff.text


def test_a_choice_value_with_another_meaning_needs_a_confirmation_to_publish(ani, settings) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)
    reused = {
        "ya_tidak": [
            {"name": "ya", "label": {"id": "Tidak bekerja", "en": "Not working"}},
            {"name": "tidak", "label": {"id": "Tidak", "en": "No"}},
        ]
    }
    answer = save(ani, {"document": doc(UMUR, NAMA, BEKERJA, choices=reused)})
    assert answer.status_code == 200  # a warning: saved, shown, confirmed before publishing
    assert [p["code"] for p in answer.json()["problems"]] == ["form.choice_reused"]
    page = ani.get(f"/formulir/{FORM_ID}/terbit")
    assert 'id="warnings"' in page.text and "Tidak bekerja" in page.text
    refused = publish(ani)
    assert refused.status_code == 409 and 'id="publish-error"' in refused.text
    assert len(rows(settings, "SELECT id FROM form_version")) == 1
    assert publish(ani, konfirmasi="ya").status_code == 303
    versions = rows(settings, "SELECT version FROM form_version ORDER BY id")
    assert [v["version"] for v in versions] == ["1", "2"]  # the used label "1" moved on to "2"


def test_publishing_makes_an_immutable_version_and_removes_the_draft(ani, settings) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)
    [version] = rows(settings, "SELECT version, content_hash FROM form_version")
    assert version["version"] == "1" and len(version["content_hash"]) == 64
    assert rows(settings, "SELECT id FROM form_draft") == []
    listing = ani.get("/formulir")
    assert FORM_ID in listing.text and "Terbit" in listing.text
    # The editor opens on the published version; saving the same content and publishing is a no-op.
    assert save(ani, {"document": doc(UMUR, NAMA, BEKERJA, choices=YA_TIDAK)}).status_code == 200
    assert publish(ani).status_code == 303
    assert len(rows(settings, "SELECT id FROM form_version")) == 1
    audit = rows(settings, "SELECT action FROM audit_log WHERE target_id = {} ORDER BY id", FORM_ID)
    assert {"form.draft_save", "form.publish", "form.draft_delete"} <= {a["action"] for a in audit}


def test_the_list_counts_versions_and_submissions(ani, as_, settings) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)
    citra = as_("citra")
    sent = citra.post(
        "/api/v1/submissions",
        headers={"x-csrftoken": csrf_of(citra)},
        json={"instance_id": str(uuid.uuid4()), "form_id": FORM_ID, "form_version": "1", "answers": {"umur": 30}},
    )
    assert sent.status_code == 201, sent.text
    page = ani.get("/formulir")
    row = page.text.split(f'id="form-{FORM_ID}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>1</td>" in row.replace(" ", "")


def test_preview_runs_the_draft_and_its_test_submissions_stay_apart(ani, settings) -> None:  # type: ignore[no-untyped-def]
    assert save(ani, {"document": doc(UMUR, NAMA)}).status_code == 200
    page = ani.get(f"/formulir/{FORM_ID}/pratinjau")
    assert page.status_code == 200 and 'name="umur"' in page.text and f"/formulir/{FORM_ID}/pratinjau" in page.text
    rules = ani.get(f"/formulir/{FORM_ID}/pratinjau/aturan")
    assert rules.status_code == 200 and rules.json()["id"] == FORM_ID
    instance = str(uuid.uuid4())
    body = {"instance_id": instance, "form_id": FORM_ID, "form_version": "1", "answers": {"umur": 41}}
    headers = {"x-csrftoken": csrf_of(ani)}
    sent = ani.post(f"/formulir/{FORM_ID}/pratinjau", json=body, headers=headers)
    assert sent.status_code == 201 and sent.json()["test"] is True and sent.json()["test_count"] == 1
    assert ani.post(f"/formulir/{FORM_ID}/pratinjau", json=body, headers=headers).json()["outcome"] == "identical"
    bad = ani.post(f"/formulir/{FORM_ID}/pratinjau", json={**body, "answers": {}}, headers=headers)
    assert bad.status_code == 422 and bad.json()["errors"][0]["code"] == "answer.required"
    assert rows(settings, "SELECT id FROM submission") == []
    assert len(rows(settings, "SELECT id FROM draft_submission")) == 1
    assert post_form(ani, f"/formulir/{FORM_ID}/draf/hapus").status_code == 303
    assert rows(settings, "SELECT id FROM draft_submission") == [] and rows(settings, "SELECT id FROM form_draft") == []


def test_a_preview_refusal_is_the_api_422_with_the_same_bounded_list(ani) -> None:  # type: ignore[no-untyped-def]
    """The preview answered a 422 of its own, listing every problem; it is now the API's body, whose
    list stops at 1,000 while the count says how many."""
    assert save(ani, {"document": doc(UMUR, NAMA)}).status_code == 200
    made_up = {f"palsu_{i}": "x" for i in range(1500)}
    body = {"instance_id": str(uuid.uuid4()), "form_id": FORM_ID, "form_version": "1",
            "answers": {"umur": 41, **made_up}}
    refused = ani.post(f"/formulir/{FORM_ID}/pratinjau", json=body, headers={"x-csrftoken": csrf_of(ani)})
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["code"] == "submission.invalid" and "1500" in problem["detail"]
    assert len(problem["errors"]) == 1000 and {e["path"] for e in problem["errors"]} <= set(made_up)


def test_archive_and_restore(ani, as_) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)
    citra = as_("citra")
    assert post_form(ani, f"/formulir/{FORM_ID}/status", {"status": "archived"}).status_code == 303
    assert FORM_ID not in citra.get("/").text and citra.get(f"/f/{FORM_ID}").status_code == 404
    assert "Diarsipkan" in ani.get("/formulir").text
    assert post_form(ani, f"/formulir/{FORM_ID}/status", {"status": "published"}).status_code == 303
    assert FORM_ID in citra.get("/").text and citra.get(f"/f/{FORM_ID}").status_code == 200
    assert post_form(ani, f"/formulir/{FORM_ID}/status", {"status": "hapus"}).status_code == 400


def test_assignment_limits_who_sees_and_fills_the_form(ani, as_) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)
    citra, dewi, budi = as_("citra"), as_("dewi"), as_("budi")
    assert post_form(ani, f"/formulir/{FORM_ID}/penugasan", {"wilayah": "64.02.13"}).status_code == 303
    assert FORM_ID not in citra.get("/").text and citra.get(f"/f/{FORM_ID}").status_code == 404
    sent = citra.post(
        "/api/v1/submissions",
        headers={"x-csrftoken": csrf_of(citra)},
        json={"instance_id": str(uuid.uuid4()), "form_id": FORM_ID, "form_version": "1", "answers": {"umur": 30}},
    )
    assert sent.status_code == 404 and sent.json()["code"] == "submission.unknown_form"
    # The read API agrees with the fill page: the form does not exist for Citra, Dewi reads it.
    assert FORM_ID not in [f["form_id"] for f in citra.get("/api/v1/forms").json()]
    assert citra.get(f"/api/v1/forms/{FORM_ID}").status_code == 404
    assert FORM_ID in [f["form_id"] for f in dewi.get("/api/v1/forms").json()]
    assert dewi.get(f"/api/v1/forms/{FORM_ID}").status_code == 200
    assert FORM_ID in dewi.get("/").text and dewi.get(f"/f/{FORM_ID}").status_code == 200
    assert FORM_ID in ani.get("/").text  # editors always see every form
    # Assigned to coordinators only: no enumerator sees it, Budi does.
    assert post_form(ani, f"/formulir/{FORM_ID}/penugasan", {"peran": "coordinator", "wilayah": ""}).status_code == 303
    assert FORM_ID not in dewi.get("/").text and FORM_ID in budi.get("/").text
    assert post_form(ani, f"/formulir/{FORM_ID}/penugasan", {"wilayah": "64.02.06; DROP"}).status_code == 400
    json_please = {"accept": "application/json"}
    unknown = post_form(ani, f"/formulir/{FORM_ID}/penugasan", {"wilayah": "64.02.60"}, headers=json_please)
    assert unknown.status_code == 400 and unknown.json()["code"] == "editor.bad_area"  # well-formed, but no such area
    assert FORM_ID in budi.get("/").text  # the refused assignment changed nothing
    assert post_form(ani, f"/formulir/{FORM_ID}/penugasan", {"peran": "admin"}).status_code == 400


def test_download_as_yaml_and_xlsform_and_upload_it_back(ani) -> None:  # type: ignore[no-untyped-def]
    assert save(ani, {"document": doc(UMUR, NAMA, BEKERJA, choices=YA_TIDAK)}).status_code == 200
    yaml_file = ani.get(f"/formulir/{FORM_ID}/unduh?format=yaml")
    assert yaml_file.status_code == 200 and b"name: umur" in yaml_file.content
    xlsx = ani.get(f"/formulir/{FORM_ID}/unduh?format=xlsx")
    assert xlsx.status_code == 200 and zipfile.is_zipfile(io.BytesIO(xlsx.content))
    assert ani.get(f"/formulir/{FORM_ID}/unduh?format=pdf").status_code == 400
    uploaded = ani.post(
        "/formulir/unggah",
        files={"berkas": ("uji.xlsx", xlsx.content)},
        data={"_csrf_token": csrf_of(ani)},
        follow_redirects=False,
    )
    assert uploaded.status_code == 303 and uploaded.headers["location"] == f"/formulir/{FORM_ID}"


def upload(ani, name: str, content: bytes):  # type: ignore[no-untyped-def]
    return ani.post(
        "/formulir/unggah",
        files={"berkas": (name, content)},
        data={"_csrf_token": csrf_of(ani)},
        follow_redirects=False,
    )


def workbook(sheets: dict[str, list[list[str]]]) -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, table in sheets.items():
        sheet = book.create_sheet(title)
        for line in table:
            sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("rusak.xlsx", b"bukan workbook", "xlsform.not_workbook"),
        ("sampah.xlsx", b"\x00junk" * (1024 * 1024), "form.too_large"),
        ("lembar.xlsx", workbook({"data": [["type", "name"]], "catatan": [["x"]]}), "xlsform.no_survey"),
        ("kosong.xlsx", workbook({"data": [["type", "name"]]}), "form.no_fields"),  # one sheet is the survey
        ("rusak.yaml", b"settings: [\n", "form.yaml"),
    ],
)
def test_bad_uploads_get_clear_problems_in_indonesian_first(ani, name: str, content: bytes, code: str) -> None:  # type: ignore[no-untyped-def]
    answer = upload(ani, name, content)
    assert answer.status_code == 422 and f'data-code="{code}"' in answer.text
    assert answer.text.index('lang="id"') < answer.text.index('lang="en" class="en"')


def test_an_xlsform_uploads_with_the_csv_files_it_names(ani) -> None:  # type: ignore[no-untyped-def]
    book = workbook({"survey": [["type", "name", "label", "calculation"],
                                ["select_one_from_file desa.csv", "desa", "Desa", ""],
                                ["csv-external", "rumah", "", ""], ["calculate", "n", "", "1"]],
                     "settings": [["form_id"], ["uji_lampiran"]]})
    answer = ani.post("/formulir/unggah", follow_redirects=False, data={"_csrf_token": csrf_of(ani)}, files=[
        ("berkas", ("lampiran.xlsx", book)), ("lampiran", ("desa.csv", b"name,label\nd1,Desa Satu\nd2,Desa Dua\n")),
        ("lampiran", ("C:\\data\\rumah.csv", b"id;nama\n1;Ani\n"))])
    assert answer.status_code == 303, answer.text[:2000]
    yaml_file = ani.get("/formulir/uji_lampiran/unduh?format=yaml").text
    assert "Desa Satu" in yaml_file and "rumah.csv" in yaml_file and "Ani" in yaml_file


def test_an_xlsform_without_its_choices_csv_uploads_with_the_warning(ani) -> None:  # type: ignore[no-untyped-def]
    # pyxform converts it; Pantau keeps it as a draft whose publish page says the list is empty.
    book = workbook({"survey": [["type", "name", "label"], ["select_one_from_file desa.csv", "desa", "Desa"]],
                     "settings": [["form_id"], ["uji_tanpa_csv"]]})
    answer = upload(ani, "tanpa.xlsx", book)
    assert answer.status_code == 303, answer.text[:2000]
    page = ani.get("/formulir/uji_tanpa_csv/terbit")
    assert 'id="warnings"' in page.text and 'data-code="form.empty_file_list"' in page.text
    assert "desa.csv" in page.text and "belum diunggah" in page.text
    assert publish(ani, "uji_tanpa_csv").status_code == 409  # published once someone ticks they read it
    assert publish(ani, "uji_tanpa_csv", konfirmasi="ya").status_code == 303
    fill = ani.get("/f/uji_tanpa_csv")
    assert fill.status_code == 200 and "Daftar pilihannya belum diunggah bersama formulir." in fill.text


BROKEN_BOOK = {
    "survey": [["type", "name", "label", "relevant"],
               ["text", "nama", "Nama"],
               ["integer", "umur", "Umur"],
               ["text", "kerja", "Pekerjaan", "${umr} > 17"],
               ["salah_jenis", "x", "X"],
               *[["note", f"catatan_{i}", f"Catatan {i}"] for i in range(20)],
               ["text", "", "<script>alert(1)</script>"]],
    "settings": [["form_id", "version"], ["uji_rusak", "1"]],
}


def test_the_upload_page_shows_the_rows_to_fix_marked_in_their_sheet(ani) -> None:  # type: ignore[no-untyped-def]
    answer = upload(ani, "rusak.xlsx", workbook(BROKEN_BOOK))
    assert answer.status_code == 422
    page = answer.text
    # each problem names sheet, row and column and links to its row, which is marked in the table
    assert 'href="#baris-survey-5">Lembar survey, baris 5, kolom A</a>' in page
    assert 'href="#baris-survey-26">Lembar survey, baris 26, kolom A</a>' in page
    for row in (5, 26):
        assert f'<tr id="baris-survey-{row}" class="marked">' in page
    # the header and two rows either side of each marked one, with the gaps between them shown
    assert all(f'<tr id="baris-survey-{row}">' in page for row in (1, 3, 4, 6, 7, 24, 25))
    assert not any(f'id="baris-survey-{row}"' in page for row in (2, 8, 23))
    assert page.count('<tr class="gap">') == 2
    assert "<mark>salah_jenis</mark>" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert" not in page


def test_an_upload_that_is_not_a_form_file_or_is_huge_is_refused(ani) -> None:  # type: ignore[no-untyped-def]
    assert upload(ani, "catatan.txt", b"halo").status_code == 422
    assert post_form(ani, "/formulir/unggah").status_code == 400


def test_script_in_labels_is_always_shown_escaped(ani) -> None:  # type: ignore[no-untyped-def]
    source = (
        b'settings: {id: uji_skrip, version: "1", title: {id: "<script>alert(1)</script>"}}\n'
        b'fields:\n  - {type: text, name: nama, label: {id: "<img src=x onerror=alert(1)>"}}\n'
    )
    assert upload(ani, "skrip.yaml", source).status_code == 303
    for path in ("/formulir", "/formulir/uji_skrip", "/formulir/uji_skrip/pratinjau", "/formulir/uji_skrip/terbit"):
        page = ani.get(path)
        assert page.status_code == 200, path
        assert "<script>alert(1)" not in page.text and "<img src=x" not in page.text, path


def test_a_new_form_starts_as_a_draft_and_names_are_checked(ani) -> None:  # type: ignore[no-untyped-def]
    made = post_form(ani, "/formulir", {"form_id": "survei_baru", "title": "Survei baru"})
    assert made.status_code == 303 and made.headers["location"] == "/formulir/survei_baru"
    listing = ani.get("/formulir")
    assert "survei_baru" in listing.text and "Draf" in listing.text
    assert post_form(ani, "/formulir", {"form_id": "survei_baru"}).status_code == 409
    assert post_form(ani, "/formulir", {"form_id": "1-salah"}).status_code == 400


def test_the_editor_works_without_javascript_through_the_yaml_form(ani, settings) -> None:  # type: ignore[no-untyped-def]
    assert save(ani, {"document": doc(UMUR)}).status_code == 200
    yaml_text = rows(settings, "SELECT source FROM form_draft")[0]["source"]
    saved = post_form(ani, f"/formulir/{FORM_ID}/draf", {"yaml": yaml_text.replace("Umur", "Usia")})
    assert saved.status_code == 303
    assert "Usia" in rows(settings, "SELECT source FROM form_draft")[0]["source"]
    broken = post_form(ani, f"/formulir/{FORM_ID}/draf", {"yaml": yaml_text.replace("integer", "nope")})
    assert broken.status_code == 422 and 'data-code="form.unknown_type"' in broken.text


def test_old_versions_still_take_submissions_and_a_removed_field_stays_in_the_export(ani, as_) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)
    assert save(ani, {"document": doc(UMUR, BEKERJA, version="2", choices=YA_TIDAK)}).status_code == 200
    assert publish(ani).status_code == 303  # v2 drops "nama"
    citra = as_("citra")
    on_v1 = {
        "instance_id": str(uuid.uuid4()),
        "form_id": FORM_ID,
        "form_version": "1",
        "answers": {"umur": 30, "nama": "Siti"},
    }
    sent = citra.post("/api/v1/submissions", headers={"x-csrftoken": csrf_of(citra)}, json=on_v1)
    assert sent.status_code == 201, sent.text  # a phone still on version 1 can submit to it
    export = ani.get(f"/api/v1/forms/{FORM_ID}/export?format=csv&status=all")
    assert export.status_code == 200
    with zipfile.ZipFile(io.BytesIO(export.content)) as archive:  # one CSV per table, zipped
        main = archive.read(f"{FORM_ID}.csv").decode("utf-8-sig")
    assert "nama" in main.splitlines()[0] and "Siti" in main


def test_notices_after_a_redirect_are_fixed_texts(ani) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)
    assert "Terbit sebagai versi 1." in ani.get(f"/formulir/{FORM_ID}?ok=terbit&v=1").text
    crafted = ani.get(f"/formulir/{FORM_ID}?ok=terbit&v=<b>diblokir</b>&pesan=Hubungi+kami").text
    assert "diblokir" not in crafted and "Hubungi" not in crafted


def test_without_a_draft_the_preview_shows_the_published_version_read_only(ani, settings) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)  # publishing deleted the draft
    editor = ani.get(f"/formulir/{FORM_ID}")
    assert f'src="/formulir/{FORM_ID}/pratinjau"' in editor.text and 'id="read-only-preview"' in editor.text
    page = ani.get(f"/formulir/{FORM_ID}/pratinjau")
    assert page.status_code == 200 and 'name="umur"' in page.text and "versi terbit 1" in page.text
    assert ani.get(f"/formulir/{FORM_ID}/pratinjau/aturan").json()["id"] == FORM_ID
    body = {"instance_id": str(uuid.uuid4()), "form_id": FORM_ID, "form_version": "1", "answers": {"umur": 41}}
    as_json = {"x-csrftoken": csrf_of(ani), "accept": "application/json"}  # as the phone runtime asks
    refused = ani.post(f"/formulir/{FORM_ID}/pratinjau", json=body, headers=as_json)
    assert refused.status_code == 409 and refused.json()["code"] == "editor.preview_published"
    assert refused.json()["detail_id"] and refused.json()["detail"]
    # Never into the real data, and no draft appears behind the editor's back.
    for table in ("submission", "draft_submission", "form_draft"):
        assert rows(settings, f"SELECT id FROM {table}") == [], table
    # Once a change is saved there is a draft, and its preview takes test submissions again.
    assert save(ani, {"document": doc(UMUR, NAMA, BEKERJA, version="2", choices=YA_TIDAK)}).status_code == 200
    assert 'id="read-only-preview"' not in ani.get(f"/formulir/{FORM_ID}").text
    sent = ani.post(f"/formulir/{FORM_ID}/pratinjau", json=body, headers={"x-csrftoken": csrf_of(ani)})
    assert sent.status_code == 201 and sent.json()["test_count"] == 1


def test_the_structured_view_attributes_are_saved_and_checked(ani) -> None:  # type: ignore[no-untyped-def]
    """What the structured view edits beyond labels and rules (docs/forms.md): repeat counts, appearance,
    defaults and the type parameters; the server refuses what breaks them."""
    jk = {"type": "select_one jk", "name": "jk", "label": {"id": "JK"}, "appearance": "minimal"}
    lahir = {"type": "date", "name": "tgl_lahir", "label": {"id": "Lahir"}, "default": "today()"}
    nik = {"type": "nik", "name": "nik", "label": {"id": "NIK"}, "parameters": {"sex": "jk", "birth_date": "tgl_lahir"}}
    jumlah = {"type": "integer", "name": "jumlah", "label": {"id": "Jumlah"}, "default": "2"}
    anggota = {
        "type": "repeat",
        "name": "anggota",
        "label": {"id": "Anggota"},
        "min_count": 1,
        "max_count": 3,
        "fields": [{"type": "text", "name": "catatan", "label": {"id": "Catatan"}, "appearance": "multiline"}],
    }
    anak = {
        "type": "repeat",
        "name": "anak",
        "label": {"id": "Anak"},
        "repeat_count": "${jumlah}",
        "fields": [{"type": "text", "name": "nama_anak", "label": {"id": "Nama anak"}}],
    }
    lists = {"jk": [{"name": "L", "label": {"id": "L"}}, {"name": "P", "label": {"id": "P"}}]}
    answer = save(ani, {"document": doc(jk, lahir, nik, jumlah, anggota, anak, choices=lists)})
    assert answer.status_code == 200, answer.text
    fields = {f["name"]: f for f in answer.json()["document"]["fields"]}
    assert fields["nik"]["parameters"] == {"sex": "jk", "birth_date": "tgl_lahir"}
    assert (fields["jk"]["appearance"], fields["tgl_lahir"]["default"], fields["jumlah"]["default"]) == (
        "minimal",
        "today()",
        "2",
    )
    assert (fields["anggota"]["min_count"], fields["anggota"]["max_count"]) == (1, 3)
    assert fields["anak"]["repeat_count"] == "${jumlah}"
    preview = ani.get(f"/formulir/{FORM_ID}/pratinjau").text
    assert 'id="f-jk"' in preview and 'type="radio"' not in preview  # minimal: a drop-down, not radios
    assert "<textarea" in preview  # multiline
    broken = [
        (dict(anggota, min_count=4), "form.repeat_bounds"),
        (dict(anak, repeat_count="${nama_anak} +"), "form.bad_expression"),
        (dict(nik, parameters={"sex": "tidak_ada"}), "form.bad_parameter"),
        (dict(lahir, default="today("), "form.bad_expression"),
    ]
    for bad, code in broken:
        name = bad["name"]
        body = [bad if f["name"] == name else f for f in (jk, lahir, nik, jumlah, anggota, anak)]
        refused = save(ani, {"document": doc(*body, choices=lists)})
        assert refused.status_code == 422, code
        assert code in [p["code"] for p in refused.json()["problems"]], refused.json()["problems"]


def test_a_field_removed_in_a_new_version_stays_in_every_export_format(ani, as_) -> None:  # type: ignore[no-untyped-def]
    """A removed field stays in exports and reports. Submitted on version 1, then version 2
    is published without `nama`: CSV, XLSX and JSON lines still carry the column and the answer."""
    published_v1(ani)
    citra = as_("citra")
    on_v1 = {"instance_id": str(uuid.uuid4()), "form_id": FORM_ID, "form_version": "1"}
    on_v1["answers"] = {"umur": 30, "nama": "Siti Aminah"}  # type: ignore[assignment]
    assert citra.post("/api/v1/submissions", headers={"x-csrftoken": csrf_of(citra)}, json=on_v1).status_code == 201
    assert save(ani, {"document": doc(UMUR, BEKERJA, version="2", choices=YA_TIDAK)}).status_code == 200
    diff = ani.get(f"/formulir/{FORM_ID}/terbit")
    assert "kind-removed" in diff.text and 'data-field="nama"' in diff.text
    assert publish(ani).status_code == 303

    def export(fmt: str) -> bytes:
        response = ani.get(f"/api/v1/forms/{FORM_ID}/export?format={fmt}&status=all")
        assert response.status_code == 200, response.text
        return response.content

    with zipfile.ZipFile(io.BytesIO(export("csv"))) as archive:
        table = list(csv.DictReader(io.StringIO(archive.read(f"{FORM_ID}.csv").decode("utf-8-sig"))))
        columns = list(csv.DictReader(io.StringIO(archive.read("_columns.csv").decode("utf-8-sig"))))
    assert [r["nama"] for r in table] == ["Siti Aminah"]
    [nama] = [c for c in columns if c["column"] == "nama"]
    assert (nama["removed"], nama["versions"]) == ("yes", "1")

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(export("xlsx")), read_only=True)
    sheet = list(book[FORM_ID].iter_rows(values_only=True))
    book.close()
    codes = list(sheet[1])  # row 1: the questions' labels; row 2: their codes; the records from row 3
    assert "nama" in codes and sheet[2][codes.index("nama")] == "Siti Aminah"

    [line] = [json.loads(x) for x in export("jsonl").decode().splitlines()]
    assert line["nama"] == "Siti Aminah" and line["umur"] == 30


def test_a_published_field_moved_into_a_repeat_is_refused_a_group_is_fine(ani) -> None:  # type: ignore[no-untyped-def]
    published_v1(ani)
    group = {"type": "group", "name": "identitas", "label": {"id": "Identitas", "en": "Identity"}, "fields": [NAMA]}
    assert save(ani, {"document": doc(UMUR, group, BEKERJA, choices=YA_TIDAK)}).status_code == 200
    repeat = dict(group, type="repeat")
    refused = save(ani, {"document": doc(UMUR, repeat, BEKERJA, choices=YA_TIDAK)})
    assert refused.status_code == 422
    [found] = refused.json()["problems"]
    assert (found["code"], found["field"]) == ("form.moved_repeat", "nama") and "nama_2" in found["hint"]


def test_answer_counts_say_what_each_published_field_holds_at_any_depth(ani, as_) -> None:  # type: ignore[no-untyped-def]
    """The editor asks before deleting a question with data and says how many answers
    stay; the count comes from here, on SQLite (json_tree) and PostgreSQL (a recursive walk) alike."""
    anggota = {"type": "repeat", "name": "anggota", "label": {"id": "Anggota"},
               "fields": [{"type": "text", "name": "nama_art", "label": {"id": "Nama anggota"}}]}
    umur = {**UMUR, "required": False}
    assert save(ani, {"document": doc(umur, NAMA, anggota)}).status_code == 200
    assert publish(ani).status_code == 303
    records = [{"nama": f"Warga {i}", **({"umur": 20 + i} if i % 3 else {}), **({"nama": ""} if i == 4 else {}),
                "anggota": [{"nama_art": f"Anak {j}"} for j in range(i % 3)]} for i in range(9)]
    citra = as_("citra")
    for answers in records:
        sent = citra.post("/api/v1/submissions", headers={"x-csrftoken": csrf_of(citra)}, json={
            "instance_id": str(uuid.uuid4()), "form_id": FORM_ID, "form_version": "1", "answers": answers})
        assert sent.status_code == 201, sent.text
    counts = ani.get(f"/formulir/{FORM_ID}/jawaban").json()["counts"]
    assert counts["umur"] == sum(1 for r in records if "umur" in r)
    assert counts["nama"] == sum(1 for r in records if r["nama"])
    assert counts["nama_art"] == sum(len(r["anggota"]) for r in records)
    assert save(ani, {"document": doc(NAMA, anggota, version="2")}).status_code == 200  # umur removed
    plan = ani.get(f"/formulir/{FORM_ID}/terbit").text
    assert f"{counts['umur']} jawaban tetap ada di ekspor dan laporan lama" in plan
    assert as_("budi").get(f"/formulir/{FORM_ID}/jawaban").status_code == 403
