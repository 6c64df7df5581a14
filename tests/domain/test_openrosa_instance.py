"""An instance as ODK Collect sends it, made from the XForm pyxform generates for each shipped form,
reads back as the same answers the web page posts; the XML is parsed safely (defusedxml)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from server.domain.compile import CompiledForm
from server.domain.openrosa_instance import answers_of, file_names, read, with_files
from server.errors import PantauError
from tests.domain.test_forms_answers import form
from tests.domain.test_forms_shipped import CHILD, MONEV, REGISTRASI, SITI, TUMBUH, VISIT, check
from tests.openrosa_fill import built, instance_xml, xform_of

ID = uuid.UUID("0b6e3c8a-52d4-4f43-9d4e-6a1f2b3c4d5e")
SHIPPED = [("registrasi_penerima", REGISTRASI, SITI), ("monev_uep", MONEV, VISIT), ("cek_tumbuh_anak", TUMBUH, CHILD)]

# Every shape the mapping meets: a group, a repeat inside a group, select_multiple, geopoint, date,
# time, datetime, an image in the repeat, a note and a calculation pyxform writes into the instance.
SHAPES = form("""\
    fields:
      - type: group
        name: rumah
        label: R
        fields:
          - {type: select_multiple, name: aset, label: A, choices: [{name: tv, label: TV}, {name: motor, label: M}]}
          - {type: geopoint, name: lokasi, label: L}
          - {type: date, name: tgl, label: T}
          - {type: time, name: jam, label: J}
          - {type: datetime, name: waktu, label: W}
          - {type: note, name: info, label: "Catatan ${tgl}"}
          - type: repeat
            name: anggota
            label: Anggota
            fields:
              - {type: text, name: nama, label: N, required: yes}
              - {type: integer, name: umur, label: U}
              - {type: image, name: foto, label: F}
      - {type: calculate, name: jumlah, calculation: "count(${nama})"}
