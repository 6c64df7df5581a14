"""Reading form files: YAML/JSON -> Form, and every bad input (broken YAML, unknown keys, wrong
types, duplicates) as a problem with its file:line:column, never a traceback. Forms are inline
YAML, as staff write them."""

from __future__ import annotations

import json
import textwrap

from server.domain.compile import CompileResult, compile_source
from server.domain.form import Group, Question, Repeat, text_of
from server.domain.load import MAX_BYTES, MAX_DEPTH, load_yaml

HEAD = """\
settings:
  id: tes
  version: "1"
"""


def compile_yaml(body: str, head: str = HEAD, filename: str = "tes.yaml") -> CompileResult:
    return compile_source((head + textwrap.dedent(body)).encode(), filename)


def places(result: CompileResult) -> list[tuple[str, int, int]]:
    return [(p.code, p.line, p.column) for p in result.problems]


def test_a_small_form_loads_into_the_model() -> None:
    loaded = load_yaml((HEAD + textwrap.dedent("""\
        choices:
          jk: {L: Laki-laki, P: Perempuan}
        fields:
          - {type: select_one jk, name: jk, label: {id: Jenis kelamin, en: Sex}, required: yes}
          - type: group
            name: g
            layout: page
            fields:
              - {type: integer, name: umur, label: Umur, constraint: . >= 0, required: "${jk} = 'P'"}
          - type: repeat
            name: anggota
            min_count: 1
            max_count: 5
            fields:
              - {type: text, name: nama_art, label: Nama}
    """)).encode(), "tes.yaml")
    assert loaded.problems == []
    form = loaded.form
    assert form is not None and form.settings.id == "tes" and form.settings.default_language == "id"
    jk, group, repeat = form.fields
    assert isinstance(jk, Question) and jk.choices == "jk" and jk.required is True
    assert jk.label == {"id": "Jenis kelamin", "en": "Sex"}
    assert isinstance(group, Group) and group.layout == "page"
    umur = group.fields[0]
    assert isinstance(umur, Question) and umur.required == "${jk} = 'P'" and umur.label == {"id": "Umur"}
    assert isinstance(repeat, Repeat) and (repeat.min_count, repeat.max_count) == (1, 5)
    assert [c.name for c in form.choices["jk"].choices] == ["L", "P"]


def test_scalars_are_read_as_written_not_as_yaml_1_1_types() -> None:
    result = compile_yaml("""\
        choices:
          yn:
            - {name: "yes", label: {id: Ya, en: Yes}}
            - {name: no, label: {id: Tidak, en: No}}
        fields:
          - {type: select_one yn, name: ok, label: {id: Oke, en: Okay}}
    """, head='settings: {id: tes, version: 0102}\n')
    assert result.compiled is not None, places(result)
    assert result.compiled.version == "0102"
    choices = result.compiled.definition.choices["yn"].choices
    assert [c.name for c in choices] == ["yes", "no"] and choices[0].label["en"] == "Yes"


def test_json_is_accepted_even_with_tab_indentation() -> None:
    document = {"settings": {"id": "tes", "version": "1"},
                "fields": [{"type": "text", "name": "nama", "label": {"id": "Nama", "en": "Name"}}]}
    text = json.dumps(document, indent="\t")
    result = compile_source(text.encode(), "tes.json")
    assert result.compiled is not None, places(result)


def test_malformed_yaml_names_the_line() -> None:
    result = compile_yaml("""\
        fields:
          - {type: text, name: a
          - {type: text, name: b}
    """)
    assert result.compiled is None
    assert [p.code for p in result.problems] == ["form.yaml"]
    assert result.problems[0].line in (5, 6)


def test_empty_and_non_mapping_documents() -> None:
    assert [p.code for p in compile_source(b"", "x.yaml").problems] == ["form.yaml"]
    assert [p.code for p in compile_source(b"# only a comment\n", "x.yaml").problems] == ["form.yaml"]
    assert [p.code for p in compile_source(b"- a\n- b\n", "x.yaml").problems] == ["form.bad_value"]
    assert [p.code for p in compile_source(b"a: 1\n---\nb: 2\n", "x.yaml").problems] == ["form.yaml"]


def test_a_file_over_1_mb_is_refused_before_parsing() -> None:
    data = HEAD.encode() + b"#" * MAX_BYTES
    result = compile_source(data, "big.yaml")
    assert [p.code for p in result.problems] == ["form.too_large"]


def test_bytes_that_are_not_utf8() -> None:
    result = compile_source(HEAD.encode() + b"fields: [\xff]\n", "x.yaml")
    assert [p.code for p in result.problems] == ["form.encoding"]


def nested(depth: int) -> str:
    lines, indent = ["fields:"], ""
    for level in range(depth):
        lines += [f"{indent}  - type: group", f"{indent}    name: g{level}", f"{indent}    fields:"]
        indent += "    "
    lines.append(f"{indent}  - {{type: text, name: t, label: T}}")
    return "\n".join(lines) + "\n"


def test_groups_nest_up_to_20_deep() -> None:
    assert compile_source((HEAD + nested(MAX_DEPTH)).encode(), "x.yaml").compiled is not None
    result = compile_source((HEAD + nested(MAX_DEPTH + 1)).encode(), "x.yaml")
    assert [p.code for p in result.problems] == ["form.too_deep"]
    assert result.problems[0].line == 5 + 3 * MAX_DEPTH  # the 21st "- type: group"


