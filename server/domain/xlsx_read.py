"""Reading one sheet of an XLSX workbook as a stream of rows of values, for the registry's list import.

openpyxl's read-only mode builds a descriptor-checked object for every cell and every string (and,
with defusedxml installed, parses through the pure-Python expat handlers): 100,000 office rows cost
~60 s of CPU there. Here the parts go through the C ElementTree parser and cells become values
directly, about ten times cheaper. Values are those openpyxl's read-only mode gives with
data_only=False, which the import was written against and its tests compare with: text, int, float,
bool, datetime for a number in a date format, the error text ('#N/A'), and a Formula for a formula
cell ('=' and its text). Rows come numbered as Excel numbers them, rows absent from the XML as empty
lists, each padded to the sheet's stated width.

Safety (why not defusedxml, which is the pure-Python parser above): OOXML parts never carry a DTD,
so a part with one before its root element is refused (no entity expansion, no external entity);
expat (>= 2.4) also limits entity amplification on its own."""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal
from xml.etree.ElementTree import Element, ParseError, XMLPullParser

import msgspec

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"
_C, _V, _F, _IS, _T, _R = (MAIN + t for t in ("c", "v", "f", "is", "t", "r"))
_ROW, _SI, _DIMENSION, _SHEET_DATA = MAIN + "row", MAIN + "si", MAIN + "dimension", MAIN + "sheetData"
_CELL_REF = re.compile(r"([A-Z]{1,3})([0-9]+)$")
_DTD = re.compile(rb"<!DOCTYPE|<!ENTITY", re.IGNORECASE)
_ROOT = re.compile(rb"<[A-Za-z_]")
CHUNK = 1 << 16
_Event = Literal["start", "end"]


class XlsxError(ValueError):
    """The workbook's structure cannot be read (a part missing, XML broken, a DTD)."""


class Formula(msgspec.Struct, frozen=True):
    """A formula cell rather than a value: `text` is '=' and the formula, as Excel's formula bar
    shows it (the import reports it with its place)."""

    text: str


class Workbook:
    """`with Workbook(path) as book`: the sheet names, and `book.rows(name)` for one sheet."""

    def __init__(self, path: Path) -> None:
        self.archive = zipfile.ZipFile(path)
        try:
            self.sheets = self._sheets()
            self.strings = self._strings()
            self.dates, self.epoch = self._dates()
        except BaseException:
            self.archive.close()
            raise

    def __enter__(self) -> Workbook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.archive.close()

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    def _parse(self, part: str, events: tuple[_Event, ...] = ("end",)) -> Iterator[tuple[str, Any]]:
        """The part's (event, element) pairs, parsed as it is decompressed (64 KB at a time)."""
        try:
            handle = self.archive.open(part)
        except KeyError:
            raise XlsxError(f"missing part {part}") from None
        with handle:
            parser: Any = XMLPullParser(events)
            chunk = handle.read(CHUNK)
            _refuse_dtd(chunk, part)
            try:
                while chunk:
                    parser.feed(chunk)
                    yield from parser.read_events()
                    chunk = handle.read(CHUNK)
                parser.close()
                yield from parser.read_events()
            except ParseError as exc:
                raise XlsxError(f"{part}: {exc}") from None

    def _sheets(self) -> dict[str, str]:
        """Sheet name -> its part, in the workbook's order."""
        targets: dict[str, str] = {}
        for _, node in self._parse("xl/_rels/workbook.xml.rels"):
            if node.tag == _PKG_REL:
                target = node.get("Target", "")
                targets[node.get("Id", "")] = (target.lstrip("/") if target.startswith("/")
                                               else posixpath.normpath(posixpath.join("xl", target)))
        sheets: dict[str, str] = {}
        for _, node in self._parse("xl/workbook.xml"):
            if node.tag == MAIN + "sheet" and node.get(_REL) in targets:
                sheets[node.get("name", "")] = targets[str(node.get(_REL))]
        if not sheets:
            raise XlsxError("no sheet")
        return sheets

    def _strings(self) -> list[str]:
        if "xl/sharedStrings.xml" not in self.archive.NameToInfo:
            return []
        strings: list[str] = []
        for _, node in self._parse("xl/sharedStrings.xml"):
            if node.tag == _SI:
                strings.append(_text(node).replace("x005F_", ""))
                node.clear()
        return strings

    def _dates(self) -> tuple[frozenset[int], Any]:
        """The style indexes whose number format is a date or a time, and the workbook's epoch."""
        from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format
        from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900

        epoch = CALENDAR_WINDOWS_1900
        for _, node in self._parse("xl/workbook.xml"):
            if node.tag == MAIN + "workbookPr" and node.get("date1904") in ("1", "true"):
                epoch = CALENDAR_MAC_1904
        if "xl/styles.xml" not in self.archive.NameToInfo:
            return frozenset(), epoch
        formats: dict[int, str] = dict(BUILTIN_FORMATS)
        styles: list[int] = []
        inside_xfs = False
        for event, node in self._parse("xl/styles.xml", ("start", "end")):
            if node.tag == MAIN + "cellXfs":
                inside_xfs = event == "start"
            elif event == "end" and node.tag == MAIN + "numFmt":
                formats[int(node.get("numFmtId", "0"))] = node.get("formatCode", "")
            elif event == "end" and node.tag == MAIN + "xf" and inside_xfs:
                styles.append(int(node.get("numFmtId", "0")))
        return frozenset(i for i, fmt in enumerate(styles) if is_date_format(formats.get(fmt, ""))), epoch

    def rows(self, sheet: str) -> tuple[int, Iterator[tuple[int, list[Any]]]]:
        """(the sheet's stated last row, 0 if it states none; its rows)."""
        part = self.sheets[sheet]
        dimension = _dimension(self._parse(part, ("start",)))
        return dimension[0], _Cells(self, dimension[1]).rows(self._parse(part, ("start", "end")))


