"""How a form may change once it is published: the difference between two compiled forms
that staff see before publishing, and the rules that keep old data readable. A published field name
keeps its type for good (a new type needs a new name, which we suggest); a removed field stays in
exports because they merge versions by name; a choice value given another meaning needs a confirmation."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import msgspec
import yaml

from server.domain.compile import CompiledForm, compile_form, load_source
from server.domain.form import ChoiceList, Field, Form, Question, Text, walk
from server.domain.load import encode_yaml, form_document
from server.domain.problems import Loc, Problem, problem
from server.domain.sourcemap import Where

ChangeKind = Literal["added", "removed", "retyped", "relabelled", "rules", "choices"]
# The attributes whose change alters what is asked or accepted ("rules changed" on the diff page).
RULE_ATTRIBUTES = (
    "required",
    "relevant",
    "constraint",
    "constraint_message",
    "calculation",
    "trigger",
    "default",
    "read_only",
    "choice_filter",
    "repeat_count",
    "min_count",
    "max_count",
    "appearance",
)
# Warnings that change what old data means, or leave a question unanswerable (a choices CSV not
# uploaded): publishing waits for staff to tick that they read them.
NEEDS_CONFIRMATION = frozenset({"form.choice_reused", "form.empty_file_list", "form.missing_media"})
_SUFFIX = re.compile(r"_([0-9]+)\Z")


class Change(msgspec.Struct, frozen=True, kw_only=True):
    kind: ChangeKind
    field: str
    before: str = ""
    after: str = ""
    detail: str = ""  # the attribute names of a rules change, or the choice values of a choices change


class Diff(msgspec.Struct, frozen=True, kw_only=True):
    changes: list[Change]

    def of(self, kind: ChangeKind) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]


def diff(old: CompiledForm | None, new: CompiledForm) -> Diff:
    """What publishing `new` changes compared with the published `old` (None: everything is added)."""
    new_fields = _fields(new.definition)
    if old is None:
        return Diff(changes=[Change(kind="added", field=n, after=new.fields[n].type) for n in new_fields])
    old_fields = _fields(old.definition)
    changes = [Change(kind="added", field=n, after=new.fields[n].type) for n in new_fields if n not in old_fields]
    changes += [Change(kind="removed", field=n, before=old.fields[n].type) for n in old_fields if n not in new_fields]
    for name in (n for n in new_fields if n in old_fields):
        changes += _field_changes(name, old, new, old_fields[name], new_fields[name])
    return Diff(changes=changes)


def _fields(form: Form) -> dict[str, Field]:
    return {field.name: field for field, _ in walk(form.fields)}


def _field_changes(name: str, old: CompiledForm, new: CompiledForm, before: Field, after: Field) -> list[Change]:
    out: list[Change] = []
    old_type, new_type = old.fields[name].type, new.fields[name].type
    if old_type != new_type:
        out.append(Change(kind="retyped", field=name, before=old_type, after=new_type))
    if before.label != after.label:
        out.append(Change(kind="relabelled", field=name, before=_text(before.label), after=_text(after.label)))
    changed = [a for a in RULE_ATTRIBUTES if getattr(before, a, None) != getattr(after, a, None)]
    if changed:
        out.append(
            Change(
                kind="rules",
                field=name,
                detail=", ".join(changed),
                before="; ".join(f"{a}: {_shown(getattr(before, a, None))}" for a in changed),
                after="; ".join(f"{a}: {_shown(getattr(after, a, None))}" for a in changed),
            )
        )
    if isinstance(before, Question) and isinstance(after, Question) and before.choices and after.choices:
        values = _choice_changes(old.definition.choices.get(before.choices), new.definition.choices.get(after.choices))
        if values:
            out.append(Change(kind="choices", field=name, detail=", ".join(values)))
    return out


def _choice_changes(before: ChoiceList | None, after: ChoiceList | None) -> list[str]:
    old = {c.name: c.label for c in (before.choices if before else [])}
    new = {c.name: c.label for c in (after.choices if after else [])}
    return (
        [f"+{v}" for v in new if v not in old]
        + [f"-{v}" for v in old if v not in new]
        + [f"~{v}" for v in new if v in old and old[v] != new[v]]
    )


def _text(text: Text) -> str:
    return text.get("id") or next(iter(text.values()), "")


def _shown(value: object) -> str:
    if value is None or value == {} or value is False:
        return "-"
    if isinstance(value, dict):
        return str(value.get("id") or next(iter(value.values()), ""))
    return str(value)


# --- the evolution rules ------------------------------------------------------------------------------
def problems(new: CompiledForm, history: list[CompiledForm], where: Where | None = None) -> list[Problem]:
    """The rules checked on every save and before publishing, against every published version."""
    where = where or Where("<form>")
    return [*_retyped(new, history, where), *_moved_repeat(new, history, where), *_choices_reused(new, history, where)]


def published_types(history: list[CompiledForm]) -> dict[str, str]:
    """Each field name ever published -> the type it was published with (the first one wins)."""
    types: dict[str, str] = {}
    for version in history:
        for name, info in version.fields.items():
            types.setdefault(name, info.type)
    return types


def _retyped(new: CompiledForm, history: list[CompiledForm], where: Where) -> list[Problem]:
    types = published_types(history)
    taken = set(types) | set(new.fields)
    return [
        problem(
            "form.retyped",
            where.at(("field", name, "type"), ("field", name)),
            name=name,
            old=types[name],
            new=info.type,
            suggestion=suggest_name(name, taken),
        )
        for name, info in new.fields.items()
        if name in types and types[name] != info.type
    ]


def _moved_repeat(new: CompiledForm, history: list[CompiledForm], where: Where) -> list[Problem]:
    """A published field moved into, out of or between repeats: its answers would sit at another level
    (one per instance instead of one per record), and exports would no longer find the old ones.
    Groups do not change where an answer sits, so moving between groups is not a change here."""
    scopes: dict[str, tuple[str, ...]] = {}
    for version in history:
        for name, info in version.fields.items():
            scopes.setdefault(name, tuple(info.repeat))
    types = published_types(history)
    taken = set(types) | set(new.fields)
    out: list[Problem] = []
    for name, info in new.fields.items():
        old = scopes.get(name)
        if old is None or old == tuple(info.repeat) or types.get(name) != info.type:  # a retype is reported alone
            continue
        place = {
            "old_id": f"di dalam ulangan '{'/'.join(old)}'" if old else "di luar ulangan",
            "old_en": f"inside the repeat '{'/'.join(old)}'" if old else "outside any repeat",
            "new_id": f"ke dalam ulangan '{'/'.join(info.repeat)}'" if info.repeat else "ke luar ulangan",
            "new_en": f"into the repeat '{'/'.join(info.repeat)}'" if info.repeat else "out of the repeat",
        }
        loc = where.at(("field", name))
        out.append(problem("form.moved_repeat", loc, name=name, suggestion=suggest_name(name, taken), **place))
    return out


def suggest_name(name: str, taken: set[str]) -> str:
    """umur -> umur_2 (umur_2 -> umur_3): the first such name no version has used."""
    match = _SUFFIX.search(name)
    stem, n = (name[: match.start()], int(match.group(1)) + 1) if match else (name, 2)
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"


def _choices_reused(new: CompiledForm, history: list[CompiledForm], where: Where) -> list[Problem]:
    """A value whose label changed, per select field: old data under the value would change meaning."""
    meant: dict[tuple[str, str], Text] = {}
    for version in history:
        for name, chosen in _selects(version).items():
            for choice in chosen.choices:
                meant.setdefault((name, choice.name), choice.label)
    out: list[Problem] = []
    for name, chosen in _selects(new).items():
        for choice in chosen.choices:
            old = meant.get((name, choice.name))
            if old is not None and _norm(old) != _norm(choice.label):
                loc = where.at(("choice", chosen.name, choice.name), ("choices", chosen.name), ("field", name))
                out.append(
                    problem(
                        "form.choice_reused",
                        loc,
                        value=choice.name,
                        list=chosen.name,
                        old=_text(old),
                        new=_text(choice.label),
                        field=name,
                    )
                )
    return out


def _selects(compiled: CompiledForm) -> dict[str, ChoiceList]:
    lists = compiled.definition.choices
    return {
        f.name: lists[f.choices]
        for f, _ in walk(compiled.definition.fields)
        if isinstance(f, Question) and f.choices in lists and not lists[f.choices].wilayah
    }


def _norm(text: Text) -> str:
    # Only the Indonesian meaning counts (or the first language): fixing a typo's case or spaces is not a new meaning.
    return " ".join(_text(text).split()).casefold()


def id_problem(expected: str, found: str, where: Where | None = None) -> list[Problem]:
    if expected == found:
        return []
    loc = where.at(("settings", "id")) if where else Loc("<form>")
    return [problem("form.id_mismatch", loc, expected=expected, found=found)]


def next_version(current: str, used: set[str]) -> str:
    """The version label to publish under: the draft's own when unused, else the next free number."""
    if current not in used:
        return current
    numbers = [int(v) for v in (*used, current) if v.isdigit()]
    n = max(numbers, default=1) + 1
    while str(n) in used:
        n += 1
    return str(n)


