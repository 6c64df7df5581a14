"""XLSForm workbook -> Form. Import reads the survey, choices and settings sheets with openpyxl,
keeping sheet:row:column for every problem; anything Pantau does not support (a type, a column, a
setting) is a problem naming its sheet and row, never silently dropped. The way back is
server/domain/xlsform_export.py, which writes the same columns, so YAML -> XLSForm -> YAML keeps the
content hash."""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import msgspec
import openpyxl

from server.domain.form import Choice, ChoiceList, Field, Form, Group, Question, Repeat, Settings, Text
from server.domain.load import MAX_BYTES, MAX_DEPTH
from server.domain.problems import Loc, Problem, has_errors, problem
from server.domain.questions import QUESTION_TYPES, by_xlsform_name
from server.domain.registry_spec import registry_from_text
from server.domain.sourcemap import Loaded, Where
from server.domain.xlsform_odk import (
    DEFAULT_COLUMN,
    FROM_ODK_PARAMETER,
    MAX_COUNT_COLUMN,
    MIN_COUNT_COLUMN,
    ODK_TYPES,
    PARAMETERS_COLUMN,
    TYPE_COLUMN,
    odk_default,
    without_constraint,
    without_text,
)

MAX_ROWS = 10_000
LANGUAGE_NAMES = {"id": "Indonesian", "en": "English"}
TEXT_COLUMNS = ("label", "hint", "required_message", "constraint_message")
PLAIN_COLUMNS = ("required", "relevant", "constraint", "calculation", "default", "read_only", "appearance",
                 "choice_filter", "parameters", "repeat_count", "min_count", "max_count")
COLUMN_ALIASES = {"readonly": "read_only", "jr:count": "repeat_count", "required message": "required_message",
                  "constraint message": "constraint_message", "choice filter": "choice_filter"}
METADATA_TYPES = frozenset({"start", "end", "today", "deviceid", "phonenumber", "username", "email", "audit",
                            "simserial", "subscriberid", "start-geopoint"})
SETTINGS_COLUMNS = frozenset({"form_id", "form_title", "version", "default_language", "instance_name", "registry"})
TITLE_COLUMN = "pantau_title"  # the title in other languages: see _title()
_LANGUAGE = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z-]+)\)\s*$")
_TRUE = frozenset({"yes", "true", "true()", "ya"})
_FALSE = frozenset({"no", "false", "false()", "tidak", ""})


@dataclass
class _Row:
    number: int
    cells: dict[str, tuple[str, int]]  # column name -> (text, 1-based column index)

    def get(self, column: str) -> str:
        return self.cells.get(column, ("", 0))[0]


@dataclass
class _Sheet:
    name: str
    header: dict[str, int]
    rows: list[_Row] = field(default_factory=list)


def load_xlsform(data: bytes, filename: str) -> Loaded:
    where = Where(filename)
    if len(data) > MAX_BYTES:
        return Loaded(None, where, [problem("form.too_large", Loc(filename), size=len(data), limit=MAX_BYTES)])
    opened = _read_workbook(data)
    if isinstance(opened, str):
        return Loaded(None, where, [problem("xlsform.not_workbook", Loc(filename), reason=opened)])
    sheets, titles = opened
    if "survey" not in sheets:
        return Loaded(None, where, [problem("xlsform.no_survey", Loc(filename), sheets=", ".join(titles) or "-")])
    reader = _Reader(filename, where)
    form = reader.form(sheets)
    return Loaded(None if has_errors(reader.problems) else form, where, reader.problems)


def _read_workbook(data: bytes) -> tuple[dict[str, _Sheet], list[str]] | str:
    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel features it skips (data validation, styles); they carry
            # no form content, and a warning must not turn into an error under pytest.
            warnings.simplefilter("ignore")
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # any failure to open untrusted bytes means "not a workbook"
        return f"{type(exc).__name__}: {str(exc)[:120]}"
    try:
        sheets = {ws.title: _sheet(ws) for ws in book.worksheets if ws.title in ("survey", "choices", "settings")}
        return sheets, list(book.sheetnames)
    finally:
        book.close()


