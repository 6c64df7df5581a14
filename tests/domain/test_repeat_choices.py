"""`select_one ${name}` over a repeat (pyxform's itemset over the repeat's answers): the choices are
the answers given to `name` in the repeat, checked at submit by the generated validator and by the
reference walk alike; a choice_filter reads each answer's own instance."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from server.domain.answers import validate, validate_reference
from server.domain.compile import CompiledForm, compile_source
from server.domain.load import encode_yaml
from tests.domain.test_xlsform import workbook

TODAY = dt.date(2026, 3, 31)
NOW = dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC)


def _form(rows: list[list[object]]) -> CompiledForm:
    result = compile_source(workbook(rows), "ulang.xlsx")
    assert result.compiled is not None, [p.format() for p in result.problems]
    return result.compiled


def _errors(compiled: CompiledForm, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """The errors of both validators, which must agree."""
    got = validate(compiled, dict(answers), today=TODAY, now=NOW)
    reference = validate_reference(compiled, dict(answers), today=TODAY, now=NOW)
    assert got.errors == reference.errors and got.answers == reference.answers, answers
    return [(e.path, e.code) for e in got.errors]


@pytest.fixture(scope="module")
def household() -> CompiledForm:
    return _form([["type", "name", "label", "choice_filter"],
                  ["begin_repeat", "anggota", "Anggota", ""],
                  ["text", "nama", "Nama", ""],
                  ["integer", "umur", "Umur", ""],
                  ["end_repeat", "", "", ""],
                  ["select_one ${nama}", "kepala", "Kepala keluarga", ""],
                  ["select_one ${nama}", "dewasa", "Yang dewasa", "${umur} >= 18"]])


def test_the_choices_are_the_answers_given_in_the_repeat(household: CompiledForm) -> None:
    people = [{"nama": "Ani", "umur": 40}, {"nama": "Budi", "umur": 9}, {"nama": "", "umur": 3}]
    assert _errors(household, {"anggota": people, "kepala": "Ani", "dewasa": "Ani"}) == []
    assert _errors(household, {"anggota": people, "kepala": "Budi"}) == []
    assert _errors(household, {"anggota": people, "kepala": "Citra"}) == [("kepala", "answer.choice")]
    assert _errors(household, {"anggota": [], "kepala": "Ani"}) == [("kepala", "answer.choice")]
    assert _errors(household, {"anggota": people, "kepala": ""}) == []  # a blank answer offers nothing to pick


def test_a_choice_filter_reads_each_answers_own_instance(household: CompiledForm) -> None:
    people = [{"nama": "Ani", "umur": 40}, {"nama": "Budi", "umur": 9}]
    assert _errors(household, {"anggota": people, "dewasa": "Budi"}) == [("dewasa", "answer.choice_filtered")]
    assert _errors(household, {"anggota": people, "dewasa": "Ani"}) == []


def test_inside_nested_repeats_the_choices_are_those_of_the_same_household() -> None:
    compiled = _form([["type", "name", "label", "choice_filter"],
                      ["begin_repeat", "rumah", "Rumah", ""],
                      ["begin_repeat", "orang", "Orang", ""],
                      ["text", "nama", "Nama", ""],
                      ["integer", "umur", "Umur", ""],
                      ["end_repeat", "", "", ""],
                      ["begin_repeat", "wakil", "Wakil", ""],
                      ["integer", "batas", "Umur paling rendah", ""],
                      ["select_one ${nama}", "dipilih", "Dipilih", "${umur} > ${batas}"],
                      ["end_repeat", "", "", ""],
                      ["end_repeat", "", "", ""]])
    homes = [{"orang": [{"nama": "Ani", "umur": 40}], "wakil": [{"batas": 18, "dipilih": "Ani"}]},
             {"orang": [{"nama": "Budi", "umur": 30}, {"nama": "Cici", "umur": 12}],
              "wakil": [{"batas": 18, "dipilih": "Budi"}, {"batas": 10, "dipilih": "Cici"}]}]
    assert _errors(compiled, {"rumah": homes}) == []
    homes[1]["wakil"] = [{"batas": 18, "dipilih": "Ani"}, {"batas": 18, "dipilih": "Cici"}]  # Ani lives elsewhere
    assert _errors(compiled, {"rumah": homes}) == [("rumah[2]/wakil[1]/dipilih", "answer.choice"),
                                                   ("rumah[2]/wakil[2]/dipilih", "answer.choice_filtered")]


def test_the_definition_round_trips_and_keeps_the_reference(household: CompiledForm) -> None:
    text = encode_yaml(household.definition)
    assert b"${nama}" in text
    back = compile_source(text, "ulang.yaml")
    assert back.compiled is not None and back.compiled.content_hash == household.content_hash


@pytest.mark.parametrize(("rows", "ref"), [
    ([["text", "nama", "Nama"], ["select_one ${nama}", "s", "S"]], "nama"),  # not inside a repeat
    ([["begin_repeat", "r", "R"], ["text", "nama", "Nama"], ["end_repeat", "", ""],
      ["select_one ${tidak_ada}", "s", "S"]], "tidak_ada"),
    ([["begin_repeat", "r", "R"], ["note", "catatan", "Catatan"], ["end_repeat", "", ""],
      ["select_one ${catatan}", "s", "S"]], "catatan"),  # a note holds no answer
])
def test_choices_from_what_is_not_an_answer_in_a_repeat_are_refused_by_row(rows: list[list[object]], ref: str) -> None:
    result = compile_source(workbook([["type", "name", "label"], *rows]), "ulang.xlsx")
    bad = [p for p in result.problems if p.code == "form.bad_repeat_choices"]
    assert result.compiled is None and len(bad) == 1, [p.format() for p in result.problems]
    assert bad[0].line == len(rows) + 1 and bad[0].file == "ulang.xlsx[survey]"
    assert f"${{{ref}}}" in bad[0].message_en and "ulangan" in bad[0].message_id


def test_several_of_a_repeats_answers_are_refused_as_pyxform_cannot_convert_them() -> None:
    result = compile_source(workbook([["type", "name", "label"], ["begin_repeat", "r", "R"], ["text", "nama", "Nama"],
                                      ["end_repeat", "", ""], ["select_multiple ${nama}", "s", "S"]]), "ulang.xlsx")
    assert [(p.code, p.line) for p in result.problems] == [("form.repeat_choices_multiple", 5)]
    assert "select_one" in result.problems[0].message_en and "ulangan" in result.problems[0].message_id


def test_the_xform_chooses_from_the_repeat_as_pyxform_writes_it(household: CompiledForm) -> None:
    from server.domain.xform import build_xform

    xml = build_xform(household.definition, validate=True).xml.decode()  # ODK Validate too
    assert "<itemset nodeset=\"/data/anggota[./nama != '']\">" in xml
    assert '<value ref="nama"/>' in xml and "/data/anggota[ ./umur  &gt;= 18]" in xml