# --- the save pipeline of the editor ------------------------------------------------------------------
class DraftCheck(msgspec.Struct, kw_only=True):
    """A draft's source checked as a save is: compiled, checked, and held to the evolution rules."""

    compiled: CompiledForm | None
    problems: list[Problem]
    fields: list[str]  # per problem, the field it sits in ("" when none): the editor shows it there

    @property
    def ok(self) -> bool:
        return self.compiled is not None and not any(p.severity == "error" for p in self.problems)


def check_draft(data: bytes, filename: str, form_id: str, history: list[CompiledForm],
                attachments: Mapping[str, bytes] | None = None) -> DraftCheck:
    """load -> check -> compile -> the form's name -> the evolution rules (STYLE.md 1). `attachments`:
    the CSV files uploaded with an XLSForm (domain/attachments.py)."""
    loaded = load_source(data, filename, attachments)
    if loaded.form is None:
        return DraftCheck(compiled=None, problems=loaded.problems, fields=["" for _ in loaded.problems])
    result = compile_form(loaded.form, loaded.where, loaded.problems)
    found = [*result.problems, *id_problem(form_id, loaded.form.settings.id, loaded.where)]
    if result.compiled is not None:
        found += problems(result.compiled, history, loaded.where)
    places = sorted((loaded.where.at(("field", f.name)).line, f.name) for f, _ in walk(loaded.form.fields))
    return DraftCheck(
        compiled=result.compiled if result.compiled is not None and not _errors(found) else None,
        problems=found,
        fields=[_field_at(places, p.line) for p in found],
    )


def _errors(found: list[Problem]) -> bool:
    return any(p.severity == "error" for p in found)


def _field_at(places: list[tuple[int, str]], line: int) -> str:
    """The field whose definition starts last at or before `line` (the loaders record each field's line)."""
    before = [name for start, name in places if start <= line]
    return before[-1] if before else ""


def document_yaml(document: Mapping[str, Any]) -> bytes:
    """The editor's structure (the same plain document staff write) as YAML text, keys in the order given."""
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=110).encode()


def canonical(compiled: CompiledForm) -> tuple[bytes, dict[str, object]]:
    """(YAML, document) of a checked draft: what both views of the editor show after a save."""
    return encode_yaml(compiled.definition), form_document(compiled.definition)


def with_version(compiled: CompiledForm, version: str) -> CompiledForm:
    """The same definition under another version label (publishing when the draft's label is taken)."""
    form = msgspec.structs.replace(
        compiled.definition, settings=msgspec.structs.replace(compiled.definition.settings, version=version)
    )
    result = compile_form(form)
    assert result.compiled is not None  # the definition compiled already; the label is free text
    return result.compiled
