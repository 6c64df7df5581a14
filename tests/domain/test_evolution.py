"""Evolution rules of a published form: the diff staff see before publishing, and the
rules that keep old data readable. Forms are written inline, as staff write them."""

from __future__ import annotations

import textwrap

from server.domain import evolution
from server.domain.compile import CompiledForm, compile_form, compile_source, load_source

V1 = """\
settings: {id: uji, version: "1"}
choices:
  ya_tidak: {ya: Ya, tidak: Tidak}
fields:
  - {type: integer, name: umur, label: {id: Umur, en: Age}}
  - {type: select_one ya_tidak, name: bekerja, label: Bekerja?}
  - {type: text, name: catatan, label: Catatan}
"""


def compiled(text: str) -> CompiledForm:
    result = compile_source(textwrap.dedent(text).encode(), "uji.yaml")
    assert result.compiled is not None, [(p.code, p.line) for p in result.problems]
    return result.compiled


def test_the_diff_names_added_removed_relabelled_and_rule_changes() -> None:
    v2 = compiled(
        V1.replace("label: Catatan}", "label: Catatan}\n  - {type: text, name: alamat, label: Alamat}")
        .replace("{id: Umur, en: Age}}", "{id: Umur (tahun), en: Age}, constraint: '. >= 0'}")
        .replace("  - {type: select_one ya_tidak, name: bekerja, label: Bekerja?}\n", "")
    )
    found = evolution.diff(compiled(V1), v2)
    assert [c.field for c in found.of("added")] == ["alamat"]
    assert [c.field for c in found.of("removed")] == ["bekerja"]
    assert [(c.field, c.before, c.after) for c in found.of("relabelled")] == [("umur", "Umur", "Umur (tahun)")]
    assert [(c.field, c.detail) for c in found.of("rules")] == [("umur", "constraint")]


def test_a_first_version_is_all_added() -> None:
    assert {c.kind for c in evolution.diff(None, compiled(V1)).changes} == {"added"}


def test_a_published_field_cannot_change_type_and_a_new_name_is_suggested() -> None:
    v2 = compiled(V1.replace("{type: integer, name: umur", "{type: text, name: umur"))
    found = evolution.problems(v2, [compiled(V1)])
    assert [(p.code, p.severity) for p in found] == [("form.retyped", "error")]
    assert "umur_2" in found[0].hint_id and "umur_2" in found[0].hint_en
    assert [c.kind for c in evolution.diff(compiled(V1), v2).changes] == ["retyped"]


def test_the_suggested_name_skips_names_already_used() -> None:
    assert evolution.suggest_name("umur", {"umur", "umur_2"}) == "umur_3"
    assert evolution.suggest_name("umur_2", {"umur_2", "umur_3"}) == "umur_4"


def test_a_type_is_kept_against_every_published_version_not_only_the_last() -> None:
    v2 = compiled(V1.replace("  - {type: integer, name: umur, label: {id: Umur, en: Age}}\n", ""))
    v3 = compiled(V1.replace("{type: integer, name: umur", "{type: date, name: umur"))
    assert [p.code for p in evolution.problems(v3, [compiled(V1), v2])] == ["form.retyped"]


def test_a_choice_value_with_another_meaning_is_a_warning_at_the_choice() -> None:
    loaded = load_source(V1.replace("{ya: Ya, tidak: Tidak}", "{ya: Tidak bekerja, tidak: Tidak}").encode(), "u.yaml")
    assert loaded.form is not None
    v2 = compile_form(loaded.form, loaded.where).compiled
    assert v2 is not None
    found = evolution.problems(v2, [compiled(V1)], loaded.where)
    assert [(p.code, p.severity, p.line) for p in found] == [("form.choice_reused", "warning", 3)]
    assert [c.detail for c in evolution.diff(compiled(V1), v2).of("choices")] == ["~ya"]


def test_a_changed_case_or_spacing_of_a_choice_label_is_not_a_new_meaning() -> None:
    v2 = compiled(V1.replace("{ya: Ya, tidak: Tidak}", "{ya: ' YA ', tidak: Tidak, mungkin: Mungkin}"))
    assert evolution.problems(v2, [compiled(V1)]) == []


def test_the_form_name_cannot_change() -> None:
    assert [p.code for p in evolution.id_problem("uji", "lain")] == ["form.id_mismatch"]
    assert evolution.id_problem("uji", "uji") == []


def test_next_version_keeps_an_unused_label_and_counts_on_otherwise() -> None:
    assert evolution.next_version("3", {"1", "2"}) == "3"
    assert evolution.next_version("2", {"1", "2"}) == "3"
    assert evolution.next_version("2025-a", {"2025-a"}) == "2"


def test_a_draft_check_names_the_field_of_each_problem_and_refuses_errors() -> None:
    source = V1.replace("label: Catatan}", "label: Catatan, relevant: '${tidak_ada} = 1'}").encode()
    checked = evolution.check_draft(source, "draf.yaml", "uji", [])
    placed = [(p.code, f) for p, f in zip(checked.problems, checked.fields, strict=True) if p.severity == "error"]
    assert placed == [("form.unknown_reference", "catatan")]
    assert not checked.ok and checked.compiled is None
    assert evolution.check_draft(V1.encode(), "draf.yaml", "uji", [compiled(V1)]).ok


def test_the_structure_and_the_yaml_are_one_definition() -> None:
    yaml_text, document = evolution.canonical(compiled(V1))
    again = evolution.check_draft(evolution.document_yaml(document), "draf.yaml", "uji", [])
    assert again.compiled is not None and evolution.canonical(again.compiled)[0] == yaml_text


def test_a_published_field_keeps_its_repeat_but_may_change_group() -> None:
    """Moving into a group is harmless (answers stay flat); into or out of a repeat, the answer would sit
    per instance instead of per record and the old data would no longer read (the editor's "move to")."""
    in_group = V1.replace(
        "  - {type: text, name: catatan, label: Catatan}\n",
        "  - type: group\n    name: lain\n    label: Lain\n    fields:\n"
        "      - {type: text, name: catatan, label: Catatan}\n",
    )
    assert evolution.problems(compiled(in_group), [compiled(V1)]) == []
    in_repeat = in_group.replace("type: group", "type: repeat")
    [moved] = evolution.problems(compiled(in_repeat), [compiled(V1)])
    assert (moved.code, moved.severity) == ("form.moved_repeat", "error")
    assert "ke dalam ulangan 'lain'" in moved.message_id and "into the repeat 'lain'" in moved.message_en
    assert "catatan_2" in moved.hint_id and "catatan_2" in moved.hint_en
    [back] = evolution.problems(compiled(V1), [compiled(in_repeat)])
    assert back.code == "form.moved_repeat" and "outside any repeat" not in back.message_en
    assert "inside the repeat 'lain'" in back.message_en and "ke luar ulangan" in back.message_id
    # A new name is a new question: the suggested fix is accepted.
    renamed = in_repeat.replace("name: catatan,", "name: catatan_2,")
    assert evolution.problems(compiled(renamed), [compiled(V1)]) == []
