"""The XLSForm export against the real other side: pyxform converts every shipped form's export and
a form using every question type and option the editor offers, ODK Validate (the JavaRosa parser
pyxform ships) accepts the XForm, and Pantau's own types arrive as ODK types that keep their rules;
reading the workbook back gives the same content hash."""

from __future__ import annotations

import io
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from pyxform.xls2xform import convert

from server.domain.compile import compile_source
from server.domain.form import Form, Question
from server.domain.load import load_yaml
from server.domain.questions import QUESTION_TYPES, BadAnswer, clean_phone
from server.domain.xlsform import load_xlsform
from server.domain.xlsform_export import export_xlsform
from server.domain.xlsform_odk import KK_PATTERN, NIK_PATTERN, ODK_TYPES, PHONE_PATTERN, with_text, without_text

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(p.stem for p in (REPO / "forms").glob("*.yaml"))
XF = "{http://www.w3.org/2002/xforms}"
# ODK Validate runs on Java; pyxform ships its jar. Without Java the conversion still runs.
VALIDATE = shutil.which("java") is not None


def xform_of(form: Form, tmp_path: Path, name: str) -> ET.Element:
    path = tmp_path / f"{name}.xlsx"
    path.write_bytes(export_xlsform(form))
    result = convert(xlsform=str(path), validate=VALIDATE)
    return ET.fromstring(result.xform)


def binds(root: ET.Element) -> dict[str, dict[str, str]]:
    return {b.attrib["nodeset"].rsplit("/", 1)[1]: b.attrib for b in root.iter(f"{XF}bind")}


def controls(root: ET.Element) -> dict[str, ET.Element]:
    return {c.attrib["ref"].rsplit("/", 1)[1]: c for c in root.iter() if c.attrib.get("ref", "").startswith("/")}


def same_hash_back(form: Form, content_hash: str) -> None:
    book = export_xlsform(form)
    loaded = load_xlsform(book, "back.xlsx")
    # The workbook alone: a csv-external file travels beside it (domain/attachments.py), so reading it
    # back without the file says so; the form here has no rows for it, so its hash is the same.
    assert [p for p in loaded.problems if p.code != "xlsform.missing_attachment"] == [] and loaded.form is not None
    assert compile_source(book, "back.xlsx").compiled.content_hash == content_hash  # type: ignore[union-attr]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_form_converts_with_pyxform(name: str, tmp_path: Path) -> None:
    compiled = compile_source((REPO / "forms" / f"{name}.yaml").read_bytes(), f"{name}.yaml").compiled
    assert compiled is not None
    root = xform_of(compiled.definition, tmp_path, name)
    found = binds(root)
    for field in compiled.fields.values():
        if field.type in ("group", "repeat"):
            continue
        bind = found[field.name]
        if field.type == "nik":
            assert bind["type"] == "string" and bind["constraint"].endswith(f"regex(., '{NIK_PATTERN}')")
        if field.type == "rupiah":
            assert bind["type"] == "int" and ". >= 0" in bind["constraint"]
        if field.type == "beneficiary":
            assert controls(root)[field.name].tag == f"{XF}select1"
    names = {n.split("}")[-1] for e in root.iter() for n in (e.tag, *e.attrib)}
    assert not {n for n in names if re.search("pantau|registry|min_count|max_count", n)}  # Pantau's columns are ignored
    same_hash_back(compiled.definition, compiled.content_hash)


PARAMETER_VALUES = {"sex": "jk", "birth_date": "tgl_lahir", "registered": "tgl_daftar", "kk": "kk", "nik": "q_nik",
                    "max_accuracy": "10", "max_pixels": "1024", "start": "0", "end": "10", "step": "2",
                    "max_size": "2.5", "quality": "voice-only"}


