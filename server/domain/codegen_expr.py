"""An expression AST -> one Python expression as source text, for the validation function that
codegen.py generates per form version. The closures of expr/evaluate.py stay the reference: every
construct here is written to give exactly what they give (the differential tests compare the two),
and what is not worth writing out (a tree too deep for Python's parser) is handed to them.

Nothing a form author wrote reaches the source unescaped: strings and numbers become Python
literals through repr(), field names appear only inside repr()'d string literals, and functions and
other objects are bound to generated global names (`_f3`), never spelled from form text."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from server.domain.expr import FUNCTIONS, Context, Expr, compile_expr
from server.domain.expr.nodes import BinOp, Call, Current, Inst, Neg, Num, Parent, Ref, Str
from server.domain.expr.values import to_number, to_string

# Deeper trees go to the closures: Python's parser refuses about 200 nested brackets, and the
# closures already answer "" (their own guard) for a tree deeper than the recursion limit.
MAX_INLINE_DEPTH = 40
# Functions whose result depends on the evaluation's clock or place, never folded into a constant.
# uuid() is new at every call; once() reads '.'; the rest read the context's secondary instances.
_CONTEXTUAL = frozenset({"today", "now", "position", "string-length", "uuid", "once", "pulldata", "jr:choice-name",
                         "indexed-repeat"})
_COMPARISONS = frozenset({"<", "<=", ">", ">="})
_ARITHMETIC = frozenset({"+", "-", "*"})
# What generated code knows of a value's type: a float needs no to_number(), a bool no to_boolean().
NUMBER, BOOLEAN, STRING, ANY = "number", "boolean", "string", "any"
Code = tuple[str, str]  # source, kind
# Functions whose every return is a float (the NaN of a bad argument too) or a bool (builtins.py).
_RETURNS = {
    **dict.fromkeys(("number", "int", "round", "count", "count-selected", "sum", "string-length", "min", "max",
                     "position"), NUMBER),
    **dict.fromkeys(("not", "true", "false", "boolean", "selected", "regex", "contains", "starts-with",
                     "ends-with"), BOOLEAN),
}


@dataclass
class Namespace:
    """The generated module's globals: every object the source names, under a generated name."""

    values: dict[str, Any] = field(default_factory=dict)
    _ids: dict[int, str] = field(default_factory=dict)
    _temps: int = 0

    def bind(self, obj: Any, hint: str) -> str:
        """A global name for obj (the same name for the same object). hint is ours, never form text."""
        known = self._ids.get(id(obj))
        if known is not None and self.values[known] is obj:
            return known
        name = f"_{hint}{len(self.values)}"
        self.values[name] = obj
        self._ids[id(obj)] = name
        return name

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"


def literal(value: str | float | bool) -> str:
    """A Python literal for a value of the language; repr() escapes any text."""
    if isinstance(value, bool | str):
        return repr(value)
    if value != value:
        return "_NAN"
    if math.isinf(value):
        return "_INF" if value > 0 else "(-_INF)"
    return repr(float(value))


def depth(expr: Expr) -> int:
    deepest, stack = 0, [(expr, 1)]
    while stack:  # a loop: the tree may be deeper than the recursion limit
        node, level = stack.pop()
        deepest = max(deepest, level)
        if isinstance(node, Neg):
            stack.append((node.arg, level + 1))
        elif isinstance(node, BinOp):
            stack.extend(((node.left, level + 1), (node.right, level + 1)))
        elif isinstance(node, Call):
            stack.extend((arg, level + 1) for arg in node.args)
    return deepest


