"""validate(): one set of answers against the compiled rules, as the phone runs them. Each test
writes a small form inline and asserts on error/warning codes and the cleaned answers."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import textwrap
from typing import Any

import msgspec
import pytest

from server.domain.answers import CONFIRM_KEY, Validation, validate
from server.domain.compile import CompiledForm, compile_source

TODAY = dt.date(2026, 3, 31)
NOW = dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC)
SITI = "6402064101900001"  # a woman born 1 January 1990, Tenggarong


def form(body: str) -> CompiledForm:
    text = 'settings: {id: t, version: "1"}\n' + textwrap.dedent(body)
    result = compile_source(text.encode(), "t.yaml")
    assert result.compiled is not None, [(p.code, p.line) for p in result.problems if p.severity == "error"]
    return result.compiled


def check(compiled: CompiledForm, answers: dict[str, Any]) -> Validation:
    return validate(compiled, answers, today=TODAY, now=NOW)


def errors(result: Validation) -> list[tuple[str, str]]:
    return [(e.path, e.code) for e in result.errors]


def warnings(result: Validation) -> list[tuple[str, str, bool]]:
    return [(w.path, w.code, w.confirmed) for w in result.warnings]


TYPES = form("""\
    choices:
      yn: {ya: Ya, tidak: Tidak}
    fields:
      - {type: text, name: teks, label: T}
      - {type: integer, name: bulat, label: B}
      - {type: decimal, name: desimal, label: D}
      - {type: select_one yn, name: satu, label: S}
      - {type: select_multiple yn, name: banyak, label: M}
      - {type: date, name: tanggal, label: D}
      - {type: time, name: jam, label: J}
      - {type: datetime, name: waktu, label: W}
      - {type: geopoint, name: gps, label: G, parameters: {max_accuracy: "50"}}
      - {type: image, name: foto, label: F}
      - {type: note, name: catatan, label: C}
      - {type: acknowledge, name: paham, label: P}
      - {type: hidden, name: tersembunyi}
      - {type: phone, name: hp, label: H}
      - {type: rupiah, name: uang, label: R}
