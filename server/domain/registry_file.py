"""Reading a beneficiary list as offices send it: an XLSX or a CSV in whatever encoding
and delimiter the office's computer wrote, with a title above the header. Rows are streamed
(domain/xlsx_read: the sheet's XML through the C parser; csv line by line), never held whole: a list
of 100,000 people is read in a few seconds and a few megabytes. What cannot be read at all is a
FileProblem with a message a person understands."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from server.domain import xlsx_read
from server.domain.xlsx_read import Formula as Formula  # the import's callers name it here

MAX_ROWS = 200_000  # a kabupaten's whole registry is far below; a bigger file is an export of something else
HEADER_SCAN = 20  # the header is looked for in this many first rows (titles and blank lines above it)
SAMPLE = 8192  # bytes read to detect a CSV's encoding and delimiter
DELIMITERS = ",;\t|"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an OLE compound file: an .xls, or an encrypted .xlsx
_ENCRYPTED = "EncryptionInfo".encode("utf-16-le")
_MERGE = re.compile(rb'<mergeCell ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"')

# What a file can be refused for, with its message (Indonesian, English).
MESSAGES: dict[str, tuple[str, str]] = {
    "file.empty": ("Berkas kosong.", "The file is empty."),
    "file.not_table": ("Berkas ini bukan XLSX atau CSV. Simpan daftar dari Excel sebagai .xlsx atau .csv.",
                       "This file is neither XLSX nor CSV. Save the list from Excel as .xlsx or .csv."),
    "file.encrypted": ("Berkas XLSX ini dilindungi kata sandi (terenkripsi). Buka di Excel, hapus kata sandinya "
                       "(File > Info > Protect Workbook), simpan, lalu unggah lagi.",
                       "This XLSX file is password-protected (encrypted). Open it in Excel, remove the password, "
                       "save it and upload it again."),
    "file.xls": ("Berkas .xls (Excel 97-2003) tidak dibaca. Simpan sebagai .xlsx lalu unggah lagi.",
                 "An .xls (Excel 97-2003) file cannot be read. Save it as .xlsx and upload it again."),
    "file.broken": ("Berkas XLSX rusak atau tidak lengkap ({reason}).", "The XLSX file is damaged ({reason})."),
    "file.no_sheet": ("Lembar '{sheet}' tidak ada di berkas.", "The file has no sheet '{sheet}'."),
    "file.no_header": ("Baris judul kolom tidak ditemukan di {rows} baris pertama.",
                       "No header row was found in the first {rows} rows."),
    "file.merged_header": ("Judul kolom di baris {row} memakai sel gabungan ({cells}). Pisahkan sel gabungan itu "
                           "(Merge & Center dimatikan) sehingga tiap kolom punya judulnya sendiri.",
                           "The header in row {row} uses merged cells ({cells}). Unmerge them so that each column "
                           "has its own heading."),
    "file.duplicate_header": ("Dua kolom berjudul sama: '{name}'. Beri judul yang berbeda.",
                              "Two columns have the same heading: '{name}'. Give them different headings."),
    "file.too_many_rows": ("Berkas berisi lebih dari {limit} baris data (sampai baris {row}). Bagi menjadi "
                           "beberapa berkas per kecamatan.",
                           "The file has more than {limit} data rows (up to row {row}). Split it by kecamatan."),
    "file.encoding": ("Teks berkas CSV tidak dapat dibaca ({encoding}, baris {row}). Simpan sebagai CSV UTF-8.",
                      "The CSV's text cannot be read ({encoding}, row {row}). Save it as CSV UTF-8."),
}


class FileProblem(Exception):
    """The file as a whole cannot be imported; nothing was stored."""

    def __init__(self, code: str, **params: Any) -> None:
        self.code, self.params = code, params
        super().__init__(self.message("en"))

    def message(self, lang: str = "id") -> str:
        id_text, en_text = MESSAGES[self.code]
        return (en_text if lang == "en" else id_text).format(**self.params)


class Layout(msgspec.Struct, frozen=True, kw_only=True):
    """How the file was read, shown to staff so they can tell a misread at once."""

    kind: str  # "xlsx" or "csv"
    sheet: str = ""
    encoding: str = ""
    delimiter: str = ""
    header_row: int  # 1-based, as Excel numbers rows
    columns: list[str]
    estimated_rows: int = 0  # for the progress bar: the sheet's stated size, or the CSV's size / its lines


Row = tuple[int, list[Any]]  # (1-based row number in the file, the cells)


def kind_of(path: Path) -> str:
    """'xlsx' or 'csv' by content, not by name: a renamed file is still what it is."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE)
    if not head:
        raise FileProblem("file.empty")
    if head.startswith(_OLE):
        raise FileProblem("file.encrypted" if _encrypted(path) else "file.xls")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem("file.not_table")
    return "csv"