@dataclass
class ExprWriter:
    """Writes one expression. `answers`, `current` and `ctx` are the names of the generated code's
    variables for the answers mapping, the value of '.' (normalize()d) and a Context with the
    same answers, scope and position (the clock for today(), position for position(..))."""

    ns: Namespace
    scope: dict[str, tuple[str, ...]]
    fold_ctx: Context
    answers: str = "V"
    current: str = "cur"
    ctx: str = "C"
    ctx_with_current: str = "CC"
    needs_current_ctx: bool = False
    uses_current: bool = False  # of the last write(): '.' is read, so `current` must be set

    def write(self, expr: Expr) -> Code:
        self.needs_current_ctx = self.uses_current = False
        if depth(expr) > MAX_INLINE_DEPTH:
            return f"_EVAL({self.ns.bind(expr, 'deep')}, {self._ctx_current()})", ANY
        return self._node(expr)

    def _ctx_current(self) -> str:
        self.needs_current_ctx = True
        return self.ctx_with_current

    def _node(self, node: Expr) -> Code:
        folded = self._fold(node)
        if folded is not None:
            return folded
        if isinstance(node, Num):
            return literal(to_number(node.v)), NUMBER
        if isinstance(node, Str):
            return literal(to_string(node.v)), STRING
        if isinstance(node, Ref):
            return self._ref(node.name), ANY
        if isinstance(node, Current):
            self.uses_current = True
            return self.current, ANY  # normalize()d once before the expression
        if isinstance(node, Neg):
            return f"(-{self.number(node.arg)})", NUMBER
        if isinstance(node, BinOp):
            return self._binary(node)
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Inst):  # instance('x')/root/item[...]: rows of the context, by the closures
            return f"_EVAL({self.ns.bind(node, 'inst')}, {self._ctx_current()})", ANY
        return "''", ANY  # Parent: only meaningful inside position(..), which ignores its value

    def number(self, node: Expr) -> str:
        """to_number() of the node's value: left out where it is a float already, inline for a float."""
        code, kind = self._node(node)
        if kind == NUMBER:
            return code
        t = self.ns.temp()
        return f"({t} if ({t} := {code}).__class__ is float else _TN({t}))"

    def boolean(self, node: Expr) -> str:
        code, kind = self._node(node)
        return code if kind == BOOLEAN else f"_TB({code})"

    def _fold(self, node: Expr) -> Code | None:
        """A subtree that reads no answer, no '.' and no clock: its value, computed now."""
        if isinstance(node, Num | Str) or not _constant(node):
            return None
        try:
            value = compile_expr(node)(self.fold_ctx)
        except Exception:  # the closures would log and give "" at run time: leave it to run time
            return None
        if isinstance(value, list):
            return None
        return literal(value), BOOLEAN if isinstance(value, bool) else NUMBER if isinstance(value, float) else STRING

    def _ref(self, name: str) -> str:
        if self.scope.get(name):
            return f"_LOOKUP({name!r}, {self.ctx})"  # inside a repeat: the reference's lookup
        # lookup()'s common case inline: a str, float or bool answer is its own value; an integer
        # and an absent answer (of a name no repeat is called) without the general path
        t = self.ns.temp()
        helper = "_LOOKUP_ANY" if any(name in path for path in self.scope.values()) else "_LOOKUP_TOP"
        return (f"({t} if ({t} := {self.answers}.get({name!r})).__class__ in _PLAIN "
                f"else {helper}({t}, {name!r}, {self.ctx}))")

    def _binary(self, node: BinOp) -> Code:
        op = node.op
        if op in ("and", "or"):
            return f"({self.boolean(node.left)} {op} {self.boolean(node.right)})", BOOLEAN
        if op in ("=", "!="):
            (left, left_kind), (right, right_kind) = self._node(node.left), self._node(node.right)
            code = f"_EQ({left}, {right})"
            if STRING in (left_kind, right_kind) and left_kind != right_kind and ANY in (left_kind, right_kind):
                # text against a literal text: equals() compares strings when the other side is one
                other, text = (left, right) if right_kind == STRING else (right, left)
                t = self.ns.temp()
                code = f"({t} == {text} if ({t} := {other}).__class__ is str else _EQ({t}, {text}))"
                if (left, right) != (other, text):
                    code = f"({t} == {text} if ({t} := {other}).__class__ is str else _EQ({text}, {t}))"
            return (code if op == "=" else f"(not {code})"), BOOLEAN
        if op in ("div", "mod"):
            helper = "_DIV" if op == "div" else "_MOD"
            return f"{helper}({self.number(node.left)}, {self.number(node.right)})", NUMBER
        if op in _COMPARISONS:
            return f"({self.number(node.left)} {op} {self.number(node.right)})", BOOLEAN
        if op in _ARITHMETIC:
            return f"({self.number(node.left)} {op} {self.number(node.right)})", NUMBER
        return "''", ANY

    def _call(self, node: Call) -> Code:
        definition = FUNCTIONS.get(node.fn)
        count = len(node.args)
        if definition is None or count < definition.min_args or (
                definition.max_args is not None and count > definition.max_args):
            return "''", ANY
        if node.fn == "if":
            condition = self.boolean(node.args[0])
            (then, then_kind), (otherwise, otherwise_kind) = self._node(node.args[1]), self._node(node.args[2])
            return f"({then} if {condition} else {otherwise})", then_kind if then_kind == otherwise_kind else ANY
        if definition.node is not None:  # indexed-repeat() reads its ${names}: the closures
            return f"_EVAL({self.ns.bind(node, 'call')}, {self.ctx})", ANY
        if definition.lazy is not None:
            lazy = self.ns.bind(definition.lazy, "lazy")
            thunks = ", ".join(f"(lambda _c: {self._node(arg)[0]})" for arg in node.args)
            ctx = self._ctx_current() if node.fn == "once" else self.ctx  # once() keeps '.' when it has one
            return f"{lazy}(({thunks},), {ctx})", ANY
        if definition.impl is None:
            return "''", ANY
        if node.fn == "format-date" and count == 2:
            date, pattern = (self._node(arg)[0] for arg in node.args)
            return f"_FORMAT_DATE({date}, {pattern}, {self.ctx})", ANY
        impl = self.ns.bind(definition.impl, "fn")
        args = ", ".join(self._node(arg)[0] for arg in node.args)
        # string-length() without an argument reads '.' from the context
        ctx = self._ctx_current() if node.fn == "string-length" and not node.args else self.ctx
        return f"{impl}([{args}], {ctx})", _RETURNS.get(node.fn, ANY)


def _constant(node: Expr) -> bool:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Ref | Current | Parent | Inst):
            return False
        if isinstance(item, Neg):
            stack.append(item.arg)
        elif isinstance(item, BinOp):
            stack.extend((item.left, item.right))
        elif isinstance(item, Call):
            if item.fn in _CONTEXTUAL:
                return False
            stack.extend(item.args)
    return True
