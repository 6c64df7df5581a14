"""How the ODK engine tests fill each form (steps of tests/odk/client.mjs), one plan per form id,
shared by the test on disk and the one against a server. Each plan goes through the form's skip
logic (a question shown only after an answer), and where the form has them the kecamatan -> desa
cascade, a repeat, a beneficiary picked by name from the CSV attachment and a photo; `autofill`
then answers the remaining required questions plainly (first choice, 1, a date)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

Steps = list[dict[str, Any]]
KECAMATAN = "64.02.06"
# A woman born 5 December 1985 (day + 40) registered in kecamatan 64.02.06.
NIK = "6402064512850001"
NO_KK = "6402061201200003"
POINT = "-0.502106 117.153709 12 5"


def registrasi_penerima(photo: Path, desa: str) -> Steps:
    p = "/data/pendataan"
    return [
        {"relevant": p},  # false: nothing is asked before consent
        {"select": "/data/persetujuan", "values": ["ya"]},
        {"relevant": p},  # true
        {"photo": f"{p}/identitas/ttd_persetujuan", "file": str(photo)},
        {"set": f"{p}/identitas/tgl_daftar", "value": "2026-12-01"},
        {"set": f"{p}/identitas/nik", "value": NIK},
        {"set": f"{p}/identitas/no_kk", "value": NO_KK},
        {"set": f"{p}/identitas/nama", "value": "Siti Aminah"},
        {"select": f"{p}/identitas/jenis_kelamin", "values": ["P"]},
        {"set": f"{p}/identitas/tgl_lahir", "value": "1985-12-05"},
        {"options": f"{p}/alamat_group/desa"},  # empty: no kecamatan yet
        {"select": f"{p}/alamat_group/kecamatan", "values": [KECAMATAN]},
        {"options": f"{p}/alamat_group/desa"},  # the desa of KECAMATAN only
        {"select": f"{p}/alamat_group/desa", "values": [desa]},
        {"set": f"{p}/alamat_group/rt_rw", "value": "003/002"},
        {"set": f"{p}/alamat_group/alamat", "value": "Jl. Mawar 7"},
        {"set": f"{p}/alamat_group/lokasi", "value": POINT},
        {"select": f"{p}/usaha/pernah_uep", "values": ["tidak"]},
        {"autofill": True, "file": str(photo)},
    ]


def monev_uep(photo: Path, beneficiary: str) -> Steps:
    return [
        {"pick": "/data/penerima", "label": beneficiary},
        {"set": "/data/periode", "value": "2026-TW4"},
        {"set": "/data/tgl_bantuan", "value": "2026-06-01"},
        {"set": "/data/lokasi", "value": POINT},
        {"relevant": "/data/hasil"},  # false until the beneficiary was met
        {"select": "/data/bertemu", "values": ["ya"]},
        {"relevant": "/data/hasil"},  # true
        {"photo": "/data/hasil/pendampingan/foto_usaha", "file": str(photo)},
        {"autofill": True, "file": str(photo)},
    ]


def cek_tumbuh_anak(photo: Path, beneficiary: str, today: str) -> Steps:
    i, u = "/data/pemeriksaan/identitas", "/data/pemeriksaan/ukur"
    return [
        {"select": "/data/persetujuan_ortu", "values": ["ya"]},
        {"pick": f"{i}/keluarga", "label": beneficiary},
        {"set": f"{i}/nama_anak", "value": "Rina"},
        {"set": f"{i}/nama_ibu", "value": "Siti Aminah"},
        {"select": f"{i}/jk_anak", "values": ["P"]},
        {"set": f"{i}/tgl_lahir", "value": "2025-06-01"},
        {"select": f"{i}/punya_nik", "values": ["tidak"]},
        # The XForm sets tgl_ukur to today() on the form's first load (pyxform's setvalue for a
        # dynamic default), but its group is hidden until consent: ODK Web Forms' engine leaves
        # it blank there, so the date is entered as an enumerator would.
        {"value": f"{i}/tgl_ukur"},
        {"set": f"{i}/tgl_ukur", "value": today},
        {"relevant": f"{i}/nik_anak"},  # false: no NIK asked
        {"relevant": f"{u}/saran_terlentang"},  # true: under two years
        {"set": f"{u}/berat", "value": "9.4"},
        {"select": f"{u}/cara_ukur", "values": ["terlentang"]},
        {"set": f"{u}/panjang_tinggi", "value": "78.5"},
        {"select": f"{u}/edema", "values": ["tidak"]},
        {"photo": "/data/pemeriksaan/layanan/foto_ukur", "file": str(photo)},
        {"autofill": True, "file": str(photo)},
    ]


def uji_odk(photo: Path, desa: str) -> Steps:
    d = "/data/data"
    return [
        {"relevant": d},  # false
        {"select": "/data/setuju", "values": ["ya"]},
        {"relevant": d},  # true
        {"set": f"{d}/nama", "value": "Siti Aminah"},
        {"select": f"{d}/jk", "values": ["P"]},
        {"set": f"{d}/nik", "value": NIK},
        {"select": f"{d}/kecamatan", "values": [KECAMATAN]},
        {"options": f"{d}/desa"},
        {"select": f"{d}/desa", "values": [desa]},
        {"set": f"{d}/penghasilan", "value": "1250000"},
        {"add": f"{d}/anggota", "count": 1},  # a second member after the first one the form opens with
        {"set": f"{d}/anggota[1]/nama_art", "value": "Siti Aminah"},
        {"set": f"{d}/anggota[1]/umur_art", "value": "41"},
        {"set": f"{d}/anggota[2]/nama_art", "value": "Rina"},
        {"set": f"{d}/anggota[2]/umur_art", "value": "1"},
        {"value": f"{d}/jml_anggota"},  # "2"
        {"photo": f"{d}/foto", "file": str(photo)},
    ]