def every_type_form() -> dict[str, Any]:
    """What the editor can make (static/js/editor.js): every registered type with every attribute
    its type takes, the editor's appearances and parameters, a page group, a section and a repeat."""
    label = {"id": "Label", "en": "Label"}
    fields: list[dict[str, Any]] = [
        {"type": "select_one jk", "name": "jk", "label": label, "required": True, "appearance": "minimal"},
        {"type": "date", "name": "tgl_lahir", "label": label, "constraint": ". <= today()",
         "constraint_message": {"id": "Tidak boleh di masa depan", "en": "Not in the future"}},
        {"type": "date", "name": "tgl_daftar", "label": label, "default": "today()"},
        {"type": "no_kk", "name": "kk", "label": label, "parameters": {"registered": "tgl_daftar"}},
    ]
    for qtype in QUESTION_TYPES.values():
        f: dict[str, Any] = {"type": qtype.name + (" jk" if qtype.has_choices else ""), "name": f"q_{qtype.name}"}
        attributes = qtype.attributes
        if "label" in attributes:
            f["label"] = {"id": f"Pertanyaan {qtype.name}", "en": f"Question {qtype.name}"}
        if "hint" in attributes:
            f["hint"] = {"id": "Petunjuk", "en": "Hint"}
        if "required" in attributes:
            f |= {"required": "${jk} = 'P'", "required_message": {"id": "Wajib", "en": "Required"}}
        if "relevant" in attributes:
            f["relevant"] = "${jk} != ''"
        if "constraint" in attributes and qtype.name not in ("acknowledge", "image", "geopoint"):
            f |= {"constraint": "string-length(.) > 0", "constraint_message": {"id": "Isi", "en": "Fill in"}}
        if qtype.computed or qtype.name == "hidden":
            f["calculation"] = "concat('a', 'b')"
        parameters = {p: PARAMETER_VALUES[p] for p in qtype.field_parameters | qtype.literal_parameters}
        fields.append(f | ({"parameters": parameters} if parameters else {}))
    fields += [
        {"type": "text", "name": "catatan", "label": label, "appearance": "multiline", "read_only": True,
         "default": "-"},
        {"type": "image", "name": "ttd", "label": label, "appearance": "signature"},
        {"type": "group", "name": "halaman", "layout": "page", "label": label, "relevant": "${jk} = 'L'",
         "fields": [{"type": "integer", "name": "jml", "label": label, "constraint": ". >= 0 and . < 20"}]},
        {"type": "group", "name": "bagian", "layout": "section", "label": label,
         "fields": [{"type": "rupiah", "name": "biaya", "label": label}]},
        {"type": "repeat", "name": "anggota", "label": label, "repeat_count": "${jml}",
         "fields": [{"type": "text", "name": "nama", "label": label}]},
        {"type": "repeat", "name": "usaha", "label": label, "min_count": 1, "max_count": 3,
         "fields": [{"type": "phone", "name": "hp", "label": label}, {"type": "nik", "name": "nik_usaha",
                                                                    "label": label}]},
    ]
    return {"settings": {"id": "semua", "version": "1", "title": {"id": "Semua jenis", "en": "Every type"},
                         "instance_name": "concat(${jk}, '-', ${tgl_daftar})"},
            "choices": {"jk": {"L": {"id": "Laki-laki", "en": "Male"}, "P": {"id": "Perempuan", "en": "Female"}}},
            "fields": fields}


def test_a_form_with_every_type_and_option_converts_with_pyxform(tmp_path: Path) -> None:
    result = compile_source(json.dumps(every_type_form()).encode(), "semua.json")
    assert result.compiled is not None, [(p.code, p.message_en) for p in result.problems]
    root = xform_of(result.compiled.definition, tmp_path, "semua")
    found, shown = binds(root), controls(root)
    assert found["q_nik"]["type"] == "string"
    assert found["q_nik"]["constraint"] == f"(string-length(.) > 0) and regex(., '{NIK_PATTERN}')"
    assert found["kk"]["constraint"] == f"regex(., '{KK_PATTERN}')"
    assert found["hp"]["constraint"] == f"regex(., '{PHONE_PATTERN}')" and found["biaya"]["type"] == "int"
    assert found["q_rupiah"]["type"] == "int" and found["q_rupiah"]["constraint"] == "(string-length(.) > 0) and . >= 0"
    assert found["q_datetime"]["type"] == "dateTime" and found["q_decimal"]["type"] == "decimal"
    assert shown["q_geopoint"].attrib["accuracyThreshold"] == "10"
    assert shown["q_geopoint"].attrib["unacceptableAccuracyThreshold"] == "10"
    assert found["q_image"]["{http://openrosa.org/xforms}max-pixels"] == "1024"
    assert shown["q_beneficiary"].tag == f"{XF}select1" and shown["ttd"].attrib["appearance"] == "signature"
    instance = next(i for i in root.iter(f"{XF}instance") if i.attrib.get("src", "").endswith(".csv"))
    assert instance.attrib == {"id": "penerima", "src": "jr://file-csv/penerima.csv"}
    same_hash_back(result.compiled.definition, result.compiled.content_hash)


def test_every_pantau_type_has_an_odk_form() -> None:
    odk_names = {"text", "integer", "decimal", "select_one", "select_multiple", "date", "time", "dateTime", "geopoint",
                 "image", "note", "calculate", "acknowledge", "hidden", "barcode", "range", "geotrace", "geoshape",
                 "rank", "csv-external", "xml-external", "audio", "video", "file"}
    for qtype in QUESTION_TYPES.values():
        assert qtype.xlsform in odk_names or qtype.name in ODK_TYPES, qtype.name