""")


def test_values_are_cleaned_by_type() -> None:
    result = check(TYPES, {
        "teks": "  Siti  ", "bulat": "12", "desimal": "9,4", "satu": "ya", "banyak": "ya tidak",
        "tanggal": "2026-03-01", "jam": "07:30", "waktu": "2026-03-31T10:00:00+08:00", "gps": "-0.42 116.98",
        "foto": "a.jpg", "catatan": "ignored", "paham": True, "tersembunyi": 5, "hp": "0812-3456-7890",
        "uang": "Rp 1.250.000",
    })
    assert result.errors == [] and result.warnings == [] and result.ok
    assert result.answers == {
        "teks": "Siti", "bulat": 12, "desimal": 9.4, "satu": "ya", "banyak": ["ya", "tidak"],
        "tanggal": "2026-03-01", "jam": "07:30", "waktu": "2026-03-31T10:00:00+08:00", "gps": "-0.42 116.98 0 0",
        "foto": "a.jpg", "paham": "OK", "tersembunyi": 5, "hp": "+6281234567890", "uang": 1250000,
    }


@pytest.mark.parametrize(("name", "value", "code"), [
    ("teks", 5, "answer.text"),
    ("bulat", "12.5", "answer.integer"),
    ("bulat", True, "answer.integer"),
    ("desimal", "sembilan", "answer.decimal"),
    ("desimal", "nan", "answer.decimal"),
    ("desimal", 10**400, "answer.decimal"),  # a JSON integer too big for a float: was an OverflowError (a 500)
    ("desimal", "1" + "0" * 400, "answer.decimal"),
    ("satu", "mungkin", "answer.choice"),
    ("banyak", ["ya", "mungkin"], "answer.choice"),
    ("banyak", {"ya": 1}, "answer.select_multiple"),
    ("banyak", ["ya", " "], "answer.select_multiple"),
    ("banyak", ["ya", 1], "answer.select_multiple"),
    ("tanggal", "2026-02-30", "answer.date"),
    ("tanggal", "31/03/2026", "answer.date"),
    ("jam", "25:00", "answer.time"),
    ("waktu", "2026-03-31T10:00:00", "answer.datetime"),
    ("gps", "-91 116", "answer.geopoint"),
    ("gps", "nowhere", "answer.geopoint"),
    ("foto", "../etc/passwd", "answer.text"),
    ("paham", "no", "answer.acknowledge"),
    ("hp", "(0541) 123456", "phone.not_mobile"),
    ("hp", "123", "phone.invalid"),
    ("uang", -5, "answer.rupiah"),
    ("uang", "1,5 juta", "answer.rupiah"),
])
def test_a_value_of_the_wrong_type_is_an_error(name: str, value: Any, code: str) -> None:
    result = check(TYPES, {name: value})
    assert errors(result) == [(name, code)]
    if code != "answer.choice":  # a value that is no value of its type is not kept
        assert name not in result.answers


def test_a_text_answer_longer_than_a_page_is_refused_and_a_long_one_kept() -> None:
    kept = check(TYPES, {"teks": "a" * 10_000})
    assert errors(kept) == [] and kept.answers["teks"] == "a" * 10_000
    assert errors(check(TYPES, {"teks": "a" * 10_001})) == [("teks", "answer.text_long")]


def test_gps_accuracy_worse_than_the_limit_is_a_warning() -> None:
    result = check(TYPES, {"gps": "-0.42 116.98 20 75"})
    assert warnings(result) == [("gps", "answer.geopoint_accuracy", False)]
    assert not result.ok and result.errors == []


def test_unknown_fields_and_calculations_sent_by_the_client() -> None:
    compiled = form("""\
        fields:
          - {type: integer, name: a, label: A}
          - {type: calculate, name: dua_a, calculation: "${a} * 2"}
    """)
    result = check(compiled, {"a": 4, "dua_a": 99, "b": 1})
    assert errors(result) == [("b", "answer.unknown_field")]
    assert result.answers == {"a": 4, "dua_a": 8}


def test_once_keeps_what_the_phone_computed_and_other_calculations_are_recomputed() -> None:
    compiled = form("""\
        fields:
          - {type: integer, name: a, label: A}
          - {type: calculate, name: kode, calculation: "once(uuid())"}
          - {type: calculate, name: mulai, calculation: "once(now())"}
          - {type: calculate, name: dua_a, calculation: "${a} * 2"}
          - type: repeat
            name: r
            fields: [{type: calculate, name: no, calculation: "once(concat('R', position(..)))"}]
    """)
    sent = {"a": 4, "kode": "6e1c2f4e-0b1a-4f3e-9d2a-1c2b3d4e5f60", "mulai": "2026-03-30T08:00:00.000+08:00",
            "dua_a": 99, "r": [{"no": "R9"}, {}]}
    result = check(compiled, sent)
    assert errors(result) == []
    assert result.answers == {"a": 4, "kode": sent["kode"], "mulai": sent["mulai"], "dua_a": 8,
                              "r": [{"no": "R9"}, {"no": "R2"}]}
    fresh = check(compiled, {"a": 1}).answers
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", fresh["kode"])
    assert fresh["mulai"] == NOW.isoformat(timespec="milliseconds")  # the server clock: the phone sent none


def test_choice_lists_and_uploaded_csvs_are_read_by_the_odk_functions() -> None:
    compiled = form("""\
        choices:
          desa:
            - {name: "1001", label: {id: Jahab, en: Jahab village}, kec: "64.02.06"}
            - {name: "2001", label: {id: Loa Ipuh, en: Loa Ipuh village}, kec: "64.02.07"}
        fields:
          - {type: select_one desa, name: desa, label: D}
          - {type: text, name: barang, label: B}
          - type: repeat
            name: anggota
            fields: [{type: text, name: nama, label: N}]
          - {type: calculate, name: nama_desa, calculation: "jr:choice-name(${desa}, '${desa}')"}
          - {type: calculate, name: kec, calculation: "instance('desa')/root/item[name = ${desa}]/kec"}
          - {type: calculate, name: harga, calculation: "pulldata('harga', 'harga', 'kode', ${barang}) * 2"}
          - {type: calculate, name: kedua, calculation: "indexed-repeat(${nama}, ${anggota}, 2)"}
          - {type: calculate, name: sidik, calculation: "digest(${barang}, 'SHA-256', 'hex')"}
    """)
    with_csv = msgspec.structs.replace(compiled, instances={"harga": [{"kode": "gula", "harga": "17500"}]})
    answers = {"desa": "2001", "barang": "gula", "anggota": [{"nama": "Ani"}, {"nama": "Budi"}]}
    result = check(with_csv, answers).answers
    # The label in the form's default language (id), as a stored calculation must not depend on the page's
    assert (result["nama_desa"], result["kec"], result["harga"], result["kedua"]) == ("Loa Ipuh", "64.02.07", 35000,
                                                                                      "Budi")
    assert result["sidik"] == hashlib.sha256(b"gula").hexdigest()
    assert "harga" not in check(compiled, answers).answers  # no CSV uploaded: NaN, not stored


REQUIRED = form("""\
    fields:
      - {type: text, name: jenis, label: J, required: yes, required_message: {id: Isi jenisnya, en: Fill in the kind}}
      - {type: integer, name: umur, label: U, required: "${jenis} = 'anak'"}
      - {type: select_multiple, name: pilih, label: P, required: yes, choices: {a: A, b: B}}
