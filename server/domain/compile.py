"""Form source -> CompiledForm: load, check, build (the pipeline of STYLE.md 1). A CompiledForm is
what storage keeps per published version: the definition, the expression ASTs for the phone, the
order values are computed in, the flat field index exports use, and a hash of the definition."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import msgspec

from server.domain.check import check
from server.domain.expr import Expr, from_json, to_json
from server.domain.exprtree import functions_called
from server.domain.form import Form, Question, Repeat, Text, field_type, repeat_scope, walk
from server.domain.graph import dependencies, topological
from server.domain.load import load_yaml
from server.domain.problems import Loc, Problem, has_errors, problem
from server.domain.sites import Parsed, parse_all
from server.domain.sourcemap import Loaded, Where
from server.domain.xlsform import load_xlsform

HASH_PREFIX = b"pantau-form/1\n"
LOADERS = {".yaml": load_yaml, ".yml": load_yaml, ".json": load_yaml, ".xlsx": load_xlsform, ".xls": load_xlsform}


class FieldInfo(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One row of the flat field index: enough for exports and reports without re-reading the form."""

    name: str
    path: str  # groups and repeats above it, then its name: "rumah/lantai"
    type: str  # a question type, "group" or "repeat"
    repeat: tuple[str, ...] = ()  # enclosing repeats, outermost first
    choices: str | None = None
    label: Text = {}


class CompiledForm(msgspec.Struct, kw_only=True, dict=True):
    form_id: str
    version: str
    title: Text
    default_language: str
    content_hash: str
    definition: Form
    fields: dict[str, FieldInfo]
    # The order relevance and calculations are evaluated in: every field after those it reads.
    order: list[str]
    # field name -> attribute -> the expression AST as JSON (what the phone evaluates). A static
    # `required: yes` / `read_only: yes` appears as true.
    rules: dict[str, dict[str, Any]]
    instance_name: Any = None
    # CSV files uploaded with the form, for pulldata() and instance('name'): file name without .csv
    # -> rows, each column (the header) -> text, in file order (domain/instances.py).
    instances: dict[str, list[dict[str, str]]] = {}

    def expr(self, name: str, attribute: str) -> Expr | None:
        """The Python AST of a rule, decoded once per CompiledForm (also after msgspec decoding)."""
        cache: dict[tuple[str, str], Expr | None] = self.__dict__.setdefault("_exprs", {})
        key = (name, attribute)
        if key not in cache:
            raw = self.rules.get(name, {}).get(attribute)
            cache[key] = from_json(raw) if isinstance(raw, dict) else None
        return cache[key]

    def functions(self) -> frozenset[str]:
        """The names of every function the form's rules call (the fill page loads the rarely used
        ones' JavaScript only for forms that call them)."""
        memo = self.memo()
        if "functions" not in memo:
            memo["functions"] = functions_called([self.rules, self.instance_name])
        found: frozenset[str] = memo["functions"]
        return found

    def memo(self) -> dict[str, Any]:
        """Per-instance scratch space for derived plans (answers.py); never encoded."""
        memo: dict[str, Any] = self.__dict__.setdefault("_memo", {})
        return memo


class CompileResult(msgspec.Struct, kw_only=True):
    compiled: CompiledForm | None
    problems: list[Problem]


def compile_source(data: bytes, filename: str, attachments: Mapping[str, bytes] | None = None) -> CompileResult:
    """`attachments`: the files uploaded with an XLSForm (file name -> bytes), see domain/attachments.py."""
    loaded = load_source(data, filename, attachments)
    if loaded.form is None:
        return CompileResult(compiled=None, problems=loaded.problems)
    return compile_form(loaded.form, loaded.where, loaded.problems)


def load_source(data: bytes, filename: str, attachments: Mapping[str, bytes] | None = None) -> Loaded:
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    loader = LOADERS.get(suffix)
    if loader is None:
        return Loaded(None, Where(filename), [problem("form.unknown_format", Loc(filename), suffix=suffix or "-")])
    if loader is load_xlsform:
        return load_xlsform(data, filename, attachments=attachments)
    return loader(data, filename)


def compile_form(form: Form, where: Where | None = None, problems: list[Problem] | None = None) -> CompileResult:
    parsed = parse_all(form)
    found = [*(problems or []), *check(form, where or Where("<form>"), parsed)]
    if has_errors(found):
        return CompileResult(compiled=None, problems=found)
    return CompileResult(compiled=build(form, parsed), problems=found)


def build(form: Form, parsed: Parsed) -> CompiledForm:
    order, _ = topological(dependencies(form, parsed))
    instance_name = parsed.exprs.get(("settings", "instance_name"))
    return CompiledForm(
        form_id=form.settings.id,
        version=form.settings.version,
        title=form.settings.title,
        default_language=form.settings.default_language,
        content_hash=content_hash(form, parsed),
        definition=form,
        fields=field_index(form),
        order=order,
        rules=rules(form, parsed),
        instance_name=to_json(instance_name) if instance_name is not None else None,
    )


def field_index(form: Form) -> dict[str, FieldInfo]:
    index: dict[str, FieldInfo] = {}
    for field, parents in walk(form.fields):
        index[field.name] = FieldInfo(
            name=field.name,
            path="/".join([*(p.name for p in parents), field.name]),
            type=field_type(field),
            repeat=repeat_scope(parents),
            choices=field.choices if isinstance(field, Question) else None,
            label=field.label,
        )
    return index


def rules(form: Form, parsed: Parsed) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for field, _ in walk(form.fields):
        entry: dict[str, Any] = {}
        if isinstance(field, Question):
            entry |= {flag: True for flag in ("required", "read_only") if getattr(field, flag) is True}
        for site_key, expr in parsed.exprs.items():
            if site_key[:2] == ("field", field.name):
                entry[site_key[2]] = to_json(expr)
        if isinstance(field, Repeat):
            bounds = (("min_count", field.min_count), ("max_count", field.max_count))
            entry |= {k: v for k, v in bounds if v is not None}
        if entry:
            out[field.name] = entry
    return out


def content_hash(form: Form, parsed: Parsed) -> str:
    """sha256 of the definition's canonical JSON: sorted keys, expressions as ASTs (so spacing
    inside an expression does not count), region lists by their generated choices."""
    data = msgspec.to_builtins(form)
    if data["settings"].get("registry") is None:
        data["settings"].pop("registry", None)  # forms without a registry block keep their published hash
    creates = (data["settings"].get("registry") or {}).get("creates")
    if creates is not None and creates.get("guardian") is None:
        creates.pop("guardian", None)  # intakes from before the key keep their published hash
    if not data["settings"].get("xlsform"):
        data["settings"].pop("xlsform", None)  # likewise forms without kept XLSForm settings
    for chosen in data.get("choices", {}).values():
        chosen.pop("wilayah", None)
    asts = {key: to_json(expr) for key, expr in parsed.exprs.items()}
    if ("settings", "instance_name") in asts:
        data["settings"]["instance_name"] = {"ast": asts[("settings", "instance_name")]}
    stack = list(data["fields"])
    while stack:
        field = stack.pop()
        stack.extend(field.get("fields", []))
        for attribute in list(field):
            ast = asts.get(("field", field["name"], attribute))
            if ast is not None:
                field[attribute] = {"ast": ast}
    return hashlib.sha256(HASH_PREFIX + msgspec.json.encode(data, order="sorted")).hexdigest()
