"""Static checks: each test is a few lines of the YAML staff write and the problem codes (and
places) it must give. Messages are never compared, only codes."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from server.domain.answers import validate
from server.domain.compile import CompileResult, compile_source
from server.domain.problems import CATALOGUE, Loc, problem

HEAD = """\
settings:
  id: tes
  version: "1"
  title: {id: Tes, en: Test}
"""


def compile_yaml(body: str) -> CompileResult:
    return compile_source((HEAD + textwrap.dedent(body)).encode(), "tes.yaml")


def found(body: str) -> list[tuple[str, int]]:
    return [(p.code, p.line) for p in compile_yaml(body).problems]


def codes(body: str) -> list[str]:
    return [p.code for p in compile_yaml(body).problems]


def test_a_clean_form_has_no_problems() -> None:
    result = compile_yaml("""\
        fields:
          - {type: integer, name: umur, label: {id: Umur, en: Age}, constraint: ". >= 0"}
    """)
    assert result.problems == [] and result.compiled is not None


def test_every_catalogue_entry_renders_without_parameters() -> None:
    for code in CATALOGUE:
        made = problem(code, Loc("f.yaml"))
        assert made.message_id and made.message_en, code


def test_duplicate_names_point_at_the_second_one_and_name_the_first_line() -> None:
    result = compile_yaml("""\
        fields:
          - {type: text, name: nama, label: {id: Nama, en: Name}}
          - type: group
            name: g
            fields:
              - {type: text, name: nama, label: {id: Nama, en: Name}}
    """)
    assert [(p.code, p.line) for p in result.problems] == [("form.duplicate_name", 10)]
    assert "6" in result.problems[0].message_en


def test_bad_names() -> None:
    assert codes("""\
        fields:
          - {type: text, name: 1nama, label: {id: N, en: N}}
          - {type: text, name: _x, label: {id: N, en: N}}
          - {type: text, name: nama.lengkap, label: {id: N, en: N}}
    """) == ["form.bad_name"] * 3


def test_unknown_type_lists_the_known_ones() -> None:
    result = compile_yaml("""\
        fields:
          - {type: txt, name: nama, label: {id: N, en: N}}
    """)
    assert [(p.code, p.line, p.column) for p in result.problems] == [("form.unknown_type", 6, 12)]
    assert "text" in result.problems[0].hint_en and "nik" in result.problems[0].hint_en


def test_every_reference_must_resolve_with_a_suggestion() -> None:
    result = compile_yaml("""\
        fields:
          - {type: integer, name: umur, label: {id: Umur, en: Age}}
          - type: text
            name: catatan
            label: {id: "Umur ${umr}", en: "Age ${umur}"}
            relevant: ${umr} > 17
    """)
    assert [(p.code, p.line) for p in result.problems] == [("form.unknown_reference", 9),
                                                            ("form.unknown_reference", 10)]
    assert "${umur}" in result.problems[1].hint_en


def test_instance_name_references_are_checked_too() -> None:
    result = compile_source(b"settings: {id: t, version: '1', instance_name: \"concat(${nama}, 'x')\"}\n"
                            b"fields: [{type: note, name: n, label: N}]\n", "t.yaml")
    assert [p.code for p in result.problems] == ["form.unknown_reference"]


def test_a_calculation_cycle_is_named() -> None:
    result = compile_yaml("""\
        fields:
          - {type: calculate, name: a, calculation: "${c} + 1"}
          - {type: calculate, name: b, calculation: "${a} * 2"}
          - {type: calculate, name: c, calculation: "${b} - 1"}
          - {type: calculate, name: d, calculation: "${a}"}
    """)
    assert [(p.code, p.line) for p in result.problems] == [("form.calculation_cycle", 6)]
    assert "a -> c -> b -> a" in result.problems[0].message_en
    # each link says which rule reads which field, each message in its own language
    assert result.problems[0].message_en.endswith(
        ": the calculation of a reads c; the calculation of c reads b; the calculation of b reads a.")
    assert result.problems[0].message_id.endswith(
        ": hitungan a memakai c; hitungan c memakai b; hitungan b memakai a.")


def test_a_cycle_through_a_group_says_so_and_none_is_reported_without_one() -> None:
    result = compile_yaml("""        fields:
          - type: group
            name: g
            label: {id: G, en: G}
            relevant: ${x} = 1
            fields:
              - {type: integer, name: x, label: {id: X, en: X}}
    """)
    assert result.problems[0].message_en.endswith(": the relevant of g reads x; x is inside the group g.")
    assert result.problems[0].message_id.endswith(": syarat tampil (relevant) g memakai x; x ada di dalam grup g.")
    # A name used twice is its own error; merged into one node it made a cycle that was not there.
    assert codes("""        fields:
          - type: group
            name: g1
            label: {id: G, en: G}
            fields:
              - {type: integer, name: x, label: {id: X, en: X}}
              - {type: calculate, name: c, calculation: "${x} + 1"}
          - type: group
            name: g2
            label: {id: G, en: G}
            relevant: ${c} > 1
            fields:
              - {type: integer, name: x, label: {id: X, en: X}}
    """) == ["form.duplicate_name"]
    assert codes("""        fields:
          - type: repeat
            name: r
            label: {id: R, en: R}
            fields:
              - {type: integer, name: r, label: {id: X, en: X}}
    """) == ["form.duplicate_name"]


def test_relevance_counts_in_cycles_and_a_self_reference_is_one() -> None:
    assert codes("""\
        fields:
          - {type: text, name: a, label: {id: A, en: A}, relevant: "${a} = ''"}
    """) == ["form.calculation_cycle"]
    assert codes("""\
        fields:
          - type: group
            name: g
            relevant: ${x} = 1
            fields:
              - {type: integer, name: x, label: {id: X, en: X}}
    """) == ["form.calculation_cycle"]


def test_choice_lists_must_exist_and_selects_need_one() -> None:
    assert found("""\
        choices:
          yn: {ya: {id: Ya, en: "Yes"}}
        fields:
          - {type: select_one jk, name: jk, label: {id: JK, en: Sex}}
          - {type: select_one, name: pilih, label: {id: P, en: P}}
          - {type: select_one yn, name: ok, label: {id: Oke, en: Okay}}
    """) == [("form.unknown_choice_list", 8), ("form.missing_choices", 9)]


def test_a_choice_filter_names_existing_columns() -> None:
    result = compile_yaml("""\
        choices:
          kec: {wilayah: kecamatan 64.02}
          desa: {wilayah: desa 64.02}
        fields:
          - {type: select_one kec, name: kecamatan, label: {id: K, en: K}}
          - {type: select_one desa, name: desa, label: {id: D, en: D}, choice_filter: "induk = ${kecamatan}"}
          - {type: select_one desa, name: desa2, label: {id: D, en: D}, choice_filter: "parent = ${kecamatan}"}
          - {type: select_one desa, name: desa3, label: {id: D, en: D}, choice_filter: "name != '' and label != ''"}
    """)
    assert [(p.code, p.line) for p in result.problems] == [("form.bad_choice_filter", 10)]
    assert "parent" in result.problems[0].hint_en


def test_a_choice_filter_over_a_missing_column_is_a_warning_and_reads_empty() -> None:
    # pyxform accepts such a filter and ODK reads the missing column as empty: nothing is offered.
    result = compile_yaml("""\
        choices:
          yn:
            - {name: y, label: {id: Ya, en: Yes}}
            - {name: n, label: {id: Tidak, en: No}}
        fields:
          - {type: select_one yn, name: a, label: {id: A, en: A}}
          - {type: select_one yn, name: b, label: {id: B, en: B}, choice_filter: "kind = ${a} or kind = ''"}
    """)
    assert [(p.code, p.severity) for p in result.problems] == [("form.bad_choice_filter", "warning")]
    assert result.compiled is not None
    assert "kosong" in result.problems[0].message_id and "empty" in result.problems[0].message_en
    today, now = dt.date(2026, 3, 31), dt.datetime(2026, 3, 31, 10, tzinfo=dt.UTC)
    # kind = '' holds for every choice (the column is empty); kind = 'y' for none.
    assert validate(result.compiled, {"a": "y", "b": "n"}, today=today, now=now).errors == []
    strict = compile_yaml("""\
        choices:
          yn:
            - {name: y, label: {id: Ya, en: Yes}}
        fields:
          - {type: select_one yn, name: a, label: {id: A, en: A}}
          - {type: select_one yn, name: b, label: {id: B, en: B}, choice_filter: "kind = ${a}"}
    """)
    assert strict.compiled is not None
    errors = validate(strict.compiled, {"a": "y", "b": "y"}, today=today, now=now).errors
    assert [e.code for e in errors] == ["answer.choice_filtered"]


def test_expression_errors_carry_their_codes_and_column() -> None:
    result = compile_yaml("""\
        fields:
          - {type: integer, name: a, label: {id: A, en: A}, constraint: ". >= 0 and foo(.)"}
          - {type: integer, name: b, label: {id: B, en: B}, constraint: "if(. > 1)"}
          - {type: integer, name: c, label: {id: C, en: C}, constraint: ". >="}
          - type: integer
            name: d
            label: {id: D, en: D}
            constraint: . == 1
    """)
    assert [(p.code, p.line) for p in result.problems] == [
        ("form.unknown_function", 6), ("form.bad_arity", 7), ("form.bad_expression", 8), ("form.bad_expression", 12)]
    # the column points into the expression, at "foo" on its line of the file
    line6 = '  - {type: integer, name: a, label: {id: A, en: A}, constraint: ". >= 0 and foo(.)"}'
    assert result.problems[0].column == line6.index("foo") + 1
    assert result.problems[3].column == 19  # "==" in the plain scalar ". == 1" (the dot is column 17)


def test_an_expression_over_the_length_limit() -> None:
    long = " + ".join(["1"] * 1500)
    assert codes(f"""\
        fields:
          - {{type: calculate, name: a, calculation: "{long}"}}
    """) == ["form.expression_too_long"]


def test_attributes_that_do_not_apply_to_the_type() -> None:
    assert found("""\
        fields:
          - {type: note, name: n, label: {id: N, en: N}, required: yes}
          - {type: note, name: t, label: {id: T, en: T}, calculation: "1"}
          - {type: calculate, name: c}
    """) == [("form.attribute_not_for_type", 6), ("form.attribute_not_for_type", 7), ("form.missing_calculation", 8)]


def test_parameters_are_checked_per_type() -> None:
    assert codes("""\
        fields:
          - {type: nik, name: nik, label: {id: NIK, en: NIK}, parameters: {sex: jenis_kelamin, warna: merah}}
          - {type: geopoint, name: gps, label: {id: G, en: G}, parameters: {max_accuracy: jauh}}
    """) == ["form.bad_parameter", "form.unknown_parameter", "form.bad_parameter"]


def test_repeat_structure() -> None:
    assert codes("""\
        fields:
          - {type: integer, name: n, label: {id: N, en: N}}
          - type: repeat
            name: r
            min_count: 3
            max_count: 2
            fields: [{type: integer, name: x, label: {id: X, en: X}}]
          - type: repeat
            name: s
            repeat_count: ${y}
            fields: [{type: integer, name: y, label: {id: Y, en: Y}}]
          - type: repeat
            name: t
            repeat_count: ${n}
            max_count: 5
            fields: [{type: integer, name: z, label: {id: Z, en: Z}}]
    """) == ["form.repeat_bounds", "form.repeat_count_self", "form.repeat_count_with_bounds"]


def test_fields_inside_a_repeat_are_read_from_outside_only_through_aggregates() -> None:
    result = compile_yaml("""\
        fields:
          - type: repeat
            name: anggota
            fields:
              - {type: integer, name: umur, label: {id: U, en: A}}
              - {type: integer, name: sekolah, label: {id: S, en: S}, relevant: "${umur} >= 7"}
          - {type: calculate, name: total, calculation: "sum(${umur}) + count(${anggota})"}
          - {type: calculate, name: odk, calculation: "concat(join(' ', ${umur}), count-non-empty(${umur}))"}
          - {type: calculate, name: salah, calculation: "${umur} + 1"}
          - {type: calculate, name: juga, calculation: "if(max(${umur}) > 60, ${umur}, 0)"}
    """)
    assert [(p.code, p.line) for p in result.problems] == [("form.repeat_reference", 13),
                                                            ("form.repeat_reference", 14)]


def test_sibling_repeats_cannot_read_each_other_without_aggregates() -> None:
    assert codes("""\
        fields:
          - type: repeat
            name: a
            fields: [{type: integer, name: x, label: {id: X, en: X}}]
          - type: repeat
            name: b
            fields: [{type: integer, name: y, label: {id: Y, en: Y}, constraint: ". < ${x}"}]
    """) == ["form.repeat_reference"]


def test_a_repeat_field_in_an_instance_predicate_needs_an_aggregate_too() -> None:
    # The repeat rule once walked trees on its own and skipped the [...] of an instance path, so
    # `item[name = ${kode}]` outside the repeat passed although ${kode} has one value per instance.
    # Every walk now descends through expr.children, which includes the predicates.
    assert codes("""\
        choices:
          desa:
            - {name: "1001", label: Jahab, kec: "64.02.06"}
        fields:
          - type: repeat
            name: anggota
            fields:
              - {type: text, name: kode, label: {id: K, en: C}}
              - {type: calculate, name: dalam, calculation: "instance('desa')/root/item[name = ${kode}]/kec"}
          - {type: calculate, name: luar, calculation: "instance('desa')/root/item[name = ${kode}]/kec"}
          - {type: calculate, name: hitung, calculation: "count(instance('desa')/root/item[name = ${kode}])"}
    """) == ["form.repeat_reference"]


def test_empty_groups_from_a_workbook_are_errors() -> None:
    from server.domain.compile import compile_form
    from server.domain.form import Form, Group, Question, Settings

    form = Form(settings=Settings(id="t", version="1"),
                fields=[Group(name="g", fields=[]), Question(type="note", name="n", label={"id": "N"})])
    assert [p.code for p in compile_form(form).problems] == ["form.empty_group"]


@pytest.mark.parametrize(("body", "code"), [
    ("fields: [{type: text, name: t}]\n", "form.missing_label"),
    ("fields: [{type: text, name: t, label: Nama}]\n", "form.missing_translation"),
    ("choices: {yn: {ya: {id: Ya, en: 'Yes'}}}\nfields: [{type: text, name: t, label: {id: T, en: T}}]\n",
     "form.unused_choice_list"),
    ("fields: [{type: integer, name: t, label: {id: T, en: T}, constraint: '${t} > 0'}]\n", "form.self_reference"),
])
def test_warnings_do_not_stop_compilation(body: str, code: str) -> None:
    result = compile_yaml(body)
    assert [p.code for p in result.problems] == [code]
    assert result.problems[0].severity == "warning" and result.compiled is not None


def test_a_default_built_on_a_field_that_is_empty_when_the_form_opens_is_warned() -> None:
    """The measuring position once defaulted from the child's age, which is typed after the form
    opens: the default was worked out on an empty age and preset "standing" for babies."""
    assert codes("""\
        choices: {posisi: {terlentang: {id: Terlentang, en: Lying}, berdiri: {id: Berdiri, en: Standing}}}
        fields:
          - {type: integer, name: umur, label: {id: Umur, en: Age}}
          - {type: select_one, name: cara, choices: posisi, label: {id: Cara, en: Position},
             default: "if(${umur} < 24, 'terlentang', 'berdiri')"}
          - {type: date, name: tgl, label: {id: Tanggal, en: Date}, default: today()}
    """) == ["form.default_reads_field"]
    # A repeat instance opens after the answers outside it are given: reading those is fine, reading a
    # sibling of the same instance is not.
    assert codes("""\
        fields:
          - {type: integer, name: jumlah, label: {id: Jumlah, en: Count}}
          - type: repeat
            name: anggota
            label: {id: Anggota, en: Member}
            fields:
              - {type: integer, name: ke, label: {id: Ke, en: No.}, default: "${jumlah}"}
              - {type: integer, name: umur, label: {id: Umur, en: Age}}
              - {type: integer, name: tahun, label: {id: Tahun, en: Year}, default: "2026 - ${umur}"}
    """) == ["form.default_reads_field"]


def test_calculate_and_hidden_fields_need_no_label() -> None:
    assert codes("""\
        fields:
          - {type: calculate, name: c, calculation: "1 + 1"}
          - {type: hidden, name: h, default: x}
    """) == []


def test_columns_inside_quoted_expressions_map_to_the_file() -> None:
    result = compile_yaml("""\
        fields:
          - {type: text, name: a, label: {id: A, en: A}, relevant: "${b} = 'x' and foo()"}
          - {type: text, name: b, label: {id: B, en: B}, relevant: '${a} = ''x'' and foo()'}
    """)
    first, second = result.problems
    line = "  - {type: text, name: a, label: {id: A, en: A}, relevant: \"${b} = 'x' and foo()\"}"
    assert (first.code, first.column) == ("form.unknown_function", line.index("foo") + 1)
    # '' is one quote in the value: the column cannot map, so it points at the expression
    assert (second.code, second.column) == ("form.unknown_function", line.index('"') + 1)


def test_odk_functions_are_checked_against_the_form() -> None:
    result = compile_yaml("""\
        choices:
          jk: {L: Laki-laki, P: Perempuan}
          desa:
            - {name: "1001", label: Jahab, kec: "64.02.06"}
        fields:
          - {type: select_one jk, name: jk, label: {id: J, en: S}}
          - {type: text, name: nama, label: {id: N, en: N}}
          - type: repeat
            name: anggota
            fields: [{type: text, name: nama_art, label: {id: N, en: N}}]
          - {type: calculate, name: a, calculation: "jr:choice-name(${jk}, '${jk}')"}
          - {type: calculate, name: b, calculation: "jr:choice-name(${jk}, '${nama}')"}
          - {type: calculate, name: c, calculation: "indexed-repeat(${nama_art}, ${anggota}, 1)"}
          - {type: calculate, name: d, calculation: "indexed-repeat(${nama}, ${anggota}, 1)"}
          - {type: calculate, name: e, calculation: "instance('desa')/root/item[kec = '64.02.06']/label"}
          - {type: calculate, name: f, calculation: "instance('desa')/root/item[kab = 1]/label"}
          - {type: calculate, name: g, calculation: "pulldata('harga', 'harga', 'kode', ${nama})"}
          - {type: calculate, name: h, calculation: "pulldata('desa', 'label', 'kode', ${nama})"}
    """)
    assert [(p.code, p.line) for p in result.problems] == [
        ("form.choice_name_field", 16), ("form.indexed_repeat", 18), ("form.instance_column", 20),
        ("form.instance_file", 21), ("form.instance_column", 22)]
    assert result.compiled is None  # errors stop it; the list `desa`, read only through instance(), is not unused
    assert "'harga.csv'" in result.problems[3].message_en and result.problems[3].severity == "warning"


def test_a_csv_declared_with_csv_external_is_not_reported() -> None:
    body = """\
        fields:
          - {type: csv_external, name: harga}
          - {type: text, name: barang, label: {id: B, en: I}}
          - {type: calculate, name: h, calculation: "pulldata('harga', 'harga', 'kode', ${barang})"}
          - {type: calculate, name: n, calculation: "count(instance('harga')/root/item)"}
    """
    assert "form.instance_file" not in codes(body)
    assert codes(body.replace("{type: csv_external, name: harga}", "{type: note, name: x, label: {id: X, en: X}}")) \
        == ["form.instance_file", "form.instance_file"]


def test_a_form_with_the_odk_functions_compiles() -> None:
    source = (Path(__file__).resolve().parents[1] / "data" / "odk_functions.yaml").read_bytes()
    result = compile_source(source, "odk_functions.yaml")
    assert result.problems == [] and result.compiled is not None
    assert result.compiled.functions() >= {"jr:choice-name", "instance", "indexed-repeat", "join", "once", "digest",
                                           "pulldata", "count-non-empty", "uuid", "format-date-time"}