""")


def test_required_fields_and_their_message() -> None:
    result = check(REQUIRED, {"jenis": "", "pilih": []})
    assert errors(result) == [("jenis", "answer.required"), ("pilih", "answer.required")]
    assert (result.errors[0].message_id, result.errors[0].message_en) == ("Isi jenisnya", "Fill in the kind")


def test_required_as_an_expression() -> None:
    assert errors(check(REQUIRED, {"jenis": "anak", "pilih": ["a"]})) == [("umur", "answer.required")]
    assert errors(check(REQUIRED, {"jenis": "dewasa", "pilih": ["a"]})) == []


def test_a_bad_value_is_not_reported_as_missing_too() -> None:
    assert errors(check(REQUIRED, {"jenis": 5, "pilih": ["a"]})) == [("jenis", "answer.text")]


RELEVANT = form("""\
    fields:
      - {type: text, name: punya_usaha, label: P}
      - type: group
        name: usaha
        relevant: ${punya_usaha} = 'ya'
        fields:
          - {type: rupiah, name: omzet, label: O, required: yes}
          - {type: rupiah, name: untung, label: U, constraint: ". <= ${omzet}"}
      - {type: calculate, name: margin, calculation: "${untung} div ${omzet}"}
      - {type: text, name: alasan, label: A, relevant: "${punya_usaha} = 'tidak'", required: yes}
""")


def test_non_relevant_answers_are_dropped_and_not_required() -> None:
    result = check(RELEVANT, {"punya_usaha": "tidak", "omzet": 100, "untung": 500, "alasan": "modal"})
    assert result.errors == []
    assert result.answers == {"punya_usaha": "tidak", "alasan": "modal"}  # margin of nothing is empty


def test_relevant_answers_are_checked_and_calculated() -> None:
    result = check(RELEVANT, {"punya_usaha": "ya", "omzet": 1000, "untung": 250})
    assert result.errors == [] and result.answers["margin"] == 0.25
    assert errors(check(RELEVANT, {"punya_usaha": "ya", "untung": 5})) == [("omzet", "answer.required"),
                                                                          ("untung", "answer.constraint")]


def test_a_constraint_uses_its_message() -> None:
    compiled = form("""\
        fields:
          - type: integer
            name: jml_art
            label: J
            constraint: . >= 1 and . <= 30
            constraint_message: {id: Antara 1 dan 30 orang., en: Between 1 and 30 people.}
    """)
    result = check(compiled, {"jml_art": 31})
    assert errors(result) == [("jml_art", "answer.constraint")]
    assert result.errors[0].message_en == "Between 1 and 30 people."
    assert errors(check(compiled, {"jml_art": 30})) == []
    assert errors(check(compiled, {})) == []  # constraints are not checked on empty answers


CASCADE = form("""\
    choices:
      kec: {wilayah: kecamatan 64.02}
      desa: {wilayah: desa 64.02}
    fields:
      - {type: select_one kec, name: kecamatan, label: K}
      - {type: select_one desa, name: desa, label: D, choice_filter: "parent = ${kecamatan}"}
