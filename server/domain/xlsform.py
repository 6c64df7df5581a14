"""XLSForm workbook -> Form: the row builder. xlsform_sheets.py reads the survey, choices and settings
sheets into rows that keep sheet:row:column for every problem, xlsform_spelling.py holds the
spellings pyxform accepts (headers, types, settings) and the column tables; here each row becomes a
question, group, repeat, choice or setting. Anything Pantau does not support (a type, a column, a
setting) is a problem naming its sheet and row, never silently dropped. The way back is
server/domain/xlsform_export.py, which writes the same columns, so YAML -> XLSForm -> YAML keeps the
content hash."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

import msgspec

from server import clock
from server.domain.attachments import BadAttachment, file_format, read_choices, read_csv
from server.domain.expr import ExprError, parse
from server.domain.form import (
    MAX_NAME_LENGTH,
    NAME_RE,
    Choice,
    ChoiceList,
    Field,
    Form,
    Group,
    Question,
    Repeat,
    Settings,
    Text,
    is_dynamic_default,
)
from server.domain.load import MAX_BYTES, MAX_DEPTH
from server.domain.problems import Loc, Problem, Said, has_errors, problem
from server.domain.questions import QUESTION_TYPES, QuestionType, by_xlsform_name
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
from server.domain.xlsform_paths import rewrite as rewrite_paths
from server.domain.xlsform_rows import rewrite
from server.domain.xlsform_sheets import Row, Sheet, read_workbook
from server.domain.xlsform_spelling import (
    FITTED_ATTRIBUTES,
    HONOURED_APPEARANCES,
    MEDIA_COLUMNS,
    METADATA,
    SETTINGS_ALIASES,
    SETTINGS_COLUMNS,
    ParsedType,
    language,
    parse_type,
)

# xlsform_export reads these here.
from server.domain.xlsform_spelling import LANGUAGE_NAMES as LANGUAGE_NAMES
from server.domain.xlsform_spelling import PLAIN_COLUMNS as PLAIN_COLUMNS
from server.domain.xlsform_spelling import TEXT_COLUMNS as TEXT_COLUMNS
from server.domain.xlsform_spelling import TITLE_COLUMN as TITLE_COLUMN

PANTAU_COLUMNS = frozenset({TYPE_COLUMN, PARAMETERS_COLUMN, DEFAULT_COLUMN, MIN_COUNT_COLUMN, MAX_COUNT_COLUMN})
_TRUE = frozenset({"yes", "true", "true()", "ya"})
_FALSE = frozenset({"no", "false", "false()", "tidak", ""})


def load_xlsform(data: bytes, filename: str, now: dt.datetime | None = None,
                 attachments: Mapping[str, bytes] | None = None) -> Loaded:
    """`now` is the upload time: a workbook without a version gets yyyymmddHH of it (WITA), as
    pyxform would leave the version to the server. `attachments`: the CSV files uploaded with the
    workbook, by file name (domain/attachments.py)."""
    where = Where(filename)
    if len(data) > MAX_BYTES:
        return Loaded(None, where, [problem("form.too_large", Loc(filename), size=len(data), limit=MAX_BYTES)])
    opened = read_workbook(data, filename)
    if isinstance(opened, str):
        # The library's own words are English: the Indonesian message names only the kind of failure.
        reason = Said(opened.split(":", 1)[0], opened)
        return Loaded(None, where, [problem("xlsform.not_workbook", Loc(filename), reason=reason)])
    sheets, titles = opened
    if "survey" not in sheets:
        return Loaded(None, where, [problem("xlsform.no_survey", Loc(filename), sheets=", ".join(titles) or "-")])
    reader = _Reader(filename, where, now or clock.now())
    reader.files = attachments or {}
    for title in titles:
        if title.strip().lower() == "entities":
            reader.report("xlsform.ignored", title, 1, what_id="lembar 'entities' (entitas ODK Central)",
                          what_en="the 'entities' sheet (ODK Central's entities)")
    form = reader.form(sheets)
    return Loaded(None if has_errors(reader.problems) else form, where, reader.problems)


class _Reader:
    def __init__(self, filename: str, where: Where, now: dt.datetime) -> None:
        self.file = filename
        self.where = where
        self.now = now
        self.problems: list[Problem] = []
        self.language = "id"
        self.or_other: list[tuple[str, str]] = []  # (select's name, its list) for "select_one x or_other"
        self.files: Mapping[str, bytes] = {}  # attachments uploaded with the workbook, by file name
        self.internal: dict[str, ChoiceList] = {}  # the lists of the choices sheet
        self.external: dict[str, ChoiceList] = {}  # the lists of the external_choices sheet
        self.file_lists: dict[str, ChoiceList] = {}  # choices read from them (select_one_from_file)
        self.attachments: dict[str, list[dict[str, str]]] = {}  # csv-external rows, for pulldata()
        self.allow_choice_duplicates = False  # the setting of that name: pyxform then keeps both choices

    def loc(self, sheet: str, row: int, column: int = 1) -> Loc:
        return Loc(f"{self.file}[{sheet}]", row, max(column, 1))

    def report(self, code: str, sheet: str, row: int, col: int = 1, **params: Any) -> None:
        self.problems.append(problem(code, self.loc(sheet, row, col), sheet=sheet, row=row, **params))

    def unsupported(self, sheet: str, row: Row, column: str, what_id: str, what_en: str) -> None:
        self.report("xlsform.unsupported", sheet, row.number, row.cells.get(column, ("", 1))[1],
                    what_id=what_id, what_en=what_en)

    def ignored(self, sheet: str, row: Row, column: str, what_id: str, what_en: str) -> None:
        self.report("xlsform.ignored", sheet, row.number, row.cells.get(column, ("", 1))[1],
                    what_id=what_id, what_en=what_en)

    def form(self, sheets: dict[str, Sheet]) -> Form | None:
        for sheet in sheets.values():
            for header, column, first in sheet.duplicates:
                self.report("xlsform.duplicate_column", sheet.name, 1, column, column_name=header, first=first)
        if any(sheet.duplicates for sheet in sheets.values()):
            return None
        settings = self.settings(sheets.get("settings"))
        choices = self.choices(sheets["choices"]) if "choices" in sheets else {}
        self.internal = dict(choices)
        self.external = self.choices(sheets["external_choices"]) if "external_choices" in sheets else {}
        choices = choices | {k: v for k, v in self.external.items() if k not in choices}
        fields = self.survey(sheets["survey"], choices)
        if settings is None or fields is None:
            return None
        fields = rewrite_paths(fields, self.path_rewritten)
        return Form(settings=settings, fields=fields, choices=self.add_other(choices | self.file_lists),
                    attachments=self.attachments)

    def path_rewritten(self, name: str, attribute: str, before: str, after: str) -> None:
        self.problems.append(problem("xlsform.path_rewritten", self.where.at(("field", name, attribute)),
                                     name=name, attribute=attribute, before=before, after=after))

    def text(self, row: Row, column: str) -> Text:
        out = {self.language: row.get(column)} if row.get(column) else {}
        for key, (value, _) in row.cells.items():
            if key.startswith(column + "::") and value:
                out[key.split("::", 1)[1]] = value
        return out

    def unknown_columns(self, sheet: Sheet, known: set[str], text_columns: tuple[str, ...]) -> None:
        # pyxform ignores a column it does not know; Pantau keeps it (Question.xlsform) and says
        # so once, at the first row that uses it.
        for column in sheet.header:
            if column in known or column.split("::")[0] in text_columns:
                continue
            row = next((r for r in sheet.rows if r.get(column)), None)
            if row is None:
                continue
            if not _kept_column(column):
                self.ignored(sheet.name, row, column, f"kolom '{column}'", f"the column '{column}'")

    # --- settings -----------------------------------------------------------------------------
    def settings(self, sheet: Sheet | None) -> Settings | None:
        row = sheet.rows[0] if sheet and sheet.rows else Row(2, {})
        name = sheet.name if sheet else "settings"
        row = Row(row.number, {SETTINGS_ALIASES.get(k, k): v for k, v in row.cells.items()})
        self.language = language(row.get("default_language")) if row.get("default_language") else "id"
        for key, (_, column) in row.cells.items():
            self.where.add(("settings", key.replace("form_", "")), self.loc(name, row.number, column))
        form_id, version = self.form_id(name, row), row.get("version") or self.default_version()
        title = self.text(row, TITLE_COLUMN) | self.text(row, "form_title")
        registry = None
        if row.get("registry"):  # Pantau's beneficiary registry block, as JSON (docs/forms.md)
            registry, found = registry_from_text(row.get("registry"), self.loc(name, row.number,
                                                                              row.cells["registry"][1]))
            self.problems.extend(found)
        kept = {k: v for k, (v, _) in row.cells.items()
                if k not in SETTINGS_COLUMNS and k.split("::")[0] not in ("form_title", TITLE_COLUMN)}
        # Kept for the export, and acted on in choices().
        self.allow_choice_duplicates = _flag(row.get("allow_choice_duplicates")) is True
        for key in kept:
            if key != "allow_choice_duplicates":
                self.ignored(name, row, key, f"pengaturan '{key}'", f"the setting '{key}'")
        return Settings(id=form_id, version=version, title=title, default_language=self.language,
                        instance_name=self.instance_name(name, row, kept), registry=registry, xlsform=kept)

    def instance_name(self, sheet: str, row: Row, kept: dict[str, str]) -> str | None:
        """pyxform passes instance_name to ODK unread; one that is no expression (a bare `x`) only
        names the submission, so it is kept for the export and ignored rather than refused."""
        text = row.get("instance_name")
        if not text:
            return None
        try:
            parse(text)
        except ExprError as exc:
            kept["instance_name"] = text
            self.ignored(sheet, row, "instance_name", f"instance_name '{text}' ({exc.message_id})",
                         f"the instance_name '{text}' ({exc.message_en})")
            return None
        return text

    def form_id(self, sheet: str, row: Row) -> str:
        """pyxform names a form without form_id after its file, and takes any text as form_id (it
        is an XML attribute there); Pantau's form id is a name in addresses, so other text
        becomes one, with a warning."""
        written = row.get("form_id")
        if not written:
            return _as_name(self.file.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        if NAME_RE.match(written) and len(written) <= MAX_NAME_LENGTH:
            return written
        new = _as_name(written)
        self.report("xlsform.renamed", sheet, row.number, row.cells["form_id"][1], name=written, new=new,
                    why_id="(id formulir dipakai di alamat halaman)", why_en="(the form id is part of page addresses)")
        return new

    def default_version(self) -> str:
        return self.now.astimezone(clock.WITA).strftime("%Y%m%d%H")

    # --- choices ------------------------------------------------------------------------------
    def choices(self, sheet: Sheet) -> dict[str, ChoiceList]:
        if not sheet.header and not sheet.rows:  # an empty choices sheet: pyxform reads no lists from it
            return {}
        if "value" in sheet.header and "name" not in sheet.header:  # pyxform's older spelling
            sheet.header["name"] = sheet.header.pop("value")
            for r in sheet.rows:
                if "value" in r.cells:
                    r.cells["name"] = r.cells.pop("value")
        for column in ("list_name", "name"):
            if column not in sheet.header:
                self.report("xlsform.missing_column", sheet.name, 1, column=column)
                return {}
        lists: dict[str, list[Choice]] = {}
        for row in sheet.rows:
            list_name, name = row.get("list_name"), row.get("name")
            if not list_name or not name:
                if list_name or name:  # a row with only a label or a media file is a comment to pyxform too
                    self.report("form.missing_key", sheet.name, row.number, owner=_row_owner(sheet.name, row.number),
                                key="list_name" if not list_name else "name")
                continue
            self.where.add(("choices", list_name), self.loc(sheet.name, row.number))
            if not self.allow_choice_duplicates and any(c.name == name for c in lists.get(list_name, [])):
                self.report("form.duplicate_choice", sheet.name, row.number, choice=name, list=list_name)
            # Extra columns serve choice filters; media columns ride along (images shown with the choice).
            columns = {k: v for k, (v, _) in row.cells.items()
                       if k not in ("list_name", "name") and not k.startswith("label")}
            lists.setdefault(list_name, []).append(Choice(name=name, label=self.text(row, "label"), columns=columns))
        return {name: ChoiceList(name=name, choices=items) for name, items in lists.items()}

    def add_other(self, choices: dict[str, ChoiceList]) -> dict[str, ChoiceList]:
        """'select_one x or_other' adds the choice 'other' to x, as pyxform does."""
        for _, list_name in self.or_other:
            chosen = choices.get(list_name)
            if chosen is not None and not any(c.name == "other" for c in chosen.choices):
                other = Choice(name="other", label={self.language: "Lainnya" if self.language == "id" else "Other"})
                choices[list_name] = ChoiceList(name=list_name, choices=[*chosen.choices, other])
        return choices

    # --- survey -------------------------------------------------------------------------------
    def survey(self, sheet: Sheet, choices: Mapping[str, ChoiceList]) -> list[Field] | None:
        for column in ("type", "name"):
            if column not in sheet.header:
                self.report("xlsform.missing_column", sheet.name, 1, column=column)
                return None
        self.unknown_columns(sheet, {"type", "name", *PLAIN_COLUMNS, *PANTAU_COLUMNS}, TEXT_COLUMNS)
        stack: list[tuple[str, Row, list[Field]]] = [("form", Row(1, {}), [])]
        # A row without a type is a comment to pyxform; loops and names used in two groups are
        # rewritten first (xlsform_rows.py).
        for row in rewrite(sheet.name, sheet.rows, choices, self.language, self.report):
            self.survey_row(sheet.name, row, stack)
        for kind, row, _ in stack[1:]:
            self.report("xlsform.unmatched_group", sheet.name, row.number, what=f"begin_{kind}")
        if not stack[0][2] and not has_errors(self.problems):  # a form of nothing would only fail later
            owner = Said(f"Lembar '{sheet.name}'", f"The '{sheet.name}' sheet")
            self.report("form.no_fields", sheet.name, 1, owner=owner)
        return stack[0][2]

    def survey_row(self, sheet: str, row: Row, stack: list[tuple[str, Row, list[Field]]]) -> None:
        parsed = parse_type(row.get("type"))
        if parsed.kind in ("begin_group", "begin_repeat", "begin_loop"):
            if len(stack) > MAX_DEPTH:
                self.report("form.too_deep", sheet, row.number, limit=MAX_DEPTH)
            stack.append((parsed.kind.split("_")[1], row, []))
        elif parsed.kind in ("end_group", "end_repeat", "end_loop"):
            if len(stack) == 1 or stack[-1][0] != parsed.kind.split("_")[1]:
                self.report("xlsform.unmatched_group", sheet, row.number, what=parsed.kind)
                return
            _, begin, children = stack.pop()
            container = self.container(sheet, parsed.kind.split("_")[1], begin, children)
            if container is not None:
                stack[-1][2].extend(container)
        else:
            stack[-1][2].extend(self.question(sheet, row, parsed))

    def _record(self, sheet: str, row: Row, name: str) -> None:
        name_column = row.cells.get("name", ("", 1))[1]
        self.where.add(("field", name), self.loc(sheet, row.number, name_column))
        for key, (_, column) in row.cells.items():
            # Expression columns map to their cell; a column inside the cell text cannot be shown.
            self.where.add(("field", name, key.split("::")[0]), self.loc(sheet, row.number, column))

    def question(self, sheet: str, row: Row, parsed: ParsedType) -> list[Field]:
        if row.get(TYPE_COLUMN):
            return self.pantau_question(sheet, row)
        qtype = self.question_type(sheet, row, parsed)
        if qtype is not None and qtype.name == "note" and row.get("calculation"):
            # ODK shows a note's calculation and keeps it in the record: a read-only computed text.
            qtype = QUESTION_TYPES["text"]
        as_written: dict[str, str] = {}
        if qtype is not None and qtype.name == "calculate" and not row.get("calculation") \
                and is_dynamic_default(row.get("default") or ""):
            # ODK keeps a calculate's expression default as its value when it has no calculation (a
            # random() drawn once as the form opens; pyxform refuses a literal one): a hidden value,
            # exported as the calculate it was.
            qtype, as_written = QUESTION_TYPES["hidden"], {"type": "calculate"}
        name = row.get("name") or _generated_name(row)
        if qtype is None and parsed.kind != "metadata":
            return []
        if not name:
            self.report("form.missing_key", sheet, row.number, owner=_row_owner(sheet, row.number), key="name")
            return []
        self._record(sheet, row, name)
        if qtype is None:
            return [self.metadata(sheet, row, name)]
        attributes: dict[str, Any] = {column: self.text(row, column) for column in TEXT_COLUMNS}
        plain = ("relevant", "constraint", "calculation", "trigger", "default", "appearance", "choice_filter")
        attributes |= {column: row.get(column) or None for column in plain}
        attributes["default"] = self.default(row)
        question = self.fitted(sheet, row, qtype, Question(
            type=qtype.name, name=name, choices=parsed.list_name, **attributes,
            # select_one_from_file x.csv: the type as written, for the export (the choices are the list x.csv)
            xlsform=_kept(row) | as_written | ({"type": " ".join(row.get("type").split())} if parsed.from_file else {}),
            required=_flag(row.get("required")), read_only=_flag(row.get("read_only")),
            parameters=self.parameters(sheet, row)))
        if not parsed.or_other or parsed.list_name is None:
            return [question]
        self.or_other.append((name, parsed.list_name))
        other = Question(type="text", name=f"{name}_other", relevant=f"selected(${{{name}}}, 'other')",
                         label={self.language: "Sebutkan yang lain." if self.language == "id" else "Specify other."})
        return [question, other]

    def question_type(self, sheet: str, row: Row, parsed: ParsedType) -> QuestionType | None:
        """None for metadata (parsed.kind says so) and for what Pantau refuses, which is reported."""
        text = row.get("type")
        if parsed.from_file:
            return self.from_file(sheet, row, parsed)
        if parsed.kind == "select_external":
            # ODK Collect reads these choices from itemsets.csv made of the external_choices sheet;
            # the fill page can offer them itself, so the question becomes a select_one over that list.
            if parsed.list_name in self.external and self.internal.get(parsed.list_name,
                                                                       self.external[parsed.list_name]) \
                    == self.external[parsed.list_name]:  # a list of that name in both sheets must be the same
                self.report("xlsform.external_choices", sheet, row.number, row.cells["type"][1],
                            name=row.get("name"), list=parsed.list_name)
                return QUESTION_TYPES["select_one"]
            self.unsupported(sheet, row, "type", "jenis 'select_one_external' tanpa daftarnya di lembar "
                             "external_choices", "the type 'select_one_external' without its list in the "
                             "external_choices sheet")
        elif parsed.kind != "metadata":
            # Pantau's own types (nik, rupiah, ...) as its export writes them, when pyxform has no name.
            qtype = QUESTION_TYPES.get(parsed.kind) if parsed.kind else \
                by_xlsform_name(text.strip()) or QUESTION_TYPES.get(text.strip().lower())
            if qtype is None:
                self.unsupported(sheet, row, "type", f"jenis '{text}'", f"the type '{text}'")
            elif qtype.name == "csv_external" and row.get("name"):
                self.attachment(sheet, row, f"{row.get('name')}.csv", required=False)
            return qtype
        return None

    def from_file(self, sheet: str, row: Row, parsed: ParsedType) -> QuestionType | None:
        """select_one_from_file x.csv: the choices are the rows of x.csv (columns name and label,
        label::<language> too), uploaded with the form; they become the choice list 'x.csv'. An
        x.xml (ODK's root/item) or x.geojson (features) file is read into the same rows."""
        file = parsed.list_name or ""
        if file_format(file) is None:
            self.unsupported(sheet, row, "type", f"jenis '{row.get('type')}' (pilihan dari berkas selain CSV, "
                             "XML atau GeoJSON)", f"the type '{row.get('type')}' (choices from a file other "
                             "than CSV, XML or GeoJSON)")
            return None
        rows = self.attachment(sheet, row, file, required=True)
        if rows is None and file not in self.files:  # not uploaded (warned): a list without choices, as pyxform
            self.file_lists.setdefault(file, ChoiceList(name=file, choices=[]))
        if rows is None:
            return QUESTION_TYPES["select_multiple" if parsed.kind == "select_multiple" else "select_one"] \
                if file not in self.files else None
        if file not in self.file_lists:
            choices = [Choice(name=r["name"], label=self.csv_label(r), columns={k: v for k, v in r.items()
                       if k != "name" and not k.startswith("label") and v}) for r in rows if r.get("name")]
            self.file_lists[file] = ChoiceList(name=file, choices=choices)
        return QUESTION_TYPES["select_multiple" if parsed.kind == "select_multiple" else "select_one"]

    def csv_label(self, row: dict[str, str]) -> Text:
        out = {self.language: row["label"]} if row.get("label") else {}
        return out | {language(k.split("::", 1)[1]): v for k, v in row.items() if k.startswith("label::") and v}

    def attachment(self, sheet: str, row: Row, file: str, required: bool) -> list[dict[str, str]] | None:
        data = self.files.get(file) if "/" not in file and "\\" not in file else None
        if data is None:
            self.report("xlsform.missing_choices_file" if required else "xlsform.missing_attachment", sheet,
                        row.number, row.cells["type"][1], attachment=file)
            return None
        kind = file_format(file) or "CSV"
        try:
            rows = read_choices(file, data) if required else read_csv(data)
        except BadAttachment as exc:
            self.report("xlsform.bad_attachment" if kind == "CSV" or not required else "xlsform.bad_choices_file",
                        sheet, row.number, row.cells["type"][1], attachment=file, reason=Said(exc.id, exc.en),
                        format=kind)
            return None
        if not required:
            self.attachments[file] = rows
        return rows

    def fitted(self, sheet: str, row: Row, qtype: QuestionType, question: Question) -> Question:
        """pyxform lets a note carry a required_message or a calculate a default, and passes ODK's
        parameters (randomize, seed, app, ...) through: Pantau keeps them for the export and says
        they are ignored, rather than refuse the form. A calculation stays: it changes the answer."""
        kept, cleared = dict(question.xlsform), dict[str, Any]()
        for attribute in FITTED_ATTRIBUTES:
            if getattr(question, attribute) in (None, {}, False, "") or attribute in qtype.attributes:
                continue
            if attribute == "trigger" and qtype.holds_value and not qtype.computed:  # check._applies
                continue
            cleared[attribute] = {} if attribute in TEXT_COLUMNS else False if attribute in ("required", "read_only") \
                else None
            kept |= {k: v for k, (v, _) in row.cells.items() if k.split("::")[0] == attribute}
            self.ignored(sheet, row, attribute, f"'{attribute}' pada jenis {qtype.name}",
                         f"'{attribute}' on the type {qtype.name}")
        known = qtype.field_parameters | qtype.literal_parameters
        unknown = {k: v for k, v in question.parameters.items() if k not in known}
        if unknown:
            kept["parameters"] = " ".join(f"{k}={v}" for k, v in unknown.items())
            cleared["parameters"] = {k: v for k, v in question.parameters.items() if k in known}
            names = ", ".join(unknown)
            self.ignored(sheet, row, "parameters", f"parameter {names}", f"the parameters {names}")
        self.appearance(sheet, row, qtype.name, question.appearance)
        return msgspec.structs.replace(question, xlsform=kept, **cleared) if cleared else question

    def appearance(self, sheet: str, row: Row, type_name: str, appearance: str | None) -> None:
        """An appearance the fill page draws differently is honoured; any other (likert, quick,
        horizontal, ...) is kept as written, for the export, and reported as ignored."""
        unused = [a for a in (appearance or "").split() if a not in HONOURED_APPEARANCES.get(type_name, ())]
        if unused:
            words = " ".join(unused)
            self.ignored(sheet, row, "appearance", f"tampilan '{words}' untuk jenis {type_name}",
                         f"the appearance '{words}' for the type {type_name}")

    @staticmethod
    def default(row: Row) -> str | None:
        # The literal the export wrote as an expression for ODK (xlsform_odk.odk_default), unless
        # the author has since changed the default.
        literal, written = row.get(DEFAULT_COLUMN), row.get("default")
        if literal and written == odk_default(literal, row.get("type").split()[0]):
            return literal
        return written or None

    def pantau_question(self, sheet: str, row: Row) -> list[Field]:
        """A row the export wrote for one of Pantau's own types (`pantau::type`): the ODK type in
        `type` and Pantau's rules added to the constraint, its message and the hint, taken off again."""
        odk = ODK_TYPES.get(row.get(TYPE_COLUMN))
        words = row.get("type").split()
        if odk is None or not words or words[0] != odk.type:
            what = f"'{row.get(TYPE_COLUMN)}' ({TYPE_COLUMN}) / '{row.get('type')}' (type)"
            self.unsupported(sheet, row, TYPE_COLUMN, f"jenis {what}", f"the type {what}")
            return []
        own = Row(row.number, {k: v for k, v in row.cells.items() if k != TYPE_COLUMN}
                   | {"type": (row.get(TYPE_COLUMN), row.cells["type"][1])})
        found = self.question(sheet, own, ParsedType(""))
        if not found or not isinstance(found[0], Question):
            return []
        question = found[0]
        return [msgspec.structs.replace(
            question, constraint=without_constraint(question.constraint or "", odk.constraint),
            constraint_message=without_text(question.constraint_message, odk.message),
            hint=without_text(question.hint, odk.hint))]

    def metadata(self, sheet: str, row: Row, name: str) -> Question:
        """start, end, today, deviceid, ...: a hidden question the phone fills where it can."""
        kind = " ".join(row.get("type").split()).lower()
        default = METADATA[kind] or None
        if default is None:
            self.report("xlsform.metadata", sheet, row.number, type=kind)
        return Question(type="hidden", name=name, default=default, trigger=row.get("trigger") or None,
                        xlsform={"type": kind} | _kept(row))

    def parameters(self, sheet: str, row: Row) -> dict[str, str]:
        out: dict[str, str] = {}
        for column in ("parameters", PARAMETERS_COLUMN):  # ODK's, then Pantau's own (xlsform_odk.py)
            for item in re.split(r"[\s;,]+", row.get(column)):
                key, sep, value = item.partition("=")
                if not item:
                    continue
                if not sep or not key or not value:
                    self.unsupported(sheet, row, column, f"parameter '{item}' (tulis kunci=nilai)",
                                     f"the parameter '{item}' (write key=value)")
                    continue
                out[FROM_ODK_PARAMETER.get(key.strip(), key.strip())] = value.strip()
        return out

    def container(self, sheet: str, kind: str, row: Row, children: list[Field]) -> list[Field] | None:
        name = row.get("name")
        if not name:
            self.report("form.missing_key", sheet, row.number, owner=_row_owner(sheet, row.number), key="name")
            return None
        self._record(sheet, row, name)
        common: dict[str, Any] = {"name": name, "label": self.text(row, "label"), "hint": self.text(row, "hint"),
                                  "relevant": row.get("relevant") or None, "fields": children}
        for column in ("required", "constraint", "calculation", "trigger", "default", "choice_filter", "parameters"):
            if row.get(column):
                self.ignored(sheet, row, column, f"'{column}' pada {_KIND_ID[kind]}", f"'{column}' on a {kind}")
        if kind == "group":
            appearance = row.get("appearance")
            if appearance not in ("", "field-list"):
                self.ignored(sheet, row, "appearance", f"tampilan grup '{appearance}'",
                             f"the group appearance '{appearance}'")
            return [Group(layout="page" if appearance == "field-list" else "section", **common)]
        return [Repeat(repeat_count=row.get("repeat_count") or None, min_count=self.count(sheet, row, "min_count"),
                       max_count=self.count(sheet, row, "max_count"), **common)]

    def count(self, sheet: str, row: Row, column: str) -> int | None:
        if row.get(f"pantau::{column}"):  # the export's spelling (xlsform_odk.py): ODK has no bounds
            column = f"pantau::{column}"
        text = row.get(column)
        if not text:
            return None
        if not re.fullmatch(r"[0-9]+", text):
            self.problems.append(problem("form.bad_value", self.loc(sheet, row.number, row.cells[column][1]),
                                         key=column, expected=Said("bilangan bulat", "a whole number"),
                                         got=f"'{text}'", example="1"))
            return None
        return int(text)


_KIND_ID = {"group": "grup", "repeat": "ulangan"}


def _generated_name(row: Row) -> str:
    """The names pyxform gives rows without one: the audit is always `audit`, a note
    `generated_note_name_<row>`; any other row needs its name."""
    kind = " ".join(row.get("type").split()).lower()
    return "audit" if kind == "audit" else f"generated_note_name_{row.number}" if kind == "note" else ""


def _as_name(text: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_-")
    return (stem if stem[:1].isalpha() else f"form_{stem}")[:MAX_NAME_LENGTH].rstrip("_-") or "form"


def _row_owner(sheet: str, row: int) -> Said:
    return Said(f"Baris {row} di lembar '{sheet}'", f"Row {row} of the '{sheet}' sheet")


def _kept_column(column: str) -> bool:
    """Columns kept on the question as written: ODK's attributes and media, for the export."""
    base = column.split("::")[0]
    return base in ("bind", "instance", "body", "guidance_hint", *MEDIA_COLUMNS)


def _kept(row: Row) -> dict[str, str]:
    known = {"type", "name", *PLAIN_COLUMNS, *PANTAU_COLUMNS}
    return {k: v for k, (v, _) in row.cells.items()
            if k not in known and k.split("::")[0] not in TEXT_COLUMNS}


def _flag(text: str) -> bool | str:
    if text.strip().lower() in _FALSE:
        return False
    return True if text.strip().lower() in _TRUE else text.strip()
