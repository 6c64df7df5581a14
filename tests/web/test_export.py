"""Exports, read back the way an analyst's tools read them (csv, openpyxl, json): one table per repeat
joined by keys, codes or labels in Indonesian or English, every version merged by field name with
removed fields kept, approved records unless all are asked for, NIK masked, each download audited."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from typing import Any

import msgspec
import openpyxl
import pytest

from server.domain import exports as layout_rules
from server.domain import review as review_rules
from server.domain.access import Principal
from server.storage import exports, sql
from server.storage.db import Database
from tests.web.test_review import SAMBOJA, decide, publish, query, submit

V2 = b"""
settings: {id: uji_tinjau, version: "2", title: {id: Uji tinjau, en: Review test}}
choices:
  kecamatan: {wilayah: kecamatan 64.02}
  jk:
    L: {id: Pria, en: Man}
    P: {id: Wanita, en: Woman}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}, required: yes}
  - {type: select_one kecamatan, name: kecamatan, label: {id: Kecamatan, en: Sub-district}, required: yes}
  - {type: select_one jk, name: jk, label: {id: Jenis kelamin, en: Sex}}
  - {type: integer, name: jml_art, label: {id: Jumlah anggota, en: Household size}}
"""


@pytest.fixture
def records(as_, settings) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Three records in Tenggarong (two approved, one on version 2) and one in Samboja, approved."""
    publish(settings)
    citra, dewi, ani = as_("citra"), as_("dewi"), as_("ani")
    first = submit(citra, nama="Siti Aminah")
    second = submit(citra, nama="=HYPERLINK(\"http://x\")", anggota=[], bantuan=[], jk="L")
    samboja = submit(dewi, nama="Sari", kecamatan=SAMBOJA, anggota=[])
    publish(settings, V2, "uji_tinjau_v2.yaml")
    newer = citra.post("/api/v1/submissions", json={
        "instance_id": "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c22", "form_id": "uji_tinjau", "form_version": "2",
        "answers": {"nama": "Rudi", "kecamatan": "64.02.06", "jk": "L", "jml_art": 4}},
        headers={"x-csrftoken": citra.cookies["csrftoken"]}).json()
    for made in (first, newer, samboja):
        assert decide(ani, made["instance_id"], "approved").status_code == 303
    return {"first": first["instance_id"], "second": second["instance_id"], "samboja": samboja["instance_id"],
            "newer": newer["instance_id"]}


def download(persona: Any, query_string: str) -> bytes:
    response = persona.get(f"/data/ekspor?form=uji_tinjau&{query_string}")
    assert response.status_code == 200, response.text
    assert "gzip" not in response.headers.get("content-encoding", "")
    assert "attachment;" in response.headers["content-disposition"]
    return response.content


def csv_tables(data: bytes) -> dict[str, list[dict[str, str]]]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: list(csv.DictReader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
                for name in archive.namelist()}


def test_csv_is_a_zip_with_one_file_per_repeat_joined_by_keys(as_, records) -> None:  # type: ignore[no-untyped-def]
    tables = csv_tables(download(as_("ani"), "format=csv"))
    assert set(tables) == {"uji_tinjau.csv", "uji_tinjau-anggota.csv", "uji_tinjau-sekolah.csv", "_columns.csv"}
    main = {r["_id"]: r for r in tables["uji_tinjau.csv"]}
    assert set(main) == {records["first"], records["newer"], records["samboja"]}  # approved only by default
    first = main[records["first"]]
    assert (first["nama"], first["jk"], first["bantuan"], first["_review_status"], first["_form_version"]) == (
        "Siti Aminah", "P", "pkh sembako", "approved", "1")
    assert first["nik"] == "64**************" and first["_enumerator"] == "citra" and first["_area_code"] == "64.02.06"
    assert main[records["newer"]]["jml_art"] == "4" and main[records["newer"]]["bantuan"] == ""
    members = [r for r in tables["uji_tinjau-anggota.csv"] if r["_id"] == records["first"]]
    assert [(m["_index"], m["nama_anggota"], m["umur"], m["_parent_key"]) for m in members] == [
        ("1", "Rudi", "12", records["first"]), ("2", "Rina", "7", records["first"])]
    schools = tables["uji_tinjau-sekolah.csv"]
    assert [(s["_parent_key"], s["nama_sekolah"]) for s in schools] == [
        (members[0]["_key"], "SDN 1"), (members[0]["_key"], "SMPN 2")]


