"""The form expression language (XLSForm/ODK compatible): text is parsed once into an AST that
serialises to JSON; this package evaluates it on the server and static/js/expr.js on the phone.
docs/expressions.md is the reference for form authors and for the JSON shape."""

from server.domain.expr import builtins as _builtins  # noqa: F401  registers the built-in functions
from server.domain.expr import odk as _odk  # noqa: F401  and the ODK ones forms from XLSForm use
from server.domain.expr.context import Context
from server.domain.expr.errors import ExprError
from server.domain.expr.evaluate import compile_expr, evaluate
from server.domain.expr.functions import FUNCTIONS, FunctionDef
from server.domain.expr.nodes import (
    BinOp,
    Call,
    Col,
    Current,
    Expr,
    Inst,
    Neg,
    Num,
    Parent,
    Ref,
    Str,
    children,
    references,
    to_json,
)
from server.domain.expr.parser import MAX_DEPTH, MAX_LENGTH, from_json, parse
from server.domain.expr.values import Scalar, Value, to_boolean, to_number, to_string

__all__ = [
    "FUNCTIONS",
    "MAX_DEPTH",
    "MAX_LENGTH",
    "BinOp",
    "Call",
    "Col",
    "Context",
    "Current",
    "Expr",
    "ExprError",
    "FunctionDef",
    "Inst",
    "Neg",
    "Num",
    "Parent",
    "Ref",
    "Scalar",
    "Str",
    "Value",
    "children",
    "compile_expr",
    "evaluate",
    "from_json",
    "parse",
    "references",
    "to_boolean",
    "to_json",
    "to_number",
    "to_string",
]