def _encrypted(path: Path) -> bool:
    """An encrypted OOXML workbook is an OLE file with an EncryptionInfo stream (MS-OFFCRYPTO)."""
    with path.open("rb") as handle:
        return _ENCRYPTED in handle.read(1 << 20)


def layout(path: Path, sheet: str = "") -> Layout:
    with open_rows(path, sheet) as (found, _rows):
        return found


class open_rows:
    """`with open_rows(path) as (layout, rows)`: the layout and an iterator of the data rows after
    the header (blank rows skipped). Raises FileProblem."""

    def __init__(self, path: Path, sheet: str = "") -> None:
        self.path, self.sheet = path, sheet
        self._close: list[Any] = []

    def __enter__(self) -> tuple[Layout, Iterator[Row]]:
        kind = kind_of(self.path)
        try:
            found, rows = self._xlsx() if kind == "xlsx" else self._csv()
        except BaseException:
            self.__exit__()
            raise
        if found.estimated_rows > 2 * MAX_ROWS:  # clearly too big: say so before reading it all
            self.__exit__()
            raise FileProblem("file.too_many_rows", limit=_thousands(MAX_ROWS),
                              row=found.header_row + found.estimated_rows)
        return found, rows

    def __exit__(self, *exc: object) -> None:
        for item in self._close:
            item.close()
        self._close = []

    def _csv(self) -> tuple[Layout, Iterator[Row]]:
        encoding, delimiter = sniff_csv(self.path)
        handle = self.path.open(encoding=encoding, newline="", errors="strict")
        self._close.append(handle)
        rows = _decoded(csv.reader(handle, delimiter=delimiter), encoding)
        header_row, columns, rest = _header(rows)
        found = Layout(kind="csv", encoding=encoding, delimiter=delimiter, header_row=header_row, columns=columns,
                       estimated_rows=max(0, _csv_rows(self.path) - header_row))
        return found, _limited(rest)

    def _xlsx(self) -> tuple[Layout, Iterator[Row]]:
        try:
            book = xlsx_read.Workbook(self.path)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, zlib.error) as exc:
            raise FileProblem("file.broken", reason=type(exc).__name__) from None
        self._close.append(book)
        if self.sheet and self.sheet not in book.sheets:
            raise FileProblem("file.no_sheet", sheet=self.sheet)
        title = self.sheet or book.sheetnames[0]
        stated, rows = book.rows(title)
        header_row, columns, rest = _header(_readable(rows))
        merged = _merged_in(self.path, book.sheets[title], header_row)
        if merged:
            raise FileProblem("file.merged_header", row=header_row, cells=", ".join(merged[:3]))
        return Layout(kind="xlsx", sheet=title, header_row=header_row, columns=columns,
                      estimated_rows=max(0, stated - header_row)), _limited(rest)


def _readable(rows: Iterator[Row]) -> Iterator[Row]:
    """A workbook whose XML breaks after its first rows is as damaged as one that does not open."""
    try:
        yield from rows
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
        raise FileProblem("file.broken", reason=type(exc).__name__) from None


def _csv_rows(path: Path) -> int:
    """The lines after the header's, counted in 1 MB chunks (a few milliseconds per 100,000 rows)."""
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            lines += chunk.count(b"\n")
    return lines


def _decoded(reader: Iterator[list[str]], encoding: str) -> Iterator[Row]:
    n = 0
    try:
        for n, row in enumerate(reader, start=1):
            yield n, [cell.strip() for cell in row]
    except UnicodeDecodeError:
        raise FileProblem("file.encoding", encoding=encoding, row=n + 1) from None