def test_all_versions_merge_by_name_and_removed_fields_stay(as_, records) -> None:  # type: ignore[no-untyped-def]
    tables = csv_tables(download(as_("ani"), "format=csv&status=all"))
    header = list(tables["uji_tinjau.csv"][0])
    # the newest version's fields first, then what only version 1 had (kept for its records)
    assert header[7:] == ["nama", "kecamatan", "jk", "jml_art", "bantuan", "nik", "lokasi", "foto"]
    columns = {(c["table"], c["column"]): c for c in tables["_columns.csv"]}
    bantuan, jk = columns[("uji_tinjau", "bantuan")], columns[("uji_tinjau", "jk")]
    assert (bantuan["removed"], bantuan["versions"]) == ("yes", "1")
    assert (jk["removed"], jk["versions"]) == ("no", "1 2")
    assert len(tables["uji_tinjau.csv"]) == 4


def test_labels_in_either_language_with_the_newest_wording(as_, records) -> None:  # type: ignore[no-untyped-def]
    english = {r["_id"]: r for r in
               csv_tables(download(as_("ani"), "format=csv&values=labels&lang=en"))["uji_tinjau.csv"]}
    assert english[records["first"]]["jk"] == "Woman"  # version 2 renamed the label; the code stayed P
    assert english[records["first"]]["bantuan"] == "Cash transfer; Food aid"
    assert english[records["first"]]["kecamatan"] == "Tenggarong"
    assert english[records["first"]]["_review_status"] == "Approved"
    indonesian = {r["_id"]: r for r in
                  csv_tables(download(as_("ani"), "format=csv&values=labels&lang=id"))["uji_tinjau.csv"]}
    assert (indonesian[records["first"]]["jk"], indonesian[records["first"]]["_review_status"]) == (
        "Wanita", "Disetujui")


def test_free_text_cannot_become_a_spreadsheet_formula(as_, records) -> None:  # type: ignore[no-untyped-def]
    rows = {r["_id"]: r for r in csv_tables(download(as_("ani"), "format=csv&status=all"))["uji_tinjau.csv"]}
    assert rows[records["second"]]["nama"] == "'=HYPERLINK(\"http://x\")"
    assert rows[records["first"]]["lokasi"] == "-0.4123 116.9856 12 8"  # a southern latitude is not a formula


def test_xlsx_has_one_sheet_per_table(as_, records) -> None:  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(io.BytesIO(download(as_("ani"), "format=xlsx&values=labels&lang=en")),
                                  read_only=True)
    assert book.sheetnames == ["uji_tinjau", "anggota", "sekolah", "_columns"]
    labels, header = list(book["uji_tinjau"].iter_rows(values_only=True, max_row=2))
    main = list(book["uji_tinjau"].iter_rows(values_only=True, max_col=len(header)))  # empty cells are left out
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in main[2:]}
    assert header[:3] == ("_id", "_form_version", "_revision") and len(rows) == 3
    # People read the question's label; the code is the second header row. Labels need no labels beside.
    assert labels[:3] == ("Record ID", "Form version", "Revision")
    assert labels[header.index("jk")] == "Sex" and "jk:label" not in header
    first = rows[records["first"]]
    assert (first["nama"], first["jk"], first["_revision"], first["nik"]) == (
        "Siti Aminah", "Woman", 1, "64**************")
    assert rows[records["newer"]]["jml_art"] == 4  # numbers stay numbers
    members = list(book["anggota"].iter_rows(values_only=True))
    assert [(r[0], r[3], r[4], r[5]) for r in members[2:]] == [(records["first"], 1, "Rudi", 12),
                                                              (records["first"], 2, "Rina", 7)]
    assert [r[4] for r in list(book["sekolah"].iter_rows(values_only=True))[2:]] == ["SDN 1", "SMPN 2"]
    book.close()
    # Opened as a person opens it: the header row frozen and an autofilter over the header and every row.
    full = openpyxl.load_workbook(io.BytesIO(download(as_("ani"), "format=xlsx&values=labels&lang=en")))
    sheet = full["uji_tinjau"]
    assert sheet.freeze_panes == "A3"
    assert sheet.auto_filter.ref == f"A2:{openpyxl.utils.get_column_letter(len(header))}{len(main)}"


