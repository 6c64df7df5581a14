"""The XML of an XLSX workbook, written as text. openpyxl's write-only mode took 70 s for 100,000
records of registrasi_penerima on this machine (~10 µs per cell, with or without lxml); an export
must finish in 30 s, so rows are formatted here as strings (~1 µs per cell) and storage/exports.py
zips the parts. Strings are inline (no shared-string table to hold in memory); NIK-like digit
strings stay text, so Excel never turns them into 6.40206E+15. Tests read the result with openpyxl."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

MAX_CELL = 32_767  # Excel's limit on the characters in one cell
MAX_SHEET_NAME = 31
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _escape(text: str) -> str:
    text = _ILLEGAL.sub("", text[:MAX_CELL])
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class Link(str):
    """A cell that is an address (a photo's): a clickable HYPERLINK in XLSX, the address itself in CSV."""


def _link(ref: str, url: str) -> str:
    # The address as the formula's argument (quotes doubled) and as the cached value a viewer shows.
    return (f'<c r="{ref}" t="str"><f>HYPERLINK({_escape(chr(34) + url.replace(chr(34), chr(34) * 2) + chr(34))})</f>'
            f"<v>{_escape(url)}</v></c>")


# Cell styles (STYLES' cellXfs): a rupiah amount as a number shown "Rp 820.000", a date as a real
# date cell shown "6 Desember 2026" (Excel writes the separators and month of the reader's locale).
RUPIAH, DATE = "1", "2"
_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (its 1900 leap-year bug is before every date here)


def styles_of(types: list[str]) -> list[str]:
    """Each column's style from its question type ("" for none)."""
    return [RUPIAH if t == "rupiah" else DATE if t == "date" else "" for t in types]


def _date_cell(ref: str, value: str) -> str | None:
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return f'<c r="{ref}" s="{DATE}"><v>{(day - _EPOCH).days}</v></c>'


def row(number: int, values: list[Any], letters: list[str], styles: list[str] | None = None) -> str:
    """One <row>: numbers as numbers (rupiah with its format), dates as date cells, links as links,
    everything else as inline text; empty cells are left out."""
    parts = [f'<row r="{number}">']
    append = parts.append
    for index, value in enumerate(values):
        if value is None or value == "":
            continue
        ref = letters[index] + str(number)
        style = styles[index] if styles and index < len(styles) else ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            append(f'<c r="{ref}" s="{style}"><v>{value!r}</v></c>' if style == RUPIAH
                   else f'<c r="{ref}"><v>{value!r}</v></c>')
        elif style == DATE and isinstance(value, str) and (cell := _date_cell(ref, value)) is not None:
            append(cell)
        elif value.__class__ is Link:
            append(_link(ref, value))
        else:
            append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{_escape(str(value))}</t></is></c>')
    parts.append("</row>")
    return "".join(parts)


def head(frozen: int) -> str:
    """A sheet's start with its first `frozen` rows (the header) kept in view while scrolling."""
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{frozen}" topLeftCell="A{frozen + 1}" '
            'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>')


SHEET_HEAD = head(1)
HEADER_ROWS = 2  # a sheet of records: the question labels, then the field codes
RECORDS_HEAD = head(HEADER_ROWS)
SHEET_TAIL = "</sheetData></worksheet>"


def tail(columns: int, last_row: int) -> str:
    """The end of a sheet of records: an autofilter from the codes' header row over every row, so a
    reader can sort and filter at once (the header rows are frozen by RECORDS_HEAD)."""
    first, last = HEADER_ROWS, max(last_row, HEADER_ROWS)
    return f'</sheetData><autoFilter ref="A{first}:{column_letter(max(columns, 1) - 1)}{last}"/></worksheet>'


def sheet_names(tables: list[str]) -> list[str]:
    """Valid, unique sheet names: at most 31 characters, none of []:*?/\\."""
    out: list[str] = []
    for name in tables:
        base = _SHEET_FORBIDDEN.sub("_", name)[:MAX_SHEET_NAME] or "sheet"
        candidate, n = base, 2
        while candidate.lower() in {o.lower() for o in out}:
            suffix = f"~{n}"
            candidate, n = base[:MAX_SHEET_NAME - len(suffix)] + suffix, n + 1
        out.append(candidate)
    return out


def content_types(count: int) -> str:
    sheets = "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/'
                     f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, count + 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            f"{sheets}</Types>")


ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
             '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
             'officeDocument" Target="xl/workbook.xml"/></Relationships>')

STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
          '<numFmts count="2"><numFmt numFmtId="164" formatCode="&quot;Rp &quot;#,##0"/>'
          '<numFmt numFmtId="165" formatCode="d mmmm yyyy"/></numFmts>'
          '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
          '<fills count="2"><fill><patternFill patternType="none"/></fill>'
          '<fill><patternFill patternType="gray125"/></fill></fills>'
          '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
          '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
          '<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
          '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
          '</styleSheet>')


def workbook(names: list[str]) -> str:
    sheets = "".join(f'<sheet name="{_escape(name)}" sheetId="{i}" r:id="rId{i}"/>'
                     for i, name in enumerate(names, 1))
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
            f"<sheets>{sheets}</sheets></workbook>")


def workbook_rels(count: int) -> str:
    sheets = "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                     f'relationships/worksheet" Target="worksheets/sheet{i}.xml"/>' for i in range(1, count + 1))
    styles = (f'<Relationship Id="rId{count + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
              'relationships/styles" Target="styles.xml"/>')
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{sheets}{styles}</Relationships>")
