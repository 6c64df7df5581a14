"""What an export contains: every version of a form merged by field name (a field removed in a newer
version keeps its column), one table for the records and one per repeat with join keys, and each
answer rendered as its code or its label in Indonesian or English. Pure: storage/exports.py feeds
rows in and writes the tables out as CSV, XLSX or JSON lines."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal

import msgspec

from server.domain import growth
from server.domain.form import text_of, walk
from server.domain.questions import ATTACHMENT_TYPES, LIST_TYPES, QUESTION_TYPES
from server.domain.review import ID_TYPES, mask_id
from server.domain.xlsx import Link

Format = Literal["csv", "xlsx", "jsonl"]
FORMATS: tuple[str, ...] = ("csv", "xlsx", "jsonl")
VALUE_MODES: tuple[str, ...] = ("codes", "labels")
MAIN = ""  # the records' own table; repeats are named after the repeat
NO_COLUMN_TYPES = frozenset({"group", "repeat", "note"})
MAIN_META = ("_id", "_form_version", "_revision", "_review_status", "_area_code", "_enumerator", "_received_at")
# A repeat row joins its record by _id, and its parent row (a record or an outer repeat's row) by
# _parent_key; _key is what inner repeats' rows point to.
REPEAT_META = ("_id", "_parent_key", "_key", "_index")


class Column(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str
    table: str  # MAIN, or the repeat it sits in
    label: dict[str, str]
    choices: str | None
    versions: tuple[str, ...]  # the versions that have it, oldest first
    removed: bool  # not in the newest version, kept so old answers stay exportable


class Table(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    parent: str | None  # None for MAIN, else MAIN or the enclosing repeat
    columns: list[Column]


class Layout(msgspec.Struct, frozen=True, kw_only=True):
    form_id: str
    tables: list[Table]  # MAIN first, then repeats in document order
    choice_labels: dict[str, dict[str, dict[str, str]]]  # field -> code -> {lang: label}
    about_people: bool = False  # with_people added the registry's columns: the scan must fill them


class Options(msgspec.Struct, frozen=True, kw_only=True):
    values: str = "codes"  # or "labels"
    lang: str = "id"
    mask_ids: bool = True  # NIK and No. KK masked unless the reader may reveal them
    # A photo's sha256 becomes a link to it under this address (…/api/v1/attachments/), where the
    # signed-in access rules apply; "" keeps the bare sha256 (JSON lines, for scripts).
    photo_url: str = ""


def merge(versions: list[tuple[str, Any]]) -> Layout:
    """(version label, CompiledForm) pairs, oldest first -> one layout. Columns follow the newest
    version's order; fields only older versions had come after, in the order they had there."""
    placed: dict[str, Any] = {}  # field -> its FieldInfo from the newest version that has it
    present: dict[str, list[str]] = {}
    for label, compiled in reversed(versions):
        for info in in_order(compiled):
            placed.setdefault(info.name, info)
            present.setdefault(info.name, []).insert(0, label)
    newest = versions[-1][1].fields.keys() if versions else set()
    tables: dict[str, Table] = {MAIN: Table(name=MAIN, parent=None, columns=[])}
    for name, info in placed.items():
        if info.type == "repeat":
            tables[name] = Table(name=name, parent=info.repeat[-1] if info.repeat else MAIN, columns=[])
    for name, info in placed.items():
        if info.type in NO_COLUMN_TYPES or not getattr(QUESTION_TYPES.get(info.type), "holds_value", True):
            continue  # csv_external/xml_external: an attached file, no answer
        table = info.repeat[-1] if info.repeat else MAIN
        tables.setdefault(table, Table(name=table, parent=MAIN, columns=[])).columns.append(Column(
            name=name, type=info.type, table=table, label=dict(info.label), choices=info.choices,
            versions=tuple(present[name]), removed=name not in newest))
    form_id = versions[-1][1].form_id if versions else ""
    return Layout(form_id=form_id, tables=list(tables.values()), choice_labels=_choice_labels(versions, placed))


