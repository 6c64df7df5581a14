"""Where each part of a form was written: the loaders record the place of every field, attribute
and choice list under a key such as ("field", "nik", "constraint"), so checks can name file:line
for a Form, which itself carries no positions (positions must not change the content hash)."""

from __future__ import annotations

from typing import NamedTuple

from server.domain.form import Form
from server.domain.problems import Loc, Problem

Key = tuple[str, ...]


class Where:
    def __init__(self, filename: str) -> None:
        self.file = filename
        self._first: dict[Key, Loc] = {}
        self._all: dict[Key, list[Loc]] = {}
        # Where an expression's first character is, when its columns map 1:1 to the file.
        self._expression_start: dict[Key, Loc] = {}

    def add(self, key: Key, loc: Loc) -> None:
        self._first.setdefault(key, loc)
        self._all.setdefault(key, []).append(loc)

    def add_expression(self, key: Key, loc: Loc, start: Loc | None) -> None:
        self.add(key, loc)
        if start is not None:
            self._expression_start.setdefault(key, start)

    def at(self, *keys: Key) -> Loc:
        """The place of the first key that was recorded; the file start when none was."""
        for key in keys:
            if key in self._first:
                return self._first[key]
        return Loc(self.file)

    def all(self, key: Key) -> list[Loc]:
        return self._all.get(key, [])

    def in_expression(self, key: Key, column: int) -> Loc:
        """The place of column `column` (1-based) of an expression, or of the expression itself."""
        start = self._expression_start.get(key)
        if start is None:
            return self.at(key, key[:2])
        return Loc(start.file, start.line, start.column + max(column, 1) - 1)


class Loaded(NamedTuple):
    form: Form | None
    where: Where
    problems: list[Problem]
