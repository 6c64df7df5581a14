"""Survey rows rewritten before the form is built, so two pyxform features fit answers kept by name
(a flat object of field name -> value, docs/forms.md "Answers and validation"):

- `begin loop over LIST` becomes a group holding one group per choice of LIST (the choice's name and
  label), each with a copy of the loop's rows where `%(name)s` and `%(label)s` are the choice's, as
  pyxform's builder does (`_create_loop_from_dict`, which skips a choice named `none`);
- a name used again in another group (pyxform allows it; its paths differ) is given its path,
  `g2_q1`, reported as xlsform.renamed. pyxform refuses a ${reference} to such a name ("multiple
  survey elements"), so no expression can mean the old one. A name that is still used twice (two
  siblings) stays for check.py to refuse, as pyxform does."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Callable, Mapping

from server.domain.form import ChoiceList
from server.domain.xlsform_paths import ATTRIBUTES
from server.domain.xlsform_sheets import MAX_ROWS, Row
from server.domain.xlsform_spelling import parse_type

Report = Callable[..., None]  # report(code, sheet, row, column, **params): xlsform._Reader.report
_SUBSTITUTION = re.compile(r"%\((name|label)\)s|%%")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_SIBLING = re.compile(r"(?<![\w./)\]])\.\./([A-Za-z_][A-Za-z0-9_-]*)(?![\w./(\[-])")


def rewrite(sheet: str, rows: list[Row], choices: Mapping[str, ChoiceList], language: str,
            report: Report) -> list[Row]:
    expanded = _expand_loops(sheet, [r for r in rows if r.get("type")], choices, language, report)
    if len(expanded) > MAX_ROWS:
        report("xlsform.unsupported", sheet, rows[0].number, what_id=f"'begin loop' yang menjadi {len(expanded)} baris "
               f"(batas {MAX_ROWS})", what_en=f"'begin loop' expanding to {len(expanded)} rows (limit {MAX_ROWS})")
        return []
    return _path_names(sheet, _underscored(sheet, expanded, report), report)


def _edge(row: Row) -> tuple[str, str]:
    """("begin"|"end"|"", "group"|"repeat"|"loop"|"")."""
    kind = parse_type(row.get("type")).kind
    if kind.startswith(("begin_", "end_")):
        edge, _, what = kind.partition("_")
        return edge, what
    return "", ""


def _expand_loops(sheet: str, rows: list[Row], choices: Mapping[str, ChoiceList], language: str,
                  report: Report) -> list[Row]:
    out: list[Row] = []
    i = 0
    while i < len(rows):
        row = rows[i]
        if _edge(row) != ("begin", "loop"):
            out.append(row)
            i += 1
            continue
        end = _matching_end(rows, i)
        if end is None:  # left for the reader, which reports the unmatched begin
            out.append(row)
            i += 1
            continue
        body = _expand_loops(sheet, rows[i + 1:end], choices, language, report)
        out.extend(_loop(sheet, row, rows[end], body, choices, language, report))
        i = end + 1
    return out


def _matching_end(rows: list[Row], start: int) -> int | None:
    depth = 0
    for j in range(start, len(rows)):
        edge, what = _edge(rows[j])
        if what == "loop":
            depth += 1 if edge == "begin" else -1
            if depth == 0:
                return j
    return None


def _loop(sheet: str, begin: Row, end: Row, body: list[Row], choices: Mapping[str, ChoiceList], language: str,
          report: Report) -> list[Row]:
    rest = parse_type(begin.get("type")).rest.split()
    list_name = rest[-1] if rest and (len(rest) == 1 or rest[0].lower() == "over") else ""
    chosen = choices.get(list_name)
    if chosen is None:
        report("form.unknown_choice_list", sheet, begin.number, begin.cells["type"][1], name=list_name or "-",
               known=", ".join(choices) or "-")
        return []
    type_column = begin.cells["type"][1]
    out = [_with(begin, type=("begin_group", type_column))]
    for choice in chosen.choices:
        if choice.name == "none":
            continue
        labels = {("label" if lang == language else f"label::{lang}"): (text, 0)
                  for lang, text in choice.label.items()}
        out.append(Row(begin.number, {"type": ("begin_group", type_column), "name": (choice.name, 0)} | labels))
        values = {"name": choice.name, "label": choice.label.get(language) or next(iter(choice.label.values()), "")}
        out.extend(_substituted(row, values, choice.label, language) for row in body)
        out.append(Row(begin.number, {"type": ("end_group", type_column)}))
    out.append(_with(end, type=("end_group", end.cells["type"][1])))
    return out


def _substituted(row: Row, values: dict[str, str], labels: Mapping[str, str], language: str) -> Row:
    """pyxform applies `%` with the choice's name and label to every cell; a cell in another
    language (label::English) takes the choice's label in that language."""
    cells: dict[str, tuple[str, int]] = {}
    for column, (text, index) in row.cells.items():
        lang = column.split("::", 1)[1] if "::" in column else language
        mine = values | ({"label": labels[lang]} if lang in labels else {})
        cells[column] = (_SUBSTITUTION.sub(functools.partial(_one, mine), text), index)
    return Row(row.number, cells)


