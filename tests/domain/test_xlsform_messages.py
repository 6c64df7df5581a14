"""Every message from an XLSForm import is in one language: the Indonesian message and hint hold no
English words, the English ones no Indonesian words ("the settings sheet tidak punya
'form_id'" mixed both). The workbooks below provoke each problem the import and the checks after it
can raise; names the author wrote (quoted, ${...}, snake_case) are left out of the comparison."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from server.domain.compile import compile_source
from server.domain.problems import Problem

# Function words of each language that the other never uses.
ENGLISH = frozenset(re.findall(r"\w+", """the a an is are has have not of on in with without and or row sheet
    column write must kept used supported type types whole number choice choices group repeat field fields be by
    as its it this that no"""))
INDONESIAN = frozenset(re.findall(r"\w+", """tidak punya baris lembar kolom dan atau harus belum dengan yang bukan
    tanpa pada ini jenis nilai pilihan grup ulangan sebagai disimpan dipakai tulis kunci tersembunyi kosong bilangan
    bulat di dari untuk ada sudah"""))
_NAMES = re.compile(r"'[^']*'|\"[^\"]*\"|`[^`]*`|\$\{[^}]*\}|\S*[_:/.=()\[\]]\S*|\b[A-Z][A-Za-z]+\b")


def book(sheets: dict[str, list[list[object]]]) -> bytes:
    workbook = openpyxl.Workbook()
    first = True
    for title, rows in sheets.items():
        sheet = workbook.active if first else workbook.create_sheet(title)
        assert sheet is not None
        sheet.title = title
        first = False
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


SETTINGS = [["form_id", "version"], ["tes", "1"]]
BOOKS = {
    "no_survey": book({"Pertanyaan": [["type", "name"]], "Data": [["x"]]}),
    "no_columns": book({"survey": [["label"], ["A"]], "choices": [["label"], ["x"]], "settings": SETTINGS}),
    "rows": book({
        "survey": [["type", "name", "label", "parameters", "trigger", "bind::odk:length", "min_count", "appearance",
                    "required"],
                   ["text", "", "Tanpa nama"],
                   ["salah_jenis", "x", "X"],
                   ["geopoint", "gps", "GPS", "akurasi"],
                   ["text", "b", "B", "", "${gps}"],
                   ["begin_repeat", "r", "R", "", "", "", "dua"],
                   ["text", "c", "C"],
                   ["end_repeat"],
                   ["begin_group", "g", "G", "", "", "", "", "table-list", "yes"],
                   ["note", "n", "N"],
                   ["end_group"],
                   ["end_group"],
                   ["begin_group", "terbuka", "T"],
                   ["start", "mulai"],
                   ["deviceid", "perangkat"],
                   ["select_one tidak_ada", "s", "S"],
                   ["begin loop over yn", "lp", "L"],
                   ["note", "m", "M"],
                   ["end loop"]],
        "choices": [["list_name", "name", "label"], ["yn", "ya", "Ya"], ["yn", "ya", "Ya lagi"], ["yn", "", "?"],
                    ["", "x", "X"]],
        "settings": [["form_id", "version", "style", "public_key"], ["tes", "1", "pages", "abc"]]}),
    "checks": book({
        "survey": [["type", "name", "label", "calculation", "relevant", "constraint", "hint::English (en)"],
                   ["calculate", "hitung_a", "", "${hitung_b} + 1"],
                   ["calculate", "hitung_b", "", "${hitung_a} + 1"],
                   ["select_one tidak_ada", "pilih_s", "S"],
                   ["text", "t", "T", "", "${tidak_ada} = 1", ". >>> 2", "Only English"],
                   ["integer", "t", "T lagi"],
                   ["text", "f", "F", "", "", "fungsi_aneh(.)"]],
        "settings": SETTINGS}),
    "duplicate_column": book({"survey": [["type", "name", "label", "label"], ["text", "a", "A", "B"]],
                              "settings": SETTINGS}),
    "not_a_workbook": b"PK\x03\x04 rusak",
    # Pantau's registry block, as the export writes it in the settings sheet
    "registry": book({"survey": [["type", "name", "label"], ["text", "nama", "Nama"]],
                      "settings": [["form_id", "version", "registry"],
                                   ["tes", "1", '{"programme": "uep", "creates": {"nama": "x"}, '
                                                '"one_per_kk": "mungkin", "same_nik": "ganti", "refers": [1]}']]}),
    "registry_json": book({"survey": [["type", "name", "label"], ["text", "nama", "Nama"]],
                           "settings": [["form_id", "version", "registry"], ["tes", "1", '{"programme": ']]}),
}


def words(text: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Za-z]+", _NAMES.sub(" ", text))}


def all_problems() -> list[tuple[str, Problem]]:
    return [(name, p) for name, data in BOOKS.items() for p in compile_source(data, f"{name}.xlsx").problems]


def test_the_workbooks_provoke_the_import_problems() -> None:
    codes = {p.code for _, p in all_problems()}
    assert {"xlsform.no_survey", "xlsform.missing_column", "xlsform.unsupported", "xlsform.ignored",
            "xlsform.unmatched_group", "xlsform.duplicate_column", "xlsform.not_workbook", "form.missing_key",
            "form.bad_value", "form.duplicate_choice", "form.calculation_cycle", "form.duplicate_name",
            "form.unknown_reference", "form.missing_translation", "form.unknown_choice_list"} <= codes


@pytest.mark.parametrize(("name", "found"), all_problems(), ids=lambda v: v if isinstance(v, str) else v.code)
def test_each_message_is_in_one_language(name: str, found: Problem) -> None:
    indonesian = words(found.message_id + " " + found.hint_id)
    english = words(found.message_en + " " + found.hint_en)
    assert not indonesian & ENGLISH, (found.code, found.message_id, found.hint_id)
    assert not english & INDONESIAN, (found.code, found.message_en, found.hint_en)


@pytest.mark.no_database
def test_every_message_over_pyxforms_corpus_is_in_one_language() -> None:
    """The 844 forms of pyxform's own tests (tests/data/pyxform_corpus), as they are: a thousand real
    refusals and warnings, each message pure in its language."""
    from tests.corpus.pyxform_corpus import compiled, forms

    mixed = []
    for name, _ in forms():
        for found in compiled(name).problems:
            if words(found.message_id + " " + found.hint_id) & ENGLISH or \
                    words(found.message_en + " " + found.hint_en) & INDONESIAN:
                mixed.append((name, found.code, found.message_id, found.message_en))
    assert mixed == []
