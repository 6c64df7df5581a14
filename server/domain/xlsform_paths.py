"""XPath paths in XLSForm expressions, written in Pantau's own terms. pyxform passes an expression
through as XPath once ${name} is expanded, so ODK forms use paths Pantau's language has no syntax
for. Those whose meaning is one field are rewritten when the workbook is read:

- `${t}[1]/s`, `${t}[1]/g/s` (groups on the way), `${t}[position() = X]/s`: the field s of the
  instance of the repeat t at that position, which is `indexed-repeat(${s}, ${t}, 1)`; a repeat on
  the way (`${t}[1]/r/s`) takes its first instance, as XPath's value of a path does;
- `position(current()/..)` (up to the repeat the field is in, through its groups): `position(..)`;
- `/data/g/x`, an absolute path from the form's root to a field: `${x}`.

Any other path is left as written, and the expression check names it (form.bad_expression).
xlsform.py reports each rewrite (xlsform.path_rewritten), so the author sees what the form reads."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import msgspec

from server.domain.form import Field, Group, Question, Repeat

_NAME = r"[A-Za-z_][A-Za-z0-9_.-]*"
_STEPS = re.compile(rf"(?:/{_NAME})+")
_ABSOLUTE = re.compile(rf"/{_NAME}((?:/{_NAME})+)")
_CURRENT = re.compile(r"position\(\s*current\(\)((?:/\.\.)+)\s*\)")
_POSITION = re.compile(r"^\s*position\(\)\s*=\s*(.+?)\s*$", re.DOTALL)
ATTRIBUTES = ("relevant", "constraint", "calculation", "default", "choice_filter", "trigger", "required",
              "read_only", "repeat_count")


class _Tree:
    """Each field's chain of containers, outermost first, and each container's children."""

    def __init__(self, fields: list[Field]) -> None:
        self.root = fields
        self.chain: dict[str, list[Group | Repeat]] = {}
        self._visit(fields, [])

    def _visit(self, fields: list[Field], chain: list[Group | Repeat]) -> None:
        for f in fields:
            self.chain.setdefault(f.name, chain)
            if isinstance(f, Group | Repeat):
                self._visit(f.fields, [*chain, f])

    def walk(self, start: list[Field], steps: list[str]) -> list[Field] | None:
        """The fields a path of child steps passes through from `start`, or None when one is missing."""
        out: list[Field] = []
        children = start
        for step in steps:
            found = next((f for f in children if f.name == step), None)
            if found is None:
                return None
            out.append(found)
            children = found.fields if isinstance(found, Group | Repeat) else []
        return out


def rewrite(fields: list[Field], said: Callable[[str, str, str, str], None]) -> list[Field]:
    """The fields with their expressions' paths rewritten; said(field, attribute, before, after) for each."""
    tree = _Tree(fields)

    def visit(items: list[Field]) -> list[Field]:
        out: list[Field] = []
        for f in items:
            changes: dict[str, object] = {}
            for attribute in ATTRIBUTES:
                text = getattr(f, attribute, None)
                if not isinstance(text, str) or ("/" not in text and "[" not in text):
                    continue
                written = _rewrite_text(text, f.name, tree)
                if written != text:
                    changes[attribute] = written
                    said(f.name, attribute, text, written)
            if isinstance(f, Group | Repeat):
                changes["fields"] = visit(f.fields)
            out.append(msgspec.structs.replace(f, **changes) if changes else f)
        return out

    return visit(fields)


def _rewrite_text(text: str, owner: str, tree: _Tree) -> str:
    text = _CURRENT.sub(lambda m: _current(m, owner, tree), text)
    pieces: list[str] = []
    i = 0
    for start, end, replacement in _paths(text, tree):
        pieces += [text[i:start], replacement]
        i = end
    return "".join(pieces) + text[i:]


def _current(match: re.Match[str], owner: str, tree: _Tree) -> str:
    """position(current()/../..): the number of '..' that climbs from the field to its innermost repeat."""
    ups = match.group(1).count("..")
    chain = tree.chain.get(owner, [])
    landing, below = (chain[-ups], chain[len(chain) - ups + 1:]) if 1 <= ups <= len(chain) else (None, [])
    if isinstance(landing, Repeat) and not any(isinstance(c, Repeat) for c in below):
        return "position(..)"
    return match.group(0)


def _paths(text: str, tree: _Tree) -> Iterator[tuple[int, int, str]]:
    """(start, end, replacement) of each rewritable path, outside string literals, left to right."""
    i = 0
    while i < len(text):
        char = text[i]
        if char in "'\"":
            close = text.find(char, i + 1)
            i = len(text) if close < 0 else close + 1
            continue
        if text.startswith("${", i):
            found = _indexed(text, i, tree)
            if found is not None:
                yield found
                i = found[1]
                continue
        if char == "/" and _starts_operand(text, i):
            match = _ABSOLUTE.match(text, i)
            if match is not None:
                target = tree.walk(tree.root, match.group(1).split("/")[1:])
                if target and isinstance(target[-1], Question):
                    yield i, match.end(), "${" + target[-1].name + "}"
                    i = match.end()
                    continue
        i += 1


def _starts_operand(text: str, i: int) -> bool:
    before = text[:i].rstrip()
    return not before or before[-1] in "(,=<>+-*|" or before.endswith((" and", " or", " div", " mod"))


def _indexed(text: str, i: int, tree: _Tree) -> tuple[int, int, str] | None:
    """${t}[predicate]/steps/field -> indexed-repeat(${field}, ${t}, position[, ${r}, 1 ...])."""
    close = text.find("}", i)
    if close < 0 or not text.startswith("[", close + 1):
        return None
    name = text[i + 2:close]
    end = _bracket_end(text, close + 1)
    steps = _STEPS.match(text, end + 1) if end is not None else None
    if end is None or steps is None:
        return None
    repeat = next((c for chain in tree.chain.values() for c in chain if c.name == name), None)
    if not isinstance(repeat, Repeat):
        return None
    passed = tree.walk(repeat.fields, steps.group(0).split("/")[1:])
    if not passed or not isinstance(passed[-1], Question):
        return None
    predicate = text[close + 2:end]
    position = _POSITION.match(predicate)
    index = position.group(1) if position else predicate.strip()
    if "position()" in index or not index:
        return None
    inner = "".join(f", ${{{f.name}}}, 1" for f in passed[:-1] if isinstance(f, Repeat))
    return i, steps.end(), f"indexed-repeat(${{{passed[-1].name}}}, ${{{name}}}, {index}{inner})"


def _bracket_end(text: str, i: int) -> int | None:
    """The index of the ']' closing the '[' at i, skipping strings and nested brackets."""
    depth = 0
    j = i
    while j < len(text):
        char = text[j]
        if char in "'\"":
            close = text.find(char, j + 1)
            if close < 0:
                return None
            j = close
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return None
