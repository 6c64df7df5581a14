"""The primitives of reading YAML's node tree: a mapping with known keys, a scalar, a text in one or
more languages, a flag, a whole number, an expression with its place in the file. Problems are
collected with file:line:column, never raised."""

from __future__ import annotations

import difflib
from typing import Any

import yaml

from server.domain.problems import Loc, Problem, Said, problem
from server.domain.sourcemap import Where

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_TRUE = frozenset({"yes", "true", "ya", "y", "on"})
_FALSE = frozenset({"no", "false", "tidak", "n", "off"})


class NodeReader:
    """Reads values from the node tree, collecting problems instead of raising, so one run reports
    them all. load.py reads a whole form with it, registry_spec.py a `registry:` block."""

    def __init__(self, filename: str) -> None:
        self.file = filename
        self.where = Where(filename)
        self.problems: list[Problem] = []
        self.language = "id"

    # --- primitives ---------------------------------------------------------------------------
    def loc(self, node: yaml.Node) -> Loc:
        return Loc(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def report(self, code: str, node: yaml.Node, **params: Any) -> None:
        self.problems.append(problem(code, self.loc(node), **params))

    def mapping(self, node: yaml.Node, owner: str | Said, known: frozenset[str]) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.bad(node, owner, Said("pemetaan (baris kunci: nilai)", "a mapping (key: value lines)"), "name: nama")
            return None
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.bad(key_node, owner, Said("kunci berupa teks", "a text key"), "label: ...")
            elif key in out:
                self.report("form.duplicate_key", key_node, key=key, first_line=out[key].start_mark.line + 1)
            elif key not in known:
                near = difflib.get_close_matches(key, sorted(known), n=1)
                self.report("form.unknown_key", key_node, key=key, owner=owner,
                            known=near[0] if near else ", ".join(sorted(known)))
            else:
                out[key] = value_node
        return out

    def bad(self, node: yaml.Node, key: str | Said, expected: Said, example: str) -> None:
        kinds: dict[type, Said] = {yaml.MappingNode: Said("pemetaan", "a mapping"),
                                   yaml.SequenceNode: Said("daftar", "a list")}
        got = kinds.get(type(node), f"'{raw(node)}'")
        self.report("form.bad_value", node, key=key, expected=expected, got=got, example=example)

    def scalar(self, node: yaml.Node | None, key: str) -> str | None:
        if node is None:
            return None
        if not isinstance(node, yaml.ScalarNode):
            self.bad(node, key, Said("satu nilai", "a single value"), f"{key}: ...")
            return None
        if not node.style and node.value in _NULLS:  # plain style is None (Python) or "" (libyaml)
            return None
        return str(node.value).strip()

    def text(self, node: yaml.Node | None, key: str) -> dict[str, str]:
        """`label: Nama` (default language) or `label: {id: Nama, en: Name}`."""
        if node is None:
            return {}
        if isinstance(node, yaml.ScalarNode):
            value = self.scalar(node, key)
            return {self.language: value} if value else {}
        if not isinstance(node, yaml.MappingNode):
            self.bad(node, key, Said("teks atau {id: ..., en: ...}", "text or {id: ..., en: ...}"),
                     f"{key}: {{id: Nama, en: Name}}")
            return {}
        out: dict[str, str] = {}
        for key_node, value_node in node.value:
            lang, value = self.scalar(key_node, key), self.scalar(value_node, key)
            if lang is None or not lang.isalpha() or len(lang) > 3:
                # Usually a comma inside {id: ..., en: ...} that split the text: show the quoting.
                self.bad(key_node, key, Said("kode bahasa seperti id atau en", "a language code such as id or en"),
                         f'{key}: {{id: "Jalan, gang", en: Street}}')
            elif value:
                out[lang] = value
        return out

    def flag(self, node: yaml.Node | None, key: str) -> bool | str:
        """yes/no, or an expression that decides it per answer."""
        value = self.scalar(node, key)
        if value is None or value.lower() in _FALSE:
            return False
        return True if value.lower() in _TRUE else value

    def integer(self, node: yaml.Node | None, key: str) -> int | None:
        value = self.scalar(node, key)
        if value is None:
            return None
        try:
            return int(value)
        except ValueError:
            assert node is not None
            self.bad(node, key, Said("bilangan bulat", "a whole number"), f"{key}: 1")
            return None

    def expression(self, node: yaml.Node | None, key: str, owner: tuple[str, ...]) -> str | None:
        value = self.scalar(node, key)
        if value is not None and node is not None:
            self.where.add_expression((*owner, key), self.loc(node), content_start(node, self.loc(node)))
        return value


def scalar_keys(node: yaml.Node) -> list[str]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [k.value for k, _ in node.value if isinstance(k, yaml.ScalarNode)]


def raw(node: yaml.Node) -> str:
    return str(node.value)[:40] if isinstance(node, yaml.ScalarNode) else ""


def content_start(node: yaml.Node, loc: Loc) -> Loc | None:
    """Where the expression's first character is, when columns inside it map to the file."""
    if not isinstance(node, yaml.ScalarNode) or node.start_mark.line != node.end_mark.line:
        return None
    if not node.style:
        return loc
    # Inside quotes a column maps 1:1 unless an escape (\x in "...", '' in '...') changed the length.
    unescaped = node.end_mark.column - node.start_mark.column - 2 == len(str(node.value))
    if node.style in ("'", '"') and unescaped:
        return Loc(loc.file, loc.line, loc.column + 1)
    return None


def prune(value: Any) -> Any:
    """Plain values without their empty entries (None, False, "", {}, []): a form or a block as staff write it."""
    if isinstance(value, dict):
        return {k: prune(v) for k, v in value.items() if v not in (None, False, "", {}, [])}
    if isinstance(value, list):
        return [prune(v) for v in value]
    return value
