"""Form attachments: the files an XLSForm names (select_one_from_file over CSV, ODK's XML or
GeoJSON; csv-external) uploaded with it. They become part of the form definition, so the content
hash covers them and no separate store can lose them: choices from a file become a choice list,
and a csv-external file's rows are kept in Form.attachments for pulldata() and instance() at evaluation time.

XML is parsed with defusedxml with DTDs refused as well as entities and external references, so a
billion-laughs or XXE file is a named refusal, never a hang or a file read."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_ROWS = 10_000
MAX_FILES = 20
MAX_BYTES = 5 * 1024 * 1024  # an XML or GeoJSON choices file; 10,000 items with a few columns are far less
CHOICE_FILE_FORMATS = {".csv": "CSV", ".xml": "XML", ".geojson": "GeoJSON"}  # as pyxform takes them
Rows = list[dict[str, str]]


class BadAttachment(Exception):
    """A file that is not a CSV Pantau can read; the message says why in English, `id` in Indonesian."""

    def __init__(self, en: str, id_: str) -> None:
        super().__init__(en)
        self.en, self.id = en, id_


def read_csv(data: bytes) -> Rows:
    """Rows of a CSV with a header line, as text; UTF-8 (with or without BOM) or Windows-1252,
    comma or semicolon separated (Excel in Indonesian writes ';')."""
    if len(data) > MAX_BYTES:
        raise BadAttachment(f"larger than {MAX_BYTES // 1024 // 1024} MB", f"lebih dari {MAX_BYTES // 1024 // 1024} MB")
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


def file_format(name: str) -> str | None:
    """CSV, XML or GeoJSON by the file name's extension (pyxform's choice of format), else None."""
    return next((kind for ext, kind in CHOICE_FILE_FORMATS.items() if name.lower().endswith(ext)), None)


def read_choices(name: str, data: bytes) -> Rows:
    """The rows of a select_one_from_file file, each with name and label (and any other column) as
    the CSV's: an XML item's child elements, a GeoJSON feature's id, title and properties."""
    kind = file_format(name)
    if kind == "XML":
        return read_xml(data)
    if kind == "GeoJSON":
        return read_geojson(data)
    return read_csv(data)


def read_xml(data: bytes) -> Rows:
    """ODK's choices XML: <root><item><name>a</name><label>A</label>...</item>...</root>; each item's
    child elements are its columns (the items may have another tag, as ODK Collect allows)."""
    if len(data) > MAX_BYTES:
        raise BadAttachment(f"larger than {MAX_BYTES // 1024 // 1024} MB", f"lebih dari {MAX_BYTES // 1024 // 1024} MB")
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise BadAttachment("it declares a DTD or entities, which Pantau does not read",
                            "memuat DTD atau entitas, yang tidak dibaca Pantau") from None
    except ET.ParseError as exc:
        raise BadAttachment(f"it is not well-formed XML ({exc})", f"bukan XML yang sah ({exc})") from None
    rows: Rows = []
    for item in root:
        if len(rows) >= MAX_ROWS:
            raise BadAttachment(f"more than {MAX_ROWS} items", f"lebih dari {MAX_ROWS} item")
        row = {_local(child.tag): (child.text or "").strip() for child in item}
        if any(row.values()):
            rows.append({k: v for k, v in row.items() if v})
    if not rows:
        raise BadAttachment("it has no items (root/item with name and label)",
                            "tidak punya item (root/item dengan name dan label)")
    return rows


def read_geojson(data: bytes) -> Rows:
    """A GeoJSON FeatureCollection as ODK reads it: a feature's id (or its property id) is the
    choice's name, its property title the label, the other properties columns, and a Point's
    coordinates the column geometry as an ODK geopoint ("lat lon")."""
    if len(data) > MAX_BYTES:
        raise BadAttachment(f"larger than {MAX_BYTES // 1024 // 1024} MB", f"lebih dari {MAX_BYTES // 1024 // 1024} MB")
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise BadAttachment("it is not JSON", "bukan JSON") from None
    if not isinstance(document, dict) or document.get("type") != "FeatureCollection" \
            or not isinstance(document.get("features"), list):
        raise BadAttachment("it is not a GeoJSON FeatureCollection", "bukan FeatureCollection GeoJSON")
    features = document["features"]
    if len(features) > MAX_ROWS:
        raise BadAttachment(f"more than {MAX_ROWS} features", f"lebih dari {MAX_ROWS} fitur")
    rows: Rows = []
    for feature in features:
        if not isinstance(feature, dict):
            continue
        found = feature.get("properties")
        properties: dict[str, Any] = found if isinstance(found, dict) else {}
        row = {k: _text(v) for k, v in properties.items() if k not in ("id", "title") and _text(v)}
        name, label = _text(feature.get("id", properties.get("id"))), _text(properties.get("title"))
        point = _point(feature.get("geometry"))
        row |= {"name": name} if name else {}
        row |= {"label": label} if label else {}
        rows.append(row | ({"geometry": point} if point else {}))
    return rows


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    return "" if value is None or isinstance(value, dict | list) else json.dumps(value)


def _point(geometry: Any) -> str:
    if not isinstance(geometry, dict) or geometry.get("type") != "Point":
        return ""
    coordinates = geometry.get("coordinates")
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        return ""
    return " ".join(str(c) for c in [coordinates[1], coordinates[0], *coordinates[2:3]])
