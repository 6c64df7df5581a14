"""domain/xlsx_read against openpyxl's read-only mode (the reader the import was written against):
the same values for every kind of cell an office workbook holds, from a workbook openpyxl writes and
from one written the way Excel writes (shared strings, rich text runs, shared formulas, styles)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook as OpenpyxlWorkbook
from openpyxl import load_workbook

from server.domain import xlsx_read
from server.domain.registry_file import FileProblem, open_rows
from server.domain.xlsx_read import Formula

_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_RELS_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'


def _openpyxl_rows(path: Path) -> list[list[Any]]:
    book = load_workbook(path, read_only=True, data_only=False)
    try:
        rows = []
        for row in book.worksheets[0].iter_rows():
            values = []
            for cell in row:
                value = cell.value
                if getattr(cell, "data_type", "") == "f" and isinstance(value, str):
                    value = Formula(value)
                elif isinstance(value, str):
                    value = value.strip()
                values.append(value)
            rows.append(values)
        return rows
    finally:
        book.close()


def _ours(path: Path) -> list[list[Any]]:
    with xlsx_read.Workbook(path) as book:
        _stated, rows = book.rows(book.sheetnames[0])
        return [cells for _, cells in rows]


def test_a_workbook_openpyxl_writes_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    book = OpenpyxlWorkbook()
    sheet = book.active
    sheet.append(["DAFTAR PENERIMA"])
    sheet.append([])
    sheet.append(["NIK", "Nama", "Lahir", "Umur", "Aktif", "Rumus"])
    sheet.append([6402061234567891, "  Siti  ", dt.datetime(1990, 3, 5), 35.5, True, "=A4*2"])
    sheet.append(["6402 0612 3456", "Budi & <Ani>", dt.date(2001, 1, 31), -3, False, None])
    sheet["H7"] = "jauh"
    sheet["B8"] = 1e20
    path = tmp_path / "book.xlsx"
    book.save(path)
    ours = _ours(path)
    assert ours == _openpyxl_rows(path)
    assert ours[3][2] == dt.datetime(1990, 3, 5) and ours[3][5] == Formula("=A4*2")


def _excel_like(path: Path, sheet_xml: str, strings: list[str], sst: str = "", date1904: bool = False) -> None:
    """The parts Excel writes: shared strings (one with rich text runs and a phonetic run), styles."""
    items = "".join(strings)
    epoch = ' date1904="1"' if date1904 else ""
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.'
                         'org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                         'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" '
                         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                         '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                         'officedocument.spreadsheetml.sharedStrings+xml"/><Override PartName="/xl/styles.xml" '
                         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
                         '</Types>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.'
                         'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.'
                         'org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
                         '</Relationships>')
        archive.writestr("xl/workbook.xml", f'<?xml version="1.0"?><workbook {_NS} {_RELS_NS}><workbookPr'
                         f'{epoch}/><sheets><sheet name="Data" sheetId="1" '
                         'r:id="rId1"/></sheets></workbook>')
        archive.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                         'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                         'openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.'
                         'xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                         'relationships/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="'
                         'http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.'
                         'xml"/></Relationships>')
        archive.writestr("xl/sharedStrings.xml", sst or f'<?xml version="1.0"?><sst {_NS}>{items}</sst>')
        archive.writestr("xl/styles.xml", f'<?xml version="1.0"?><styleSheet {_NS}><numFmts count="1">'
                         '<numFmt numFmtId="164" formatCode="dd/mm/yyyy"/></numFmts><fonts count="1"><font>'
                         '<sz val="11"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/>'
                         '</fill></fills><borders '
                         'count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="14"/>'
                         '</cellStyleXfs><cellXfs count="4"><xf numFmtId="0"/>'
                         '<xf numFmtId="164" applyNumberFormat="1"/><xf numFmtId="14" applyNumberFormat="1"/>'
                         '<xf numFmtId="49" applyNumberFormat="1"/></cellXfs><cellStyles count="1">'
                         '<cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>')
        archive.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><worksheet {_NS}>{sheet_xml}'
                         '</worksheet>')


STRINGS = ["<si><t>Nama</t></si>", "<si><t>NIK</t></si>", "<si><t>Lahir</t></si>",
           '<si><r><rPr><b/></rPr><t>Siti </t></r><r><t xml:space="preserve">Aminah</t></r>'
           '<rPh sb="0" eb="1"><t>x</t></rPh></si>', "<si><t>A&amp;B_x005F_x000D_</t></si>", "<si><t> 640206 </t></si>"]
SHEET = ('<dimension ref="A1:E6"/><sheetData>'
         '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
         '<row r="3"><c r="A3" t="s"><v>3</v></c><c r="B3" t="s" s="3"><v>5</v></c><c r="C3" s="1"><v>32937</v></c>'
         '<c r="E3" t="b"><v>1</v></c></row>'
         '<row r="4"><c r="A4" t="s"><v>4</v></c><c r="B4"><v>6.40206E+15</v></c><c r="C4" s="2"><v>44000.5</v></c>'
         '<c r="D4"><f t="shared" ref="D4:D5" si="0">B4*2</f><v>1</v></c><c r="E4" t="e"><v>#N/A</v></c></row>'
         '<row><c t="str"><f>"a"&amp;"b"</f><v>ab</v></c><c/><c r="C5" t="d"><v>2020-02-29T00:00:00</v></c>'
         '<c r="D5"><f t="shared" si="0"/><v>2</v></c></row>'
         '</sheetData><mergeCells count="1"><mergeCell ref="A6:B6"/></mergeCells>')


@pytest.mark.parametrize("date1904", [False, True])
def test_a_workbook_written_as_excel_writes_it_reads_as_openpyxl_reads_it(tmp_path: Path, date1904: bool) -> None:
    path = tmp_path / "excel.xlsx"
    _excel_like(path, SHEET, STRINGS, date1904=date1904)
    ours = _ours(path)
    assert ours == _openpyxl_rows(path)
    # and the values themselves, worked out here
    assert ours[0] == ["Nama", "NIK", "Lahir", None, None] and ours[1] == [None] * 5
    assert ours[2][0] == "Siti Aminah" and ours[2][1] == "640206" and ours[2][4] is True
    base = dt.datetime(1904, 1, 1) if date1904 else dt.datetime(1899, 12, 30)
    assert ours[2][2] == base + dt.timedelta(days=32937)
    assert ours[3][0] == "A&B_x000D_" and ours[3][1] == 6.40206e15 and ours[3][3] == Formula("=B4*2")
    assert ours[4][0] == Formula('="a"&"b"') and ours[4][3] == Formula("=B5*2")


def test_the_import_reads_an_excel_workbook_under_its_title(tmp_path: Path) -> None:
    path = tmp_path / "excel.xlsx"
    _excel_like(path, SHEET, STRINGS)
    with open_rows(path) as (layout, rows):
        assert (layout.sheet, layout.header_row, layout.estimated_rows) == ("Data", 1, 5)
        assert layout.columns == ["Nama", "NIK", "Lahir"]
        assert [n for n, _ in rows] == [3, 4, 5]


@pytest.mark.parametrize("case", ["dtd", "dtd_after_a_long_comment", "broken_xml", "no_workbook"])
def test_a_workbook_with_a_dtd_or_broken_parts_is_refused_as_damaged(tmp_path: Path, case: str) -> None:
    path = tmp_path / "bad.xlsx"
    sheet = SHEET
    if case == "broken_xml":
        sheet = SHEET.replace("</sheetData>", "<row r='9'><c></row></sheetData>")
    comment = "<!--" + "x" * 70_000 + "-->" if case == "dtd_after_a_long_comment" else ""
    dtd = f'<?xml version="1.0"?>{comment}<!DOCTYPE sst [<!ENTITY a "aaaa">]><sst {_NS}><si><t>&a;</t></si></sst>'
    _excel_like(path, sheet, STRINGS, sst=dtd if case.startswith("dtd") else "")
    if case == "no_workbook":
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(tmp_path / "cut.xlsx", "w") as cut:
            for item in source.infolist():
                if item.filename != "xl/workbook.xml":
                    cut.writestr(item, source.read(item))
        path = tmp_path / "cut.xlsx"
    with pytest.raises(FileProblem) as problem, open_rows(path) as (_layout, rows):
        list(rows)
    assert problem.value.code == "file.broken"