def test_absurd_yaml_nesting_is_a_problem_not_a_recursion_error() -> None:
    result = compile_source(b"fields: " + b"[" * 50_000, "x.yaml")
    assert [p.code for p in result.problems] == ["form.yaml"]


def test_anchors_and_aliases_are_refused() -> None:
    # A "billion laughs" document is small as text and explodes when walked.
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n" for i in range(8))
    result = compile_source(bomb.encode(), "x.yaml")
    assert [p.code for p in result.problems] == ["form.yaml_alias"]
    reuse = HEAD + "fields:\n  - {type: text, name: a, label: &l Nama}\n  - {type: text, name: b, label: *l}\n"
    # an alias is the anchored node itself, so the place is the anchor (line 5)
    assert [(p.code, p.line) for p in compile_source(reuse.encode(), "x.yaml").problems] == [("form.yaml_alias", 5)]


def test_unknown_and_duplicate_keys_and_wrong_value_types() -> None:
    result = compile_yaml("""\
        fields:
          - type: text
            name: a
            labl: A
          - type: text
            name: b
            name: c
          - type: integer
            name: d
            label: [x]
          - type: repeat
            name: r
            min_count: satu
            fields: [{type: text, name: e, label: E}]
          - type: group
            name: g
            layout: tab
            fields: [{type: text, name: f, label: F}]
    """)
    assert places(result) == [
        ("form.unknown_key", 7, 5), ("form.duplicate_key", 10, 5), ("form.bad_value", 13, 12),
        ("form.bad_value", 16, 16), ("form.bad_value", 20, 13),
    ]
    assert "label" in result.problems[0].hint_en  # the nearest known key


def test_missing_required_keys() -> None:
    no_settings = compile_source(b"fields: []\n", "x.yaml")
    assert {p.code for p in no_settings.problems} == {"form.missing_key", "form.no_fields"}
    result = compile_yaml("""\
        fields:
          - {type: text, label: Tanpa nama}
          - {name: tanpa_jenis}
          - {type: group, name: g}
    """)
    assert [p.code for p in result.problems] == ["form.missing_key"] * 3
    assert [p.line for p in result.problems] == [5, 6, 7]


def test_settings_need_id_and_version() -> None:
    result = compile_source(b"settings: {id: tes}\nfields: [{type: note, name: n, label: N}]\n", "x.yaml")
    assert [p.code for p in result.problems] == ["form.missing_key"]


def test_empty_field_list_and_bad_region_source() -> None:
    assert [p.code for p in compile_yaml("fields: []\n").problems] == ["form.no_fields"]
    result = compile_yaml("""\
        choices:
          kec: {wilayah: kecamatan 99.99}
        fields: [{type: select_one kec, name: kec, label: Kecamatan}]
    """)
    assert places(result) == [("form.unknown_wilayah", 5, 18)]


def test_choice_list_problems() -> None:
    result = compile_yaml("""\
        choices:
          yn: {ya: Ya, ya: Ya lagi}
          kosong: []
          pilih:
            - {name: a, label: A}
        fields:
          - type: select_one
            name: pilih
            label: Pilih
            choices: [{name: a, label: A}, {name: a, label: B}]
    """)
    assert places(result) == [("form.duplicate_choice", 5, 16), ("form.empty_choice_list", 6, 11),
                              ("form.duplicate_choice", 13, 36), ("form.duplicate_choice_list", 13, 14)]


def test_unknown_file_types_are_a_problem() -> None:
    assert [p.code for p in compile_source(b"x", "form.txt").problems] == ["form.unknown_format"]
    assert [p.code for p in compile_source(b"x", "form").problems] == ["form.unknown_format"]


def test_an_unquoted_reference_inside_braces_is_a_yaml_problem_with_the_quoting_hint() -> None:
    result = compile_yaml("""\
        fields:
          - {type: integer, name: umur, label: Umur, relevant: ${a} = 1}
    """)
    assert places(result)[0][:2] == ("form.yaml", 5)
    assert "quotes" in result.problems[0].hint_en


def test_a_comma_inside_a_flow_label_points_at_the_quoting_fix() -> None:
    result = compile_yaml("""\
        fields:
          - {type: text, name: alamat, label: {id: Alamat (jalan, gang), en: Address}}
    """)
    assert [p.code for p in result.problems] == ["form.bad_value"]
    assert '"Jalan, gang"' in result.problems[0].hint_en


def test_a_text_is_shown_in_the_language_asked_else_indonesian_else_any_it_has() -> None:
    """One rule for the fill page, the registry, the review table and the exports: an export once
    fell back to the question's name for a form labelled only in, say, Banjar (an XLSForm's
    label::Banjar), where the page showed the label."""
    assert text_of({"id": "Nama", "en": "Name"}, "en") == "Name"
    assert text_of({"id": "Nama", "en": "Name"}, "bjn") == "Nama"
    assert text_of({"bjn": "Ngaran"}, "en", "nama") == "Ngaran"
    assert text_of({}, "en", "nama") == "nama"
