"""Which field's value depends on which: a field's relevance and calculation read other fields,
and a field inside a group or repeat is only relevant when its container is. The topological
order of this graph is the order validation (and the phone) computes values in; a cycle is an error."""

from __future__ import annotations

import heapq
from collections import Counter
from typing import TYPE_CHECKING

from server.domain.form import Form, walk

if TYPE_CHECKING:
    from server.domain.sites import Parsed

VALUE_ATTRIBUTES = ("relevant", "calculation")


def dependencies(form: Form, parsed: Parsed) -> dict[str, list[str]]:
    """name -> the names its value depends on, in document order; unknown names are left out, and so
    are names used twice (form.duplicate_name): two fields merged into one node would make a cycle
    where there is none."""
    entries = walk(form.fields)
    counts = Counter(field.name for field, _ in entries)
    known = {name for name, count in counts.items() if count == 1}
    deps: dict[str, list[str]] = {}
    for field, parents in entries:
        if field.name not in known:
            continue
        names: set[str] = set()
        for attribute in VALUE_ATTRIBUTES:
            names |= parsed.refs.get(("field", field.name, attribute), frozenset())
        if parents:
            names.add(parents[-1].name)
        deps.setdefault(field.name, [])
        deps[field.name].extend(sorted(names & known))
    return deps


def topological(deps: dict[str, list[str]]) -> tuple[list[str], list[list[str]]]:
    """(evaluation order, cycles). Ties keep document order, so the order is stable across runs."""
    index = {name: i for i, name in enumerate(deps)}
    waiting = {name: len(set(d)) for name, d in deps.items()}
    users: dict[str, list[str]] = {name: [] for name in deps}
    for name, needed in deps.items():
        for dep in set(needed):
            users[dep].append(name)
    ready = [(index[name], name) for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, name = heapq.heappop(ready)
        order.append(name)
        for user in users[name]:
            waiting[user] -= 1
            if waiting[user] == 0:
                heapq.heappush(ready, (index[user], user))
    stuck = [name for name in deps if name not in set(order)]
    return order, _cycles(deps, stuck)


def _cycles(deps: dict[str, list[str]], stuck: list[str]) -> list[list[str]]:
    # Every node left after Kahn's algorithm is on a cycle or depends on one; walking from each
    # through stuck dependencies must come back to a node already on the path.
    stuck_set, done = set(stuck), set()
    cycles: list[list[str]] = []
    for start in stuck:
        path: list[str] = []
        node = start
        while node not in path and node not in done:
            path.append(node)
            node = next(d for d in deps[node] if d in stuck_set)
        if node in path:
            cycles.append([*path[path.index(node):], node])
        done |= set(path)
    return cycles
