"""The function registry: each built-in registers here once, with its arity, its one-line docs in
Indonesian and English and its implementation (STYLE.md 9). The parser checks names and argument
counts against it; the evaluator calls it; docs/expressions.md must describe every entry."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from server.domain.expr.context import Context
from server.domain.expr.nodes import Call, Expr
from server.domain.expr.values import Value

Compiled = Callable[[Context], Value]
EagerImpl = Callable[[list[Value], Context], Value]
LazyImpl = Callable[[Sequence[Compiled], Context], Value]
NodeImpl = Callable[[Call], Compiled]


class Problem(NamedTuple):
    """What a static check found in a call, for the parser to report at that argument's column."""

    arg: int
    kind: str  # a template in errors.TEMPLATES
    params: tuple[tuple[str, str], ...] = ()


StaticCheck = Callable[[Sequence[Expr]], Problem | None]


@dataclass(frozen=True, slots=True)
class FunctionDef:
    name: str
    min_args: int
    max_args: int | None  # None: any number
    doc_id: str
    doc_en: str
    impl: EagerImpl | None = None  # gets the argument values
    lazy: LazyImpl | None = None  # gets the compiled arguments: if() and coalesce() skip some
    node: NodeImpl | None = None  # compiles the call itself: indexed-repeat() reads its ${names}
    check: StaticCheck | None = None  # runs at parse time on the argument ASTs


_registry: dict[str, FunctionDef] = {}
FUNCTIONS: Mapping[str, FunctionDef] = _registry


def function(
    name: str, min_args: int, max_args: int | None, doc_id: str, doc_en: str, check: StaticCheck | None = None
) -> Callable[[EagerImpl], EagerImpl]:
    def register(impl: EagerImpl) -> EagerImpl:
        _add(FunctionDef(name, min_args, max_args, doc_id, doc_en, impl=impl, check=check))
        return impl

    return register


def lazy_function(
    name: str, min_args: int, max_args: int | None, doc_id: str, doc_en: str
) -> Callable[[LazyImpl], LazyImpl]:
    def register(impl: LazyImpl) -> LazyImpl:
        _add(FunctionDef(name, min_args, max_args, doc_id, doc_en, lazy=impl))
        return impl

    return register


def node_function(
    name: str, min_args: int, max_args: int | None, doc_id: str, doc_en: str, check: StaticCheck | None = None
) -> Callable[[NodeImpl], NodeImpl]:
    def register(impl: NodeImpl) -> NodeImpl:
        _add(FunctionDef(name, min_args, max_args, doc_id, doc_en, node=impl, check=check))
        return impl

    return register


def _add(definition: FunctionDef) -> None:
    if definition.name in _registry:
        raise ValueError(f"expression function {definition.name!r} registered twice")
    _registry[definition.name] = definition
