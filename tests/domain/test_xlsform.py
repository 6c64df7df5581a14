"""XLSForm import and export: the shipped forms survive YAML -> XLSForm -> YAML with the same
content hash, and what Pantau does not support is a problem naming the sheet and row."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import openpyxl
import pytest

from server.domain.compile import CompileResult, compile_source
from server.domain.form import Group, Question, Repeat
from server.domain.load import encode_yaml, load_yaml
from server.domain.xlsform import load_xlsform
from server.domain.xlsform_export import export_xlsform

REPO = Path(__file__).resolve().parents[2]
SHIPPED = ["registrasi_penerima", "monev_uep", "cek_tumbuh_anak"]


def workbook(survey: list[list[object]], choices: list[list[object]] | None = None,
             settings: list[list[object]] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "survey"
    for row in survey:
        sheet.append(row)
    for title, rows in (("choices", choices), ("settings", settings)):
        if rows is not None:
            extra = book.create_sheet(title)
            for row in rows:
                extra.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


SETTINGS = [["form_id", "version", "form_title", "default_language"], ["tes", "1", "Tes", "Indonesian (id)"]]
SURVEY_HEAD = ["type", "name", "label::Indonesian (id)", "label::English (en)", "required", "relevant", "constraint"]


def compile_book(survey: list[list[object]], choices: list[list[object]] | None = None,
                 settings: list[list[object]] | None = SETTINGS) -> CompileResult:
    return compile_source(workbook(survey, choices, settings), "tes.xlsx")


def where(result: CompileResult) -> list[tuple[str, str, int]]:
    return [(p.code, p.file, p.line) for p in result.problems]


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_forms_round_trip_through_xlsform_with_the_same_hash(name: str) -> None:
    data = (REPO / "forms" / f"{name}.yaml").read_bytes()
    original = compile_source(data, f"{name}.yaml")
    assert original.compiled is not None and original.problems == []
    book = export_xlsform(original.compiled.definition)
    imported = load_xlsform(book, f"{name}.xlsx")
    assert imported.problems == [] and imported.form is not None
    back = compile_source(encode_yaml(imported.form), f"{name}.yaml")
    assert back.compiled is not None, [(p.code, p.line) for p in back.problems]
    assert back.compiled.content_hash == original.compiled.content_hash
    assert compile_source(book, f"{name}.xlsx").compiled.content_hash == original.compiled.content_hash  # type: ignore[union-attr]


def test_yaml_export_reads_back_the_same_and_keeps_region_sources() -> None:
    data = (REPO / "forms" / "registrasi_penerima.yaml").read_bytes()
    form = load_yaml(data, "r.yaml").form
    assert form is not None
    text = encode_yaml(form).decode()
    assert "wilayah: desa 64.02" in text and "type: select_one jk" in text
    assert load_yaml(text.encode(), "again.yaml").form == form


def test_a_workbook_with_groups_repeats_languages_and_parameters() -> None:
    result = compile_book(
        [[*SURVEY_HEAD, "choice_filter", "parameters", "repeat_count", "appearance", "hint::English (en)"],
         ["select_one kec", "kecamatan", "Kecamatan", "Sub-district"],
         ["begin group", "rumah", "Rumah", "House", "", "", "", "", "", "", "field-list"],
         ["select_one desa", "desa", "Desa", "Village", "yes", "", "", "parent = ${kecamatan}"],
         ["end group", "rumah"],
         ["integer", "jml", "Jumlah", "Count", "", "", ". >= 0"],
         ["begin_repeat", "art", "Anggota", "Members", "", "", "", "", "", "${jml}"],
         ["nik", "nik_art", "NIK", "NIK", "", "", "", "", "registered=tgl", "", "", "16 digits"],
         ["end_repeat"],
         ["date", "tgl", "Tanggal", "Date"],
         ["dateTime", "waktu", "Waktu", "Time"]],
        choices=[["list_name", "name", "label::Indonesian (id)", "label::English (en)", "parent"],
                 ["kec", "64.02.06", "Tenggarong", "Tenggarong", ""],
                 ["desa", "64.02.06.1001", "Sukarame", "Sukarame", "64.02.06"]])
    # the hint exists only in English: a warning, the form still compiles
    assert where(result) == [("form.missing_translation", "tes.xlsx[survey]", 8)]
    definition = result.compiled.definition  # type: ignore[union-attr]
    _kec, rumah, _jml, art, _tgl, waktu = definition.fields
    assert isinstance(rumah, Group) and rumah.layout == "page"
    desa = rumah.fields[0]
    assert isinstance(desa, Question) and desa.required is True and desa.choice_filter == "parent = ${kecamatan}"
    assert isinstance(art, Repeat) and art.repeat_count == "${jml}"
    nik = art.fields[0]
    assert isinstance(nik, Question) and nik.parameters == {"registered": "tgl"} and nik.hint == {"en": "16 digits"}
    assert isinstance(waktu, Question) and waktu.type == "datetime"
    assert definition.choices["desa"].choices[0].columns == {"parent": "64.02.06"}


@pytest.mark.parametrize(("row", "column"), [
    (["select_one_from_file desa.txt", "desa", "Desa"], 1),
    (["osm", "gedung", "Gedung"], 1),
])
def test_unsupported_types_name_the_sheet_and_row(row: list[object], column: int) -> None:
    result = compile_book([["type", "name", "label"], ["text", "nama", "Nama"], row],
                          choices=[["list_name", "name", "label"], ["yn", "ya", "Ya"]])
    assert where(result) == [("xlsform.unsupported", "tes.xlsx[survey]", 3)]
    assert result.problems[0].column == column
    assert "survey" in result.problems[0].message_en and "3" in result.problems[0].message_en


def test_unsupported_columns_settings_and_group_appearances() -> None:
    """Settings, unknown columns and group appearances Pantau cannot act on are kept and reported as
    ignored, never refused; ODK's trigger column is read as the question's trigger."""
    result = compile_book(
        [["type", "name", "label", "trigger", "appearance", "bind::odk:length", "catatan"],
         ["text", "a", "A"],
         ["text", "b", "B", "${a}"],
         ["begin_group", "g", "G", "", "table-list"],
         ["text", "c", "C", "", "", "5", "apa saja"],
         ["end_group"]],
        settings=[["form_id", "version", "public_key", "style"], ["tes", "1", "abc", "pages"]])
    assert sorted(where(result)) == [("xlsform.ignored", "tes.xlsx[settings]", 2),
                                     ("xlsform.ignored", "tes.xlsx[settings]", 2),
                                     ("xlsform.ignored", "tes.xlsx[survey]", 4),
                                     ("xlsform.ignored", "tes.xlsx[survey]", 5)]
    assert result.compiled is not None
    triggered = result.compiled.definition.fields[1]
    assert isinstance(triggered, Question) and triggered.trigger == "${a}" and not triggered.xlsform
    loaded = load_xlsform(workbook(
        [["type", "name", "label", "bind::odk:length", "catatan"], ["text", "c", "C", "5", "apa saja"]],
        settings=[["form_id", "version", "public_key"], ["tes", "1", "abc"]]), "tes.xlsx")
    assert loaded.form is not None and loaded.form.settings.xlsform == {"public_key": "abc"}
    question = loaded.form.fields[0]
    assert isinstance(question, Question) and question.xlsform == {"bind::odk:length": "5", "catatan": "apa saja"}


def test_unmatched_groups() -> None:
    result = compile_book([["type", "name", "label"], ["begin_group", "g", "G"], ["note", "n", "N"]])
    assert where(result) == [("xlsform.unmatched_group", "tes.xlsx[survey]", 2)]
    result = compile_book([["type", "name", "label"], ["note", "n", "N"], ["end_repeat"]])
    assert where(result) == [("xlsform.unmatched_group", "tes.xlsx[survey]", 3)]
    result = compile_book([["type", "name", "label"], ["begin_group", "g", "G"], ["note", "n", "N"], ["end_repeat"],
                           ["end_group"]])
    assert where(result) == [("xlsform.unmatched_group", "tes.xlsx[survey]", 4)]


def test_groups_deeper_than_20_in_a_workbook() -> None:
    rows: list[list[object]] = [["type", "name", "label"]]
    rows += [["begin_group", f"g{i}", "G"] for i in range(21)] + [["note", "n", "N"]] + [["end_group"]] * 21
    assert [p.code for p in compile_book(rows).problems] == ["form.too_deep"]


def test_check_problems_point_at_workbook_cells() -> None:
    result = compile_book([SURVEY_HEAD, ["text", "nama", "Nama", "Name", "", "${umr} > 1"]])
    assert [(p.code, p.file, p.line, p.column) for p in result.problems] == [
        ("form.unknown_reference", "tes.xlsx[survey]", 2, 6)]


def test_missing_sheets_columns_and_settings() -> None:
    book = openpyxl.Workbook()
    book.active.title = "Formulir"  # type: ignore[union-attr]
    book.create_sheet("Catatan")
    out = io.BytesIO()
    book.save(out)
    result = compile_source(out.getvalue(), "x.xlsx")
    assert [p.code for p in result.problems] == ["xlsform.no_survey"] and "Formulir" in result.problems[0].hint_en
    assert [p.code for p in compile_book([["name", "label"], ["a", "A"]]).problems] == ["xlsform.missing_column"]


@pytest.mark.parametrize("data", [b"", b"not a workbook", b"PK\x03\x04garbage", "zip"])
def test_bytes_that_are_not_a_workbook(data: bytes | str) -> None:
    if data == "zip":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("hello.txt", "not excel")
        data = out.getvalue()
    assert isinstance(data, bytes)
    result = compile_source(data, "form.xlsx")
    assert [p.code for p in result.problems] == ["xlsform.not_workbook"] and result.compiled is None


def test_an_exported_form_of_standard_types_is_accepted_by_pyxform(tmp_path: Path) -> None:
    from pyxform.xls2xform import convert

    source = """\