""")


def test_the_choice_filter_cascades_kecamatan_to_desa() -> None:
    assert errors(check(CASCADE, {"kecamatan": "64.02.06", "desa": "64.02.06.1001"})) == []
    assert errors(check(CASCADE, {"kecamatan": "64.02.13", "desa": "64.02.06.1001"})) == [
        ("desa", "answer.choice_filtered")]
    assert errors(check(CASCADE, {"kecamatan": "64.02.06", "desa": "64.02.06.9999"})) == [("desa", "answer.choice")]


REPEATS = form("""\
    fields:
      - {type: integer, name: jml_art, label: J}
      - type: repeat
        name: anggota
        label: A
        repeat_count: ${jml_art}
        fields:
          - {type: text, name: nama, label: N, required: yes}
          - {type: integer, name: umur, label: U, constraint: ". >= 0"}
          - {type: text, name: sekolah, label: S, relevant: "${umur} >= 7 and ${umur} < 19"}
      - type: repeat
        name: kunjungan
        label: K
        min_count: 1
        max_count: 2
        fields: [{type: date, name: tgl, label: T}]
      - {type: calculate, name: total_umur, calculation: "sum(${umur})"}
""")


def test_repeats_are_validated_per_instance_with_paths() -> None:
    result = check(REPEATS, {
        "jml_art": 3,
        "anggota": [{"nama": "Siti", "umur": 40, "sekolah": "x"}, {"nama": "", "umur": 12, "sekolah": "SD"},
                    {"nama": "Rudi", "umur": -1}],
        "kunjungan": [{"tgl": "2026-03-01"}],
    })
    assert errors(result) == [("anggota[2]/nama", "answer.required"), ("anggota[3]/umur", "answer.constraint")]
    assert result.answers["anggota"][0] == {"nama": "Siti", "umur": 40}  # sekolah not relevant at 40
    assert result.answers["anggota"][1]["sekolah"] == "SD"
    assert result.answers["total_umur"] == 51


def test_repeat_counts() -> None:
    assert errors(check(REPEATS, {"jml_art": 2, "anggota": [{"nama": "A"}], "kunjungan": []})) == [
        ("anggota", "answer.repeat_count"), ("kunjungan", "answer.repeat_min")]
    assert errors(check(REPEATS, {"jml_art": 0, "kunjungan": [{}, {}, {}]})) == [("kunjungan", "answer.repeat_max")]
    assert errors(check(REPEATS, {"jml_art": 0, "anggota": "x", "kunjungan": [{}]})) == [("anggota", "answer.repeat")]
    nested_wrong = check(REPEATS, {"jml_art": 1, "anggota": [{"nama": "A", "tgl": "2026-01-01"}], "kunjungan": [{}]})
    assert errors(nested_wrong) == [("anggota[1]/tgl", "answer.unknown_field")]


NIK_FORM = form("""\
    choices:
      jk: {L: Laki-laki, P: Perempuan}
    fields:
      - {type: date, name: tgl_daftar, label: T}
      - {type: select_one jk, name: jenis_kelamin, label: J}
      - {type: date, name: tgl_lahir, label: L}
      - type: nik
        name: nik
        label: NIK
        required: yes
        parameters: {sex: jenis_kelamin, birth_date: tgl_lahir, registered: tgl_daftar}
      - {type: no_kk, name: no_kk, label: KK, parameters: {nik: nik, registered: tgl_daftar}}
      - type: repeat
        name: anggota
        label: A
        fields:
          - {type: select_one jk, name: jk_art, label: J}
          - {type: nik, name: nik_art, label: N, parameters: {sex: jk_art, registered: tgl_daftar}}
