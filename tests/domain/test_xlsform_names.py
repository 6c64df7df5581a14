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


LOOP_CHOICES = [["list_name", "name", "label::English (en)", "label::Indonesian (id)"],
                ["hewan", "ayam", "Chicken", "Ayam"], ["hewan", "sapi", "Cow", "Sapi"],
                ["hewan", "none", "None", "Tidak ada"]]


def test_a_loop_becomes_one_group_per_choice_with_name_and_label_substituted() -> None:
    result = compile_book([
        ["type", "name", "label::English (en)", "label::Indonesian (id)", "hint::English (en)"],
        ["begin loop over hewan", "ternak", "Livestock", "Ternak", ""],
        ["integer", "jumlah", "How many %(label)s?", "Berapa %(label)s?", "code %(name)s, 100%%"],
        ["end loop", "", "", "", ""],
    ], LOOP_CHOICES)
    assert fields_of(result) == ["ternak", "ayam", "ternak_ayam_jumlah", "sapi", "ternak_sapi_jumlah"]  # not 'none'
    assert result.compiled is not None
    loop = result.compiled.definition.fields[0]
    assert isinstance(loop, Group) and loop.label == {"en": "Livestock", "id": "Ternak"}
    cow = loop.fields[1]
    assert isinstance(cow, Group) and cow.label == {"en": "Cow", "id": "Sapi"}
    question = cow.fields[0]
    assert isinstance(question, Question)
    assert question.label == {"en": "How many Cow?", "id": "Berapa Sapi?"}
    assert question.hint == {"en": "code sapi, 100%"}
    assert [(p.code, p.line) for p in result.problems if p.code == "xlsform.renamed"] == [
        ("xlsform.renamed", 3), ("xlsform.renamed", 3)]
    checked = validate(result.compiled, {"ternak_ayam_jumlah": 3, "ternak_sapi_jumlah": "x"}, today=NOW.date(), now=NOW)
    assert [(e.path, e.code) for e in checked.errors] == [("ternak_sapi_jumlah", "answer.integer")]


def test_a_loop_over_a_list_that_does_not_exist_is_refused_at_its_row() -> None:
    result = compile_book([["type", "name", "label"], ["begin loop over nope", "l1", "L"], ["text", "q", "Q"],
                           ["end loop", "", ""]], LOOP_CHOICES)
    assert result.compiled is None
    assert [(c, line) for c, s, line in codes(result) if s == "error"] == [("form.unknown_choice_list", 2)]


def test_nested_loops_expand_inside_out() -> None:
    result = compile_book([
        ["type", "name", "label"],
        ["begin loop over hewan", "a", "A"], ["begin loop over hewan", "b", "B"], ["text", "q", "%(name)s"],
        ["end loop", "", ""], ["end loop", "", ""],
    ], [["list_name", "name", "label"], ["hewan", "x", "X"], ["hewan", "y", "Y"]])
    names = fields_of(result)
    assert [n for n in names if n.endswith("_q")] == ["a_x_b_x_q", "a_x_b_y_q", "a_y_b_x_q", "a_y_b_y_q"]


def test_the_same_name_in_two_groups_is_given_its_path() -> None:
    result = compile_book([
        ["type", "name", "label"],
        ["text", "q1", "Q1"],
        ["begin group", "g1", "G1"], ["text", "q1", "Q1 again"], ["end group", "", ""],
        ["begin repeat", "r1", "R1"], ["text", "r1", "R1 inside"], ["end repeat", "", ""],
    ])
    assert fields_of(result) == ["q1", "g1", "g1_q1", "r1", "r1_r1"]
    assert [(c, s, line) for c, s, line in codes(result)] == [
        ("xlsform.renamed", "warning", 4), ("xlsform.renamed", "warning", 7)]
    assert result.compiled is not None
    checked = validate(result.compiled, {"q1": "a", "g1_q1": "b", "r1": [{"r1_r1": "c"}]}, today=NOW.date(), now=NOW)
    assert checked.errors == [] and checked.answers["g1_q1"] == "b"