def test_xlsx_of_codes_has_each_choices_labels_beside_them(as_, records) -> None:  # type: ignore[no-untyped-def]
    book = openpyxl.load_workbook(io.BytesIO(download(as_("ani"), "format=xlsx&values=codes&lang=en")))
    sheet = book["uji_tinjau"]
    labels, header = ([c.value for c in sheet[n]] for n in (1, 2))
    for code, label in (("jk", "Sex"), ("kecamatan", "Sub-district")):
        at = header.index(code)
        assert (header[at + 1], labels[at], labels[at + 1]) == (f"{code}:label", label, f"{label} (label)")
    rows = {r[0]: dict(zip(header, r, strict=False)) for r in sheet.iter_rows(min_row=3, values_only=True)}
    first = rows[records["first"]]
    assert (first["jk"], first["jk:label"]) == ("P", "Woman")
    assert (first["kecamatan"], first["kecamatan:label"]) == ("64.02.06", "Tenggarong")
    assert (first["bantuan"], first["bantuan:label"]) == ("pkh sembako", "Cash transfer; Food aid")
    assert rows[records["newer"]]["jk:label"] == "Man"
    # CSV keeps the codes alone, for machines.
    csv_header = csv_tables(download(as_("ani"), "format=csv&values=codes"))["uji_tinjau.csv"][0].keys()
    assert "jk" in csv_header and not any(name.endswith(":label") for name in csv_header)


def test_json_lines_nest_repeats(as_, records) -> None:  # type: ignore[no-untyped-def]
    lines = [json.loads(line) for line in download(as_("ani"), "format=jsonl&status=all").decode().splitlines()]
    by_id = {line["_id"]: line for line in lines}
    assert set(by_id) == set(records.values())
    first = by_id[records["first"]]
    assert first["bantuan"] == ["pkh", "sembako"] and first["jml_art"] is None
    assert [m["nama_anggota"] for m in first["anggota"]] == ["Rudi", "Rina"]
    assert [s["nama_sekolah"] for s in first["anggota"][0]["sekolah"]] == ["SDN 1", "SMPN 2"]
    assert by_id[records["second"]]["_review_status"] == "received"


def test_coordinators_export_only_their_areas(as_, records) -> None:  # type: ignore[no-untyped-def]
    lines = download(as_("budi"), "format=jsonl&status=all").decode().splitlines()
    assert {json.loads(line)["_id"] for line in lines} == {records["first"], records["second"], records["newer"]}
    refused = as_("budi").get(f"/data/ekspor?form=uji_tinjau&area={SAMBOJA}", headers={"accept": "application/json"})
    assert refused.status_code == 403 and refused.json()["code"] == "review.outside_area"
    assert as_("dewi").get("/data/ekspor?form=uji_tinjau").status_code == 403  # enumerators do not export


def test_exports_are_audited(as_, records, settings) -> None:  # type: ignore[no-untyped-def]
    download(as_("budi"), "format=xlsx&values=labels&lang=en&since=2000-01-01")
    rows = query(settings, "SELECT actor, target_id, detail FROM audit_log WHERE action = 'export.download'")
    assert len(rows) == 1 and rows[0]["actor"] == "budi" and rows[0]["target_id"] == "uji_tinjau"
    assert "format=xlsx values=labels lang=en" in rows[0]["detail"] and "since=2000-01-01" in rows[0]["detail"]


