"""The upload page's view of a workbook (server/domain/xlsform_view.py): the rows a problem names,
marked, with two rows either side, the header, and nothing from sheets no problem names."""

from __future__ import annotations

import io

import openpyxl

from server.domain.compile import compile_source
from server.domain.problems import Loc, problem
from server.domain.xlsform_view import MAX_CELL, marked_sheets, sheet_of


def workbook() -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(["type", "name", "label"])
    for i in range(30):
        survey.append(["note", f"n{i}", "x" * 500 if i == 9 else f"N {i}"])
    survey.append(["jenis_aneh", "z", "Z"])  # row 32
    book.create_sheet("choices").append(["list_name", "name", "label"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_only_the_named_rows_are_marked_with_their_neighbours() -> None:
    data = workbook()
    problems = compile_source(data, "f.xlsx").problems
    assert [(sheet_of(p), p.line) for p in problems] == [("survey", 32)]
    long_cell = problem("form.bad_name", Loc("f.xlsx[survey]", 11, 3), name="x")
    [sheet] = marked_sheets(data, "f.xlsx", [*problems, long_cell])
    assert sheet.name == "survey" and sheet.columns == ["A", "B", "C"]
    assert [(r.number, r.marked, r.after_gap) for r in sheet.rows] == [
        (1, False, False), (9, False, True), (10, False, False), (11, True, False), (12, False, False),
        (13, False, False), (30, False, True), (31, False, False), (32, True, False)]
    row_11 = sheet.rows[3]
    assert [c.marked for c in row_11.cells] == [False, False, True] and len(row_11.cells[2].text) == MAX_CELL
    last = sheet.rows[-1]
    assert [c.marked for c in last.cells] == [True, False, False] and last.cells[0].text == "jenis_aneh"


def test_other_files_and_unreadable_bytes_give_no_rows() -> None:
    yaml_problem = problem("form.bad_name", Loc("f.yaml", 3, 1), name="x")
    assert marked_sheets(b"settings: {}", "f.yaml", [yaml_problem]) == []
    broken = problem("form.bad_name", Loc("f.xlsx[survey]", 3, 1), name="x")
    assert marked_sheets(b"PK\x03\x04 rusak", "f.xlsx", [broken]) == []
