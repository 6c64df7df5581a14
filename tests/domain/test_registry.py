"""The registry block of a form and what a submission asks of the registry, written inline as staff
write forms (STYLE.md 3): the block is checked against the form's fields with file:line, an intake
gives a person (confirmed NIK warnings as flags), a visit an event with figures and a follow-up."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from server.domain import registry as rules
from server.domain.answers import CONFIRM_KEY, validate
from server.domain.compile import CompiledForm, compile_source
from server.domain.load import encode_yaml
from server.domain.questions import BadAnswer, clean_beneficiary
from server.domain.xlsform import load_xlsform
from server.domain.xlsform_export import export_xlsform

TODAY = dt.date(2026, 4, 15)
NOW = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)
FIELDS = """
choices:
  jk: {L: Laki-laki, P: Perempuan}
  kecamatan: {wilayah: kecamatan 64.02}
  desa: {wilayah: desa 64.02}
  tl: {tidak_perlu: Tidak perlu, modal: Tambahan modal}
fields:
  - {type: date, name: tgl, label: Tanggal}
  - {type: nik, name: nik, label: NIK, parameters: {sex: jk, birth_date: lahir, registered: tgl}}
  - {type: no_kk, name: kk, label: KK, parameters: {nik: nik}}
  - {type: text, name: nama, label: Nama}
  - {type: select_one jk, name: jk, label: JK}
  - {type: date, name: lahir, label: Lahir}
  - {type: select_one kecamatan, name: kecamatan, label: Kecamatan}
  - {type: select_one desa, name: desa, label: Desa, choice_filter: "parent = ${kecamatan}"}
  - {type: rupiah, name: penghasilan, label: Penghasilan}
  - {type: beneficiary, name: penerima, label: Penerima}
  - {type: select_multiple tl, name: tindak_lanjut, label: Tindak lanjut}
  - {type: date, name: target, label: Target}
  - type: repeat
    name: anggota
    label: Anggota
    fields:
      - {type: text, name: nama_art, label: Nama}
"""
CREATES = """
  registry:
    programme: uep
    creates: {nik: nik, kk: kk, name: nama, sex: jk, birth_date: lahir, area: desa, date: tgl,
              baseline: {pendapatan: penghasilan}}
    visit_every: monthly
"""
REFERS = """
  registry:
    programme: uep
    refers: {beneficiary: penerima, date: tgl, figures: {pendapatan: penghasilan}, follow_up: tindak_lanjut,
             follow_up_due: target}