def test_a_reference_to_a_name_used_in_two_groups_is_refused_as_pyxform_does() -> None:
    result = compile_book([
        ["type", "name", "label", "relevant"],
        ["text", "q1", "Q1", ""],
        ["begin group", "g1", "G1", ""], ["text", "q1", "Q1", ""], ["end group", "", "", ""],
        ["text", "q2", "Q2", "${q1} = 'x'"],
    ])
    assert result.compiled is None
    assert [(c, line) for c, s, line in codes(result) if s == "error"] == [("xlsform.ambiguous_reference", 6)]
    assert "g1_q1" in result.problems[-1].message_en or any("g1_q1" in p.message_en for p in result.problems)


def test_two_siblings_of_one_name_stay_refused() -> None:
    result = compile_book([["type", "name", "label"], ["begin group", "g", "G"], ["text", "q", "Q"], ["text", "q", "Q"],
                           ["end group", "", ""], ["text", "q", "Q"]])
    assert result.compiled is None
    assert "form.duplicate_name" in [c for c, _, _ in codes(result)]


def test_duplicate_choices_are_kept_when_allow_choice_duplicates_says_yes() -> None:
    survey = [["type", "name", "label"], ["select_one daftar", "s1", "S1"]]
    choices = [["list name", "name", "label"], ["daftar", "a", "A"], ["daftar", "b", "B"], ["daftar", "b", "C"]]
    refused = compile_book(survey, choices, settings=[["form_id", "version"], ["dup", "1"]])
    assert refused.compiled is None and [c for c, _, _ in codes(refused)] == ["form.duplicate_choice"]
    allowed = compile_book(survey, choices, settings=[["form_id", "version", "allow_choice_duplicates"],
                                                      ["dup", "1", "Yes"]])
    assert allowed.problems == [] and allowed.compiled is not None  # acted on, so not reported as ignored
    listed = allowed.compiled.definition.choices["daftar"].choices
    assert [(c.name, c.label) for c in listed] == [("a", {"id": "A"}), ("b", {"id": "B"}), ("b", {"id": "C"})]
    checked = validate(allowed.compiled, {"s1": "b"}, today=NOW.date(), now=NOW)
    assert checked.errors == [] and checked.answers["s1"] == "b"
    assert validate(allowed.compiled, {"s1": "c"}, today=NOW.date(), now=NOW).errors[0].code == "answer.choice"


def test_a_name_starting_with_an_underscore_becomes_q_and_so_do_its_references() -> None:
    result = compile_book([["type", "name", "label", "relevant"], ["integer", "_1", "One", ""],
                           ["text", "q2", "Two", "${_1} > 1"]])
    assert fields_of(result) == ["q_1", "q2"]
    assert codes(result) == [("xlsform.renamed", "warning", 2)]
    assert result.compiled is not None
    shown = validate(result.compiled, {"q_1": 2, "q2": "x"}, today=NOW.date(), now=NOW)
    hidden = validate(result.compiled, {"q_1": 1, "q2": "x"}, today=NOW.date(), now=NOW)
    assert shown.answers.get("q2") == "x" and "q2" not in hidden.answers  # the relevance reads q_1


def test_rows_pyxform_names_itself_an_audit_and_a_note() -> None:
    result = compile_book([["type", "name", "label"], ["audit", "", ""], ["note", "", "Hello"], ["text", "q1", "Q1"]])
    assert fields_of(result) == ["audit", "generated_note_name_3", "q1"]
    nameless = compile_book([["type", "name", "label"], ["text", "", "Q1"]])
    assert [c for c, _, _ in codes(nameless)] == ["form.missing_key"]


