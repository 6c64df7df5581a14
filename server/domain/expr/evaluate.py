"""Evaluation: each AST is compiled once into nested Python closures, cached per Expr, then run.

A form re-evaluates ~80 expressions on every save; walking the tree and dispatching on node type
each time would cost more than the work. Evaluation is total: wrong types give NaN, "" or false
as in XPath, never an exception."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from server.domain.expr.context import Context, lookup, rows_of
from server.domain.expr.functions import FUNCTIONS, Compiled
from server.domain.expr.nodes import BinOp, Call, Col, Current, Expr, Inst, Neg, Num, Ref, Str
from server.domain.expr.values import (
    INF,
    NAN,
    Value,
    equals,
    normalize,
    to_boolean,
    to_number,
    to_string,
)

log = logging.getLogger(__name__)

# Keyed by identity, not by value: hashing a frozen AST walks the whole tree, and that hash cost more
# than evaluating most rules. The entry keeps the Expr alive, so its id cannot be reused meanwhile.
_cache: dict[int, tuple[Expr, Compiled]] = {}
_CACHE_LIMIT = 8192


def evaluate(expr: Expr, ctx: Context) -> Value:
    """str | float | bool, or a list of those for a nodeset (a field of another repeat).
    Dates and datetimes are ISO strings."""
    try:
        return compile_expr(expr)(ctx)
    except Exception:  # a bug here must not reject a submission; it is logged to be fixed
        log.exception("expression evaluation failed")  # no repr(expr): it may be what overflowed
        return ""


def compile_expr(expr: Expr) -> Compiled:
    entry = _cache.get(id(expr))
    if entry is not None and entry[0] is expr:
        return entry[1]
    compiled = _compile(expr)
    if len(_cache) >= _CACHE_LIMIT:
        _cache.clear()
    _cache[id(expr)] = (expr, compiled)
    return compiled


def _constant(value: Value) -> Compiled:
    return lambda ctx: value


def _empty(ctx: Context) -> Value:
    return ""


def _current(ctx: Context) -> Value:
    return normalize(ctx.current)


def _compile(node: Expr) -> Compiled:
    if isinstance(node, Num):
        return _constant(to_number(node.v))
    if isinstance(node, Str):
        return _constant(to_string(node.v))
    if isinstance(node, Ref):
        name = node.name
        return lambda ctx: lookup(name, ctx)
    if isinstance(node, Current):
        return _current
    if isinstance(node, Neg):
        arg = _compile(node.arg)
        return lambda ctx: -to_number(arg(ctx))
    if isinstance(node, BinOp):
        return _compile_binary(node)
    if isinstance(node, Call):
        return _compile_call(node)
    if isinstance(node, Inst):
        return _compile_instance(node)
    if isinstance(node, Col):
        column = node.name
        return lambda ctx: normalize(ctx.row.get(column)) if ctx.row is not None else ""
    return _empty  # Parent: only meaningful inside position(..), which ignores its value


def _compile_instance(node: Inst) -> Compiled:
    name, get = node.id, node.get
    where = [_compile(predicate) for predicate in node.where]

    def selected(ctx: Context) -> Value:
        rows = rows_of(ctx, name)
        for predicate in where:
            rows = [row for index, row in enumerate(rows, 1) if _passes(predicate, ctx, row, index)]
        if get:
            return [to_string(normalize(row[get])) for row in rows if get in row]
        return [row_text(row) for row in rows]

    return selected


def row_text(row: Mapping[str, Any]) -> str:
    """An item's XPath string value: the text of all its columns, joined."""
    return "".join(to_string(normalize(value)) for value in row.values())


def _passes(predicate: Compiled, ctx: Context, row: Mapping[str, Any], index: int) -> bool:
    # Inside [...], '.' is the row and a bare name its column; a number n means "the n-th row".
    value = predicate(msgspec.structs.replace(ctx, row=row, current=row_text(row)))
    if isinstance(value, float):
        return value == index
    return to_boolean(value)


def _compile_binary(node: BinOp) -> Compiled:
    left, right, op = _compile(node.left), _compile(node.right), node.op
    if op == "and":
        return lambda ctx: to_boolean(left(ctx)) and to_boolean(right(ctx))
    if op == "or":
        return lambda ctx: to_boolean(left(ctx)) or to_boolean(right(ctx))
    if op == "=":
        return lambda ctx: equals(left(ctx), right(ctx))
    if op == "!=":
        return lambda ctx: not equals(left(ctx), right(ctx))
    numeric = _NUMERIC.get(op)
    if numeric is None:
        return _empty
    return lambda ctx: numeric(to_number(left(ctx)), to_number(right(ctx)))


def _divide(a: float, b: float) -> float:
    if b == 0:  # XPath: 1 div 0 = Infinity, -1 div 0 = -Infinity, 0 div 0 = NaN
        if a == 0 or a != a:
            return NAN
        return math.copysign(INF, a) * math.copysign(1.0, b)
    return a / b


def _modulo(a: float, b: float) -> float:
    if b == 0 or math.isinf(a) or a != a or b != b:
        return NAN
    return math.fmod(a, b)  # the sign of the dividend, as XPath and JS '%'


_NUMERIC: dict[str, Callable[[float, float], Value]] = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "div": _divide,
    "mod": _modulo,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compile_call(node: Call) -> Compiled:
    definition = FUNCTIONS.get(node.fn)
    count = len(node.args)
    if (
        definition is None
        or count < definition.min_args
        or (definition.max_args is not None and count > definition.max_args)
    ):
        return _empty  # parse() and from_json() refuse these; a hand-built tree gets ""
    if definition.node is not None:
        return definition.node(node)
    args = tuple(_compile(arg) for arg in node.args)
    lazy, impl = definition.lazy, definition.impl
    if lazy is not None:
        return lambda ctx: lazy(args, ctx)
    if impl is None:
        return _empty
    if count == 1:
        (only,) = args
        return lambda ctx: impl([only(ctx)], ctx)
    return lambda ctx: impl([arg(ctx) for arg in args], ctx)
