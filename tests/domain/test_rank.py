"""ODK's rank: every choice of a list put in order. Read from XLSForm (`rank listname`, with a
choice_filter, parameters and languages as pyxform takes them) and YAML; an answer must be a
permutation of the choices the filter offers; written back by the export so pyxform makes it
odk:rank, and read back from an ODK Collect instance ("c a b")."""

from __future__ import annotations

import datetime as dt
import io
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from pyxform.xls2xform import convert

from server.domain.answers import validate, validate_reference
from server.domain.compile import CompiledForm, compile_source
from server.domain.exports import Options, flat, merge, renderer
from server.domain.form import Question
from server.domain.openrosa_instance import answers_of, read
from server.domain.xform import build_xform
from server.domain.xlsform_export import export_xlsform
from tests.domain.test_xlsform import compile_book
from tests.openrosa_fill import built, instance_xml, xform_of

NOW = dt.datetime(2026, 8, 17, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

RANKED = """\
settings: {id: prioritas, version: "1"}
choices:
  kebutuhan:
    air: {id: Air bersih, en: Clean water}
    listrik: {id: Listrik, en: Electricity}
    jalan: {id: Jalan, en: Road}
  bantuan:
    - {name: pkh, label: {id: PKH}, jenis: tunai}
    - {name: blt, label: {id: BLT}, jenis: tunai}
    - {name: sembako, label: {id: Sembako}, jenis: barang}
fields:
  - {type: rank kebutuhan, name: urutan, label: {id: Urutkan kebutuhan, en: Rank the needs}}
  - {type: select_one, name: jenis, label: {id: Jenis bantuan}, choices: {tunai: {id: Tunai}, barang: {id: Barang}}}
  - {type: rank bantuan, name: bantuan_urut, label: {id: Urutkan bantuan}, required: yes,
     choice_filter: "jenis = ${jenis}"}
  - {type: calculate, name: pertama, calculation: "selected-at(${urutan}, 0)"}
"""


def ranked() -> CompiledForm:
    result = compile_source(RANKED.encode(), "prioritas.yaml")
    assert result.compiled is not None, [(p.code, p.message_en) for p in result.problems]
    return result.compiled


def both(compiled: CompiledForm, answers: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The generated validator and the reference agree; their answers and (path, code) errors."""
    fast = validate(compiled, answers, today=NOW.date(), now=NOW)
    slow = validate_reference(compiled, answers, today=NOW.date(), now=NOW)
    assert (fast.answers, [(e.path, e.code) for e in fast.errors]) == \
        (slow.answers, [(e.path, e.code) for e in slow.errors])
    return fast.answers, [(e.path, e.code) for e in fast.errors]


def test_a_rank_answer_is_every_offered_choice_once_in_the_enumerators_order() -> None:
    compiled = ranked()
    answers, errors = both(compiled, {"urutan": ["listrik", "air", "jalan"], "jenis": "tunai",
                                      "bantuan_urut": "blt pkh"})  # as an XForm instance sends it
    assert errors == []
    assert answers["urutan"] == ["listrik", "air", "jalan"] and answers["bantuan_urut"] == ["blt", "pkh"]
    assert answers["pertama"] == "listrik"  # selected-at reads the order


@pytest.mark.parametrize(("sent", "code"), [
    ({"urutan": ["listrik", "air"]}, "answer.rank"),  # a choice left out
    ({"urutan": ["listrik", "air", "air"]}, "answer.rank"),  # one twice, another left out
    ({"urutan": ["listrik", "air", "jalan", "laut"]}, "answer.choice"),
    ({"urutan": 5}, "answer.select_multiple"),
    ({"bantuan_urut": ["pkh", "blt", "sembako"]}, "answer.choice_filtered"),  # sembako is not tunai
    ({"bantuan_urut": ["pkh"]}, "answer.rank"),  # blt is offered too
    ({"bantuan_urut": []}, "answer.required"),
])
def test_a_rank_that_is_not_a_permutation_of_the_offered_choices_is_refused(sent: dict[str, Any], code: str) -> None:
    answers = {"urutan": ["air", "jalan", "listrik"], "jenis": "tunai", "bantuan_urut": ["pkh", "blt"], **sent}
    _, errors = both(ranked(), answers)
    path = next(iter(sent))
    assert errors == [(path, code)]


def test_an_unanswered_rank_is_allowed_unless_required_and_the_message_names_what_is_missing() -> None:
    compiled = ranked()
    _, errors = both(compiled, {"jenis": "barang", "bantuan_urut": ["sembako"]})
    assert errors == []  # urutan is not required: left unranked, as ODK Collect allows
    result = validate(compiled, {"urutan": ["air"], "jenis": "barang", "bantuan_urut": ["sembako"]},
                      today=NOW.date(), now=NOW)
    assert "listrik, jalan" in result.errors[0].message_id and "Urutkan semua pilihan" in result.errors[0].message_id


def test_xlsform_rank_with_a_filter_parameters_and_languages_as_pyxform_takes_it() -> None:
    result = compile_book([["type", "name", "label", "label::English (en)", "choice_filter", "parameters"],
                           ["rank mylist", "order", "Urutan", "Rank", "color='blue' or color='red'", "randomize=true"]],
                          choices=[["list_name", "name", "label", "color"], ["mylist", "a", "A", "red"],
                                   ["mylist", "b", "B", "blue"], ["mylist", "c", "C", "green"]])
    # randomize: kept for the export and named as a warning (the page does not shuffle), as for selects
    assert [(p.code, p.severity) for p in result.problems] == [("xlsform.ignored", "warning")]
    assert result.compiled is not None
    order = result.compiled.definition.fields[0]
    assert isinstance(order, Question) and (order.type, order.choices) == ("rank", "mylist")
    assert order.xlsform.get("parameters") == "randomize=true"  # written back by the export
    _, errors = both(result.compiled, {"order": "b a"})
    assert errors == []


def test_the_export_writes_rank_pyxform_makes_it_odk_rank_and_collects_instance_reads_back() -> None:
    compiled = ranked()
    book = export_xlsform(compiled.definition)
    back = compile_source(book, "prioritas.xlsx").compiled
    assert back is not None and back.content_hash == compiled.content_hash
    xform = ET.fromstring(convert(xlsform=io.BytesIO(book), form_name="prioritas", file_type=".xlsx",
                                  warnings=[]).xform)
    ranks = [e for e in xform.iter() if e.tag.endswith("}rank")]
    assert [e.attrib["ref"].rsplit("/", 1)[1] for e in ranks] == ["urutan", "bantuan_urut"]
    binds = {e.attrib["nodeset"].rsplit("/", 1)[1]: e.attrib.get("type")
             for e in xform.iter() if e.tag.endswith("bind")}
    assert binds["urutan"] == "odk:rank"
    # What ODK Collect sends: the names in order, space-separated.
    sent = {"urutan": "jalan air listrik", "jenis": "barang", "bantuan_urut": "sembako",
            **dict.fromkeys(built(compiled).added, "x")}
    xml = instance_xml(xform_of(compiled), sent, "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11")
    mapped = answers_of(compiled.definition, read(xml).root, built(compiled).added)
    answers, errors = both(compiled, mapped)
    assert errors == [] and answers["urutan"] == ["jalan", "air", "listrik"]


def test_exports_show_the_ordered_labels() -> None:
    layout = merge([("1", ranked())])
    column = next(c for t in layout.tables for c in t.columns if c.name == "urutan")
    render = renderer(column, layout, Options(values="labels", lang="en"))
    assert render is not None
    cell = render(["listrik", "jalan", "air"])
    assert cell == ["Electricity", "Road", "Clean water"]
    assert flat(cell, "labels") == "Electricity; Road; Clean water"  # the review page's and CSV's text


def test_a_rank_of_a_region_list_keeps_its_choices_in_the_xform() -> None:
    """Region lists become CSV media for select_one_from_file; ODK has no rank from a file, so the
    list a rank orders stays in the XForm (pyxform would refuse a rank of a list it cannot find)."""
    source = RANKED.replace("choices:\n", "choices:\n  kecamatan: {wilayah: kecamatan 64.02}\n", 1) + \
        "  - {type: rank kecamatan, name: kec_urut, label: {id: Urutkan kecamatan}}\n" \
        "  - {type: select_one kecamatan, name: kec, label: {id: Kecamatan}}\n"
    compiled = compile_source(source.encode(), "prioritas.yaml").compiled
    assert compiled is not None
    xform = build_xform(compiled.definition)
    assert "wilayah_kecamatan.csv" in xform.media  # the select still chooses from the file
    assert b"<odk:rank" in xform.xml and xform.xml.count(b"Tenggarong") >= 1  # the rank's choices inline
