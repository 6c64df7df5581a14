"""Compilation: the flat field index, the order values are computed in, the ASTs for the phone,
a JSON round trip, and a content hash that changes when and only when the definition changes."""

from __future__ import annotations

import textwrap

import msgspec

from server.domain.compile import CompiledForm, CompileResult, compile_source
from server.domain.expr import parse

FORM = """\
settings:
  id: tes
  version: "1"
  title: {id: Tes, en: Test}
  instance_name: concat(${nama}, ' ', ${umur})
choices:
  jk: {L: {id: Laki-laki, en: Male}, P: {id: Perempuan, en: Female}}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}, required: yes}
  - type: group
    name: data
    layout: page
    label: {id: Data, en: Data}
    fields:
      - {type: calculate, name: umur, calculation: "int((${tgl_daftar} - ${tgl_lahir}) div 365.25)"}
      - {type: date, name: tgl_lahir, label: {id: Lahir, en: Born}}
      - {type: select_one jk, name: jk, label: {id: JK, en: Sex}, relevant: "${umur} >= 18"}
  - {type: date, name: tgl_daftar, label: {id: Daftar, en: Registered}, default: today()}
  - type: repeat
    name: anak
    label: {id: Anak, en: Children}
    max_count: 9
    fields:
      - {type: integer, name: umur_anak, label: {id: Umur, en: Age}, constraint: ". < ${umur}"}
  - {type: calculate, name: total, calculation: "sum(${umur_anak})"}
"""


def compiled_of(text: str) -> CompiledForm:
    result: CompileResult = compile_source(textwrap.dedent(text).encode(), "tes.yaml")
    assert result.compiled is not None, [(p.code, p.line) for p in result.problems]
    return result.compiled


def test_settings_and_the_flat_field_index() -> None:
    compiled = compiled_of(FORM)
    assert (compiled.form_id, compiled.version, compiled.title) == ("tes", "1", {"id": "Tes", "en": "Test"})
    assert list(compiled.fields) == ["nama", "data", "umur", "tgl_lahir", "jk", "tgl_daftar", "anak", "umur_anak",
                                     "total"]
    assert compiled.fields["jk"].path == "data/jk" and compiled.fields["jk"].choices == "jk"
    assert compiled.fields["umur_anak"].path == "anak/umur_anak"
    assert compiled.fields["umur_anak"].repeat == ("anak",)
    assert compiled.fields["anak"].repeat == () and compiled.fields["anak"].type == "repeat"
    assert compiled.fields["data"].type == "group"


def test_calculations_run_after_what_they_read() -> None:
    order = compiled_of(FORM).order
    assert sorted(order) == sorted(compiled_of(FORM).fields)
    for later, earlier in [("umur", "tgl_daftar"), ("umur", "tgl_lahir"), ("jk", "umur"), ("jk", "data"),
                           ("total", "umur_anak"), ("umur_anak", "anak")]:
        assert order.index(earlier) < order.index(later), (earlier, later)
    # ties keep document order
    assert order.index("nama") < order.index("data") < order.index("tgl_lahir")


def test_rules_hold_asts_for_the_phone_and_exprs_for_python() -> None:
    compiled = compiled_of(FORM)
    assert compiled.rules["nama"] == {"required": True}
    assert compiled.rules["jk"]["relevant"] == {
        "t": "bin", "op": ">=", "left": {"t": "ref", "name": "umur"}, "right": {"t": "num", "v": 18.0}}
    assert compiled.expr("jk", "relevant") == parse("${umur} >= 18")
    assert compiled.expr("tgl_daftar", "default") == parse("today()")
    assert compiled.rules["anak"] == {"max_count": 9}
    assert compiled.instance_name["t"] == "call"


def test_compiled_forms_round_trip_through_json() -> None:
    compiled = compiled_of(FORM)
    again = msgspec.json.decode(msgspec.json.encode(compiled), type=CompiledForm)
    assert again == compiled
    assert again.expr("umur_anak", "constraint") == compiled.expr("umur_anak", "constraint")


def test_the_hash_ignores_whitespace_comments_key_order_and_flow_style() -> None:
    reformatted = """\
# the same form, written differently
settings:
  version: '1'          # quoted the other way
  id: tes
  instance_name: "concat( ${nama} , ' ' , ${umur} )"
  title:
    en: Test
    id: Tes
choices:
  jk:
    - name: L
      label: {en: Male, id: Laki-laki}
    - name: P
      label: {en: Female, id: Perempuan}
fields:
  - name: nama
    type: text
    required: true
    label: {en: Name, id: Nama}
  - type: group
    label: {id: Data, en: Data}
    name: data
    layout: page
    fields:
      - type: calculate
        name: umur
        calculation: >-
          int((${tgl_daftar} - ${tgl_lahir})
          div 365.25)
      - {type: date, name: tgl_lahir, label: {id: Lahir, en: Born}}
      - {type: select_one, choices: jk, name: jk, label: {id: JK, en: Sex}, relevant: "${umur}>=18"}
  - {type: date, name: tgl_daftar, label: {id: Daftar, en: Registered}, default: today()}
  - type: repeat
    name: anak
    label: {id: Anak, en: Children}
    max_count: 9
    fields:
      - {type: integer, name: umur_anak, label: {id: Umur, en: Age}, constraint: ".<${umur}"}
  - {type: calculate, name: total, calculation: "sum( ${umur_anak} )"}
"""
    assert compiled_of(reformatted).content_hash == compiled_of(FORM).content_hash


def test_the_hash_changes_with_every_kind_of_definition_change() -> None:
    base = compiled_of(FORM).content_hash
    changes = [
        ('version: "1"', 'version: "2"'),
        ("{id: Nama, en: Name}", "{id: Nama lengkap, en: Name}"),
        ("required: yes}", "required: no}"),
        ('"${umur} >= 18"', '"${umur} > 18"'),
        ("max_count: 9", "max_count: 8"),
        ("layout: page", "layout: section"),
        ("P: {id: Perempuan, en: Female}", "P: {id: Perempuan, en: Woman}"),
        ("default: today()", "default: '2026-01-01'"),
        ("- {type: calculate, name: total", "- {type: calculate, name: jumlah"),
    ]
    hashes = set()
    for old, new in changes:
        assert old in FORM, old
        changed = compiled_of(FORM.replace(old, new)).content_hash
        assert changed != base, (old, new)
        hashes.add(changed)
    assert len(hashes) == len(changes)


def test_region_lists_hash_by_their_choices_not_their_spelling() -> None:
    body = "fields: [{type: select_one kec, name: kec, label: {id: K, en: K}}]\n"
    head = 'settings: {id: t, version: "1"}\nchoices:\n'
    by_source = compiled_of(head + "  kec: {wilayah: kecamatan 64.02}\n" + body)
    by_code = compiled_of(head + "  kec: {wilayah: kecamatan 6402}\n" + body)
    assert by_source.content_hash == by_code.content_hash
    assert by_source.definition.choices["kec"].wilayah == "kecamatan 64.02"


def test_a_form_with_errors_does_not_compile_but_warnings_do() -> None:
    bad = compile_source(FORM.replace("${tgl_lahir}", "${tgl_lhr}").encode(), "tes.yaml")
    assert bad.compiled is None and [p.code for p in bad.problems] == ["form.unknown_reference"]
    warned = compile_source(FORM.replace("{id: Nama, en: Name}", "Nama").encode(), "tes.yaml")
    assert warned.compiled is not None and [p.code for p in warned.problems] == ["form.missing_translation"]