def _sheet(ws: Any) -> _Sheet:
    rows = ws.iter_rows(values_only=True, max_row=MAX_ROWS)
    header_cells = next(rows, ())
    header = {_column_name(v): i for i, v in enumerate(header_cells) if v is not None and str(v).strip()}
    sheet = _Sheet(ws.title, header)
    blank_run = 0
    for number, values in enumerate(rows, start=2):
        cells = {name: (_text(values[i]), i + 1) for name, i in header.items() if i < len(values)}
        cells = {k: v for k, v in cells.items() if v[0]}
        blank_run = blank_run + 1 if not cells else 0
        if blank_run > 20:  # the XLSForm rule: data after 20 blank rows is not part of the form
            break
        if cells:
            sheet.rows.append(_Row(number, cells))
    return sheet


def _column_name(value: Any) -> str:
    name = str(value).strip()
    base, sep, rest = name.partition("::")
    base = COLUMN_ALIASES.get(base.strip().lower(), base.strip().lower())
    return f"{base}::{_language(rest)}" if sep else base


def _language(text: str) -> str:
    """'Indonesian (id)' -> 'id'; 'English' -> 'en'; 'id' -> 'id'."""
    match = _LANGUAGE.match(text.strip())
    if match:
        return match["code"].lower()
    by_name = {v.lower(): k for k, v in LANGUAGE_NAMES.items()}
    return by_name.get(text.strip().lower(), text.strip().lower())


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


