"""XLSForm workbook bytes -> its sheets as rows of text cells, each cell keeping its 1-based column
(so every problem names sheet, row and column). .xlsx through openpyxl, .xls through xlrd; sheet
names matched without regard to case and headers read through xlsform_spelling.column_name, as
pyxform reads them. server/domain/xlsform.py builds the form from these rows."""

from __future__ import annotations

import datetime as dt
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import openpyxl
import xlrd

from server.domain.xlsform_spelling import column_name

MAX_ROWS = 10_000
SHEETS = ("survey", "choices", "settings", "external_choices")


@dataclass
class Row:
    number: int
    cells: dict[str, tuple[str, int]]  # column name -> (text, 1-based column index)

    def get(self, column: str) -> str:
        return self.cells.get(column, ("", 0))[0]


@dataclass
class Sheet:
    name: str
    header: dict[str, int]
    rows: list[Row] = field(default_factory=list)
    duplicates: list[tuple[str, int, int]] = field(default_factory=list)  # (header, column, first column)


def read_workbook(data: bytes, filename: str) -> tuple[dict[str, Sheet], list[str]] | str:
    """Sheet names are matched without regard to case ('Survey', 'CHOICES'), as pyxform does."""
    with warnings.catch_warnings():
        # openpyxl warns about Excel features it skips (data validation, styles, extensions), also
        # while it reads the rows; they carry no form content, and a warning must not become an error.
        warnings.simplefilter("ignore")
        try:
            if filename.lower().endswith(".xls"):
                return _read_xls(data)
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # any failure to open untrusted bytes means "not a workbook"
            return f"{type(exc).__name__}: {str(exc)[:120]}"
        try:
            sheets: dict[str, Sheet] = {}
            for ws in book.worksheets:
                role = _role(ws.title, len(book.worksheets))
                if role and role not in sheets:
                    sheets[role] = _sheet(ws.title, ws.iter_rows(values_only=True, max_row=MAX_ROWS))
            return sheets, list(book.sheetnames)
        except Exception as exc:  # a sheet that breaks while its rows are read: the same answer
            return f"{type(exc).__name__}: {str(exc)[:120]}"
        finally:
            book.close()


def _read_xls(data: bytes) -> tuple[dict[str, Sheet], list[str]]:
    """The older Excel format (.xls), which KoboToolbox and pyxform's own examples still use."""
    book = xlrd.open_workbook(file_contents=data, on_demand=True)
    try:
        sheets: dict[str, Sheet] = {}
        for title in book.sheet_names():
            role = _role(title, book.nsheets)
            if role and role not in sheets:
                ws = book.sheet_by_name(title)
                rows = (tuple(_xls_value(c, book.datemode) for c in ws.row(i)) for i in range(min(ws.nrows, MAX_ROWS)))
                sheets[role] = _sheet(title, rows)
        return sheets, list(book.sheet_names())
    finally:
        book.release_resources()


def _role(title: str, sheet_count: int) -> str:
    """Which of survey/choices/settings a sheet is; the only sheet of a workbook is the survey, as
    pyxform takes it."""
    name = title.strip().lower()
    return name if name in SHEETS else "survey" if sheet_count == 1 else ""


def _xls_value(cell: Any, datemode: int) -> Any:
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    if cell.ctype == xlrd.XL_CELL_DATE:
        value = xlrd.xldate_as_datetime(cell.value, datemode)
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    return None if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR) else cell.value


def _sheet(title: str, rows: Iterator[tuple[Any, ...]]) -> Sheet:
    header_cells = next(rows, ())
    header: dict[str, int] = {}
    sheet = Sheet(title, header)
    for i, value in enumerate(header_cells):
        if value is None or not str(value).strip():
            continue
        name = column_name(value)
        if name in header:
            sheet.duplicates.append((str(value).strip(), i + 1, header[name] + 1))
            continue
        header[name] = i
    blank_run = 0
    for number, values in enumerate(rows, start=2):
        cells = {name: (_text(values[i]), i + 1) for name, i in header.items() if i < len(values)}
        cells = {k: v for k, v in cells.items() if v[0]}
        blank_run = blank_run + 1 if not cells else 0
        if blank_run > 20:  # the XLSForm rule: data after 20 blank rows is not part of the form
            break
        if cells:
            sheet.rows.append(Row(number, cells))
    return sheet


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    return str(value).strip()