@pytest.mark.parametrize("number", ["081234567890", "6281234567890", "+6281234567890", "812345678", "0812345678",
                                    "08123456789012", "0211234567", "0812345", "+62 812", "081234567890123",
                                    "0812-3456-7890", "+62 812 3456 7890", "0812.3456.7890", "0812-345"])
def test_the_phone_regex_agrees_with_the_server(number: str) -> None:
    try:
        clean_phone(number)
        accepted = True
    except BadAnswer:
        accepted = False
    assert (re.fullmatch(PHONE_PATTERN.strip("^$"), number) is not None) == accepted


@pytest.mark.parametrize("nik", ["6402064101900001", "6402061201900001", "6402064101900000", "0002064101900001",
                                 "6400064101900001", "6402063201900001", "6402064113900001", "640206410190001"])
def test_the_nik_regex_agrees_with_the_server_on_structure(nik: str) -> None:
    import datetime as dt

    from server.domain.nik import check_nik

    errors = check_nik(nik, registered=dt.date(2026, 1, 1)).errors
    assert (re.fullmatch(NIK_PATTERN.strip("^$"), nik) is not None) == (not errors)


@pytest.mark.parametrize("own", [{}, {"id": "Isi"}, {"id": "A — B"}, {"id": ODK_TYPES["nik"].hint["id"]},
                                 {"id": "x", "en": "y", "fr": "z"}])
def test_added_texts_come_off_exactly(own: dict[str, str]) -> None:
    added = ODK_TYPES["nik"].hint
    assert without_text(with_text(own, added, ["id", "en"]), added) == own


def edited(book: bytes, column: str, value: str, row: int = 2) -> bytes:
    sheet = openpyxl.load_workbook(io.BytesIO(book))
    survey = sheet["survey"]
    header = [c.value for c in survey[1]]
    survey.cell(row=row, column=header.index(column) + 1, value=value)
    out = io.BytesIO()
    sheet.save(out)
    return out.getvalue()


NIK_FORM = """\
settings: {id: n, version: "1"}
fields:
  - {type: nik, name: nik, label: NIK, constraint: "string-length(.) = 16", default: "-",
     hint: {id: Dari KTP}, parameters: {registered: tgl}}
  - {type: date, name: tgl, label: Tanggal}
"""


def test_what_the_author_edits_in_excel_is_kept_and_a_changed_type_is_refused() -> None:
    form = load_yaml(NIK_FORM.encode(), "n.yaml").form
    assert form is not None
    book = export_xlsform(form)
    nik = load_xlsform(book, "n.xlsx").form.fields[0]  # type: ignore[union-attr]
    assert isinstance(nik, Question) and nik.type == "nik" and nik.constraint == "string-length(.) = 16"
    assert nik.default == "-" and nik.hint == {"id": "Dari KTP"} and nik.parameters == {"registered": "tgl"}
    rewritten = load_xlsform(edited(book, "constraint", "string-length(.) = 17"), "n.xlsx").form
    assert rewritten.fields[0].constraint == "string-length(.) = 17"  # type: ignore[union-attr]
    assert load_xlsform(edited(book, "default", "x"), "n.xlsx").form.fields[0].default == "x"  # type: ignore[union-attr]
    wrong = load_xlsform(edited(book, "type", "integer"), "n.xlsx")
    assert [(p.code, p.line) for p in wrong.problems] == [("xlsform.unsupported", 2)] and wrong.form is None


@pytest.mark.no_database
def test_every_form_of_pyxforms_corpus_that_pantau_accepts_exports_and_comes_back(tmp_path: Path) -> None:
    """pyxform's own test forms (tests/data/pyxform_corpus) as Pantau accepts them, with what it keeps
    but does not act on (bind::, instance::, body::, media, guidance_hint, metadata rows, settings,
    ODK parameters): the export reads back with the same content hash, and pyxform converts it
    whenever it converts the original. Not the entities forms: their entities sheet is not kept, so
    `save_to` has nothing to save to."""
    from tests.corpus.pyxform_corpus import compiled, forms, pyxform_converts

    changed, refused, accepted = [], [], 0
    for name, data in forms():
        original = compiled(name).compiled
        if original is None:
            continue
        accepted += 1
        book = export_xlsform(original.definition)
        back = compile_source(book, name.rsplit(".", 1)[0] + ".xlsx").compiled
        if back is None or back.content_hash != original.content_hash:
            changed.append(name)
        if not name.startswith("entities__") and not pyxform_converts(name.rsplit(".", 1)[0] + ".xlsx", book) \
                and pyxform_converts(name, data):
            refused.append(name)
    assert accepted > 400 and changed == [] and refused == []