class _Reader:
    def __init__(self, filename: str, where: Where) -> None:
        self.file = filename
        self.where = where
        self.problems: list[Problem] = []
        self.language = "id"

    def loc(self, sheet: str, row: int, column: int = 1) -> Loc:
        return Loc(f"{self.file}[{sheet}]", row, max(column, 1))

    def report(self, code: str, sheet: str, row: int, col: int = 1, **params: Any) -> None:
        self.problems.append(problem(code, self.loc(sheet, row, col), sheet=sheet, row=row, **params))

    def form(self, sheets: dict[str, _Sheet]) -> Form | None:
        settings = self.settings(sheets.get("settings"))
        choices = self.choices(sheets["choices"]) if "choices" in sheets else {}
        fields = self.survey(sheets["survey"])
        if settings is None or fields is None:
            return None
        return Form(settings=settings, fields=fields, choices=choices)

    def text(self, row: _Row, column: str) -> Text:
        out = {self.language: row.get(column)} if row.get(column) else {}
        for key, (value, _) in row.cells.items():
            if key.startswith(column + "::") and value:
                out[key.split("::", 1)[1]] = value
        return out

    def unknown_columns(self, sheet: _Sheet, known: set[str], text_columns: tuple[str, ...]) -> None:
        # A column Pantau does not read would lose what the author wrote in it: report the first
        # row that uses it. Empty template columns are harmless.
        for column in sheet.header:
            if column in known or column.split("::")[0] in text_columns:
                continue
            row = next((r for r in sheet.rows if r.get(column)), None)
            if row is not None:
                self.report("xlsform.unsupported", sheet.name, row.number, row.cells[column][1],
                            what=f"the column '{column}'")

    # --- settings -----------------------------------------------------------------------------
    def settings(self, sheet: _Sheet | None) -> Settings | None:
        row = sheet.rows[0] if sheet and sheet.rows else _Row(2, {})
        if sheet is not None:
            self.unknown_columns(sheet, set(SETTINGS_COLUMNS), ("form_title", TITLE_COLUMN))
        self.language = _language(row.get("default_language")) if row.get("default_language") else "id"
        for key, (_, column) in row.cells.items():
            self.where.add(("settings", key.replace("form_", "")), self.loc("settings", row.number, column))
        form_id, version = row.get("form_id"), row.get("version")
        for key, value in (("form_id", form_id), ("version", version)):
            if not value:
                self.problems.append(problem("form.missing_key", self.loc("settings", row.number),
                                             owner="the settings sheet", key=key))
        if not form_id or not version:
            return None
        instance_name = row.get("instance_name") or None
        title = self.text(row, TITLE_COLUMN) | self.text(row, "form_title")
        registry = None
        if row.get("registry"):  # Pantau's beneficiary registry block, as JSON (docs/forms.md)
            registry, found = registry_from_text(row.get("registry"),
                                                 self.loc("settings", row.number, row.cells["registry"][1]))
            self.problems.extend(found)
        return Settings(id=form_id, version=version, title=title,
                        default_language=self.language, instance_name=instance_name, registry=registry)

    # --- choices ------------------------------------------------------------------------------
    def choices(self, sheet: _Sheet) -> dict[str, ChoiceList]:
        for column in ("list_name", "name"):
            if column not in sheet.header:
                self.report("xlsform.missing_column", sheet.name, 1, column=column)
                return {}
        media = {c for c in sheet.header if c.split("::")[0] in ("image", "audio", "video", "media")}
        self.unknown_columns(sheet, set(sheet.header) - media, ("label",))
        lists: dict[str, list[Choice]] = {}
        for row in sheet.rows:
            list_name, name = row.get("list_name"), row.get("name")
            if not list_name or not name:
                self.report("form.missing_key", sheet.name, row.number, owner=f"choices row {row.number}",
                            key="list_name" if not list_name else "name")
                continue
            self.where.add(("choices", list_name), self.loc(sheet.name, row.number))
            if any(c.name == name for c in lists.get(list_name, [])):
                self.report("form.duplicate_choice", sheet.name, row.number, choice=name, list=list_name)
            columns = {k: v for k, (v, _) in row.cells.items()
                       if k not in ("list_name", "name") and not k.startswith("label") and k not in media}
            lists.setdefault(list_name, []).append(Choice(name=name, label=self.text(row, "label"), columns=columns))
        return {name: ChoiceList(name=name, choices=items) for name, items in lists.items()}

    # --- survey -------------------------------------------------------------------------------
    def survey(self, sheet: _Sheet) -> list[Field] | None:
        for column in ("type", "name"):
            if column not in sheet.header:
                self.report("xlsform.missing_column", sheet.name, 1, column=column)
                return None
        pantau = {TYPE_COLUMN, PARAMETERS_COLUMN, DEFAULT_COLUMN, MIN_COUNT_COLUMN, MAX_COUNT_COLUMN}
        self.unknown_columns(sheet, {"type", "name", *PLAIN_COLUMNS, *pantau}, TEXT_COLUMNS)
        stack: list[tuple[str, _Row, list[Field]]] = [("form", _Row(1, {}), [])]
        for row in sheet.rows:
            self.survey_row(sheet.name, row, stack)
        for kind, row, _ in stack[1:]:
            self.report("xlsform.unmatched_group", sheet.name, row.number, what=f"begin_{kind}")
        return stack[0][2]

    def survey_row(self, sheet: str, row: _Row, stack: list[tuple[str, _Row, list[Field]]]) -> None:
        words = row.get("type").replace("begin group", "begin_group").replace("end group", "end_group") \
            .replace("begin repeat", "begin_repeat").replace("end repeat", "end_repeat").split()
        kind = words[0] if words else ""
        if kind in ("begin_group", "begin_repeat"):
            if len(stack) > MAX_DEPTH:
                self.report("form.too_deep", sheet, row.number, limit=MAX_DEPTH)
            stack.append((kind.split("_")[1], row, []))
        elif kind in ("end_group", "end_repeat"):
            if len(stack) == 1 or stack[-1][0] != kind.split("_")[1]:
                self.report("xlsform.unmatched_group", sheet, row.number, what=kind)
                return
            _, begin, children = stack.pop()
            container = self.container(sheet, kind.split("_")[1], begin, children)
            if container is not None:
                stack[-1][2].append(container)
        else:
            question = self.question(sheet, row, words)
            if question is not None:
                stack[-1][2].append(question)

    def _record(self, sheet: str, row: _Row, name: str) -> None:
        name_column = row.cells.get("name", ("", 1))[1]
        self.where.add(("field", name), self.loc(sheet, row.number, name_column))
        for key, (_, column) in row.cells.items():
            # Expression columns map to their cell; a column inside the cell text cannot be shown.
            self.where.add(("field", name, key.split("::")[0]), self.loc(sheet, row.number, column))

    def question(self, sheet: str, row: _Row, words: list[str]) -> Question | None:
        if row.get(TYPE_COLUMN):
            return self.pantau_question(sheet, row, words)
        type_name = words[0] if words else ""
        name = row.get("name")
        if type_name in METADATA_TYPES:
            self.report("xlsform.metadata", sheet, row.number, type=type_name)
            return None
        qtype = by_xlsform_name(type_name) or QUESTION_TYPES.get(type_name.lower())
        if qtype is None or len(words) > 2 or (len(words) == 2 and not qtype.has_choices):
            self.report("xlsform.unsupported", sheet, row.number, row.cells.get("type", ("", 1))[1],
                        what=f"the type '{row.get('type')}'")
            return None
        if not name:
            self.report("form.missing_key", sheet, row.number, owner=f"survey row {row.number}", key="name")
            return None
        self._record(sheet, row, name)
        attributes: dict[str, Any] = {column: self.text(row, column) for column in TEXT_COLUMNS}
        plain = ("relevant", "constraint", "calculation", "default", "appearance", "choice_filter")
        attributes |= {column: row.get(column) or None for column in plain}
        attributes["default"] = self.default(row)
        return Question(
            type=qtype.name, name=name, choices=words[1] if len(words) == 2 else None, **attributes,
            required=_flag(row.get("required")), read_only=_flag(row.get("read_only")),
            parameters=self.parameters(sheet, row),
        )

    @staticmethod
    def default(row: _Row) -> str | None:
        # The literal the export wrote as an expression for ODK (xlsform_odk.odk_default), unless
        # the author has since changed the default.
        literal, written = row.get(DEFAULT_COLUMN), row.get("default")
        if literal and written == odk_default(literal, row.get("type").split()[0]):
            return literal
        return written or None

    def pantau_question(self, sheet: str, row: _Row, words: list[str]) -> Question | None:
        """A row the export wrote for one of Pantau's own types (`pantau::type`): the ODK type in
        `type` and Pantau's rules added to the constraint, its message and the hint, taken off again."""
        odk = ODK_TYPES.get(row.get(TYPE_COLUMN))
        if odk is None or not words or words[0] != odk.type:
            self.report("xlsform.unsupported", sheet, row.number, row.cells[TYPE_COLUMN][1],
                        what=f"the type '{row.get(TYPE_COLUMN)}' in {TYPE_COLUMN} with '{row.get('type')}' in type")
            return None
        own = _Row(row.number, {k: v for k, v in row.cells.items() if k != TYPE_COLUMN})
        question = self.question(sheet, own, [row.get(TYPE_COLUMN)])
        if question is None:
            return None
        return msgspec.structs.replace(
            question, constraint=without_constraint(question.constraint or "", odk.constraint),
            constraint_message=without_text(question.constraint_message, odk.message),
            hint=without_text(question.hint, odk.hint))

    def parameters(self, sheet: str, row: _Row) -> dict[str, str]:
        out: dict[str, str] = {}
        for column in ("parameters", PARAMETERS_COLUMN):  # ODK's, then Pantau's own (xlsform_odk.py)
            for item in re.split(r"[\s;]+", row.get(column)):
                key, sep, value = item.partition("=")
                if not item:
                    continue
                if not sep or not key or not value:
                    self.report("xlsform.unsupported", sheet, row.number, row.cells[column][1],
                                what=f"the parameter '{item}' (write key=value)")
                    continue
                out[FROM_ODK_PARAMETER.get(key.strip(), key.strip())] = value.strip()
        return out

    def container(self, sheet: str, kind: str, row: _Row, children: list[Field]) -> Field | None:
        name = row.get("name")
        if not name:
            self.report("form.missing_key", sheet, row.number, owner=f"survey row {row.number}", key="name")
            return None
        self._record(sheet, row, name)
        common: dict[str, Any] = {"name": name, "label": self.text(row, "label"), "hint": self.text(row, "hint"),
                                  "relevant": row.get("relevant") or None, "fields": children}
        ignored = [c for c in ("required", "constraint", "calculation", "default", "choice_filter", "parameters")
                   if row.get(c)]
        for column in ignored:
            self.report("xlsform.unsupported", sheet, row.number, row.cells[column][1],
                        what=f"'{column}' on a {kind}")
        if kind == "group":
            appearance = row.get("appearance")
            if appearance not in ("", "field-list"):
                self.report("xlsform.unsupported", sheet, row.number, row.cells["appearance"][1],
                            what=f"the group appearance '{appearance}'")
            return Group(layout="page" if appearance == "field-list" else "section", **common)
        return Repeat(repeat_count=row.get("repeat_count") or None, min_count=self.count(sheet, row, "min_count"),
                      max_count=self.count(sheet, row, "max_count"), **common)

    def count(self, sheet: str, row: _Row, column: str) -> int | None:
        if row.get(f"pantau::{column}"):  # the export's spelling (xlsform_odk.py): ODK has no bounds
            column = f"pantau::{column}"
        text = row.get(column)
        if not text:
            return None
        if not re.fullmatch(r"[0-9]+", text):
            self.problems.append(problem("form.bad_value", self.loc(sheet, row.number, row.cells[column][1]),
                                         key=column, expected="a whole number", got=f"'{text}'", example="1"))
            return None
        return int(text)


def _flag(text: str) -> bool | str:
    if text.strip().lower() in _FALSE:
        return False
    return True if text.strip().lower() in _TRUE else text.strip()
