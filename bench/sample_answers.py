"""A realistic, valid set of registrasi_penerima answers (a PRSE woman in Tenggarong running a
small food stall), shared by the benchmarks that need one. Photo answers are filled in by the
caller with the sha256 of an uploaded image."""

from __future__ import annotations

from typing import Any


def registrasi(photo_sha256: str) -> dict[str, Any]:
    return {
        "persetujuan": "ya",
        "ttd_persetujuan": photo_sha256,
        "tgl_daftar": "2026-03-02",
        "nik": "6402064101900001",
        "no_kk": "6402060101150003",
        "nama": "Siti Aminah",
        "jenis_kelamin": "P",
        "tgl_lahir": "1990-01-01",
        "status_kawin": "cerai_mati",
        "hubungan_kk": "kepala",
        "pendidikan": "smp",
        "no_hp": "081234567890",
        "status_dtsen": "terdaftar",
        "desil": 2,
        "kecamatan": "64.02.06",
        "desa": "64.02.06.1001",
        "rt_rw": "003/001",
        "alamat": "Jl. Danau Aji No. 12",
        "lokasi": "-0.4123 116.9856 12 8",
        "kelompok_rentan": "prse",
        "ppks_lain": ["24"],
        "prse_kondisi": "cerai_mati",
        "nafkah_utama": "ya",
        "jml_art": 3,
        "jml_balita": 0,
        "jml_lansia": 0,
        "jml_disabilitas": 0,
        "penghasilan_bln": 1500000,
        "status_bangunan": "milik_sendiri",
        "luas_lantai": 36,
        "lantai": "5",
        "dinding": "3",
        "atap": "3",
        "air_minum": "2",
        "penerangan": "1",
        "daya": "900",
        "bbm_masak": "04",
        "bab": "1",
        "kriteria_miskin": ["kepala_tidak_bekerja", "pangan_lebih_separuh"],
        "bansos_diterima": ["pkh"],
        "punya_usaha": "ya",
        "jenis_usaha": "warung",
        "omzet_bln": 3000000,
        "untung_bln": 900000,
        "bantuan_diusulkan": ["uep_peralatan"],
        "rincian_alat": "Etalase dan kompor dua tungku",
        "pernah_uep": "tidak",
        "foto_penerima": photo_sha256,
        "catatan": "Usaha warung makan di depan rumah.",
    }
