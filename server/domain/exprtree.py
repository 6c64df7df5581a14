"""What the form pipeline needs to know about expression trees beyond parsing: which references sit
outside an aggregate (sum, count, min, max, concat), and XLSForm's choice_filter, where a bare name such as
`parent` is a column of the choice being filtered. Pantau writes such a column as the reference
${_choice.parent}: field names start with a letter, so it can never mean a field."""

from __future__ import annotations

from typing import Any

from server.domain.expr import Call, Expr, Ref, children
from server.domain.expr.lexer import tokenize

# The functions that take a nodeset (docs/expressions.md "Values").
AGGREGATES = frozenset({"sum", "count", "min", "max", "concat", "count-non-empty", "join", "indexed-repeat"})
CHOICE_PREFIX = "_choice."
_WORD_OPERATORS = frozenset({"and", "or", "div", "mod"})


def rewrite_choice_filter(text: str) -> tuple[str, list[tuple[int, int]]]:
    """`parent = ${kecamatan}` -> `${_choice.parent} = ${kecamatan}`, plus the (rewritten column,
    added length) of each change so an error column can be mapped back to what the author wrote."""
    tokens = tokenize(text)
    out: list[str] = []
    shifts: list[tuple[int, int]] = []
    done = 0
    predicates = 0
    for previous, token, following in zip([None, *tokens], tokens, tokens[1:], strict=False):
        is_call = following.kind == "op" and following.text == "("
        predicates += (token.kind, token.text) == ("op", "[")
        predicates -= (token.kind, token.text) == ("op", "]")
        in_path = predicates > 0 or (previous is not None and (previous.kind, previous.text) == ("op", "/"))
        if token.kind != "name" or token.text in _WORD_OPERATORS or is_call or in_path:
            continue  # instance('x')/root/item[col = 1]/label: names of the path, not choice columns
        start = token.column - 1
        out.append(text[done:start])
        replacement = "${" + CHOICE_PREFIX + token.text + "}"
        shifts.append((start + 1 + sum(n for _, n in shifts), len(replacement) - len(token.text)))
        out.append(replacement)
        done = start + len(token.text)
    out.append(text[done:])
    return "".join(out), shifts


def original_column(column: int, shifts: list[tuple[int, int]]) -> int:
    return column - sum(added for at, added in shifts if at < column)


def choice_columns(names: frozenset[str]) -> frozenset[str]:
    return frozenset(n[len(CHOICE_PREFIX):] for n in names if n.startswith(CHOICE_PREFIX))


def refs_outside_aggregates(expr: Expr) -> set[str]:
    """The ${names} not inside an argument of an aggregate (sum, count, join, ...: AGGREGATES). A name
    in an instance path's [...] counts: the predicate compares one value, as any other operand does."""
    names: set[str] = set()
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Ref):
            names.add(node.name)
        elif not (isinstance(node, Call) and node.fn in AGGREGATES):
            stack.extend(children(node))
    return names


def functions_called(tree: Any) -> frozenset[str]:
    """The function names in expression trees as JSON (to_json), however they are nested in lists
    and dicts: a compiled form's rules."""
    names: set[str] = set()
    stack: list[Any] = [tree]
    while stack:  # a loop, not recursion: a form holds many trees, some deep
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("t") == "call" and isinstance(node.get("fn"), str):
                names.add(node["fn"])
            elif node.get("t") == "inst":
                names.add("instance")  # a path, evaluated by the same file as the ODK functions
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(names)
