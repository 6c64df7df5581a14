"""XPath paths in XLSForm expressions that name one field are read as Pantau's own expressions
(server/domain/xlsform_paths.py), warned at their row, and evaluated as ODK would."""

from __future__ import annotations

import datetime as dt

from server.domain.answers import validate
from server.domain.compile import CompileResult, compile_source
from tests.domain.test_xlsform import workbook

NOW = dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC)


def _compile(rows: list[list[object]]) -> CompileResult:
    return compile_source(workbook(rows), "jalur.xlsx")  # no settings sheet: the form id is the file's name


ROWS: list[list[object]] = [
    ["type", "name", "label", "calculation"],
    ["begin group", "rumah", "Rumah", ""],
    ["integer", "jumlah", "Jumlah", ""],
    ["end group", "", "", ""],
    ["begin repeat", "art", "Anggota", ""],
    ["begin group", "data", "Data", ""],
    ["text", "nama", "Nama", ""],
    ["calculate", "ke", "", "position(current()/../..)"],
    ["end group", "", "", ""],
    ["end repeat", "", "", ""],
    ["calculate", "kedua", "", "${art}[2]/data/nama"],
    ["calculate", "pertama", "", "${art}[position() = 1]/data/nama"],
    ["calculate", "dobel", "", "/jalur/rumah/jumlah * 2"],
]


def test_paths_that_name_one_field_are_rewritten_and_warned() -> None:
    result = _compile(ROWS)
    assert result.compiled is not None, [p.format() for p in result.problems]
    rewritten = {(p.line, p.message_en.split("reads it as ", 1)[1].rstrip("."))
                 for p in result.problems if p.code == "xlsform.path_rewritten"}
    assert rewritten == {(8, "position(..)"), (11, "indexed-repeat(${nama}, ${art}, 2)"),
                         (12, "indexed-repeat(${nama}, ${art}, 1)"), (13, "${jumlah} * 2")}
    assert all(p.severity == "warning" for p in result.problems)


def test_the_rewritten_paths_evaluate_as_odk_reads_them() -> None:
    result = _compile(ROWS)
    assert result.compiled is not None
    answers = {"jumlah": 3, "art": [{"nama": "Ani"}, {"nama": "Budi"}]}
    checked = validate(result.compiled, answers, today=NOW.date(), now=NOW)
    assert checked.errors == []
    assert checked.answers["kedua"] == "Budi" and checked.answers["pertama"] == "Ani"
    assert checked.answers["dobel"] == 6
    assert [a["ke"] for a in checked.answers["art"]] == [1, 2]


def test_a_path_to_no_field_stays_and_is_refused_at_its_row() -> None:
    result = _compile([["type", "name", "label", "calculation"],
                       ["begin repeat", "art", "Anggota", ""], ["text", "nama", "Nama", ""],
                       ["end repeat", "", "", ""],
                       ["calculate", "x", "", "${art}[1]/umur"], ["calculate", "y", "", "/jalur/tidak_ada"]])
    assert result.compiled is None
    assert sorted((p.code, p.line) for p in result.problems if p.severity == "error") == [
        ("form.bad_expression", 5), ("form.bad_expression", 6)]
    assert not any(p.code == "xlsform.path_rewritten" for p in result.problems)
