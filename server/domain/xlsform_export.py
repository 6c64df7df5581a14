"""Form -> XLSForm workbook: the same columns the import reads, so YAML -> XLSForm -> YAML keeps the
content hash (the import is server/domain/xlsform.py)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import openpyxl

from server.domain.form import Field, Form, Group, Question, Text, walk
from server.domain.questions import QUESTION_TYPES
from server.domain.registry_spec import registry_text
from server.domain.xlsform import LANGUAGE_NAMES, PLAIN_COLUMNS, TEXT_COLUMNS, TITLE_COLUMN


def export_xlsform(form: Form) -> bytes:
    languages = _languages(form)
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    rows = list(_survey_rows(form.fields))
    _write(survey, rows, ["type", "name", *_text_columns(TEXT_COLUMNS, languages), *PLAIN_COLUMNS])
    choice_rows = list(_choice_rows(form))
    extra = sorted({c for chosen in form.choices.values() for choice in chosen.choices for c in choice.columns})
    choice_columns = ["list_name", "name", *_text_columns(("label",), languages), *extra]
    _write(book.create_sheet("choices"), choice_rows, choice_columns)
    settings = {"form_id": form.settings.id, "version": form.settings.version,
                "default_language": _language_column(form.settings.default_language),
                "instance_name": form.settings.instance_name or "",
                **_title(form.settings.title, form.settings.default_language),
                **({"registry": registry_text(form.settings.registry)} if form.settings.registry else {})}
    _write(book.create_sheet("settings"), [settings], list(settings))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _languages(form: Form) -> list[str]:
    found = {form.settings.default_language, *form.settings.title}
    for f, _ in walk(form.fields):
        found |= set(f.label) | set(f.hint)
    return [form.settings.default_language, *sorted(found - {form.settings.default_language})]


def _language_column(code: str) -> str:
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def _text_columns(columns: tuple[str, ...], languages: list[str]) -> list[str]:
    return [f"{column}::{_language_column(lang)}" for column in columns for lang in languages]


def _texts(column: str, text: Text) -> dict[str, str]:
    return {f"{column}::{_language_column(lang)}": value for lang, value in text.items()}


def _title(text: Text, default_language: str) -> dict[str, str]:
    # pyxform (ODK) crashes on a translated form_title, so other languages go in a column of
    # Pantau's own, which pyxform ignores.
    return {"form_title" if lang == default_language else f"{TITLE_COLUMN}::{_language_column(lang)}": value
            for lang, value in text.items()}


def _survey_rows(fields: list[Field]) -> Iterator[dict[str, str]]:
    for f in fields:
        texts = {k: v for column in ("label", "hint") for k, v in _texts(column, getattr(f, column)).items()}
        if isinstance(f, Question):
            yield _question_row(f, texts)
            continue
        kind = "group" if isinstance(f, Group) else "repeat"
        row = {"type": f"begin_{kind}", "name": f.name, "relevant": f.relevant or "", **texts}
        if isinstance(f, Group):
            row["appearance"] = "field-list" if f.layout == "page" else ""
        else:
            row |= {"repeat_count": f.repeat_count or "", "min_count": _int(f.min_count),
                    "max_count": _int(f.max_count)}
        yield row
        yield from _survey_rows(f.fields)
        yield {"type": f"end_{kind}", "name": f.name}


def _question_row(q: Question, texts: dict[str, str]) -> dict[str, str]:
    qtype = QUESTION_TYPES.get(q.type)
    type_name = qtype.xlsform if qtype else q.type
    row = {"type": f"{type_name} {q.choices}" if q.choices else type_name, "name": q.name, **texts}
    for column in ("required_message", "constraint_message"):
        row |= _texts(column, getattr(q, column))
    for column in ("required", "read_only"):
        value = getattr(q, column)
        row[column] = "yes" if value is True else value or ""
    for column in ("relevant", "constraint", "calculation", "default", "appearance", "choice_filter"):
        row[column] = getattr(q, column) or ""
    row["parameters"] = " ".join(f"{k}={v}" for k, v in q.parameters.items())
    return row


def _int(value: int | None) -> str:
    return "" if value is None else str(value)


def _choice_rows(form: Form) -> Iterator[dict[str, str]]:
    for chosen in form.choices.values():
        for choice in chosen.choices:
            yield {"list_name": chosen.name, "name": choice.name, **_texts("label", choice.label), **choice.columns}


def _write(ws: Any, rows: list[dict[str, str]], columns: list[str]) -> None:
    used = [c for c in dict.fromkeys(columns) if any(row.get(c) for row in rows) or c in ("type", "name", "list_name")]
    ws.append(used)
    for row in rows:
        ws.append([row.get(c, "") or None for c in used])
