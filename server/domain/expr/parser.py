"""Text -> AST, once, with XPath 1.0 precedence: or < and < = != < < <= > >= < + - < * div mod < unary -.

Unknown functions and wrong argument counts are found here, not when a phone evaluates the form.
static/js/expr.js has the same parser; tests/domain/test_expr_js_parity.py keeps the two equal."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import msgspec

from server.domain.expr.errors import ExprError
from server.domain.expr.functions import FUNCTIONS, FunctionDef
from server.domain.expr.lexer import Token, tokenize
from server.domain.expr.nodes import OPERATORS, BinOp, Call, Col, Current, Expr, Inst, Neg, Num, Parent, Ref, Str

MAX_LENGTH = 4000  # characters of expression text
# Brackets, calls and minus signs nested, and the depth of the tree. Bounds recursion in both
# evaluators; a long `a + b + c ...` chain counts too, so split a sum of 100 fields.
MAX_DEPTH = 100

_PRECEDENCE = {
    "or": 1, "and": 2, "=": 3, "!=": 3, "<": 4, "<=": 4, ">": 4, ">=": 4,
    "+": 5, "-": 5, "*": 6, "div": 6, "mod": 6,
}  # fmt: skip
_WORD_OPERATORS = ("and", "or", "div", "mod")
_REF_NAME = re.compile(r"(last-saved#)?[A-Za-z_][A-Za-z0-9_.-]*")  # lexer.LAST_SAVED: ODK's ${last-saved#x}
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_.:-]*")


def parse(text: str) -> Expr:
    """Raises ExprError: expr.syntax, expr.unknown_function, expr.arity or expr.too_long."""
    if len(text) > MAX_LENGTH:
        raise ExprError.of("too_long", MAX_LENGTH + 1, n=len(text), max=MAX_LENGTH)
    if not text.strip(" \t\n\r"):
        raise ExprError.of("empty", 1)
    return _Parser(text).parse()


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.nesting = 0
        self.predicates = 0  # inside instance(...)[...]: a bare name is a column

    def peek(self) -> Token:
        token = self.tokens[self.i]
        if token.kind == "error":
            raise ExprError.of(token.text, token.column, **dict(token.detail))
        return token

    def is_op(self, token: Token, text: str) -> bool:
        return token.kind == "op" and token.text == text

    def parse(self) -> Expr:
        expr, _ = self.binary(1)
        token = self.peek()
        if token.kind != "end":
            raise ExprError.of("unexpected", token.column, text=token.text)
        return expr

    def operator(self) -> str | None:
        """The binary operator at the cursor; None at ')' ',' or the end; an error otherwise."""
        token = self.peek()
        if (token.kind == "op" and token.text in _PRECEDENCE) or (
            token.kind == "name" and token.text in _WORD_OPERATORS
        ):
            return token.text
        if token.kind == "end" or self.is_op(token, ")") or self.is_op(token, ",") or self.is_op(token, "]"):
            return None
        raise ExprError.of("expected_operator", token.column, text=_shown(token))

    def binary(self, min_precedence: int) -> tuple[Expr, int]:
        left, depth = self.unary()
        while (op := self.operator()) is not None and _PRECEDENCE[op] >= min_precedence:
            column = self.peek().column
            self.i += 1
            right, right_depth = self.binary(_PRECEDENCE[op] + 1)
            depth = _deeper(1 + max(depth, right_depth), column)
            left = BinOp(op, left, right)
        return left, depth

    def unary(self) -> tuple[Expr, int]:
        # A loop, not recursion: '- - - ... 1' must end in a clear error, not a RecursionError.
        columns: list[int] = []
        while self.is_op(self.peek(), "-"):
            columns.append(self.peek().column)
            self.i += 1
            if len(columns) + self.nesting > MAX_DEPTH:
                raise ExprError.of("too_deep", columns[-1], max=MAX_DEPTH)
        self.nesting += len(columns)
        expr, depth = self.primary()
        self.nesting -= len(columns)
        for column in reversed(columns):
            depth = _deeper(depth + 1, column)
            expr = Neg(expr)
        return expr, depth

    def primary(self) -> tuple[Expr, int]:
        token = self.peek()
        kind = token.kind
        if kind == "num":
            self.i += 1
            number = float(token.text)
            if not math.isfinite(number):
                raise ExprError.of("number_too_big", token.column, text=token.text)
            return Num(number), 1
        if kind in ("str", "ref", "dot"):
            self.i += 1
            return (Str(token.text) if kind == "str" else Ref(token.text) if kind == "ref" else Current()), 1
        if kind == "dotdot":
            raise ExprError.of("dotdot", token.column)
        if self.is_op(token, "("):
            self.enter(token)
            expr, depth = self.binary(1)
            self.close(token)
            return expr, depth
        if kind == "name":
            return self.name(token)
        if kind == "end":
            raise ExprError.of("end", token.column)
        raise ExprError.of("expected_value", token.column, text=token.text)

    def name(self, token: Token) -> tuple[Expr, int]:
        following = self.tokens[self.i + 1]
        if self.is_op(following, "("):
            return self.instance(token) if token.text == "instance" else self.call(token)
        if token.text in _WORD_OPERATORS:
            raise ExprError.of("operator_word", token.column, text=token.text)
        if self.predicates:
            self.i += 1
            return Col(token.text), 1
        raise ExprError.of("bare_name", token.column, text=token.text)

    def instance(self, name: Token) -> tuple[Expr, int]:
        """instance('id')/root/item[predicate]*(/column)?, the one path shape ODK forms use."""
        bracket = self.tokens[self.i + 1]
        self.i += 1
        self.enter(bracket)
        token = self.peek()
        if token.kind != "str" or not self.is_op(self.tokens[self.i + 1], ")"):
            raise ExprError.of("instance_name", token.column)
        self.i += 1
        self.close(bracket)
        self.step("root")
        self.step("item")
        where: list[Expr] = []
        depth = 1
        while self.is_op(self.peek(), "["):
            predicate, predicate_depth = self.predicate()
            where.append(predicate)
            depth = max(depth, predicate_depth)
        get = ""
        if self.is_op(self.peek(), "/"):
            get = self.step(None)
        return Inst(token.text, tuple(where), get), _deeper(depth + 1, name.column)

    def step(self, expected: str | None) -> str:
        """'/name' of a path: the name, which must be `expected` unless that is None."""
        slash = self.peek()
        if not self.is_op(slash, "/"):
            raise ExprError.of("instance_path", slash.column)
        following = self.tokens[self.i + 1]
        if following.kind != "name" or (expected is not None and following.text != expected):
            raise ExprError.of("instance_path", following.column)
        self.i += 2
        return following.text

    def predicate(self) -> tuple[Expr, int]:
        bracket = self.peek()
        self.enter(bracket)
        self.predicates += 1
        expr, depth = self.binary(1)
        self.predicates -= 1
        token = self.peek()
        if not self.is_op(token, "]"):
            if token.kind == "end":
                raise ExprError.of("unclosed_bracket", bracket.column)
            raise ExprError.of("unexpected", token.column, text=token.text)
        self.i += 1
        self.nesting -= 1
        return expr, depth + 1

    def enter(self, bracket: Token) -> None:
        self.i += 1
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ExprError.of("too_deep", bracket.column, max=MAX_DEPTH)

    def close(self, bracket: Token) -> None:
        token = self.peek()
        if not self.is_op(token, ")"):
            if token.kind == "end":
                raise ExprError.of("unclosed", bracket.column)
            raise ExprError.of("unexpected", token.column, text=token.text)
        self.i += 1
        self.nesting -= 1

    def call(self, name: Token) -> tuple[Expr, int]:
        definition = FUNCTIONS.get(name.text)
        if definition is None:
            raise unknown_function(name.text, name.column)
        bracket = self.tokens[self.i + 1]
        self.i += 1
        self.enter(bracket)
        args: list[Expr] = []
        columns: list[int] = []
        depth = 0
        while not (not args and self.is_op(self.peek(), ")")):
            columns.append(self.peek().column)
            arg, arg_depth = self.argument(name.text)
            args.append(arg)
            depth = max(depth, arg_depth)
            if not self.is_op(self.peek(), ","):
                break
            self.i += 1
        self.close(bracket)
        check_call(definition, args, name.column, columns)
        return Call(name.text, tuple(args)), _deeper(depth + 1, name.column)

    def argument(self, function: str) -> tuple[Expr, int]:
        token = self.peek()
        if function == "position" and token.kind == "dotdot" and self.is_op(self.tokens[self.i + 1], ")"):
            self.i += 1
            return Parent(), 1
        return self.binary(1)


def _shown(token: Token) -> str:
    if token.kind == "str":
        return "'" + token.text + "'" if "'" not in token.text else '"' + token.text + '"'
    if token.kind == "ref":
        return "${" + token.text + "}"
    return token.text or "?"


def _deeper(depth: int, column: int) -> int:
    if depth > MAX_DEPTH:
        raise ExprError.of("too_deep", column, max=MAX_DEPTH)
    return depth


def check_call(definition: FunctionDef, args: Sequence[Expr], column: int, columns: Sequence[int]) -> None:
    count, low, high = len(args), definition.min_args, definition.max_args
    if count < low or (high is not None and count > high):
        kind = "arity_exact" if low == high else "arity_min" if high is None else "arity_range"
        raise ExprError.of(kind, column, text=definition.name, min=low, max=high, n=count)
    problem = definition.check(args) if definition.check else None
    if problem is not None:
        where = columns[problem.arg] if problem.arg < len(columns) else column
        raise ExprError.of(problem.kind, where, **dict(problem.params))


def unknown_function(name: str, column: int) -> ExprError:
    suggestion = suggest(name)
    if suggestion:
        return ExprError.of("unknown_function_hint", column, text=name, fix=suggestion)
    return ExprError.of("unknown_function", column, text=name)


# Names people bring from spreadsheets and other form tools; edit distance alone would offer
# 'string' for 'substring'.
ALIASES = {"substring": "substr", "length": "string-length", "len": "string-length", "iif": "if"}


def suggest(name: str) -> str | None:
    """A known alias, else the closest function name by edit distance if close enough to be a typo."""
    if name.lower() in ALIASES:
        return ALIASES[name.lower()]
    best, best_distance = None, max(1, len(name) // 3) + 1
    for candidate in sorted(FUNCTIONS):
        distance = _edit_distance(name.lower(), candidate)
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best


def _edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def check_tree(expr: Expr) -> None:
    """The rules parse() enforces, for a tree that arrived as JSON (from_json): known functions,
    argument counts, '..' only in position(), finite numbers, valid names, depth. Column is 0."""
    stack: list[tuple[Expr, int, bool, bool]] = [(expr, 1, False, False)]
    while stack:
        node, depth, in_position, in_predicate = stack.pop()
        if depth > MAX_DEPTH:
            raise ExprError.of("too_deep", 0, max=MAX_DEPTH)
        if isinstance(node, Num) and not math.isfinite(node.v):
            raise ExprError.of("number_too_big", 0, text=str(node.v))
        elif isinstance(node, Ref) and not _REF_NAME.fullmatch(node.name):
            raise ExprError.of("bad_ref", 0)
        elif isinstance(node, Parent) and not in_position:
            raise ExprError.of("dotdot", 0)
        elif isinstance(node, Neg):
            stack.append((node.arg, depth + 1, False, in_predicate))
        elif isinstance(node, BinOp):
            if node.op not in OPERATORS:
                raise ExprError.of("expected_operator", 0, text=node.op)
            stack.extend(((node.left, depth + 1, False, in_predicate), (node.right, depth + 1, False, in_predicate)))
        elif isinstance(node, Call):
            definition = FUNCTIONS.get(node.fn)
            if definition is None:
                raise unknown_function(node.fn, 0)
            check_call(definition, node.args, 0, [0] * len(node.args))
            stack.extend((arg, depth + 1, node.fn == "position", in_predicate) for arg in node.args)
        elif isinstance(node, Inst):
            if node.get and not _COLUMN.fullmatch(node.get):
                raise ExprError.of("instance_path", 0)
            stack.extend((where, depth + 2, False, True) for where in node.where)
        elif isinstance(node, Col) and not (in_predicate and _COLUMN.fullmatch(node.name)):
            raise ExprError.of("bare_name", 0, text=node.name)


def from_json(obj: Any) -> Expr:
    """The inverse of nodes.to_json. Raises ExprError (column 0) for a malformed tree (check_tree)."""
    try:
        expr: Expr = msgspec.convert(obj, Expr)
    except (msgspec.ValidationError, RecursionError) as error:
        raise ExprError.of("ast", 0, text=str(error)) from None
    check_tree(expr)
    return expr
