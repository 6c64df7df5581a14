"""Form -> XLSForm workbook: the same columns the import reads, so YAML -> XLSForm -> YAML keeps the
content hash (the import is server/domain/xlsform.py)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl

from server.domain.form import Field, Form, Group, Question, Text, walk
from server.domain.questions import QUESTION_TYPES
from server.domain.registry_spec import registry_text
from server.domain.xlsform import LANGUAGE_NAMES, PLAIN_COLUMNS, TEXT_COLUMNS, TITLE_COLUMN
from server.domain.xlsform_odk import (
    DEFAULT_COLUMN,
    MAX_COUNT_COLUMN,
    MIN_COUNT_COLUMN,
    ODK_PARAMETERS,
    ODK_TYPES,
    PANTAU_PARAMETERS,
    PARAMETERS_COLUMN,
    TYPE_COLUMN,
    beneficiary_file,
    odk_default,
    with_constraint,
    with_text,
)
from server.domain.xlsform_spelling import METADATA, TRANSLATABLE


def export_xlsform(form: Form) -> bytes:
    return workbook_bytes(xlsform_sheets(form))


@dataclass
class Sheet:
    """One sheet of the XLSForm: its rows (column -> cell text) and its columns in order; a column
    no row fills is left out when written (the XForm path, domain/xform.py, edits these rows)."""

    rows: list[dict[str, str]]
    columns: list[str]


def xlsform_sheets(form: Form) -> dict[str, Sheet]:
    """The survey, choices and settings sheets the export writes, before they become a workbook."""
    languages = languages_of(form)
    rows = list(_survey_rows(form.fields, _Context(languages, _programme(form))))
    pantau = [TYPE_COLUMN, PARAMETERS_COLUMN, DEFAULT_COLUMN, MIN_COUNT_COLUMN, MAX_COUNT_COLUMN]
    columns = ["type", "name", *_text_columns(TEXT_COLUMNS, languages), *PLAIN_COLUMNS, *pantau]
    survey = Sheet(rows, [*columns, *_kept_columns(rows, columns)])
    choice_rows = list(_choice_rows(form))
    columns = ["list_name", "name", *_text_columns(("label",), languages)]
    choices = Sheet(choice_rows, [*columns, *_kept_columns(choice_rows, columns)])
    settings = {"form_id": form.settings.id, "version": form.settings.version,
                "default_language": language_column(form.settings.default_language),
                "instance_name": form.settings.instance_name or "",
                **_title(form.settings.title, form.settings.default_language),
                **({"registry": registry_text(form.settings.registry)} if form.settings.registry else {}),
                **{_kept_header(k): v for k, v in form.settings.xlsform.items()}}
    return {"survey": survey, "choices": choices, "settings": Sheet([settings], list(settings))}


def workbook_bytes(sheets: dict[str, Sheet]) -> bytes:
    book = openpyxl.Workbook()
    first = book.active
    assert first is not None
    for index, (title, sheet) in enumerate(sheets.items()):
        ws = first if index == 0 else book.create_sheet(title)
        ws.title = title
        _write(ws, sheet.rows, sheet.columns)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@dataclass(frozen=True)
class _Context:
    languages: list[str]
    programme: str | None  # whose beneficiaries a `beneficiary` question chooses from


def _programme(form: Form) -> str | None:
    return form.settings.registry.programme if form.settings.registry else None


def languages_of(form: Form) -> list[str]:
    found = {form.settings.default_language, *form.settings.title}
    for f, _ in walk(form.fields):
        found |= set(f.label) | set(f.hint)
        if isinstance(f, Question):
            found |= set(f.required_message) | set(f.constraint_message)
    return [form.settings.default_language, *sorted(found - {form.settings.default_language})]


def language_column(code: str) -> str:
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def _text_columns(columns: tuple[str, ...], languages: list[str]) -> list[str]:
    return [f"{column}::{language_column(lang)}" for column in columns for lang in languages]


def _texts(column: str, text: Text) -> dict[str, str]:
    return {f"{column}::{language_column(lang)}": value for lang, value in text.items()}


def _title(text: Text, default_language: str) -> dict[str, str]:
    # pyxform (ODK) crashes on a translated form_title, so other languages go in a column of
    # Pantau's own, which pyxform ignores.
    return {"form_title" if lang == default_language else f"{TITLE_COLUMN}::{language_column(lang)}": value
            for lang, value in text.items()}


def _survey_rows(fields: list[Field], context: _Context) -> Iterator[dict[str, str]]:
    for f in fields:
        if isinstance(f, Question):
            yield _question_row(f, context)
            continue
        texts = {k: v for column in ("label", "hint") for k, v in _texts(column, getattr(f, column)).items()}
        kind = "group" if isinstance(f, Group) else "repeat"
        row = {"type": f"begin_{kind}", "name": f.name, "relevant": f.relevant or "", **texts}
        if isinstance(f, Group):
            row["appearance"] = "field-list" if f.layout == "page" else ""
        else:
            # ODK has no bounds on a repeat: Pantau's own columns.
            row |= {"repeat_count": f.repeat_count or "", MIN_COUNT_COLUMN: _int(f.min_count),
                    MAX_COUNT_COLUMN: _int(f.max_count)}
        yield row
        yield from _survey_rows(f.fields, context)
        yield {"type": f"end_{kind}", "name": f.name}


def _kept_header(key: str) -> str:
    """A column the import kept as written ('guidance_hint::en', 'bind::odk:length'), with a language
    spelled as the label columns spell it, so pyxform sees one language, not two."""
    base, sep, lang = key.rpartition("::")
    return f"{base}::{language_column(lang)}" if sep and base.split("::")[0] in TRANSLATABLE else key


def _kept_columns(rows: list[dict[str, str]], columns: list[str]) -> list[str]:
    return [c for c in dict.fromkeys(c for row in rows for c in row) if c not in columns]


def _question_row(q: Question, context: _Context) -> dict[str, str]:
    row = _odk_row(q, context)
    kept = dict(q.xlsform)
    metadata = kept.pop("type", None)  # a metadata row (start, deviceid, ...) kept as a hidden question
    if metadata:
        row["type"] = metadata
        row["default"] = "" if q.default == (METADATA.get(metadata) or None) else row["default"]
    # Parameters Pantau does not act on (randomize, app, ...) go out beside the ones it does.
    row["parameters"] = " ".join(p for p in (row["parameters"], kept.pop("parameters", "")) if p)
    return row | {_kept_header(k): v for k, v in kept.items()}


def _odk_row(q: Question, context: _Context) -> dict[str, str]:
    odk = ODK_TYPES.get(q.type)
    row = {"type": _odk_type(q, context), "name": q.name, TYPE_COLUMN: q.type if odk else ""}
    hint, message = q.hint, q.constraint_message
    if odk:  # Pantau's rules as ODK says them: read back by xlsform_odk.without_*()
        hint, message = with_text(hint, odk.hint, context.languages), with_text(message, odk.message, context.languages)
    row |= _texts("label", q.label) | _texts("hint", hint) | _texts("constraint_message", message)
    row |= _texts("required_message", q.required_message)
    for column in ("required", "read_only"):
        value = getattr(q, column)
        row[column] = "yes" if value is True else value or ""
    for column in ("relevant", "calculation", "trigger", "appearance", "choice_filter"):
        row[column] = getattr(q, column) or ""
    row["default"] = odk_default(q.default, row["type"].split()[0]) if q.default else ""
    row[DEFAULT_COLUMN] = q.default if q.default and row["default"] != q.default else ""
    row["constraint"] = with_constraint(q.constraint, odk.constraint) if odk else q.constraint or ""
    odk_parameters, own = _parameters(q)
    row["parameters"] = " ".join(f"{k}={v}" for k, v in odk_parameters.items())
    row[PARAMETERS_COLUMN] = " ".join(f"{k}={v}" for k, v in own.items())
    return row


def _odk_type(q: Question, context: _Context) -> str:
    if q.type == "beneficiary":
        return f"select_one_from_file {beneficiary_file(context.programme)}"
    odk = ODK_TYPES.get(q.type)
    qtype = QUESTION_TYPES.get(q.type)
    type_name = odk.type if odk else qtype.xlsform if qtype else q.type
    return f"{type_name} {q.choices}" if q.choices else type_name


def _parameters(q: Question) -> tuple[dict[str, str], dict[str, str]]:
    """(ODK's parameters in ODK's spelling, Pantau's own): pyxform refuses a parameter it does not
    know, so the ones naming other questions (a NIK's sex, birth_date, ...) and a value ODK would
    read differently (max-pixels is a whole number) stay Pantau's; the rest (a range's start,
    end, step) are ODK's own already."""
    qtype = QUESTION_TYPES.get(q.type)
    references = qtype.field_parameters if qtype else frozenset()
    odk: dict[str, str] = {}
    own: dict[str, str] = {}
    for key, value in q.parameters.items():
        if key in ODK_PARAMETERS and _odk_number(key, value):
            odk |= dict.fromkeys(ODK_PARAMETERS[key], value)
        elif key in ODK_PARAMETERS or key in references or key in PANTAU_PARAMETERS:
            own[key] = value
        else:
            odk[key] = value
    return odk, own


def _odk_number(key: str, value: str) -> bool:
    pattern = r"[0-9]+" if key == "max_pixels" else r"[0-9]+(\.[0-9]+)?"
    return re.fullmatch(pattern, value) is not None


def _int(value: int | None) -> str:
    return "" if value is None else str(value)


def _choice_rows(form: Form) -> Iterator[dict[str, str]]:
    for chosen in form.choices.values():
        for choice in chosen.choices:
            yield {"list_name": chosen.name, "name": choice.name, **_texts("label", choice.label),
                   **{_kept_header(k): v for k, v in choice.columns.items()}}


def _write(ws: Any, rows: list[dict[str, str]], columns: list[str]) -> None:
    used = [c for c in dict.fromkeys(columns) if any(row.get(c) for row in rows) or c in ("type", "name", "list_name")]
    ws.append(used)
    for row in rows:
        ws.append([row.get(c, "") or None for c in used])