"""


def form(registry: str) -> bytes:
    return ('settings:\n  id: uji\n  version: "1"\n' + registry + FIELDS).encode()


def compiled(registry: str) -> CompiledForm:
    result = compile_source(form(registry), "uji.yaml")
    assert result.compiled is not None, [(p.code, p.line, p.message_en) for p in result.problems]
    return result.compiled


def problems(registry: str) -> list[tuple[str, int]]:
    return [(p.code, p.line) for p in compile_source(form(registry), "uji.yaml").problems if p.severity == "error"]


def test_a_form_declares_that_it_creates_a_beneficiary() -> None:
    spec = compiled(CREATES).definition.settings.registry
    assert spec is not None and spec.creates is not None and spec.refers is None
    assert (spec.programme, spec.creates.nik, spec.creates.area, spec.visit_every) == ("uep", "nik", "desa", "monthly")
    assert spec.same_nik == "update" and spec.one_per_kk is False


@pytest.mark.parametrize(("block", "expected"), [
    ("  registry:\n    programme: uep\n    refers: {beneficiary: penerima}\n    umur: 3\n", [("form.unknown_key", 7)]),
    ("  registry:\n    refers: {beneficiary: penerima}\n", [("form.missing_key", 5)]),
    ("  registry:\n    programme: uep\n    refers: {date: tgl}\n", [("form.missing_key", 6)]),
    ("  registry:\n    programme: uep\n    refers: {beneficiary: penerima}\n    same_nik: gabung\n",
     [("form.bad_value", 7)]),
    ("  registry:\n    programme: uep\n    refers: {beneficiary: penerima, event: kunjung}\n", [("form.bad_value", 6)]),
    ("  registry:\n    programme: uep\n    refers: {beneficiary: penerima}\n    one_per_kk: mungkin\n",
     [("form.bad_value", 7)]),
    ("  registry:\n    programme: uep\n", [("form.registry_role", 5)]),
    ("  registry:\n    programme: uep\n    refers: {beneficiary: penerima}\n    visit_every: monthly\n",
     [("form.registry_role", 5)]),
    ("  registry:\n    programme: uep\n    creates: {name: nama, area: desa}\n    refers: {beneficiary: penerima}\n",
     [("form.registry_role", 5)]),
    ("  registry:\n    programme: 9uep\n    refers: {beneficiary: penerima}\n", [("form.bad_name", 5)]),
    ("  registry:\n    programme: uep\n    refers: {beneficiary: nama}\n", [("form.registry_field", 6)]),
    ("  registry:\n    programme: uep\n    refers: {beneficiary: siapa}\n", [("form.registry_field", 6)]),
    ("  registry:\n    programme: uep\n    creates: {name: nama, area: jk}\n", [("form.registry_field", 6)]),
    ("  registry:\n    programme: uep\n    creates: {name: nama_art, area: desa}\n", [("form.registry_field", 6)]),
    ("  registry:\n    programme: uep\n    creates: {name: nama, area: desa, nik: kk}\n", [("form.registry_field", 6)]),
])
def test_a_wrong_registry_block_is_a_problem_at_its_line(block: str, expected: list[tuple[str, int]]) -> None:
    assert problems(block) == expected


def test_a_growth_referral_must_be_a_select_one_of_places() -> None:
    block = ("  registry:\n    programme: uep\n    refers:\n      beneficiary: penerima\n      event: growth\n"
             "      growth: {sex: jk, birth_date: lahir, weight: penghasilan, length: penghasilan, referral: REF}\n")

    def about_referral(referral: str) -> list[str]:
        found = compile_source(form(block.replace("REF", referral)), "uji.yaml").problems
        return [p.code for p in found if "'referral'" in p.message_en]

    assert about_referral("nama") == ["form.registry_field"]  # a text question
    assert about_referral("jk") == []  # a select_one


def test_the_registry_block_survives_yaml_and_xlsform_round_trips_with_the_same_hash() -> None:
    original = compiled(REFERS)
    again = compile_source(encode_yaml(original.definition), "uji.yaml").compiled
    assert again is not None and again.content_hash == original.content_hash
    loaded = load_xlsform(export_xlsform(original.definition), "uji.xlsx")
    assert loaded.problems == [] and loaded.form is not None
    assert loaded.form.settings.registry == original.definition.settings.registry


def test_a_broken_registry_cell_in_xlsform_is_a_problem_at_the_cell() -> None:
    import io

    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(export_xlsform(compiled(REFERS).definition)))
    settings = book["settings"]
    column = [c.value for c in settings[1]].index("registry") + 1
    settings.cell(row=2, column=column, value='{"programme": "uep", "refers": {"beneficiary": "penerima"}, "x": 1}')
    out = io.BytesIO()
    book.save(out)
    found = [(p.code, p.file, p.line) for p in load_xlsform(out.getvalue(), "uji.xlsx").problems]
    assert found == [("form.unknown_key", "uji.xlsx[settings]", 2)]


def test_a_form_without_a_registry_block_hashes_as_before() -> None:
    with_none = compile_source(form(""), "uji.yaml").compiled
    assert with_none is not None and "registry" not in encode_yaml(with_none.definition).decode()
    assert with_none.definition.settings.registry is None


# --- what a submission asks of the registry ------------------------------------------------------
SITI: dict[str, Any] = {"tgl": "2026-03-31", "nik": "6402064101900001", "kk": "6402061203150007", "nama": "Siti Aminah",
                        "jk": "P", "lahir": "1990-01-01", "kecamatan": "64.02.06", "desa": "64.02.06.1001",
                        "penghasilan": "Rp 1.250.000"}


def intent(registry: str, answers: dict[str, Any]) -> rules.Intent | None:
    form_ = compiled(registry)
    result = validate(form_, answers, today=TODAY, now=NOW)
    assert result.ok, (result.errors, result.unconfirmed)
    return rules.intent_of(form_, result, TODAY)


def test_an_intake_gives_the_person_with_confirmed_warnings_as_flags() -> None:
    found = intent(CREATES, {**SITI, "jk": "L", CONFIRM_KEY: ["nik"]})  # a man with a woman's NIK, checked
    assert found is not None and found.creates is not None and found.event is None
    person = found.creates.person
    assert (person.nik, person.kk, person.name, person.sex, person.area_code) == (
        "6402064101900001", "6402061203150007", "Siti Aminah", "L", "64.02.06.1001")
    assert person.flags == ["nik.sex_mismatch"] and person.registered_on == "2026-03-31"
    assert [(f.key, f.value, f.text["id"]) for f in person.baseline] == [("pendapatan", 1250000, "Rp 1.250.000")]
    assert found.creates.visit_months == 1


def test_an_intake_without_the_persons_answers_registers_nobody() -> None:
    found = intent(CREATES, {"tgl": "2026-03-31"})
    assert found is not None and found.creates is None


def test_a_visit_gives_an_event_with_figures_and_a_follow_up() -> None:
    someone = "5f0c6f7e-3c1b-4c2a-9a51-2d1f5e7b9c01"
    answers = {"penerima": someone.upper(), "tgl": "2026-04-10", "penghasilan": 2000000,
               "tindak_lanjut": ["modal"], "target": "2026-05-01"}
    found = intent(REFERS, answers)
    assert found is not None and found.event is not None and found.references == [someone]
    event = found.event
    assert (event.beneficiary_id, event.kind, event.happened_on) == (someone, "visit", "2026-04-10")
    assert [(f.key, f.text["id"]) for f in event.figures] == [("pendapatan", "Rp 2.000.000")]
    assert event.follow_up == rules.FollowUpAsk(actions=["modal"], due_on="2026-05-01",
                                                text={"id": "Tambahan modal", "en": "Tambahan modal"})
    assert intent(REFERS, {**answers, "target": None}).event.follow_up is None  # type: ignore[union-attr]


def test_a_beneficiary_answer_is_an_id() -> None:
    assert clean_beneficiary(" 5F0C6F7E-3C1B-4C2A-9A51-2D1F5E7B9C01 ") == "5f0c6f7e-3c1b-4c2a-9a51-2d1f5e7b9c01"
    for bad in ("640206******0001 – Siti", "5f0c6f7e3c1b4c2a9a512d1f5e7b9c01", 12, None):
        with pytest.raises(BadAnswer) as caught:
            clean_beneficiary(bad)
        assert caught.value.code == "answer.beneficiary"


# --- showing and scheduling ----------------------------------------------------------------------
def test_a_nik_is_masked_to_its_province_only() -> None:
    assert rules.mask("6402064101900001") == "64**************"
    assert rules.mask("640206") == ""


@pytest.mark.parametrize(("name", "key"), [
    ("Siti Aminah", "siti aminah"), ("  SITI   aminah ", "siti aminah"), ("Nur'aini", "nuraini"),
    ("Ni Wayan Sutéja", "ni wayan suteja"), ("Hj. Siti-Maryam", "hj siti maryam"),
])
def test_names_are_searched_without_case_accents_or_punctuation(name: str, key: str) -> None:
    assert rules.name_key(name) == key


def test_the_next_visit_is_due_a_calendar_interval_after_the_last() -> None:
    assert rules.next_due("2026-01-31", 1) == "2026-02-28"
    assert rules.next_due("2026-11-30", 3) == "2027-02-28"
    assert rules.next_due("2026-03-31", 0) == "" and rules.next_due("", 3) == ""


def test_desas_are_found_by_name() -> None:
    assert "64.02.06.1001" in rules.desa_codes_named("jahab") and rules.area_name("64.02.06.1001") == "Jahab"


def test_an_intake_may_name_the_mothers_or_guardians_name_and_only_as_a_text() -> None:
    with_guardian = CREATES.replace("area: desa,", "area: desa, guardian: nama_art,")
    # A question inside a repeat is refused as any registry key's is; a text outside it is the key's.
    assert "form.registry_field" in [code for code, _ in problems(with_guardian)]
    fields = FIELDS.replace("  - {type: rupiah, name: penghasilan", "  - {type: text, name: ibu, label: Ibu}\n"
                            "  - {type: rupiah, name: penghasilan")
    source = ('settings:\n  id: uji\n  version: "1"\n' + CREATES.replace("area: desa,", "area: desa, guardian: ibu,")
              + fields).encode()
    result = compile_source(source, "uji.yaml")
    assert result.compiled is not None, [(p.code, p.message_en) for p in result.problems]
    checked = validate(result.compiled, {**SITI, "ibu": "Hj. Fatimah"}, today=TODAY, now=NOW)
    found = rules.intent_of(result.compiled, checked, TODAY)
    assert found is not None and found.creates is not None and found.creates.person.guardian == "Hj. Fatimah"
    dated = source.replace(b"guardian: ibu", b"guardian: tgl")
    assert any(p.code == "form.registry_field" for p in compile_source(dated, "uji.yaml").problems)
    # The key is part of the form's content (an intake without it hashes as it was published).
    assert result.compiled.content_hash != compile_source(source.replace(b" guardian: ibu,", b""),
                                                          "uji.yaml").compiled.content_hash  # type: ignore[union-attr]
