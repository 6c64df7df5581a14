"""The secondary instances a form's expressions read (Context.instances and Context.lists): the
form's own choice lists that instance('name') or jr:choice-name() name, and the CSV files uploaded
with the form (CompiledForm.instances, by file name without .csv). The server's evaluation
(answers.py, the fill page's first state) and the phone's (the rules JSON) get the same rows."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from server.domain.compile import CompiledForm
from server.domain.form import ChoiceList, Question, walk

_FIELD_TEXT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
Rows = list[dict[str, str]]


class Secondary(msgspec.Struct, frozen=True):
    instances: dict[str, Rows]  # name -> rows, each column -> text
    lists: dict[str, str]  # select question -> its choice list, for jr:choice-name


def referenced(tree: Any) -> tuple[frozenset[str], frozenset[str]]:
    """In expression trees as JSON: the instance names (instance('x') and pulldata('x', ...) written
    as text) and the questions jr:choice-name() names."""
    names: set[str] = set()
    fields: set[str] = set()
    stack: list[Any] = [tree]
    while stack:  # a loop, not recursion: a form holds many trees, some deep
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        stack.extend(node.values())
        args = node.get("args") if node.get("t") == "call" else None
        if node.get("t") == "inst" and isinstance(node.get("id"), str):
            names.add(node["id"])
        elif args and node.get("fn") == "pulldata" and args[0].get("t") == "str":
            names.add(args[0]["v"])
        elif args and node.get("fn") == "jr:choice-name" and len(args) == 2 and args[1].get("t") == "str":
            found = _FIELD_TEXT.fullmatch(args[1]["v"])
            if found:
                fields.add(found.group(1))
    return frozenset(names), frozenset(fields)


def choice_rows(chosen: ChoiceList, language: str) -> Rows:
    """A choice list as ODK's itemset instance: name, the label in `language`, the other columns."""
    return [{**choice.columns, "name": choice.name,
             "label": choice.label.get(language) or choice.label.get("id") or next(iter(choice.label.values()), "")}
            for choice in chosen.choices]


def secondary(compiled: CompiledForm, language: str) -> Secondary:
    """What the form's expressions read, in `language` (choice labels); cached per compiled form."""
    memo = compiled.memo()
    key = f"secondary:{language}"
    if key not in memo:
        memo[key] = _secondary(compiled, language)
    found: Secondary = memo[key]
    return found


def _secondary(compiled: CompiledForm, language: str) -> Secondary:
    form = compiled.definition
    names, fields = referenced([compiled.rules, compiled.instance_name])
    questions = {f.name: f for f, _ in walk(form.fields) if isinstance(f, Question)}
    lists = {name: q.choices for name in fields if (q := questions.get(name)) is not None and q.choices}
    wanted = names | set(lists.values())
    instances = {name: choice_rows(form.choices[name], language) for name in sorted(wanted) if name in form.choices}
    # A CSV uploaded with the form is read as written; a choice list of the same name is the list.
    instances |= {name: rows for name, rows in compiled.instances.items() if name in names and name not in instances}
    return Secondary(instances=instances, lists=lists)
