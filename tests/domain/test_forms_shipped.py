"""The three forms shipped in forms/ (domain.md section 5): they check clean and their real rules
hold: NIK checks, the PRSE age and sex rule, kecamatan -> desa, the follow-up date only when a
follow-up is needed, plausible measurement ranges."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from server.domain.answers import CONFIRM_KEY, Validation, validate
from server.domain.compile import CompiledForm, compile_source

REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 3, 31)
NOW = dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC)


def shipped(name: str) -> CompiledForm:
    result = compile_source((REPO / "forms" / f"{name}.yaml").read_bytes(), f"{name}.yaml")
    assert result.problems == [], [(p.code, p.line) for p in result.problems]
    assert result.compiled is not None
    return result.compiled


REGISTRASI = shipped("registrasi_penerima")
MONEV = shipped("monev_uep")
TUMBUH = shipped("cek_tumbuh_anak")


def check(compiled: CompiledForm, answers: dict[str, Any]) -> Validation:
    return validate(compiled, answers, today=TODAY, now=NOW)


def codes(result: Validation) -> list[tuple[str, str]]:
    return [(e.path, e.code) for e in result.errors]


@pytest.mark.parametrize("name", ["registrasi_penerima", "monev_uep", "cek_tumbuh_anak"])
def test_shipped_forms_are_bilingual(name: str) -> None:
    compiled = shipped(name)
    assert set(compiled.title) == {"id", "en"}
    for info in compiled.fields.values():
        if info.label:
            assert set(info.label) == {"id", "en"}, info.name


# Siti: a PRSE intake in Tenggarong, born 1 January 1990 (NIK day 41 = 1 + 40).
SITI: dict[str, Any] = {
    "persetujuan": "ya", "ttd_persetujuan": "ttd.png", "tgl_daftar": "2026-03-31", "nik": "6402064101900001",
    "no_kk": "6402061203150007", "nama": "Siti Aminah", "jenis_kelamin": "P", "tgl_lahir": "1990-01-01",
    "status_kawin": "cerai_mati", "hubungan_kk": "kepala", "pendidikan": "smp", "status_dtsen": "terdaftar",
    "desil": 3, "kecamatan": "64.02.06", "desa": "64.02.06.1001", "rt_rw": "005/002", "alamat": "Jl. Danau Aji 12",
    "lokasi": "-0.4195 116.9856 20 8", "kelompok_rentan": "prse", "prse_kondisi": "cerai_mati",
    "nafkah_utama": "ya", "jml_art": 4, "jml_balita": 1, "jml_lansia": 0, "jml_disabilitas": 0,
    "penghasilan_bln": 1250000, "status_bangunan": "milik_sendiri", "luas_lantai": 36, "lantai": "5",
    "dinding": "3", "atap": "3", "air_minum": "2", "penerangan": "1", "daya": "450", "bbm_masak": "04",
    "bab": "1", "bansos_diterima": ["pkh"], "punya_usaha": "tidak", "bantuan_diusulkan": ["uep_peralatan"],
    "pernah_uep": "tidak", "foto_penerima": "siti.jpg",
}


def test_a_complete_prse_intake_is_valid_and_computes_age_and_eligibility() -> None:
    result = check(REGISTRASI, dict(SITI))
    assert result.errors == [] and result.warnings == []
    assert result.answers["umur"] == 36
    assert result.answers["penghasilan_kapita"] == 312500
    assert result.answers["layak_awal"] == "ya"


def test_without_consent_nothing_else_is_asked_or_kept() -> None:
    result = check(REGISTRASI, {"persetujuan": "tidak", "nama": "Siti"})
    assert result.errors == [] and result.answers == {"persetujuan": "tidak"}


@pytest.mark.parametrize("changes", [
    {"jenis_kelamin": "L", CONFIRM_KEY: ["nik"]},  # a man (the NIK's sex warning is ticked)
    {"tgl_lahir": "1960-01-01", "nik": "6402064101600001"},  # 66 years old
    {"tgl_lahir": "2010-01-01", "nik": "6402064101100001"},  # 16 years old
])
def test_the_prse_rule_is_women_aged_18_to_59(changes: dict[str, Any]) -> None:
    assert codes(check(REGISTRASI, {**SITI, **changes})) == [("prse_kondisi", "answer.constraint")]


def test_the_prse_age_limits_are_inclusive() -> None:
    for born, nik in (("2008-03-31", "6402067103080001"), ("1966-04-01", "6402064104660001")):  # 18 and 59
        assert codes(check(REGISTRASI, {**SITI, "tgl_lahir": born, "nik": nik})) == [], born


def test_the_nik_rules_apply_to_the_intake() -> None:
    assert codes(check(REGISTRASI, {**SITI, "nik": "6402064101900000"})) == [("nik", "nik.serial_zero")]
    assert codes(check(REGISTRASI, {**SITI, "no_kk": SITI["nik"]})) == [("nik", "nik.is_kk"), ("no_kk", "kk.is_nik")]
    result = check(REGISTRASI, {**SITI, "tgl_lahir": "1990-01-02"})
    assert [(w.path, w.code) for w in result.warnings] == [("nik", "nik.dob_mismatch")] and not result.ok


def test_the_desa_must_be_in_the_chosen_kecamatan() -> None:
    assert codes(check(REGISTRASI, {**SITI, "kecamatan": "64.02.13"})) == [("desa", "answer.choice_filtered")]


def test_household_counts_cannot_exceed_its_size_and_profit_not_turnover() -> None:
    result = check(REGISTRASI, {**SITI, "jml_balita": 5, "punya_usaha": "ya", "jenis_usaha": "kuliner",
                                "omzet_bln": 1000000, "untung_bln": 2000000})
    assert codes(result) == [("jml_balita", "answer.constraint"), ("untung_bln", "answer.constraint")]


VISIT: dict[str, Any] = {
    "penerima": "5f0c6f7e-3c1b-4c2a-9a51-2d1f5e7b9c01", "periode": "2026-TW1", "tgl_bantuan": "2025-11-10",
    "tgl_kunjungan": "2026-03-30", "lokasi": "-0.4195 116.9856 15 6", "bertemu": "ya", "bantuan_lengkap": "ya",
    "status_usaha": "berkembang", "kondisi_peralatan": "baik_dipakai", "sesuai_peruntukan": "ya",
    "omzet_bln": 3000000, "biaya_bln": 2100000, "pendapatan_rt": 2500000, "pelatihan": ["kewirausahaan"],
    "tindak_lanjut": ["tidak_perlu"], "penilaian": "berkembang", "foto_usaha": "usaha.jpg",
}


def test_a_monitoring_visit_computes_profit() -> None:
    result = check(MONEV, dict(VISIT))
    assert result.errors == [] and result.answers["untung_bln"] == 900000


def test_the_follow_up_date_is_asked_only_when_a_follow_up_is_needed() -> None:
    assert "tgl_target_tl" not in check(MONEV, {**VISIT, "tgl_target_tl": "2026-04-30"}).answers
    needed = {**VISIT, "tindak_lanjut": ["tambahan_modal"]}
    assert codes(check(MONEV, needed)) == [("tgl_target_tl", "answer.required")]
    assert codes(check(MONEV, {**needed, "tgl_target_tl": "2026-03-01"})) == [("tgl_target_tl", "answer.constraint")]
    assert codes(check(MONEV, {**needed, "tgl_target_tl": "2026-04-30"})) == []
    assert codes(check(MONEV, {**VISIT, "tindak_lanjut": ["tidak_perlu", "tambahan_modal"],
                               "tgl_target_tl": "2026-04-30"})) == [("tindak_lanjut", "answer.constraint")]


def test_a_visit_without_meeting_the_beneficiary_skips_the_rest() -> None:
    result = check(MONEV, {**VISIT, "bertemu": "pindah"})
    assert result.errors == [] and "status_usaha" not in result.answers


def test_visit_dates_and_reasons() -> None:
    assert codes(check(MONEV, {**VISIT, "tgl_kunjungan": "2025-10-01"})) == [("tgl_kunjungan", "answer.constraint")]
    assert codes(check(MONEV, {**VISIT, "periode": "TW1-2026"})) == [("periode", "answer.constraint")]
    assert codes(check(MONEV, {**VISIT, "status_usaha": "belum_mulai"})) == [("alasan_berhenti", "answer.required")]


CHILD: dict[str, Any] = {
    "persetujuan_ortu": "ya", "keluarga": "5f0c6f7e-3c1b-4c2a-9a51-2d1f5e7b9c01", "nama_anak": "Ayu",
    "nama_ibu": "Siti",
    "jk_anak": "P", "tgl_lahir": "2024-09-15", "punya_nik": "ya", "nik_anak": "6402065509240002",
    "tgl_ukur": "2026-03-30", "berat": "9,4", "cara_ukur": "terlentang", "panjang_tinggi": 78.5, "lila": 14.2,
    "edema": "tidak", "asi_eksklusif": "ya", "imunisasi_lengkap": "ya", "vit_a": "ya", "posyandu_rutin": "ya",
    "terima_pmt": "tidak", "air_minum": "3", "jamban": "ya", "edukasi": ["gizi_seimbang"], "rujukan": "tidak_perlu",
}


def test_a_growth_check_computes_age_in_days_and_months() -> None:
    result = check(TUMBUH, dict(CHILD))
    assert result.errors == [] and result.warnings == []
    days = (dt.date(2026, 3, 30) - dt.date(2024, 9, 15)).days
    assert result.answers["umur_hari"] == days and result.answers["umur_bln"] == int(days // 30.4375)
    assert result.answers["berat"] == 9.4


@pytest.mark.parametrize(("field", "value"), [("berat", 0.5), ("berat", 31), ("panjang_tinggi", 39),
                                              ("panjang_tinggi", 131), ("lila", 26)])
def test_implausible_measurements_are_refused(field: str, value: float) -> None:
    assert codes(check(TUMBUH, {**CHILD, field: value})) == [(field, "answer.constraint")]


def test_a_child_of_five_or_more_gets_no_measurement() -> None:
    result = check(TUMBUH, {**CHILD, "tgl_lahir": "2020-01-01", "nik_anak": "6402064101200002"})
    assert result.errors == [] and "berat" not in result.answers and "rujukan" not in result.answers


def test_oedema_needs_a_referral_and_the_childs_nik_is_checked() -> None:
    assert codes(check(TUMBUH, {**CHILD, "edema": "ya"})) == [("rujukan", "answer.constraint")]
    mismatch = check(TUMBUH, {**CHILD, "nik_anak": "6402061509240002"})  # a boy's NIK
    assert [(w.path, w.code) for w in mismatch.warnings] == [("nik_anak", "nik.sex_mismatch")]
