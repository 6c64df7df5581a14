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
from server.domain.xlsform_export import export_xlsform

NOW = dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC)


def _book(rows: list[list[object]]) -> bytes:
    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.title = "survey"
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def compiled() -> CompiledForm:
    result = compile_source(_book([
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