def _refuse_dtd(head: bytes, part: str) -> None:
    """A DTD can only stand before the root element, which OOXML parts start within their first
    bytes: no root element in the first chunk, or a DOCTYPE/ENTITY before it, is refused."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        head = head.decode("utf-16", errors="ignore").encode()
    root = _ROOT.search(head)
    if root is None or _DTD.search(head, 0, root.start()):
        raise XlsxError(f"a DTD or no root element in {part}")


def _dimension(events: Iterator[tuple[str, Any]]) -> tuple[int, int]:
    """(last row, last column) from <dimension ref="A1:I100003"/>, read before <sheetData>."""
    for _, node in events:
        if node.tag == _DIMENSION:
            last = str(node.get("ref", "")).split(":")[-1]
            match = _CELL_REF.match(last)
            return (int(match.group(2)), column_index(match.group(1))) if match else (0, 0)
        if node.tag == _SHEET_DATA:
            break
    return 0, 0


def column_index(letters: str) -> int:
    """'A' -> 1, 'Z' -> 26, 'AA' -> 27."""
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _text(node: Element) -> str:
    """A string item's text: its <t>, or its runs' <t>s joined (phonetic <rPh> runs left out)."""
    plain = node.find(_T)
    parts = [plain.text or ""] if plain is not None else []
    parts += [run.findtext(_T) or "" for run in node.iterfind(_R)]
    return "".join(parts)


class _Cells:
    """Turns a sheet's <row> elements into lists of values."""

    def __init__(self, book: Workbook, width: int) -> None:
        self.strings, self.dates, self.epoch, self.width = book.strings, book.dates, book.epoch, width
        self.shared: dict[str, Any] = {}  # shared formula id -> (its text, its cell) for the cells that reuse it

    def rows(self, events: Iterator[tuple[str, Any]]) -> Iterator[tuple[int, list[Any]]]:
        data: Element | None = None
        last = 0
        for event, node in events:
            if event == "start":
                if node.tag == _SHEET_DATA:
                    data = node
                continue
            if node.tag != _ROW:
                continue
            number = int(node.get("r") or last + 1)
            for gap in range(last + 1, number):
                yield gap, [None] * self.width
            last = number
            cells = self.row(node)
            if data is not None:
                data.clear()  # the rows read so far: memory stays flat however long the sheet
            yield number, cells

    def row(self, node: Element) -> list[Any]:
        cells: list[Any] = []
        for cell in node.iter(_C):
            ref = cell.get("r")
            if ref:
                match = _CELL_REF.match(ref)
                column = column_index(match.group(1)) if match else len(cells) + 1
                if column > len(cells) + 1:
                    cells.extend([None] * (column - len(cells) - 1))
            cells.append(self.value(cell))
        if len(cells) < self.width:
            cells.extend([None] * (self.width - len(cells)))
        return cells

    def value(self, cell: Element) -> Any:
        kind = cell.get("t", "n")
        formula = cell.find(_F)
        if formula is not None:
            return self.formula(cell, formula)
        if kind == "inlineStr":
            inline = cell.find(_IS)
            return _text(inline).strip() if inline is not None else None
        raw = cell.findtext(_V)
        if not raw:
            return None
        if kind == "s":
            return self.strings[int(raw)].strip()
        if kind == "n":
            return self.number(raw, cell.get("s"))
        if kind == "b":
            return bool(int(raw))
        if kind == "d":
            from openpyxl.utils.datetime import from_ISO8601

            return from_ISO8601(raw)
        return raw.strip()  # "str" (a formula's text result) and "e" (an error, '#N/A')

    def number(self, raw: str, style: str | None) -> Any:
        value: Any = float(raw) if ("." in raw or "E" in raw or "e" in raw) else int(raw)
        if style and int(style) in self.dates:
            from openpyxl.utils.datetime import from_excel

            try:
                return from_excel(value, self.epoch)
            except (OverflowError, ValueError):
                return "#VALUE!"  # as openpyxl: a date serial out of range is an error cell
        return value

    def formula(self, cell: Element, formula: Element) -> Formula:
        text = "=" + (formula.text or "")
        if formula.get("t") == "shared":
            key = formula.get("si", "")
            if text != "=":
                self.shared[key] = (text, cell.get("r"))
            elif key in self.shared:
                from openpyxl.formula.translate import Translator

                master, origin = self.shared[key]
                text = Translator(master, origin).translate_formula(cell.get("r"))
        return Formula(text)
