"""The ODK types an XLSForm brings (barcode, range, geotrace, geoshape, csv-external): validated as
the server stores them, and written back under ODK's names by the export."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import openpyxl
import pytest

from server.domain.answers import validate
from server.domain.compile import CompiledForm, compile_source
from server.domain.xform import build_xform
from server.domain.xlsform_export import export_xlsform
from tests.domain.test_xlsform import workbook

NOW = dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def compiled() -> CompiledForm:
    result = compile_source(workbook([
        ["type", "name", "label", "parameters"],
        ["csv-external", "rumah", ""],
        ["barcode", "kode", "Kode"],
        ["range", "skor", "Skor", "start=0 end=10 step=2"],
        ["geotrace", "jalan", "Jalan"],
        ["geoshape", "lahan", "Lahan"],
    ]), "odk.xlsx")
    assert result.compiled is not None, [p.format() for p in result.problems]
    return result.compiled


def _check(compiled: CompiledForm, answers: dict[str, Any]) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    result = validate(compiled, answers, today=NOW.date(), now=NOW)
    return [(e.path, e.code) for e in result.errors], result.answers


def test_good_answers_are_cleaned(compiled: CompiledForm) -> None:
    errors, answers = _check(compiled, {"kode": " 8991234 ", "skor": "4", "jalan": "-0.5 117.1; -0.6 117.2 10 5",
                                        "lahan": "0 0;0 1;1 1"})
    assert errors == []
    assert answers == {"kode": "8991234", "skor": 4.0, "jalan": "-0.5 117.1 0 0;-0.6 117.2 10 5",
                       "lahan": "0 0 0 0;0 1 0 0;1 1 0 0;0 0 0 0"}


@pytest.mark.parametrize(("answers", "code"), [
    ({"skor": "5"}, "answer.range"), ({"skor": "12"}, "answer.range"), ({"skor": "-2"}, "answer.range"),
    ({"jalan": "-0.5 117.1"}, "answer.geotrace"), ({"jalan": "utara; selatan"}, "answer.geotrace"),
    ({"lahan": "0 0;0 1;0 0"}, "answer.geoshape"), ({"lahan": "0 0;95 1;1 1"}, "answer.geoshape"),
])
def test_bad_answers_are_refused(compiled: CompiledForm, answers: dict[str, Any], code: str) -> None:
    errors, _ = _check(compiled, answers)
    assert [c for _, c in errors] == [code]


def test_an_external_file_asks_nothing_and_exports_under_its_odk_name(compiled: CompiledForm) -> None:
    errors, answers = _check(compiled, {"rumah": "x", "kode": "1"})
    assert (errors, answers) == ([], {"kode": "1"})  # what a client sends for it is dropped
    book = openpyxl.load_workbook(io.BytesIO(export_xlsform(compiled.definition)))
    types = [row[0] for row in book["survey"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert types[:5] == ["csv-external", "barcode", "range", "geotrace", "geoshape"]


def test_choices_from_an_uploaded_csv_and_rows_for_pulldata_are_part_of_the_definition() -> None:
    from server.domain.load import encode_yaml

    book = workbook([["type", "name", "label"], ["csv-external", "rumah", ""],
                  ["select_one_from_file desa.csv", "desa", "Desa"], ["select_multiple_from_file desa.csv", "d2", "D"]])
    files = {"desa.csv": b"name,label,label::English (en),parent\nd1,Satu,One,k1\nd2,Dua,,\n",
             "rumah.csv": b"\xef\xbb\xbfid;nama;umur\n1;Ani;30\n2;Budi;\n"}
    result = compile_source(book, "lampiran.xlsx", files)
    assert result.compiled is not None and result.problems == []
    definition = result.compiled.definition
    assert [(c.name, c.label, c.columns) for c in definition.choices["desa.csv"].choices] == [
        ("d1", {"id": "Satu", "en": "One"}, {"parent": "k1"}), ("d2", {"id": "Dua"}, {})]
    assert definition.attachments == {"rumah.csv": [{"id": "1", "nama": "Ani", "umur": "30"},
                                                    {"id": "2", "nama": "Budi"}]}
    assert definition.fields[1].xlsform == {"type": "select_one_from_file desa.csv"}  # type: ignore[union-attr]
    errors, answers = _check(result.compiled, {"desa": "d2", "d2": "d1 d2"})
    assert errors == [] and answers == {"desa": "d2", "d2": ["d1", "d2"]}
    assert _check(result.compiled, {"desa": "d9"})[0] == [("desa", "answer.choice")]
    back = compile_source(encode_yaml(definition), "lampiran.yaml")
    assert back.compiled is not None and back.compiled.content_hash == result.compiled.content_hash


def test_a_missing_or_broken_attachment_is_named_at_its_row() -> None:
    book = workbook([["type", "name", "label"], ["csv-external", "rumah", ""],
                  ["select_one_from_file desa.csv", "d", "D"]])
    result = compile_source(book, "x.xlsx")
    assert [(p.code, p.line) for p in result.problems] == [("xlsform.missing_attachment", 2),
                                                           ("xlsform.missing_choices_file", 3)]
    # pyxform converts it without the file: accepted with a warning, the list empty until it is uploaded.
    assert result.compiled is not None and "desa.csv" in result.problems[1].message_id
    assert all(p.severity == "warning" for p in result.problems)
    assert result.compiled.definition.choices["desa.csv"].choices == []
    assert _check(result.compiled, {"d": "d1"})[0] == [("d", "answer.choice")]
    broken = compile_source(book, "x.xlsx", {"desa.csv": b"", "rumah.csv": b"id\n1\n"})
    assert [(p.code, p.line) for p in broken.problems] == [("xlsform.bad_attachment", 3)]


PAIN_XML = (b'<?xml version="1.0"?>\n<root><item><name>kepala</name><label>Kepala</label><side>atas</side></item>'
            b'<item><name>kaki</name><label>Kaki</label></item></root>')
PURA_GEOJSON = (b'{"type": "FeatureCollection", "features": [{"type": "Feature", "id": "p1", "geometry": '
                b'{"type": "Point", "coordinates": [115.26, -8.51]}, "properties": {"title": "Pura Besakih", '
                b'"desa": "d1"}}, {"type": "Feature", "geometry": null, '
                b'"properties": {"id": "p2", "title": "Pura Ulun"}}]}')


def test_choices_from_an_xml_or_geojson_file_behave_as_from_a_csv() -> None:
    from server.domain.load import encode_yaml
    from server.domain.xform import build_xform

    book = workbook([["type", "name", "label"], ["select_one_from_file sakit.xml", "sakit", "Sakit"],
                     ["select_multiple_from_file sakit.xml", "semua", "Semua"],
                     ["select_one_from_file pura.geojson", "pura", "Pura"]])
    result = compile_source(book, "berkas.xlsx", {"sakit.xml": PAIN_XML, "pura.geojson": PURA_GEOJSON})
    assert result.compiled is not None and result.problems == [], [p.format() for p in result.problems]
    definition = result.compiled.definition
    assert [(c.name, c.label, c.columns) for c in definition.choices["sakit.xml"].choices] == [
        ("kepala", {"id": "Kepala"}, {"side": "atas"}), ("kaki", {"id": "Kaki"}, {})]
    assert [(c.name, c.label, c.columns) for c in definition.choices["pura.geojson"].choices] == [
        ("p1", {"id": "Pura Besakih"}, {"desa": "d1", "geometry": "-8.51 115.26"}), ("p2", {"id": "Pura Ulun"}, {})]
    errors, answers = _check(result.compiled, {"sakit": "kaki", "semua": "kepala kaki", "pura": "p2"})
    assert errors == [] and answers == {"sakit": "kaki", "semua": ["kepala", "kaki"], "pura": "p2"}
    assert _check(result.compiled, {"sakit": "lutut"})[0] == [("sakit", "answer.choice")]
    back = compile_source(encode_yaml(definition), "berkas.yaml")
    assert back.compiled is not None and back.compiled.content_hash == result.compiled.content_hash
    # ODK Collect gets the files back as media, in their own format, read again to the same choices.
    xform = build_xform(definition)
    assert sorted(xform.media) == ["pura.geojson", "sakit.xml"]
    assert b"instance('sakit')/root/item" in xform.xml and b'<value ref="id"/>' in xform.xml
    again = compile_source(book, "berkas.xlsx", dict(xform.media))
    assert again.compiled is not None and again.compiled.content_hash == result.compiled.content_hash


def test_a_missing_xml_file_is_an_empty_list_with_a_warning() -> None:
    result = compile_source(workbook([["type", "name", "label"], ["select_one_from_file sakit.xml", "s", "S"]]),
                            "x.xlsx")
    assert [(p.code, p.line, p.severity) for p in result.problems] == [("xlsform.missing_choices_file", 2, "warning")]
    assert result.compiled is not None and result.compiled.definition.choices["sakit.xml"].choices == []


@pytest.mark.parametrize(("data", "reason"), [
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><root><item>'
     b'<name>&b;</name></item></root>', "DTD"),
    (b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><root><item><name>&x;</name></item></root>', "DTD"),
    (b"<root><item><name>a</name></item>", "not well-formed"),
    (b"<root></root>", "no items"),
    (b"<root>" + b"<item><name>a</name></item>" * 10_001 + b"</root>", "more than 10000"),
    (b"<root><item><name>" + b"a" * (5 * 1024 * 1024) + b"</name></item></root>", "larger than 5 MB"),
])
def test_a_hostile_or_broken_xml_file_is_refused_at_its_row(data: bytes, reason: str) -> None:
    result = compile_source(workbook([["type", "name", "label"], ["text", "a", "A"],
                                      ["select_one_from_file sakit.xml", "s", "S"]]), "x.xlsx", {"sakit.xml": data})
    assert result.compiled is None
    assert [(p.code, p.file, p.line) for p in result.problems] == [("xlsform.bad_choices_file", "x.xlsx[survey]", 3)]
    assert reason in result.problems[0].message_en and "XML" in result.problems[0].message_en
    assert "tidak bisa dibaca sebagai XML" in result.problems[0].message_id


@pytest.mark.parametrize("data", [b"[1, 2]", b'{"type": "Feature"}', b"\xff{", b"{"])
def test_a_file_that_is_not_a_geojson_feature_collection_is_refused(data: bytes) -> None:
    result = compile_source(workbook([["type", "name", "label"], ["select_one_from_file pura.geojson", "p", "P"]]),
                            "x.xlsx", {"pura.geojson": data})
    assert [(p.code, p.line) for p in result.problems] == [("xlsform.bad_choices_file", 2)]
    assert "GeoJSON" in result.problems[0].message_en


def test_choices_from_another_kind_of_file_are_refused_by_name() -> None:
    result = compile_source(workbook([["type", "name", "label"], ["select_one_from_file desa.txt", "d", "D"]]),
                            "x.xlsx", {"desa.txt": b"d1"})
    assert [(p.code, p.line) for p in result.problems] == [("xlsform.unsupported", 2)]
    assert "desa.txt" in result.problems[0].message_en and "CSV, XML or GeoJSON" in result.problems[0].message_en


def test_audio_video_and_file_hold_their_file_take_required_and_a_size_cap() -> None:
    result = compile_source(workbook([
        ["type", "name", "label", "required", "parameters"],
        ["audio", "suara", "Suara", "yes", "quality=voice-only"],
        ["video", "rekaman", "Rekaman", "", "max_size=2.5"],
        ["file", "berkas", "Berkas", "", ""],
        ["text", "nama", "Nama", "", ""],
    ]), "unggah.xlsx")
    assert result.compiled is not None, [p.format() for p in result.problems]
    assert [p.format() for p in result.problems if p.code.startswith(("form.", "xlsform.ignored"))] == []
    # The answer is the stored file (its sha256 from the phone, its file name from Collect until stored).
    errors, answers = _check(result.compiled, {"suara": "a.m4a", "berkas": "x.pdf", "nama": "Ani"})
    assert errors == [] and answers == {"suara": "a.m4a", "berkas": "x.pdf", "nama": "Ani"}
    assert _check(result.compiled, {"nama": "Ani"})[0] == [("suara", "answer.required")]
    assert _check(result.compiled, {"suara": "../etc/passwd"})[0] == [("suara", "answer.text")]
    definition = result.compiled.definition
    sheet = openpyxl.load_workbook(io.BytesIO(export_xlsform(definition)))["survey"]
    rows = list(sheet.iter_rows(values_only=True))
    types = [row[0] for row in rows[1:]]
    assert {"audio", "video", "file"} <= set(types)
    # pyxform refuses a parameter it does not know: max_size stays in Pantau's column, ODK's quality goes to ODK.
    assert "max_size=2.5" in str(rows) and "quality=voice-only" in str(rows)
    assert b"odk:quality" in build_xform(definition).xml or b"voice-only" in build_xform(definition).xml


def test_a_size_cap_must_be_a_number() -> None:
    result = compile_source(workbook([["type", "name", "label", "parameters"],
                                      ["audio", "suara", "Suara", "max_size=besar"]]), "unggah.xlsx")
    assert [(p.code, p.line) for p in result.problems if p.severity == "error"] == [("form.bad_parameter", 2)]


def test_last_saved_references_load_read_empty_and_name_a_field() -> None:
    result = compile_source(workbook([
        ["type", "name", "label", "default", "calculation"],
        ["text", "desa", "Desa (terakhir: ${last-saved#desa})", "${last-saved#desa}", ""],
        ["calculate", "ulang", "", "", "concat('x', ${last-saved#desa}, ${desa})"],
    ]), "terakhir.xlsx")
    assert result.compiled is not None, [p.format() for p in result.problems]
    said = sorted((p.code, p.line, p.severity) for p in result.problems if p.code == "form.last_saved")
    assert said == [("form.last_saved", 2, "warning"), ("form.last_saved", 2, "warning"),
                    ("form.last_saved", 3, "warning")]
    assert all("${last-saved#desa}" in p.message_en and "kosong" in p.message_id and "empty" in p.message_en
               for p in result.problems if p.code == "form.last_saved")
    _errors, answers = _check(result.compiled, {"desa": "Jahab"})
    assert answers["ulang"] == "xJahab"  # the last saved value is empty, the current one is read
    wrong = compile_source(workbook([["type", "name", "label", "calculation"],
                                  ["calculate", "c", "", "${last-saved#nope}"]]), "salah.xlsx")
    assert wrong.compiled is None
    assert [(p.code, p.line) for p in wrong.problems if p.severity == "error"] == [("form.unknown_reference", 2)]


def test_select_one_external_offers_the_external_choices_as_a_select_one() -> None:
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    for row in [["type", "name", "label", "choice_filter"], ["text", "kec", "Kecamatan", ""],
                ["select_one_external desa", "desa", "Desa", "kec=${kec}"], ["select_one_external x", "x", "X", ""]]:
        survey.append(row)
    external = book.create_sheet("external_choices")
    for row in [["list_name", "name", "kec"], ["desa", "d1", "k1"], ["desa", "d2", "k2"]]:
        external.append(row)
    out = io.BytesIO()
    book.save(out)
    result = compile_source(out.getvalue(), "luar.xlsx")
    errors = [(p.code, p.line) for p in result.problems if p.severity == "error"]
    assert errors == [("xlsform.unsupported", 4)]  # x is in no sheet
    del_x = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    del_x["survey"].delete_rows(4)
    out = io.BytesIO()
    del_x.save(out)
    result = compile_source(out.getvalue(), "luar.xlsx")
    assert result.compiled is not None, [p.format() for p in result.problems]
    assert [(p.code, p.line) for p in result.problems] == [("xlsform.external_choices", 3)]
    desa = result.compiled.definition.fields[1]
    assert desa.type == "select_one" and desa.choices == "desa"  # type: ignore[union-attr]
    assert _check(result.compiled, {"kec": "k1", "desa": "d1"})[0] == []
    assert _check(result.compiled, {"kec": "k1", "desa": "d2"})[0] == [("desa", "answer.choice_filtered")]


def test_a_calculate_with_only_a_default_keeps_it_as_its_value_and_exports_as_written() -> None:
    """pyxform's `calculate` with `default: random()` and no calculation: ODK draws the number once
    as the form opens and keeps it. Pantau stores it as a hidden value, exported as the calculate."""
    from server.domain.xform import build_xform
    from server.web.fill_context import defaults
    from tests.web.test_fill_page import CLOCK

    book = workbook([["type", "name", "label", "calculation", "default"],
                     ["calculate", "acak", "", "", "random()"],
                     ["calculate", "tetap", "", "", "if(${acak} < 0.5, 'A', 'B')"],
                     ["calculate", "dua", "", "${acak} * 2", "1"]])
    result = compile_source(book, "acak.xlsx")
    assert result.compiled is not None, [p.format() for p in result.problems]
    acak, tetap, dua = result.compiled.definition.fields
    assert (acak.type, acak.default, acak.xlsform) == ("hidden", "random()", {"type": "calculate"})
    assert tetap.type == "hidden"
    assert dua.type == "calculate"  # a calculation: the default is ignored, as before
    start = defaults(result.compiled, result.compiled.definition.fields, CLOCK)
    assert 0 <= float(start["acak"]) < 1
    errors, answers = _check(result.compiled, {"acak": "0.42", "tetap": "A"})
    assert errors == [] and answers["acak"] == "0.42" and answers["tetap"] == "A" and answers["dua"] == 0.84
    # pyxform refuses a calculate whose only column is a literal default; so does Pantau.
    literal = compile_source(workbook([["type", "name", "default"], ["calculate", "tetap", "5"]]), "x.xlsx")
    assert literal.compiled is None
    assert [(p.code, p.line) for p in literal.problems if p.severity == "error"] == [("form.missing_calculation", 2)]
    sheet = openpyxl.load_workbook(io.BytesIO(export_xlsform(result.compiled.definition)))["survey"]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, row, strict=False)) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert [(r["type"], r["name"], r["default"]) for r in rows[:2]] == [
        ("calculate", "acak", "random()"), ("calculate", "tetap", "if(${acak} < 0.5, 'A', 'B')")]
    again = compile_source(export_xlsform(result.compiled.definition), "acak.xlsx")
    assert again.compiled is not None and again.compiled.content_hash == result.compiled.content_hash
    assert b'<setvalue ref="/data/acak" event="odk-instance-first-load" value="random()"/>' in \
        build_xform(result.compiled.definition).xml  # ODK draws it as the form opens