""")
SHAPES_ANSWERS: dict[str, Any] = {
    "aset": ["tv", "motor"], "lokasi": "-0.4195 116.9856 20 8", "tgl": "2026-03-30",
    "jam": "10:05:00.000+08:00", "waktu": "2026-03-30T10:05:00.000+08:00",
    "anggota": [{"nama": "Siti", "umur": 40, "foto": "1712345678.jpg"}, {"nama": "Ayu", "umur": 1}],
}


def _through_xml(compiled: CompiledForm, answers: dict[str, Any]) -> dict[str, Any]:
    # What the XForm adds (its top note, a NIK's sex and birth date shown back) holds text as an
    # engine computes it; the reader drops it.
    computed = dict.fromkeys(built(compiled).added, "dihitung oleh aplikasi")
    instance = read(instance_xml(xform_of(compiled), {**answers, **computed}, ID))
    assert (instance.form_id, instance.version, instance.instance_id) == (compiled.form_id, compiled.version, ID)
    return answers_of(compiled.definition, instance.root, built(compiled).added)


@pytest.mark.parametrize(("name", "compiled", "answers"), SHIPPED, ids=[s[0] for s in SHIPPED])
def test_a_shipped_forms_instance_validates_as_the_web_answers_do(name: str, compiled: CompiledForm,
                                                                   answers: dict[str, Any]) -> None:
    mapped = _through_xml(compiled, answers)
    via_xml, via_web = check(compiled, mapped), check(compiled, dict(answers))
    assert via_xml.errors == [] and via_web.errors == []
    assert via_xml.answers == via_web.answers


def test_the_xforms_own_notes_are_dropped_and_only_they() -> None:
    added = built(REGISTRASI).added
    assert {"nik_jk_nik", "nik_lahir_nik"} <= added  # the NIK's sex and birth date, shown back
    xml = instance_xml(xform_of(REGISTRASI), {**SITI, **dict.fromkeys(added, "x")}, ID)
    unread = check(REGISTRASI, answers_of(REGISTRASI.definition, read(xml).root))
    assert {e.path for e in unread.errors} == added and {e.code for e in unread.errors} == {"answer.unknown_field"}


def test_groups_repeats_selects_points_times_and_images_map_to_the_flat_answers() -> None:
    mapped = _through_xml(SHAPES, SHAPES_ANSWERS)
    assert mapped["aset"] == "tv motor" and mapped["anggota"][1] == {"nama": "Ayu", "umur": "1"}
    result = check(SHAPES, mapped)
    assert result.errors == []
    assert result.answers == check(SHAPES, SHAPES_ANSWERS).answers
    assert result.answers["jumlah"] == 2 and result.answers["lokasi"] == "-0.4195 116.9856 20 8"
    assert result.answers["anggota"][0] == {"nama": "Siti", "umur": 40, "foto": "1712345678.jpg"}
    assert file_names(SHAPES.definition, mapped) == [("foto", "1712345678.jpg")]
    swapped = with_files(SHAPES.definition, mapped, {"1712345678.jpg": "ab" * 32})
    assert swapped["anggota"][0]["foto"] == "ab" * 32 and mapped["anggota"][0]["foto"] == "1712345678.jpg"


def test_an_element_the_form_does_not_have_is_named_by_validation() -> None:
    xml = instance_xml(xform_of(SHAPES), SHAPES_ANSWERS, ID).replace(b"<meta>", b"<siluman>x</siluman><meta>")
    instance = read(xml)
    result = check(SHAPES, answers_of(SHAPES.definition, instance.root))
    assert [(e.path, e.code) for e in result.errors] == [("siluman", "answer.unknown_field")]


META = b"<meta><instanceID>uuid:0b6e3c8a-52d4-4f43-9d4e-6a1f2b3c4d5e</instanceID></meta>"
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<data id="t" version="1"><a>&lol3;</a>""" + META + b"</data>"
XXE = b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>
<data id="t" version="1"><a>&x;</a>""" + META + b"</data>"


@pytest.mark.parametrize(("xml", "code"), [
    (BILLION_LAUGHS, "openrosa.unsafe_xml"),
    (XXE, "openrosa.unsafe_xml"),
    (b"not xml at all", "openrosa.not_xml"),
    (b"", "openrosa.not_xml"),
    (b"<data id='t' version='1'><a>" + b"\xff\xfe" + b"</a></data>", "openrosa.not_xml"),
    (b"<data id='t'>" + b"<a>x</a>" * 400_000 + b"</data>", "openrosa.xml_too_large"),
    (b"<data version='1'>" + META + b"</data>", "openrosa.no_form_id"),
    (b"<data id='t' version='1'><meta><instanceID>42</instanceID></meta></data>", "openrosa.bad_instance_id"),
    (b"<data id='t' version='1'><a/></data>", "openrosa.bad_instance_id"),
    (b"<data id='t' version='1'><meta><instanceID>uuid:0b6e3c8a-52d4-4f43-9d4e-6a1f2b3c4d5e</instanceID>"
     b"<deprecatedID>uuid:1b6e3c8a-52d4-4f43-9d4e-6a1f2b3c4d5e</deprecatedID></meta></data>", "openrosa.edit"),
    (b"<data id='t' version='1'>" + b"<g>" * 5000 + b"</g>" * 5000 + META + b"</data>", None),
], ids=["billion-laughs", "xxe", "text", "empty", "bad-utf8", "oversize", "no-id", "bad-instance-id", "no-meta", "edit",
        "deep"])
def test_hostile_xml_is_a_catalogue_error(xml: bytes, code: str | None) -> None:
    if code is None:  # deep nesting is no danger: the form's own structure bounds the walk
        instance = read(xml)
        assert answers_of(SHAPES.definition, instance.root) == {}  # empty and unknown: nothing to name
        return
    with pytest.raises(PantauError) as caught:
        read(xml)
    assert caught.value.code == code and caught.value.status == 400
