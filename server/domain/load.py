"""YAML (or JSON) form text -> Form. The text is composed into yaml's node tree, never loaded
straight to Python values, so every problem keeps its file:line:column and YAML 1.1 surprises
(`en: Yes` becoming True, `version: 0102` an int) cannot happen: scalars are read as written."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
import yaml

from server.domain.attachments import file_format
from server.domain.form import Choice, ChoiceList, Field, Form, Group, Question, Repeat, Settings
from server.domain.problems import Loc, Problem, Said, has_errors, problem
from server.domain.regions import RegionError, region_choices
from server.domain.registry_spec import read_registry
from server.domain.sourcemap import Loaded, Where
from server.domain.yaml_reader import NodeReader, prune, scalar_keys

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 20
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

TOP_KEYS = frozenset({"settings", "choices", "fields", "attachments"})
SETTINGS_KEYS = frozenset({"id", "version", "title", "default_language", "instance_name", "registry", "xlsform"})
QUESTION_KEYS = frozenset(Question.__struct_fields__)
GROUP_KEYS = frozenset({"type", "name", "label", "hint", "relevant", "layout", "fields"})
REPEAT_KEYS = GROUP_KEYS - {"layout"} | {"repeat_count", "min_count", "max_count"}
TEXT_KEYS = frozenset({"label", "hint", "required_message", "constraint_message"})
EXPRESSION_KEYS = frozenset({"relevant", "constraint", "calculation", "trigger", "choice_filter", "repeat_count"})


def decode_text(data: bytes, filename: str) -> tuple[str | None, list[Problem]]:
    """The size and encoding gate shared by every text format."""
    start = Loc(filename)
    if len(data) > MAX_BYTES:
        return None, [problem("form.too_large", start, size=len(data), limit=MAX_BYTES)]
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        return None, [problem("form.encoding", start, offset=exc.start)]


def load_yaml(data: bytes, filename: str) -> Loaded:
    text, problems = decode_text(data, filename)
    if text is None:
        return Loaded(None, Where(filename), problems)
    if filename.lower().endswith(".json"):
        text = text.replace("\t", " ")  # JSON allows tab indentation, YAML does not; JSON strings cannot hold raw tabs
    root = _compose(text, filename, problems)
    reader = _Reader(filename)
    form = reader.form(root) if root is not None else None
    problems += reader.problems
    return Loaded(None if has_errors(problems) else form, reader.where, problems)


def _compose(text: str, filename: str, problems: list[Problem]) -> yaml.Node | None:
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Loc(filename, mark.line + 1, mark.column + 1) if mark else Loc(filename)
        reason = " ".join(str(part) for part in (exc.context, exc.problem) if part) or "syntax error"
        problems.append(problem("form.yaml", loc, reason=reason))
        return None
    except (yaml.YAMLError, RecursionError) as exc:
        problems.append(problem("form.yaml", Loc(filename), reason=type(exc).__name__))
        return None
    if root is None:
        problems.append(problem("form.yaml", Loc(filename), reason="the file is empty"))
        return None
    alias = _first_shared_node(root)
    if alias is not None:
        mark = alias.start_mark
        problems.append(problem("form.yaml_alias", Loc(filename, mark.line + 1, mark.column + 1)))
        return None
    return root


def _first_shared_node(root: yaml.Node) -> yaml.Node | None:
    # An alias is the same node object reached twice. Refusing them also stops "billion laughs"
    # files, which are small as text but explode when walked.
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            return node
        seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
    return None


# What a problem is about, in each language (problems.Said): no message mixes the two.
_FORM = Said("formulir", "the form")
_KINDS_ID = {"field": "pertanyaan", "group": "grup", "repeat": "ulangan"}


def _a(kind: str) -> Said:
    return Said(_KINDS_ID.get(kind, f"pertanyaan {kind}"), f"a {kind}")


def _the(kind: str, name: str) -> Said:
    return Said(f"{_KINDS_ID[kind]} '{name}'", f"the {kind} '{name}'")


class _Reader(NodeReader):
    """Reads a whole form document; the value primitives are NodeReader's."""

    def __init__(self, filename: str) -> None:
        super().__init__(filename)
        self.inline_lists: list[tuple[ChoiceList, yaml.Node]] = []

    # --- the document -------------------------------------------------------------------------
    def form(self, root: yaml.Node) -> Form | None:
        top = self.mapping(root, _FORM, TOP_KEYS)
        if top is None:
            return None
        settings = self.settings(top.get("settings"), root)
        choices = self.choice_lists(top.get("choices"))
        fields_node = top.get("fields")
        if fields_node is None:
            self.report("form.missing_key", root, owner=_FORM, key="fields")
            return None
        fields = self.fields(fields_node, _FORM, depth=0)
        for chosen, node in self.inline_lists:
            if chosen.name in choices:
                self.report("form.duplicate_choice_list", node, name=chosen.name)
            choices[chosen.name] = chosen
        if settings is None or fields is None:
            return None
        return Form(settings=settings, fields=fields, choices=choices,
                    attachments=self.attachments(top.get("attachments")))

    def attachments(self, node: yaml.Node | None) -> dict[str, list[dict[str, str]]]:
        """The rows of the CSV files an XLSForm brought (domain/attachments.py): file -> rows."""
        files = self.mapping(node, "attachments", frozenset(scalar_keys(node))) if node is not None else None
        out: dict[str, list[dict[str, str]]] = {}
        for file, rows in (files or {}).items():
            if not isinstance(rows, yaml.SequenceNode):
                self.bad(rows, file, Said("daftar baris", "a list of rows"), "- {name: a, nilai: '1'}")
                continue
            out[file] = [self.parameters(item) for item in rows.value]
        return out

    def settings(self, node: yaml.Node | None, root: yaml.Node) -> Settings | None:
        if node is None:
            self.report("form.missing_key", root, owner=_FORM, key="settings")
            return None
        entries = self.mapping(node, "settings", SETTINGS_KEYS)
        if entries is None:
            return None
        self.language = self.scalar(entries.get("default_language"), "default_language") or "id"
        for key, value_node in entries.items():
            self.where.add(("settings", key), self.loc(value_node))
        form_id, version = self.scalar(entries.get("id"), "id"), self.scalar(entries.get("version"), "version")
        for key, value in (("id", form_id), ("version", version)):
            if not value:
                self.report("form.missing_key", node, owner="settings", key=key)
        if not form_id or not version:
            return None
        return Settings(
            id=form_id, version=version, title=self.text(entries.get("title"), "title"),
            default_language=self.language,
            instance_name=self.expression(entries.get("instance_name"), "instance_name", ("settings",)),
            registry=read_registry(self, entries["registry"]) if "registry" in entries else None,
            xlsform=self.parameters(entries.get("xlsform")),
        )

    def fields(self, node: yaml.Node, owner: str | Said, depth: int) -> list[Field] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.bad(node, "fields",
                     Said("daftar pertanyaan (baris diawali '- ')", "a list of fields (lines starting with '- ')"),
                     "- {type: text, name: nama}")
            return None
        if not node.value:
            self.report("form.no_fields", node, owner=owner)
        out = [self.field(item, depth) for item in node.value]
        return [f for f in out if f is not None] if all(f is not None for f in out) else None

    def field(self, node: yaml.Node, depth: int) -> Field | None:
        if not isinstance(node, yaml.MappingNode):
            self.bad(node, "fields",
                     Said("pertanyaan (pemetaan dengan type dan name)", "a field (a mapping with type and name)"),
                     "- {type: text, name: nama}")
            return None
        type_node = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == "type"), None)
        type_text = self.scalar(type_node, "type") or ""
        kind = type_text.split()[0] if type_text.split() else ""
        if kind in ("group", "repeat"):
            return self.container(node, kind, depth)
        return self.question(node, type_text)

    def _identity(self, node: yaml.Node, entries: dict[str, yaml.Node], owner: str | Said) -> tuple[str, str] | None:
        type_text, name = self.scalar(entries.get("type"), "type"), self.scalar(entries.get("name"), "name")
        for key, value in (("type", type_text), ("name", name)):
            if not value:
                self.report("form.missing_key", node, owner=owner, key=key)
        if not type_text or not name:
            return None
        self.where.add(("field", name), self.loc(node))
        for key, value_node in entries.items():
            self.where.add(("field", name, key), self.loc(value_node))
        return type_text, name

    def question(self, node: yaml.Node, type_text: str) -> Question | None:
        entries = self.mapping(node, _a(type_text or "field"), QUESTION_KEYS)
        identity = self._identity(node, entries or {}, _a("field")) if entries is not None else None
        if entries is None or identity is None:
            return None
        words, name = identity[0].split(), identity[1]
        if len(words) > 2:
            self.bad(entries["type"], "type",
                     Said("jenis, boleh diikuti daftar pilihan", "a type, optionally followed by a choice list"),
                     "select_one ya_tidak")
        choices = words[1] if len(words) == 2 else None
        if choices is not None and "choices" in entries:
            self.bad(entries["choices"], "choices",
                     Said("tidak ada bila jenisnya sudah menyebut daftar", "absent when the type names a list"),
                     f"type: {identity[0]}")
        elif "choices" in entries:
            choices = self.field_choices(entries["choices"], name)
        owner = ("field", name)
        attributes: dict[str, Any] = {key: self.text(entries.get(key), key) for key in TEXT_KEYS}
        attributes |= {key: self.expression(entries.get(key), key, owner) for key in EXPRESSION_KEYS - {"repeat_count"}}
        return Question(
            type=words[0], name=name, choices=choices, **attributes,
            required=self.flag(entries.get("required"), "required"),
            read_only=self.flag(entries.get("read_only"), "read_only"),
            default=self.expression(entries.get("default"), "default", owner),
            appearance=self.scalar(entries.get("appearance"), "appearance"),
            parameters=self.parameters(entries.get("parameters")),
            xlsform=self.parameters(entries.get("xlsform")),
        )

    def parameters(self, node: yaml.Node | None) -> dict[str, str]:
        if node is None:
            return {}
        entries = self.mapping(node, "parameters", frozenset(scalar_keys(node)))
        return {key: value for key, value_node in (entries or {}).items()
                if (value := self.scalar(value_node, key)) is not None}

    def container(self, node: yaml.Node, kind: str, depth: int) -> Field | None:
        entries = self.mapping(node, _a(kind), GROUP_KEYS if kind == "group" else REPEAT_KEYS)
        identity = self._identity(node, entries or {}, _a(kind)) if entries is not None else None
        if entries is None or identity is None:
            return None
        name = identity[1]
        if depth >= MAX_DEPTH:
            self.report("form.too_deep", node, limit=MAX_DEPTH)
            return None
        if "fields" not in entries:
            self.report("form.missing_key", node, owner=_the(kind, name), key="fields")
            return None
        children = self.fields(entries["fields"], _the(kind, name), depth + 1)
        if children is None:
            return None
        common: dict[str, Any] = {"name": name, "label": self.text(entries.get("label"), "label"),
                                  "hint": self.text(entries.get("hint"), "hint"), "fields": children,
                                  "relevant": self.expression(entries.get("relevant"), "relevant", ("field", name))}
        if kind == "group":
            layout = self.scalar(entries.get("layout"), "layout") or "section"
            if layout not in ("page", "section"):
                self.bad(entries["layout"], "layout", Said("page atau section", "page or section"), "layout: page")
                layout = "section"
            return Group(layout=layout, **common)  # type: ignore[arg-type]
        return Repeat(
            repeat_count=self.expression(entries.get("repeat_count"), "repeat_count", ("field", name)),
            min_count=self.integer(entries.get("min_count"), "min_count"),
            max_count=self.integer(entries.get("max_count"), "max_count"), **common,
        )

    # --- choices ------------------------------------------------------------------------------
    def choice_lists(self, node: yaml.Node | None) -> dict[str, ChoiceList]:
        if node is None:
            return {}
        entries = self.mapping(node, "choices", frozenset(scalar_keys(node)))
        out: dict[str, ChoiceList] = {}
        for name, value_node in (entries or {}).items():
            self.where.add(("choices", name), self.loc(value_node))
            chosen = self.choice_list(name, value_node)
            if chosen is not None:
                out[name] = chosen
        return out

    def field_choices(self, node: yaml.Node, field_name: str) -> str | None:
        """`choices: list_name`, or choices written inline, which become a list named after the field."""
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, "choices")
        self.where.add(("choices", field_name), self.loc(node))
        chosen = self.choice_list(field_name, node)
        if chosen is not None:
            self.inline_lists.append((chosen, node))
        return field_name

    def choice_list(self, name: str, node: yaml.Node) -> ChoiceList | None:
        if isinstance(node, yaml.MappingNode) and len(node.value) == 1 and node.value[0][0].value == "wilayah":
            return self.region_list(name, node.value[0][1])
        if isinstance(node, yaml.MappingNode):  # {L: Laki-laki, P: Perempuan}
            pairs: Iterable[tuple[yaml.Node, yaml.Node]] = node.value
            choices = [self.short_choice(name, key_node, value_node) for key_node, value_node in pairs]
        elif isinstance(node, yaml.SequenceNode):
            choices = [self.long_choice(name, item) for item in node.value]
        else:
            self.bad(node, f"choices {name}",
                     Said("daftar pilihan atau {wilayah: ...}", "a list of choices or {wilayah: ...}"),
                     "- {name: ya, label: Ya}")
            return None
        if not node.value:  # a select_one_from_file list whose CSV was not uploaded is only a warning
            self.report("form.empty_file_list" if file_format(name) else "form.empty_choice_list",
                        node, name=name)
        seen: set[str] = set()
        for choice, item in zip(choices, node.value, strict=True):
            if choice is not None and choice.name in seen:
                self.report("form.duplicate_choice", item[0] if isinstance(item, tuple) else item,
                            choice=choice.name, list=name)
            if choice is not None:
                seen.add(choice.name)
        return ChoiceList(name=name, choices=[c for c in choices if c is not None])

    def short_choice(self, list_name: str, key_node: yaml.Node, value_node: yaml.Node) -> Choice | None:
        key = self.scalar(key_node, f"choices {list_name}")
        if key is None:
            return None
        self.where.add(("choice", list_name, key), self.loc(key_node))
        return Choice(name=key, label=self.text(value_node, "label"))

    def long_choice(self, list_name: str, node: yaml.Node) -> Choice | None:
        entries = self.mapping(node, Said(f"pilihan di {list_name}", f"a choice of {list_name}"),
                               frozenset(scalar_keys(node)) | {"name", "label"})
        if entries is None:
            return None
        name = self.scalar(entries.get("name"), "name")
        if not name:
            self.report("form.missing_key", node, owner=Said(f"pilihan di {list_name}", f"a choice of {list_name}"),
                        key="name")
            return None
        self.where.add(("choice", list_name, name), self.loc(node))
        columns = {key: value for key, value_node in entries.items() if key not in ("name", "label")
                   if (value := self.scalar(value_node, key)) is not None}
        return Choice(name=name, label=self.text(entries.get("label"), "label"), columns=columns)

    def region_list(self, name: str, node: yaml.Node) -> ChoiceList | None:
        spec = self.scalar(node, "wilayah") or ""
        try:
            return ChoiceList(name=name, choices=list(region_choices(spec)), wilayah=spec)
        except RegionError as exc:
            self.report("form.unknown_wilayah", node, spec=spec, reason=str(exc))
            return None


