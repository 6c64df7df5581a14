"""Names as pyxform takes them: "-" in a name (my-location), a form_id that is not a name, the same
name in two groups, a `begin loop` over a choice list, and duplicate choices under
allow_choice_duplicates. Forms are written as the rows of the workbook an author would type."""

from __future__ import annotations

import datetime as dt

from server.domain.answers import validate
from server.domain.compile import CompileResult
from server.domain.form import Group, Question, walk
from tests.domain.test_xlsform import compile_book

NOW = dt.datetime(2026, 3, 31, 10, 0, tzinfo=dt.UTC)


def fields_of(result: CompileResult) -> list[str]:
    assert result.compiled is not None, [p.format() for p in result.problems]
    return [f.name for f, _ in walk(result.compiled.definition.fields)]


def codes(result: CompileResult) -> list[tuple[str, str, int]]:
    return [(p.code, p.severity, p.line) for p in result.problems]


def test_a_name_with_a_hyphen_is_accepted_referred_to_and_validated() -> None:
    result = compile_book([
        ["type", "name", "label", "calculation", "constraint"],
        ["integer", "item-count", "How many?", "", ". < 10"],
        ["calculate", "item-double", "", "${item-count} * 2", ""],
        ["integer", "rest", "Rest", "", ". < ${item-count}-1"],
    ])
    assert fields_of(result) == ["item-count", "item-double", "rest"]
    assert result.compiled is not None
    checked = validate(result.compiled, {"item-count": 4, "rest": 5}, today=NOW.date(), now=NOW)
    assert checked.answers["item-double"] == 8
    assert [e.code for e in checked.errors] == ["answer.constraint"]  # 5 is not below 4 - 1


def test_a_name_with_a_dot_stays_refused_naming_its_row() -> None:
    result = compile_book([["type", "name", "label"], ["text", "a.b", "A"]])
    assert codes(result) == [("form.bad_name", "error", 2)]


def test_a_form_id_that_is_not_a_name_becomes_one_with_a_warning() -> None:
    result = compile_book([["type", "name", "label"], ["text", "q1", "Q1"]],
                          settings=[["form_id", "version"], ["My Form", "1"]])
    assert result.compiled is not None and result.compiled.definition.settings.id == "My_Form"
    assert codes(result) == [("xlsform.renamed", "warning", 2)]
    assert "My_Form" in result.problems[0].message_id and "My_Form" in result.problems[0].message_en
    hyphen = compile_book([["type", "name", "label"], ["text", "q1", "Q1"]],
                          settings=[["form_id", "version"], ["AUTO-v2-jef", "1"]])
    assert hyphen.compiled is not None and hyphen.compiled.definition.settings.id == "AUTO-v2-jef"
    assert hyphen.problems == []


def test_group_and_question_types_survive() -> None:
    result = compile_book([["type", "name", "label"], ["begin group", "my-group", "G"], ["text", "my-text", "T"],
                           ["end group", "", ""]])
    assert result.compiled is not None
    group, _ = walk(result.compiled.definition.fields)[0]
    assert isinstance(group, Group) and isinstance(group.fields[0], Question)