@pytest.mark.parametrize(("query_string", "status", "code"), [
    ("form=uji_tinjau&format=pdf", 400, "export.bad_option"),
    ("form=uji_tinjau&values=names", 400, "export.bad_option"),
    ("form=uji_tinjau&lang=fr", 400, "export.bad_option"),
    ("format=csv", 400, "export.bad_option"),
    ("form=tidak_ada", 404, "export.unknown_form"),
    ("form=uji_tinjau&since=2026-02-01&until=2026-01-01", 400, "review.reversed_dates"),
    ("form=uji_tinjau&cursor=x", 400, "review.bad_filter"),
    ("form=uji_tinjau&warna=merah", 400, "review.bad_filter"),
])
def test_bad_export_requests_are_clear_4xx(as_, records, query_string: str, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    response = as_("ani").get(f"/data/ekspor?{query_string}", headers={"accept": "application/json"})
    assert response.status_code == status and response.json()["code"] == code


def test_an_xlsx_table_over_the_row_limit_continues_on_new_sheets(records, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Excel's limit is 1,048,576 rows a sheet; the same code runs here with a limit of 4 (the two
    header rows and two records), on the real records, the real scan and the real writer."""
    async def export() -> bytes:
        db = Database(settings.database_url)
        await db.open()
        try:
            filters = msgspec.structs.replace(review_rules.parse_filters({"status": ["all"]}), form_id="uji_tinjau")
            staff = Principal(id=1, username="ani", display_name="Ani", role="staff")
            prepared = await exports.prepare(db, staff, filters, "xlsx", layout_rules.Options())
            conn, sink = sql.open_reader(db.url), io.BytesIO()
            try:
                scan = exports.scan(conn, prepared)
                assert exports.write_xlsx(prepared, scan, sink, tmp_path, max_rows=4) == 4
                scan.close()
            finally:
                conn.close()
            return sink.getvalue()
        finally:
            await db.close()

    book = openpyxl.load_workbook(io.BytesIO(asyncio.run(export())), read_only=True)
    assert book.sheetnames == ["uji_tinjau", "uji_tinjau (2)", "anggota", "sekolah", "_columns"]
    main = [list(book[name].iter_rows(values_only=True)) for name in ("uji_tinjau", "uji_tinjau (2)")]
    assert [len(sheet) for sheet in main] == [4, 4]  # each: the two header rows and two records
    assert main[0][1][:3] == main[1][1][:3] == ("_id", "_form_version", "_revision")
    assert main[0][0][:3] == main[1][0][:3] == ("ID data", "Versi formulir", "Revisi")
    assert {r[0] for r in main[0][2:] + main[1][2:]} == set(records.values())
    book.close()


def test_xlsx_writes_rupiah_as_numbers_in_rupiah_and_dates_as_date_cells(as_, settings) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from tests.web.test_registry import REPO, publish_source, registered, visit

    for name in ("registrasi_penerima", "monev_uep"):
        publish_source(settings, (REPO / "forms" / f"{name}.yaml").read_bytes(), f"{name}.yaml")
    citra = as_("citra")
    made = visit(citra, registered(citra), tgl_kunjungan="2026-03-17", omzet_bln=820000)
    assert made.status_code == 201, made.text
    response = as_("ani").get("/data/ekspor?form=monev_uep&format=xlsx&values=codes&status=all")
    assert response.status_code == 200, response.text
    sheet = openpyxl.load_workbook(io.BytesIO(response.content))["monev_uep"]
    header = [c.value for c in sheet[2]]
    money, day = sheet.cell(3, header.index("omzet_bln") + 1), sheet.cell(3, header.index("tgl_kunjungan") + 1)
    assert money.value == 820000 and money.data_type == "n" and money.number_format == '"Rp "#,##0'
    assert day.is_date and day.value == dt.datetime(2026, 3, 17) and day.number_format == "d mmmm yyyy"
