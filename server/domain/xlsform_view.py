"""The rows of an uploaded workbook that its problems name, as the author sees them in Excel (column
letters, row numbers, the headers as written), so the upload page can show each row to fix marked
in place with a little of what surrounds it. Reads only the sheets and rows the problems name."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterable, Iterator
from typing import Any

import msgspec
import openpyxl
import xlrd
from openpyxl.utils import get_column_letter

from server.domain.problems import Problem

AROUND = 2  # rows shown before and after a marked one
MAX_ROWS = 300  # per sheet: a form with hundreds of problems shows the first ones in place
MAX_COLUMNS = 40
MAX_CELL = 120  # characters of a cell shown; the rest is in the workbook
_SHEET = re.compile(r"\[(?P<sheet>[^\]]+)\]\Z")


class Cell(msgspec.Struct, frozen=True, kw_only=True):
    text: str
    marked: bool = False


class Row(msgspec.Struct, frozen=True, kw_only=True):
    number: int  # as Excel numbers it
    cells: list[Cell]
    marked: bool = False
    after_gap: bool = False  # rows were left out before this one


class Sheet(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    anchor: str  # the prefix of the row ids: f"{anchor}-{row}"
    columns: list[str]  # column letters: A, B, ...
    rows: list[Row]


def sheet_of(problem: Problem) -> str:
    """The sheet a workbook problem is on ("form.xlsx[survey]" -> "survey"); "" for other files."""
    found = _SHEET.search(problem.file)
    return found["sheet"] if found else ""


def column_letter(number: int) -> str:
    """1 -> A, 27 -> AA: how Excel names the column a problem points at."""
    return str(get_column_letter(number))


def anchor_of(sheet: str) -> str:
    return "baris-" + (re.sub(r"[^a-z0-9]+", "-", sheet.lower()).strip("-") or "lembar")


def marked_sheets(data: bytes, filename: str, problems: list[Problem]) -> list[Sheet]:
    """Each sheet a problem names with its marked rows (and cells, when the problem names a column)."""
    marks: dict[str, dict[int, set[int]]] = {}
    for p in problems:
        if sheet_of(p):
            marks.setdefault(sheet_of(p), {}).setdefault(p.line, set()).add(p.column)
    if not marks:
        return []
    try:
        read = _read(data, filename, marks)
    except Exception:  # the bytes could not be opened: the problem list alone says why
        return []
    return [_excerpt(name, rows, marks[name]) for name, rows in read.items()]


def _wanted(rows: dict[int, set[int]]) -> set[int]:
    return {1} | {n for row in rows for n in range(max(row - AROUND, 1), row + AROUND + 1)}


def _read(data: bytes, filename: str, marks: dict[str, dict[int, set[int]]]) -> dict[str, dict[int, list[str]]]:
    out: dict[str, dict[int, list[str]]] = {}
    for title, rows in _sheets(data, filename, set(marks)):
        wanted = sorted(_wanted(marks[title]))[:MAX_ROWS]
        out[title] = {}
        for number, values in enumerate(rows, start=1):
            if number > wanted[-1]:
                break
            if number in wanted:
                out[title][number] = [_shown(v) for v in values[:MAX_COLUMNS]]
    return out


def _sheets(data: bytes, filename: str, titles: set[str]) -> Iterator[tuple[str, Iterable[tuple[Any, ...]]]]:
    if filename.lower().endswith(".xls"):
        old = xlrd.open_workbook(file_contents=data, on_demand=True)
        try:
            for title in old.sheet_names():
                if title in titles:
                    ws = old.sheet_by_name(title)
                    yield title, (tuple(c.value for c in ws.row(i)) for i in range(ws.nrows))
        finally:
            old.release_resources()
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl's notes on styles it skips
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        for ws in book.worksheets:
            if ws.title in titles:
                yield ws.title, ws.iter_rows(values_only=True)
    finally:
        book.close()


def _shown(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = " ".join(str(value).split())
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def _excerpt(name: str, rows: dict[int, list[str]], marks: dict[int, set[int]]) -> Sheet:
    width = max([len(cells) for cells in rows.values()] + [max(c for cols in marks.values() for c in cols)])
    width = min(width, MAX_COLUMNS)
    shown: list[Row] = []
    previous = 0
    for number in sorted(rows):
        cells = rows[number] + [""] * (width - len(rows[number]))
        columns = marks.get(number, set())
        marked = [Cell(text=t, marked=i + 1 in columns) for i, t in enumerate(cells)]
        shown.append(Row(number=number, marked=number in marks, after_gap=number > previous + 1, cells=marked))
        previous = number
    return Sheet(name=name, anchor=anchor_of(name), columns=[column_letter(i + 1) for i in range(width)],
                 rows=shown)
