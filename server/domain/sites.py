"""Every place in a form that holds an expression ("sites": a field's relevant, constraint,
calculation, ...), parsed once. check.py reports the parse errors with their place; compile.py
keeps the ASTs; both walk the same list, so no expression is missed by one and seen by the other."""

from __future__ import annotations

import re
from typing import NamedTuple

from server.domain.expr import Expr, ExprError, parse, references
from server.domain.expr.lexer import LAST_SAVED
from server.domain.exprtree import CHOICE_PREFIX, choice_columns, original_column, rewrite_choice_filter
from server.domain.form import Form, Question, Repeat, is_dynamic_default, walk

Key = tuple[str, ...]

# Attributes whose value is an expression; `required`/`read_only` are when they are not yes/no,
# `default` when it looks dynamic (form.is_dynamic_default).
EXPRESSION_ATTRIBUTES = ("relevant", "required", "read_only", "constraint", "calculation", "default",
                         "choice_filter", "repeat_count", "trigger")
# ${name} inside labels and hints: shown with the answer filled in, so the name must exist.
LABEL_REFERENCE = re.compile(r"\$\{([^}]*)\}")


class Site(NamedTuple):
    key: Key  # ("field", name, attribute) or ("settings", "instance_name")
    field: str | None  # the field the expression belongs to; None for settings
    attribute: str
    text: str


class Parsed(NamedTuple):
    exprs: dict[Key, Expr]
    refs: dict[Key, frozenset[str]]  # field names only; choice columns are in `columns`
    errors: dict[Key, ExprError]
    sites: list[Site]
    columns: dict[Key, frozenset[str]]  # choice_filter: the choice columns it reads
    last_saved: dict[Key, frozenset[str]]  # the fields read as ${last-saved#name} (not in `refs`)


def expression_sites(form: Form) -> list[Site]:
    sites: list[Site] = []
    if form.settings.instance_name:
        sites.append(Site(("settings", "instance_name"), None, "instance_name", form.settings.instance_name))
    for field, _parents in walk(form.fields):
        for attribute in EXPRESSION_ATTRIBUTES:
            text = _expression_text(field, attribute)
            if text is not None:
                sites.append(Site(("field", field.name, attribute), field.name, attribute, text))
    return sites


def _expression_text(field: Question | object, attribute: str) -> str | None:
    value = getattr(field, attribute, None)
    if attribute in ("required", "read_only"):
        return value if isinstance(value, str) else None
    if attribute == "default":
        return value if isinstance(value, str) and is_dynamic_default(value) else None
    if attribute == "repeat_count" and not isinstance(field, Repeat):
        return None
    return value if isinstance(value, str) and value else None


def parse_all(form: Form) -> Parsed:
    parsed = Parsed({}, {}, {}, expression_sites(form), {}, {})
    for site in parsed.sites:
        try:
            expr = parse_site(site)
        except ExprError as exc:
            parsed.errors[site.key] = exc
            continue
        names = references(expr)
        parsed.exprs[site.key] = expr
        parsed.columns[site.key] = columns = choice_columns(names)
        saved = {n for n in names if n.startswith(LAST_SAVED)}
        if saved:
            parsed.last_saved[site.key] = frozenset(n[len(LAST_SAVED):] for n in saved)
        parsed.refs[site.key] = names - {CHOICE_PREFIX + c for c in columns} - saved
    return parsed


def parse_site(site: Site) -> Expr:
    if site.attribute != "choice_filter":
        return parse(site.text)
    text, shifts = rewrite_choice_filter(site.text)
    try:
        return parse(text)
    except ExprError as exc:
        column = original_column(exc.column, shifts)
        raise ExprError(exc.code, exc.message_id, exc.message_en, column) from None


def label_references(text: dict[str, str]) -> set[str]:
    return {name.strip() for value in text.values() for name in LABEL_REFERENCE.findall(value)}