def _blank(cells: list[Any]) -> bool:
    return all(c is None or c == "" for c in cells)


def _header(rows: Iterator[Row]) -> tuple[int, list[str], Iterator[Row]]:
    """The header is the first of the first rows that names at least two columns with text only and
    at least half as many as the widest such row: a title ("DAFTAR PENERIMA UEP 2025") names one."""
    seen: list[Row] = []
    for row in rows:
        seen.append(row)
        if len(seen) >= HEADER_SCAN:
            break
    width = max((_texts(cells) for _, cells in seen), default=0)
    for index, (number, cells) in enumerate(seen):
        count = _texts(cells)
        if count >= 2 and count * 2 >= width and all(isinstance(c, str) or c is None for c in cells):
            columns = _names(cells)
            rest = seen[index + 1:]
            return number, columns, _chain(rest, rows)
    raise FileProblem("file.no_header", rows=HEADER_SCAN)


def _texts(cells: list[Any]) -> int:
    return sum(1 for c in cells if isinstance(c, str) and c)


def _names(cells: list[Any]) -> list[str]:
    while cells and (cells[-1] is None or cells[-1] == ""):
        cells = cells[:-1]
    names = [str(c or "").strip() for c in cells]
    seen: set[str] = set()
    for name in names:
        key = name.casefold()
        if key and key in seen:
            raise FileProblem("file.duplicate_header", name=name)
        seen.add(key)
    return names


def _chain(first: list[Row], rest: Iterator[Row]) -> Iterator[Row]:
    yield from first
    yield from rest


def _limited(rows: Iterator[Row]) -> Iterator[Row]:
    """The data rows, blank ones skipped; more than MAX_ROWS stops the reading with a FileProblem."""
    count = 0
    for number, cells in rows:
        if _blank(cells):
            continue
        count += 1
        if count > MAX_ROWS:
            raise FileProblem("file.too_many_rows", limit=_thousands(MAX_ROWS), row=number)
        yield number, cells


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", ".")


def sniff_csv(path: Path) -> tuple[str, str]:
    """(encoding, delimiter). Encodings an Indonesian office's computer writes: UTF-8 (with or without
    the BOM Excel adds), UTF-16 (Excel's "Unicode text"), and Windows-1252 (Excel's plain CSV on
    Windows); the first that decodes the sample wins, Windows-1252 last since it decodes anything."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE)
    encoding = _encoding(head)
    text = head.decode(encoding, errors="ignore")
    lines = [line for line in text.splitlines()[:HEADER_SCAN + 5] if line.strip()]
    return encoding, _delimiter(lines)


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # the sample cut a character in two
            return "utf-8"
    return "cp1252"


def _delimiter(lines: list[str]) -> str:
    """The delimiter that splits the most lines into the same number (>1) of columns; Excel with
    Indonesian regional settings writes ';' (the comma is the decimal mark there)."""
    best, score = ",", -1
    for delimiter in DELIMITERS:
        widths = [len(next(csv.reader([line], delimiter=delimiter))) for line in lines]
        common = max(set(widths), key=widths.count) if widths else 1
        found = widths.count(common) * 1000 + common if common > 1 else 0
        if found > score:
            best, score = delimiter, found
    return best


def _merged_in(path: Path, part: str, header_row: int) -> list[str]:
    """Merged ranges that touch the header row. <mergeCells> sits after the rows in the sheet's XML:
    the part is scanned as it is decompressed, in chunks."""
    found: list[str] = []
    tail = b""
    with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            text = tail + chunk
            for match in _MERGE.finditer(text):
                first, last = int(match.group(2)), int(match.group(4) or match.group(2))
                if first <= header_row <= last:
                    found.append(match.group(0).split(b'"')[1].decode())
            tail = text[-200:]
    return sorted(set(found))


def excel_date(serial: float) -> dt.date | None:
    """An Excel serial day number (1900 system, with its phantom 29 February 1900) as a date."""
    if not 1 <= serial < 2_958_466:
        return None
    return dt.date(1899, 12, 30) + dt.timedelta(days=int(serial))


def text_of(value: Any) -> str:
    """A cell as text: 6402061234567891.0 (a number cell) -> '6402061234567891'."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return str(value).strip()
