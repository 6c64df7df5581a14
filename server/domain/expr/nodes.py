"""The expression AST: frozen msgspec Structs tagged by "t", and their JSON form.

The JSON is the contract with the phone: static/js/expr.js builds exactly the same objects from
the same text and evaluates them. docs/expressions.md ("The AST as JSON") documents the shape."""

from __future__ import annotations

from typing import Any

import msgspec


class _Node(msgspec.Struct, frozen=True, tag_field="t", cache_hash=True):
    """cache_hash: compiled closures are cached per Expr in a dict; hashing a deep tree on every
    lookup would cost more than the evaluation it saves."""


class Num(_Node, tag="num", frozen=True):
    v: float


class Str(_Node, tag="str", frozen=True):
    v: str


class Ref(_Node, tag="ref", frozen=True):
    """${name}"""

    name: str


class Current(_Node, tag="cur", frozen=True):
    """'.': the value of the question the expression belongs to."""


class Parent(_Node, tag="parent", frozen=True):
    """'..': only ever the argument of position(..)."""


class Neg(_Node, tag="neg", frozen=True):
    arg: Expr


class BinOp(_Node, tag="bin", frozen=True):
    """op is one of: or and = != < <= > >= + - * div mod"""

    op: str
    left: Expr
    right: Expr


class Call(_Node, tag="call", frozen=True):
    fn: str
    args: tuple[Expr, ...]


class Inst(_Node, tag="inst", frozen=True):
    """instance('id')/root/item[where]...[where]/get: the rows of a secondary instance (a choice
    list of the form, or a CSV uploaded with it) that pass every predicate, as a nodeset of their
    column `get` ("" for the whole row)."""

    id: str
    where: tuple[Expr, ...]
    get: str


class Col(_Node, tag="col", frozen=True):
    """A bare name inside a predicate: that column of the row being tested."""

    name: str


Expr = Num | Str | Ref | Current | Parent | Neg | BinOp | Call | Inst | Col

OPERATORS = ("or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod")


def to_json(expr: Expr) -> Any:
    """Plain dicts and lists, ready for json.dumps and for the page that embeds the form's rules."""
    # through JSON rather than to_builtins, which keeps `args` a tuple where the JSON has a list
    return msgspec.json.decode(msgspec.json.encode(expr))


def children(node: Expr) -> tuple[Expr, ...]:
    """The sub-expressions directly under a node, including the predicates of an instance path.
    Every walk over a tree (references, the form checks, the repeat rule) descends through this."""
    if isinstance(node, Neg):
        return (node.arg,)
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Inst):
        return node.where
    return ()


def references(expr: Expr) -> frozenset[str]:
    """The field names the expression reads with ${name}."""
    names: set[str] = set()
    stack: list[Expr] = [expr]
    while stack:  # a loop, not recursion: trees from from_json may be deep
        node = stack.pop()
        if isinstance(node, Ref):
            names.add(node.name)
        stack.extend(children(node))
    return frozenset(names)
