"""The writer's deferred rows as PostgreSQL statements: the INSERTs a batch defers (Tx.later) become
one multi-row INSERT per table, the tables joined in one WITH, split only where PostgreSQL's
parameter limit demands. The statement texts are made once per batch shape and kept."""

from __future__ import annotations

from typing import Any

from server.storage.sql import numbered

# PostgreSQL takes at most 65,535 parameters in one statement; a batch of 256 registrations needs
# about 14,000. Past this many, the deferred rows go in more than one statement.
MAX_PARAMETERS = 32_000


def joined(grouped: dict[str, list[tuple[Any, ...]]]) -> list[tuple[str, list[Any]]]:
    """PostgreSQL: the deferred INSERTs as few statements as the parameter limit allows, each a
    multi-row INSERT per table joined in one WITH (`WITH w0 AS (INSERT ...), w1 AS (...) INSERT ...`),
    with numbered parameters ($1, $2 ...). The parts run on one snapshot, so no part may read another's
    rows: they are INSERTs of rows nothing in the batch reads back before COMMIT, and the foreign keys
    they carry are checked at the statement's end, when every part's rows are there. The texts are
    made once per shape (which statements, how many rows of each): a batch of one registration has
    the same shape every time."""
    shape = tuple([(sql, len(rows)) for sql, rows in grouped.items()])
    plan = _PLANS.get(shape)
    if plan is None:
        if len(_PLANS) >= MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[shape] = _plan(shape)
    rows_of = list(grouped.values())
    return [(text, [value for group, start, stop in spans for row in rows_of[group][start:stop] for value in row])
            for text, spans in plan]


# (statement texts, each with the (statement, first row, row past the last) spans its parameters come from)
_Plan = list[tuple[str, tuple[tuple[int, int, int], ...]]]
_PLANS: dict[tuple[tuple[str, int], ...], _Plan] = {}
MAX_PLANS = 512  # shapes kept; past it they are made again (batches under load come in many sizes)


def _plan(shape: tuple[tuple[str, int], ...]) -> _Plan:
    parts: list[tuple[str, int, tuple[int, int, int]]] = []  # (text with {}, parameters, span)
    for group, (sql, count) in enumerate(shape):
        head, row, tail = _values_split(sql)
        width = row.count("{}")
        per = max(1, MAX_PARAMETERS // max(1, width))
        for start in range(0, count, per):
            stop = min(count, start + per)
            parts.append((f"{head}{', '.join([row] * (stop - start))}{tail}", width * (stop - start),
                          (group, start, stop)))
    statements: _Plan = []
    current: list[tuple[str, int, tuple[int, int, int]]] = []
    for part in parts:
        if current and sum(size for _s, size, _span in current) + part[1] > MAX_PARAMETERS:
            statements.append(_with(current))
            current = []
        current.append(part)
    if current:
        statements.append(_with(current))
    return statements


def _with(parts: list[tuple[str, int, tuple[int, int, int]]]) -> tuple[str, tuple[tuple[int, int, int], ...]]:
    *first, last = parts
    text = (("WITH " + ", ".join(f"w{n} AS ({sql})" for n, (sql, _size, _span) in enumerate(first)) + " ")
            if first else "")
    text += last[0]
    return numbered(text), tuple(span for _sql, _size, span in parts)


_SPLITS: dict[str, tuple[str, str, str]] = {}


def _values_split(sql: str) -> tuple[str, str, str]:
    """`INSERT INTO t (a, b) VALUES ({}, {}) ON CONFLICT ...` -> the part before the row, the row
    `({}, {})`, and the part after it."""
    found = _SPLITS.get(sql)
    if found is None:
        start = sql.index(" VALUES (") + len(" VALUES ")
        depth = 0
        for end in range(start, len(sql)):
            depth += {"(": 1, ")": -1}.get(sql[end], 0)
            if depth == 0:
                break
        found = _SPLITS[sql] = (sql[:start], sql[start:end + 1], sql[end + 1:])
    return found