def test_an_instance_name_that_is_no_expression_is_kept_and_ignored() -> None:
    result = compile_book([["type", "name", "label"], ["text", "q1", "Q1"]],
                          settings=[["form_id", "version", "instance_name"], ["tes", "1", "x"]])
    assert result.compiled is not None and result.compiled.instance_name is None
    assert result.compiled.definition.settings.xlsform == {"instance_name": "x"}
    assert codes(result) == [("xlsform.ignored", "warning", 2)]
    good = compile_book([["type", "name", "label"], ["text", "q1", "Q1"]],
                        settings=[["form_id", "version", "instance_name"], ["tes", "1", "concat('a', ${q1})"]])
    assert good.problems == [] and good.compiled is not None and good.compiled.instance_name is not None


def test_a_trigger_on_a_calculate_is_kept_and_ignored() -> None:
    result = compile_book([["type", "name", "label", "trigger", "calculation"], ["integer", "temp", "T", "", ""],
                           ["calculate", "double", "", "${temp}", "${temp} * 2"]])
    assert codes(result) == [("xlsform.ignored", "warning", 3)]
    assert result.compiled is not None
    assert validate(result.compiled, {"temp": 4}, today=NOW.date(), now=NOW).answers["double"] == 8


def test_an_empty_choices_sheet_holds_no_lists_as_in_pyxform() -> None:
    result = compile_book([["type", "name", "label"], ["text", "q1", "Q1"]], choices=[])
    assert result.problems == [] and fields_of(result) == ["q1"]
    headless = compile_book([["type", "name", "label"], ["text", "q1", "Q1"]], choices=[["", "name"], ["a", "b"]])
    assert "xlsform.missing_column" in [c for c, _, _ in codes(headless)]


def test_a_sibling_path_in_a_loop_reads_the_sibling_of_the_same_choice() -> None:
    result = compile_book([
        ["type", "name", "label", "constraint"],
        ["begin loop over hewan", "ternak", "Ternak", ""],
        ["integer", "total", "Total", ""],
        ["integer", "working", "Working", ". <= ../total"],
        ["end loop", "", "", ""],
    ], [["list_name", "name", "label"], ["hewan", "ayam", "Ayam"], ["hewan", "sapi", "Sapi"]])
    assert result.compiled is not None, [p.format() for p in result.problems]
    rewritten = [(p.line, p.message_en) for p in result.problems if p.code == "xlsform.path_rewritten"]
    assert [line for line, _ in rewritten] == [4, 4] and "${ternak_sapi_total}" in rewritten[1][1]
    checked = validate(result.compiled, {"ternak_ayam_total": 5, "ternak_ayam_working": 5,
                                         "ternak_sapi_total": 2, "ternak_sapi_working": 3}, today=NOW.date(), now=NOW)
    assert [(e.path, e.code) for e in checked.errors] == [("ternak_sapi_working", "answer.constraint")]
    grouped = compile_book([["type", "name", "label", "constraint"], ["begin group", "g", "G", ""],
                            ["integer", "a", "A", ""], ["integer", "b", "B", ". < ../a + ../../c"],
                            ["end group", "", "", ""]])
    assert "${a} + ../../c" in " ".join(p.message_en for p in grouped.problems)  # only a sibling is rewritten


def test_a_note_with_a_calculation_is_a_computed_text_as_odk_keeps_it() -> None:
    result = compile_book([["type", "name", "label", "calculation"], ["integer", "a", "A", ""],
                           ["note", "s", "Sum", "${a} * 2"], ["note", "n", "Just a note", ""]])
    assert result.problems == [] and result.compiled is not None
    kinds = [(f.name, f.type) for f, _ in walk(result.compiled.definition.fields) if isinstance(f, Question)]
    assert kinds == [("a", "integer"), ("s", "text"), ("n", "note")]
    checked = validate(result.compiled, {"a": 4, "s": "typed by hand"}, today=NOW.date(), now=NOW)
    assert checked.answers["s"] == 8  # the calculation's value, not what was sent
