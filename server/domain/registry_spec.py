"""Reading a form's `registry:` block (settings.registry) from the YAML node tree, key by key, so an
unknown key, a missing one or a value outside its choices is a problem with file:line like any other.
The meaning of the block is in form.Registry; the checks against the form's fields are in check.py."""

from __future__ import annotations

from typing import Any

import msgspec
import yaml

from server.domain.form import Registry, RegistryCreates, RegistryGrowth, RegistryRefers
from server.domain.problems import Loc, Problem, Said, has_errors, problem
from server.domain.yaml_reader import NodeReader, prune, scalar_keys

REGISTRY_KEYS = frozenset(Registry.__struct_fields__)
_PARTS: dict[str, type[msgspec.Struct]] = {"creates": RegistryCreates, "refers": RegistryRefers,
                                           "growth": RegistryGrowth}
# Keys whose value must be one of a few words, and the example the problem shows.
CHOICES: dict[str, tuple[str, ...]] = {
    "same_nik": ("update", "flag"),
    "visit_every": ("monthly", "quarterly", "none"),
    "event": ("visit", "growth"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "registry": ("programme",),
    "creates": ("name", "area"),
    "refers": ("beneficiary",),
    "growth": ("sex", "birth_date", "weight", "length"),
}
_MAPPINGS = frozenset({"baseline", "figures"})  # figure key -> field name
_BAD = object()  # a value already reported as a problem


def _either(words: tuple[str, ...], conjunction: str) -> str:
    return f" {conjunction} ".join(f"'{w}'" for w in words)


def read_registry(reader: NodeReader, node: yaml.Node) -> Registry | None:
    raw = _part(reader, node, "registry", REGISTRY_KEYS)
    if raw is None:
        return None
    try:
        return msgspec.convert(raw, Registry)
    except msgspec.ValidationError as exc:  # a shape the key-by-key reading did not catch
        reader.bad(node, "registry", Said(f"blok registry yang sah ({exc})", f"a valid registry block ({exc})"),
                   "registry: {programme: uep, ...}")
        return None


def _part(reader: NodeReader, node: yaml.Node, owner: str, known: frozenset[str]) -> dict[str, Any] | None:
    entries = reader.mapping(node, f"registry {owner}" if owner != "registry" else "registry", known)
    if entries is None:
        return None
    out: dict[str, Any] = {}
    bad: set[str] = set()
    for key, value_node in entries.items():
        reader.where.add(("registry", owner, key), reader.loc(value_node))
        value = _value(reader, key, value_node)
        if value is _BAD:
            bad.add(key)
        elif value is not None:
            out[key] = value
    ok = not bad
    for key in REQUIRED[owner]:
        if key not in out and key not in bad:
            reader.report("form.missing_key", node, owner="registry" if owner == "registry" else f"registry {owner}",
                          key=key)
            ok = False
    return out if ok else None


def _value(reader: NodeReader, key: str, node: yaml.Node) -> Any:
    if key in _PARTS:
        part = _part(reader, node, key, frozenset(_PARTS[key].__struct_fields__))
        return _BAD if part is None else part
    if key in _MAPPINGS:
        pairs = reader.mapping(node, f"registry {key}", frozenset(scalar_keys(node)))
        return {k: v for k, value_node in (pairs or {}).items() if (v := reader.scalar(value_node, k))}
    if key == "one_per_kk":
        flag = reader.flag(node, key)
        if isinstance(flag, str):
            reader.bad(node, key, Said("'yes' atau 'no'", "'yes' or 'no'"), "one_per_kk: yes")
            return _BAD
        return flag
    value = reader.scalar(node, key)
    if key in CHOICES and value is not None and value not in CHOICES[key]:
        reader.bad(node, key, Said(_either(CHOICES[key], "atau"), _either(CHOICES[key], "or")),
                   f"{key}: {CHOICES[key][0]}")
        return _BAD
    return value


def registry_text(registry: Registry) -> str:
    """The block as one line of JSON, for an XLSForm settings cell (`registry` column)."""
    return msgspec.json.encode(prune(msgspec.to_builtins(registry))).decode()


def registry_from_text(text: str, at: Loc) -> tuple[Registry | None, list[Problem]]:
    """The `registry` cell of an XLSForm settings sheet (JSON, or YAML flow style); every problem is
    placed at the cell, since a cell has no lines of its own."""
    reader = NodeReader(at.file)
    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        return None, [problem("form.yaml", at, reason=f"registry: {type(exc).__name__}")]
    registry = read_registry(reader, node) if node is not None else None
    moved = [msgspec.structs.replace(p, file=at.file, line=at.line, column=at.column) for p in reader.problems]
    return (registry if not has_errors(moved) else None), moved