def form_document(form: Form) -> dict[str, Any]:
    """Form -> the plain document staff write (settings, choices, fields): empty attributes left
    out, region lists as their `wilayah:` source. encode_yaml and `forms convert` to JSON use it."""
    data = prune(msgspec.to_builtins(form))
    for field in _walk_builtins(data["fields"]):
        kind = field.pop("kind")
        if kind != "question":
            field["type"] = kind
        elif "choices" in field:  # the XLSForm-style shorthand staff know: select_one ya_tidak
            field["type"] = f"{field['type']} {field.pop('choices')}"
        if field.get("layout") == "section":
            del field["layout"]
    if data["settings"].get("default_language") == "id":
        del data["settings"]["default_language"]
    choices = _choices_out(data.get("choices", {}))
    return {"settings": data["settings"], **({"choices": choices} if choices else {}), "fields": data["fields"],
            **({"attachments": data["attachments"]} if data.get("attachments") else {})}


def encode_yaml(form: Form) -> bytes:
    return yaml.dump(form_document(form), Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=110,
                     default_flow_style=None).encode()


def _walk_builtins(fields: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    for field in fields:
        yield field
        yield from _walk_builtins(field.get("fields", []))


def _choices_out(lists: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, chosen in lists.items():
        if chosen.get("wilayah"):
            out[name] = {"wilayah": chosen["wilayah"]}
        else:
            out[name] = [{"name": c["name"], **({"label": c["label"]} if c.get("label") else {}),
                          **c.get("columns", {})} for c in chosen.get("choices", [])]
    return out


class _Dumper(yaml.SafeDumper):
    """SafeDumper quotes strings that would read back as another type ('yes', '0102')."""


def _order_field_keys(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    first = [k for k in ("type", "name") if k in data]
    ordered = {k: data[k] for k in first} | {k: v for k, v in data.items() if k not in first}
    return dumper.represent_dict(ordered.items())


_Dumper.add_representer(dict, _order_field_keys)
