"""Form attachments: the CSV files an XLSForm names (select_one_from_file, csv-external) uploaded
with it. They become part of the form definition, so the content hash covers them and no separate
store can lose them: choices from a file become a choice list, and a csv-external file's rows are
kept in Form.attachments for pulldata() and instance() at evaluation time."""

from __future__ import annotations

import csv
import io

MAX_ROWS = 10_000
MAX_FILES = 20
Rows = list[dict[str, str]]


class BadAttachment(Exception):
    """A file that is not a CSV Pantau can read; the message says why in English, `id` in Indonesian."""

    def __init__(self, en: str, id_: str) -> None:
        super().__init__(en)
        self.en, self.id = en, id_


def read_csv(data: bytes) -> Rows:
    """Rows of a CSV with a header line, as text; UTF-8 (with or without BOM) or Windows-1252,
    comma or semicolon separated (Excel in Indonesian writes ';')."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip() for h in next(reader, [])]
    if not header or not any(header):
        raise BadAttachment("it has no header line", "tidak punya baris judul kolom")
    rows: Rows = []
    for number, values in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            raise BadAttachment(f"more than {MAX_ROWS} rows", f"lebih dari {MAX_ROWS} baris")
        if any(v.strip() for v in values):
            # Empty cells are left out: the YAML form of the definition omits them too, and the
            # content hash must survive the round trip. A missing column reads as empty anyway.
            rows.append({h: values[i].strip() for i, h in enumerate(header) if h and i < len(values)
                         and values[i].strip()})
    return rows