# --- what the registry adds to an export of a form about its beneficiaries --------------------------
# Names start with "_", which no field name can (form.NAME_RE), so they never meet a real answer.
PERSON_NAME = "_nama_penerima"
DERIVED = "derived"  # the type of a column the answers do not hold
_PERSON_LABEL = {"id": "Nama penerima (registri)", "en": "Beneficiary name (registry)"}
# WHO z-scores and the Permenkes 2/2020 categories, as domain/growth.py computed them on arrival.
GROWTH_COLUMNS: dict[str, tuple[str, dict[str, str]]] = {
    "_haz": ("haz", {"id": "HAZ (z-skor TB/U)", "en": "HAZ (height-for-age z-score)"}),
    "_waz": ("waz", {"id": "WAZ (z-skor BB/U)", "en": "WAZ (weight-for-age z-score)"}),
    "_whz": ("whz", {"id": "WHZ (z-skor BB/TB)", "en": "WHZ (weight-for-height z-score)"}),
    "_stunting": ("tbu", {"id": "Kategori TB/U (stunting)", "en": "Height-for-age category (stunting)"}),
    "_wasting": ("bbtb", {"id": "Kategori BB/TB (wasting)", "en": "Weight-for-height category (wasting)"}),
}
CATEGORY_COLUMNS = frozenset({"_stunting", "_wasting"})


def with_people(layout: Layout, versions: list[tuple[str, Any]]) -> Layout:
    """For an export of a form about a registered beneficiary (a visit or a growth check): the
    beneficiary's name beside the reference, and for a growth check the z-scores and categories."""
    refers = [(label, c.definition.settings.registry.refers) for label, c in versions
              if c.definition.settings.registry is not None and c.definition.settings.registry.refers is not None]
    if not refers:
        return layout
    main = layout.tables[0]
    columns = list(main.columns)
    labels = tuple(label for label, _ in refers)
    # "text": a name is free text, and CSV defuses free text that a spreadsheet would run as a formula.
    person = Column(name=PERSON_NAME, type="text", table=MAIN, label=_PERSON_LABEL, choices=None, versions=labels,
                    removed=False)
    at = next((i + 1 for i, c in enumerate(columns) if c.name == refers[-1][1].beneficiary), len(columns))
    columns.insert(at, person)
    grown = tuple(label for label, r in refers if r.event == "growth" and r.growth is not None)
    if grown:
        columns += [Column(name=name, type=DERIVED, table=MAIN, label=text, choices=None, versions=grown,
                           removed=False) for name, (_key, text) in GROWTH_COLUMNS.items()]
    tables = [Table(name=MAIN, parent=None, columns=columns), *layout.tables[1:]]
    return Layout(form_id=layout.form_id, tables=tables, choice_labels=layout.choice_labels, about_people=True)


def derived(name: str | None, summary: Mapping[str, Any] | None) -> dict[str, Any]:
    """The registry's values for one record: the beneficiary's name and, from the growth check's
    assessment stored with its event, the z-scores (2 decimals) and category codes."""
    out: dict[str, Any] = {PERSON_NAME: name}
    found = summary.get("growth") if isinstance(summary, Mapping) else None
    if isinstance(found, dict):
        try:
            assessment = msgspec.convert(found, growth.Assessment)
        except msgspec.ValidationError:
            return out
        for column, (key, _text) in GROWTH_COLUMNS.items():
            value = getattr(assessment, key)
            out[column] = round(value, 2) if isinstance(value, float) else value
    return out


def in_order(compiled: Any) -> list[Any]:
    """The flat field index in document order. The index is a mapping, and PostgreSQL's JSONB keeps
    no key order, so the order comes from the definition's field lists."""
    return [compiled.fields[field.name] for field, _parents in walk(compiled.definition.fields)
            if field.name in compiled.fields]


def _choice_labels(versions: list[tuple[str, Any]], placed: Mapping[str, Any]) -> dict[str, dict[str, dict[str, str]]]:
    """Labels per select field, the newest wording winning; a choice later removed keeps its label."""
    out: dict[str, dict[str, dict[str, str]]] = {}
    for _label, compiled in versions:
        lists = compiled.definition.choices
        for name, info in compiled.fields.items():
            if info.choices and info.choices in lists and (placed[name].type.startswith("select")
                                                            or placed[name].type == "rank"):
                labels = out.setdefault(name, {})
                for choice in lists[info.choices].choices:
                    labels[choice.name] = dict(choice.label)
    return out