""")


def test_a_valid_nik_is_stored_as_digits() -> None:
    result = check(NIK_FORM, {"tgl_daftar": "2026-03-31", "jenis_kelamin": "P", "tgl_lahir": "1990-01-01",
                              "nik": "6402 0641 0190 0001", "no_kk": "6402-0612-0315-0007"})
    assert result.errors == [] and result.warnings == [] and result.ok
    assert (result.answers["nik"], result.answers["no_kk"]) == (SITI, "6402061203150007")


@pytest.mark.parametrize(("nik", "code"), [
    ("640206410190001", "nik.length"),
    ("6.40206E+15", "nik.excel"),
    ("1111111111111111", "nik.placeholder"),
    ("9902064101900001", "nik.province"),
    ("6400004101900001", "nik.region_zero"),
    ("6402063202900001", "nik.date"),
    ("6402064101900000", "nik.serial_zero"),
    ("6402064112260001", "nik.future_birth"),
])
def test_nik_hard_errors_block(nik: str, code: str) -> None:
    result = check(NIK_FORM, {"tgl_daftar": "2026-03-31", "nik": nik})
    assert errors(result) == [("nik", code)]


def test_birth_after_the_registration_date_not_after_today() -> None:
    # born 1 March 2026, registered 1 February 2026 (back-dated entry): still impossible
    result = check(NIK_FORM, {"tgl_daftar": "2026-02-01", "nik": "6402064103260001"})
    assert errors(result) == [("nik", "nik.future_birth")]


def test_kk_equal_to_nik_is_an_error() -> None:
    result = check(NIK_FORM, {"tgl_daftar": "2026-03-31", "nik": SITI, "no_kk": SITI})
    assert errors(result) == [("no_kk", "kk.is_nik")]


def test_nik_warnings_need_a_confirm_tick() -> None:
    answers = {"tgl_daftar": "2026-03-31", "jenis_kelamin": "L", "tgl_lahir": "1990-01-02", "nik": SITI}
    result = check(NIK_FORM, answers)
    assert result.errors == []
    assert warnings(result) == [("nik", "nik.sex_mismatch", False), ("nik", "nik.dob_mismatch", False)]
    assert not result.ok and len(result.unconfirmed) == 2 and CONFIRM_KEY not in result.answers
    confirmed = check(NIK_FORM, {**answers, CONFIRM_KEY: ["nik", "no_kk"]})
    assert warnings(confirmed) == [("nik", "nik.sex_mismatch", True), ("nik", "nik.dob_mismatch", True)]
    assert confirmed.ok
    assert confirmed.answers[CONFIRM_KEY] == ["nik"]  # only ticks that confirm a warning are kept


def test_other_nik_warnings() -> None:
    result = check(NIK_FORM, {"tgl_daftar": "2026-03-31", "nik": "3201014101900001"})
    assert warnings(result) == [("nik", "nik.outside_kukar", False)]
    result = check(NIK_FORM, {"tgl_daftar": "2026-03-31", "nik": "6402994101900001"})
    assert warnings(result) == [("nik", "nik.prefix_unknown", False)]


def test_confirmations_inside_repeat_instances() -> None:
    answers = {"tgl_daftar": "2026-03-31", "nik": "6402060101900001",
               "anggota": [{"jk_art": "L", "nik_art": SITI},
                           {"jk_art": "L", "nik_art": SITI, CONFIRM_KEY: ["nik_art"]}]}
    result = check(NIK_FORM, answers)
    assert warnings(result) == [("anggota[1]/nik_art", "nik.sex_mismatch", False),
                                ("anggota[2]/nik_art", "nik.sex_mismatch", True)]
    assert result.answers["anggota"][1][CONFIRM_KEY] == ["nik_art"]
    assert errors(check(NIK_FORM, {"nik": SITI, CONFIRM_KEY: "nik"})) == [(CONFIRM_KEY, "answer.bad_confirmation")]


def test_the_compiled_plan_survives_json_and_is_reused() -> None:
    import msgspec

    again = msgspec.json.decode(msgspec.json.encode(NIK_FORM), type=CompiledForm)
    answers = {"tgl_daftar": "2026-03-31", "jenis_kelamin": "L", "nik": SITI}
    assert warnings(check(again, answers)) == warnings(check(NIK_FORM, answers))
    assert check(again, answers).answers == check(NIK_FORM, answers).answers


def test_a_stale_answer_the_form_no_longer_asks_for_is_dropped_not_judged() -> None:
    # the enumerator typed a bad turnover, then answered "no business": the group is not relevant
    result = check(RELEVANT, {"punya_usaha": "tidak", "omzet": "banyak", "alasan": "modal"})
    assert result.errors == [] and "omzet" not in result.answers
    assert errors(check(RELEVANT, {"punya_usaha": "ya", "omzet": "banyak"})) == [("omzet", "answer.rupiah")]