settings: {id: std, version: "1", title: {id: Standar, en: Standard}}
choices:
  yn: {ya: {id: Ya, en: "Yes"}, tidak: {id: Tidak, en: "No"}}
fields:
  - {type: select_one yn, name: setuju, label: {id: Setuju?, en: Agree?}, required: yes}
  - type: group
    name: g
    layout: page
    label: {id: Grup, en: Group}
    relevant: "${setuju} = 'ya'"
    fields:
      - {type: integer, name: umur, label: {id: Umur, en: Age}, constraint: ". >= 0"}
      - {type: datetime, name: waktu, label: {id: Waktu, en: Time}}
  - type: repeat
    name: r
    label: {id: Anggota, en: Members}
    max_count: 5
    fields: [{type: text, name: nama, label: {id: Nama, en: Name}}]
  - {type: calculate, name: total, calculation: "count(${nama})"}
"""
    compiled = compile_source(source.encode(), "std.yaml").compiled
    assert compiled is not None
    path = tmp_path / "std.xlsx"
    path.write_bytes(export_xlsform(compiled.definition))
    xform = convert(xlsform=str(path), validate=False).xform
    assert "<h:title>Standar</h:title>" in xform and 'constraint=". &gt;= 0"' in xform
    assert compile_source(path.read_bytes(), "std.xlsx").compiled.content_hash == compiled.content_hash  # type: ignore[union-attr]


def test_the_only_sheet_of_a_workbook_is_the_survey_and_xls_workbooks_load() -> None:
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.title = "Sheet1"
    book.active.append(["type", "name", "label"])
    book.active.append(["text", "nama", "Nama"])
    out = io.BytesIO()
    book.save(out)
    result = compile_source(out.getvalue(), "satu.xlsx")
    assert result.compiled is not None and list(result.compiled.fields) == ["nama"]
    xls = REPO / "tests" / "data" / "pyxform_corpus" / "example_xls" / "yes_or_no_question.xls"
    result = compile_source(xls.read_bytes(), xls.name)
    assert result.compiled is not None and result.compiled.fields["good_day"].type == "select_one"


def test_settings_are_optional_as_in_pyxform() -> None:
    """form_id from the file name, version from the upload time (yyyymmddHH, WITA)."""
    import datetime as dt

    data = workbook([["type", "name", "label"], ["note", "n", "N"]])
    loaded = load_xlsform(data, "Survei Rumah-Tangga 2026.xlsx", now=dt.datetime(2026, 3, 31, 17, 5, tzinfo=dt.UTC))
    assert loaded.form is not None and loaded.problems == []
    assert (loaded.form.settings.id, loaded.form.settings.version) == ("Survei_Rumah-Tangga_2026", "2026040101")
    assert load_xlsform(data, "2026.xlsx").form.settings.id == "form_2026"  # type: ignore[union-attr]
    titled = load_xlsform(workbook([["type", "name", "label"], ["note", "n", "N"]],
                                   settings=[["id_string", "title"], ["rt", "Rumah tangga"]]), "x.xlsx").form
    assert titled is not None and (titled.settings.id, titled.settings.title) == ("rt", {"id": "Rumah tangga"})


def test_header_spellings_sheet_case_and_type_aliases_pyxform_takes() -> None:
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "Survey"
    for row in [["Type", "name", "label:English", "Relevance"],
                ["string", "nama", "Name"],
                ["select one from jk", "jk", "Sex", "${nama} != ''"],
                ["select all that apply from bantuan", "bantuan", "Aid"],
                ["select_one jk or_other", "jk2", "Sex again"],
                ["gps", "lokasi", "Where"], ["photo", "foto", "Photo"], ["begin group", "g", "G"],
                ["int", "umur", "Age"], ["end group"]]:
        survey.append(row)
    choices = book.create_sheet("CHOICES")
    for row in [["list name", "name", "label::English (en)"], ["jk", "L", "Male"], ["jk", "P", "Female"],
                ["bantuan", "pkh", "PKH"]]:
        choices.append(row)
    out = io.BytesIO()
    book.save(out)
    result = compile_source(out.getvalue(), "alias.xlsx")
    assert result.compiled is not None, [p.format() for p in result.problems]
    fields = {name: info.type for name, info in result.compiled.fields.items()}
    assert fields == {"nama": "text", "jk": "select_one", "bantuan": "select_multiple", "jk2": "select_one",
                      "jk2_other": "text", "lokasi": "geopoint", "foto": "image", "g": "group", "umur": "integer"}
    definition = result.compiled.definition
    assert [c.name for c in definition.choices["jk"].choices] == ["L", "P", "other"]
    assert definition.fields[0].label == {"en": "Name"}  # type: ignore[union-attr]
    assert definition.fields[1].relevant == "${nama} != ''"  # type: ignore[union-attr]


def test_a_duplicate_column_is_refused_as_pyxform_does() -> None:
    result = compile_book([["type", "name", "label", "hint", "label"], ["text", "a", "A", "", "B"]])
    assert [(p.code, p.file, p.line, p.column) for p in result.problems] == [
        ("xlsform.duplicate_column", "tes.xlsx[survey]", 1, 5)]
    assert result.compiled is None and "label" in result.problems[0].message_id


@pytest.mark.parametrize(("cell", "expected"), [("yes", True), ("TRUE()", True), ("true", True), ("no", False),
                                                ("FALSE", False), ("${a} = 'x'", "${a} = 'x'")])
def test_required_as_pyxform_spells_it(cell: str, expected: bool | str) -> None:
    result = compile_book([["type", "name", "label", "required"], ["text", "a", "A"], ["text", "b", "B", cell]])
    assert result.compiled is not None
    assert result.compiled.definition.fields[1].required == expected  # type: ignore[union-attr]


def test_odk_parameters_and_attributes_a_type_does_not_take_are_kept_and_ignored() -> None:
    result = compile_book([["type", "name", "label", "parameters", "required_message", "save_to"],
                           ["select_one yn", "a", "A", "randomize=true seed=3"],
                           ["note", "n", "N", "", "Wajib"],
                           ["text", "b", "B", "", "", "nama"]],
                          choices=[["list_name", "name", "label"], ["yn", "ya", "Ya"]])
    assert sorted(where(result)) == [("xlsform.ignored", "tes.xlsx[survey]", row) for row in (2, 3, 4)]  # 4: save_to
    assert result.compiled is not None
    a, n, b = result.compiled.definition.fields
    assert isinstance(a, Question) and a.parameters == {} and a.xlsform == {"parameters": "randomize=true seed=3"}
    assert isinstance(n, Question) and n.required_message == {} and n.xlsform == {"required_message": "Wajib"}
    assert isinstance(b, Question) and b.xlsform == {"save_to": "nama"}


def test_appearances_the_page_cannot_draw_are_kept_and_ignored_never_refused() -> None:
    result = compile_book([["type", "name", "label", "appearance"],
                           ["select_one yn", "a", "A", "minimal"], ["select_one yn", "b", "B", "likert"],
                           ["text", "c", "C", "numbers"], ["integer", "d", "D", "thousands-sep"]],
                          choices=[["list_name", "name", "label"], ["yn", "ya", "Ya"]])
    assert where(result) == [("xlsform.ignored", "tes.xlsx[survey]", 3), ("xlsform.ignored", "tes.xlsx[survey]", 5)]
    assert result.compiled is not None and result.compiled.definition.fields[1].appearance == "likert"  # type: ignore[union-attr]