def _one(values: dict[str, str], match: re.Match[str]) -> str:
    return "%" if match[0] == "%%" else values[match[1]]


def _with(row: Row, **cells: tuple[str, int]) -> Row:
    return Row(row.number, row.cells | cells)


def _underscored(sheet: str, rows: list[Row], report: Report) -> list[Row]:
    """A name starting with "_" (pyxform takes `_1`) would meet Pantau's own answer keys
    (`_id`, `_konfirmasi`): it becomes `q_1`, and so does every ${_1}."""
    new = {row.get("name"): "q" + row.get("name") for row in rows
           if row.get("name").startswith("_") and _edge(row)[0] != "end"}
    if not new:
        return rows
    out = []
    for row in rows:
        name = row.get("name")
        if name in new and _edge(row)[0] != "end":
            report("xlsform.renamed", sheet, row.number, row.cells["name"][1], name=name, new=new[name],
                   why_id="(nama berawalan _ dipakai Pantau sendiri)",
                   why_en="(names starting with _ are Pantau's own)")
        cells = {column: (_REFERENCE.sub(lambda m: "${" + new.get(m[1], m[1]) + "}", text), index)
                 for column, (text, index) in row.cells.items()}
        if name in new:
            cells["name"] = (new[name], row.cells["name"][1])
        out.append(Row(row.number, cells))
    return out


def _path_names(sheet: str, rows: list[Row], report: Report) -> list[Row]:
    used = Counter(r.get("name") for r in rows if r.get("name") and _edge(r)[0] != "end")
    paths = _paths(rows)
    siblings: dict[tuple[str, ...], set[str]] = {}
    for row, path in zip(rows, paths, strict=True):
        if row.get("name") and _edge(row)[0] != "end":
            siblings.setdefault(path, set()).add(row.get("name"))
    out: list[Row] = []
    for row, path in zip(rows, paths, strict=True):
        name = row.get("name")
        if _edge(row)[0] == "end" or not path:
            out.append(row)
            continue
        new = "_".join([*path, name]) if name and used[name] > 1 else name
        if new != name:
            column = row.cells["name"][1]
            report("xlsform.renamed", sheet, row.number, column, name=name, new=new,
                   why_id="(nama yang sama dipakai di grup lain)", why_en="(the same name is used in another group)")
            row = _with(row, name=(new, column))
        out.append(_siblings_named(sheet, row, path, siblings.get(path, set()), used, report))
    _ambiguous(sheet, out, {old: sorted({r.get("name") for r, was in zip(out, rows, strict=True)
                                         if was.get("name") == old}) for old, n in used.items() if n > 1}, report)
    return out


def _paths(rows: list[Row]) -> list[tuple[str, ...]]:
    """The names of the groups and repeats each row is in, outermost first."""
    path: list[str] = []
    out: list[tuple[str, ...]] = []
    for row in rows:
        edge, _ = _edge(row)
        if edge == "end" and path:
            path.pop()
        out.append(tuple(path))
        if edge == "begin":
            path.append(row.get("name"))
    return out


def _siblings_named(sheet: str, row: Row, path: tuple[str, ...], siblings: set[str], used: Counter[str],
                    report: Report) -> Row:
    """`../total` in a row's expression is its sibling total (a loop's constraint `. <= ../total`):
    written as the reference to that sibling's stored name, and reported as a rewritten path."""
    cells = dict(row.cells)
    for column in ATTRIBUTES:
        text, index = row.cells.get(column, ("", 0))
        after = _SIBLING.sub(lambda m: "${" + ("_".join([*path, m[1]]) if used[m[1]] > 1 else m[1]) + "}"
                             if m[1] in siblings else m[0], text)
        if after != text:
            report("xlsform.path_rewritten", sheet, row.number, index, name=row.get("name"), attribute=column,
                   before=text, after=after)
            cells[column] = (after, index)
    return Row(row.number, cells)


def _ambiguous(sheet: str, rows: list[Row], renamed: dict[str, list[str]], report: Report) -> None:
    """${q1} when q1 names fields in two groups: pyxform refuses it, and so does Pantau rather than
    pick one of them."""
    for row in rows:
        for text, index in row.cells.values():
            for name in dict.fromkeys(_REFERENCE.findall(text)):
                if name in renamed:
                    report("xlsform.ambiguous_reference", sheet, row.number, index, name=name,
                           names=", ".join(renamed[name]))