# --- rendering one answer ------------------------------------------------------------------------------------
Cell = str | int | float | list[Any] | None
Render = Callable[[Any], Cell]


def renderer(column: Column, layout: Layout, options: Options) -> Render | None:
    """How this column's answers become cells; None means "as stored" (the fast path for most)."""
    if column.type in ID_TYPES and options.mask_ids:
        return lambda value: mask_id(value) if value not in (None, "") else None
    if column.type in ATTACHMENT_TYPES and options.photo_url:
        return lambda value: Link(options.photo_url + value) if _SHA256.fullmatch(str(value or "")) else _plain(value)
    if column.name in CATEGORY_COLUMNS and options.values == "labels":
        return lambda code: growth.label(code, options.lang) if code else None
    labels = layout.choice_labels.get(column.name)
    if options.values == "labels" and labels is not None:
        names = {code: text_of(text, options.lang, code) for code, text in labels.items()}
        if column.type in LIST_TYPES:  # a rank keeps its order
            return lambda value: [names.get(str(v), str(v)) for v in value] \
                if isinstance(value, list) else _plain(value)
        return lambda value: names.get(str(value), str(value)) if value not in (None, "") else None
    return None


_SHA256 = re.compile(r"[0-9a-f]{64}")


def _plain(value: Any) -> Cell:
    if value is None or isinstance(value, str | int | float | list):
        return value
    return str(value)


def flat(cell: Cell, values: str) -> str | int | float | None:
    """A cell for CSV and XLSX: several choices as one text (codes space-separated as in ODK, labels
    with "; "), and anything else that is not a number as text."""
    if cell is None or isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, int):
        return cell
    if isinstance(cell, float):
        return cell if math.isfinite(cell) else str(cell)
    if isinstance(cell, list):
        return ("; " if values == "labels" else " ").join(str(v) for v in cell)
    return msgspec.json.encode(cell).decode()


# --- one record -> rows of each table -------------------------------------------------------------------------
class Plan(msgspec.Struct, frozen=True, kw_only=True):
    """A layout with its renderers resolved once, ready for 100,000 records."""

    layout: Layout
    options: Options
    columns: dict[str, list[tuple[str, Render | None]]]  # table -> (field, renderer)
    repeats: dict[str, list[str]]  # table -> the repeats directly inside it


def plan(layout: Layout, options: Options) -> Plan:
    columns = {t.name: [(c.name, renderer(c, layout, options)) for c in t.columns] for t in layout.tables}
    repeats: dict[str, list[str]] = {t.name: [] for t in layout.tables}
    for table in layout.tables:
        if table.parent is not None:
            repeats[table.parent].append(table.name)
    return Plan(layout=layout, options=options, columns=columns, repeats=repeats)


def header(layout: Layout, table: str) -> list[str]:
    meta = MAIN_META if table == MAIN else REPEAT_META
    found = next(t for t in layout.tables if t.name == table)
    return [*meta, *(c.name for c in found.columns)]


# The meta columns as people read them in a spreadsheet's first header row (Indonesian, English).
META_LABELS = {
    "_id": ("ID data", "Record ID"), "_form_version": ("Versi formulir", "Form version"),
    "_revision": ("Revisi", "Revision"), "_review_status": ("Status tinjauan", "Review status"),
    "_area_code": ("Kode wilayah", "Area code"), "_enumerator": ("Petugas", "Enumerator"),
    "_received_at": ("Diterima", "Received"), "_parent_key": ("Kunci induk", "Parent key"),
    "_key": ("Kunci", "Key"), "_index": ("Urutan", "Index"),
}
LABEL_SUFFIX = ":label"  # the code of the column that spells out the choice codes beside it


class Sheet(msgspec.Struct, frozen=True, kw_only=True):
    """A spreadsheet's view of a table: question labels in the first header row, field codes in the
    second, and beside each choice column read as codes a column with its choices' labels."""

    labels: list[str]
    codes: list[str]
    types: list[str]  # "" for meta and label columns
    beside: dict[int, Render]  # a choice column's index in the table's row -> its label cell


