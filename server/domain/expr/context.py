"""What an expression is evaluated against: the answers, the current repeat instance, the clock.

Also the one rule for ${name} inside repeats: in the repeat instance(s) being evaluated, a name
gives that instance's value; in any other repeat it gives the list of all its values (a nodeset)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from server.domain.expr.values import Value, normalize


class Context(msgspec.Struct, kw_only=True, frozen=True):
    """answers: top-level name -> value; a repeat's name -> list of instance dicts (which may nest
    repeats). scope: field name -> its enclosing repeats, outermost first (absent = top level).
    position: the repeat instances being evaluated in, as (repeat name, 0-based index), outermost
    first. current: the value of '.'. today/now: taken once per operation from the clock."""

    answers: Mapping[str, Any]
    today: dt.date
    now: dt.datetime
    current: Any = ""
    scope: Mapping[str, tuple[str, ...]] = {}
    position: tuple[tuple[str, int], ...] = ()
    # Secondary instances: name (a choice list's, or a CSV's file name without .csv) -> its rows,
    # each column name -> text, in file order. lists: select question -> its choice list's name.
    instances: Mapping[str, Sequence[Mapping[str, Any]]] = {}
    lists: Mapping[str, str] = {}
    row: Mapping[str, Any] | None = None  # inside a predicate: the row being tested


def lookup(name: str, ctx: Context) -> Value:
    path = ctx.scope.get(name)
    if not path:
        raw = ctx.answers.get(name)
        if isinstance(raw, str | float | bool):  # the common case, without the general path
            return raw
        if type(raw) is int and -(2**53) <= raw <= 2**53:  # integer answers are doubles to the language
            return float(raw)
        return _value_at(ctx.answers, name, ctx)
    nodes: list[Mapping[str, Any]] = [ctx.answers]
    position = ctx.position
    fanned = False
    for depth, repeat in enumerate(path):
        if not fanned and depth < len(position) and position[depth][0] == repeat:
            index = position[depth][1]
            instances = _instances(nodes[0].get(repeat)) if nodes else []
            valid = isinstance(index, int) and not isinstance(index, bool) and 0 <= index < len(instances)
            nodes = [instances[index]] if valid else []
        else:
            fanned = True  # not an ancestor of where we are: every instance counts
            nodes = [instance for node in nodes for instance in _instances(node.get(repeat))]
    if not fanned:
        return _value_at(nodes[0], name, ctx) if nodes else ""
    items: list[str | float | bool] = []
    for node in nodes:
        value = _value_at(node, name, ctx)
        if isinstance(value, list):
            items.extend(value)
        else:
            items.append(value)
    return items


def _instances(raw: object) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list | tuple):
        return []
    return [item for item in raw if isinstance(item, Mapping)]


def _value_at(node: Mapping[str, Any], name: str, ctx: Context) -> Value:
    raw = node.get(name)
    if (raw is None or isinstance(raw, list | tuple)) and _is_repeat(raw or (), name, ctx):
        # ${repeat} itself: one item per instance (their text is not needed; count() is)
        return ["" for _ in raw or ()]
    return normalize(raw)


def _is_repeat(raw: list[Any] | tuple[Any, ...], name: str, ctx: Context) -> bool:
    if raw:
        return all(isinstance(item, Mapping) for item in raw)
    # empty or absent: a repeat with no instances if some field lives inside `name`, so that
    # count(${repeat}) is 0; otherwise an unanswered question
    return any(name in path for path in ctx.scope.values())


def rows_of(ctx: Context, name: str) -> list[Mapping[str, Any]]:
    """The rows of a secondary instance; anything that is not a row is skipped (evaluation is total)."""
    rows = ctx.instances.get(name, ())
    return [row for row in rows if isinstance(row, Mapping)] if isinstance(rows, list | tuple) else []