def sheet(layout: Layout, table: str, options: Options) -> Sheet:
    en = options.lang == "en"
    found = next(t for t in layout.tables if t.name == table)
    meta = MAIN_META if table == MAIN else REPEAT_META
    labels = [META_LABELS[m][1 if en else 0] for m in meta]
    codes, types, beside = list(meta), [""] * len(meta), {}
    for index, column in enumerate(found.columns, len(meta)):
        label = text_of(column.label, options.lang, column.name)
        labels.append(label)
        codes.append(column.name)
        types.append(column.type)
        named = layout.choice_labels.get(column.name)
        if options.values == "codes" and named is not None:
            beside[index] = _spelled(named, options.lang)
            labels.append(f"{label} (label)")
            codes.append(column.name + LABEL_SUFFIX)
            types.append("")
    return Sheet(labels=labels, codes=codes, types=types, beside=beside)


def _spelled(named: dict[str, dict[str, str]], lang: str) -> Render:
    names = {code: text_of(text, lang, code) for code, text in named.items()}

    def label(value: Any) -> Cell:
        if isinstance(value, list):  # a select_multiple's codes: its labels as one text
            return "; ".join(names.get(str(v), str(v)) for v in value)
        return names.get(str(value), str(value)) if value not in (None, "") else None

    return label


def with_labels(row: list[Cell], beside: dict[int, Render]) -> list[Cell]:
    """The row with each choice column's labels after its codes (Sheet.beside)."""
    if not beside:
        return row
    out: list[Cell] = []
    for index, value in enumerate(row):
        out.append(value)
        if index in beside:
            out.append(beside[index](value))
    return out


def _values(answers: Mapping[str, Any], columns: list[tuple[str, Render | None]]) -> list[Cell]:
    get = answers.get
    return [get(name) if render is None else render(get(name)) for name, render in columns]


def rows(p: Plan, meta: list[Any], answers: Mapping[str, Any]) -> Iterator[tuple[str, list[Cell]]]:
    """(table, row) for the record and every repeat instance in it, the record first."""
    yield MAIN, [*meta, *_values(answers, p.columns[MAIN])]
    instance_id = str(meta[0])
    for repeat in p.repeats[MAIN]:
        yield from _repeat_rows(p, repeat, answers, instance_id, instance_id)


def _repeat_rows(p: Plan, repeat: str, holder: Mapping[str, Any], instance_id: str,
                 parent_key: str) -> Iterator[tuple[str, list[Cell]]]:
    instances = holder.get(repeat)
    if not isinstance(instances, list):
        return
    for index, instance in enumerate(instances, 1):
        if not isinstance(instance, dict):
            continue
        key = f"{parent_key}/{repeat}[{index}]"
        yield repeat, [instance_id, parent_key, key, index, *_values(instance, p.columns[repeat])]
        for inner in p.repeats[repeat]:
            yield from _repeat_rows(p, inner, instance, instance_id, key)


def record(p: Plan, meta: list[Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """One JSON line: the record's meta and answers, repeats nested as lists of objects."""
    out = dict(zip(MAIN_META, meta, strict=True))
    out.update(_object(p, MAIN, answers))
    return out


def _object(p: Plan, table: str, holder: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(zip((n for n, _ in p.columns[table]), _values(holder, p.columns[table]), strict=True))
    for repeat in p.repeats[table]:
        instances = holder.get(repeat)
        out[repeat] = [_object(p, repeat, i) for i in instances if isinstance(i, dict)] \
            if isinstance(instances, list) else []
    return out


def dictionary(layout: Layout, lang: str) -> Iterator[list[Cell]]:
    """The `_columns` table: what each column is, so removed fields and their versions are visible."""
    yield ["table", "column", "type", "label", "choices", "versions", "removed"]
    for table in layout.tables:
        for column in table.columns:
            yield [table.name or layout.form_id, column.name, column.type, text_of(column.label, lang, ""),
                   column.choices or "", " ".join(column.versions), "yes" if column.removed else "no"]


# Free text a spreadsheet would run as a formula (=HYPERLINK(...)): CSV gets a leading quote. Only
# free-text columns: a GPS point or a negative number legitimately starts with "-".
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_TYPES = frozenset({"text"})


def defuse(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def table_names(layout: Layout) -> list[str]:
    return [t.name for t in layout.tables]
