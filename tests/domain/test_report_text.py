"""The small-base rule and BAB V's sentences as pure functions: the rule writes a share on fewer than
10 (or the given threshold) as "n (x%)"; the conclusions judge a target in the indicator's direction,
name the area furthest from it among those large enough, and never judge a small base."""

from __future__ import annotations

import datetime as dt

from server.domain import indicators, report_format, report_text

CONTEXT = report_text.Context(
    period="Triwulan I Tahun 2026", previous="Triwulan IV Tahun 2025", numbers={"hilang": "3.2"}
)


def test_one_rule_for_shares_on_a_small_base() -> None:
    assert report_format.proportion(3, 8) == "3 (37,5%)"
    assert report_format.proportion(30, 40) == "75,0%"
    assert report_format.proportion(12, 29, small=30) == "12 (41,4%)"
    assert report_format.proportion(0, 0) == "–"
    assert report_format.is_small("3 (37,5%)") and report_format.is_small("1.204 (9,1%)")
    assert not report_format.is_small("37,5%") and not report_format.is_small("+2,5 poin")


def facts_with(lost: dict[str, tuple[int, int]]) -> indicators.Facts:
    """People per kecamatan, `lost` of them with equipment sold or lost at their latest visit."""
    facts = indicators.Facts(dt.date(2026, 1, 1), dt.date(2026, 3, 31), lambda code: code[:8], level="kecamatan")
    for area, (gone, people) in lost.items():
        for n in range(people):
            pid = f"{area}-{n}"
            facts.add_person(pid, area + ".1001", "P", "1980-01-01", "prse", "2025-01-01", [], 3)
            facts.add_visit(pid, "2026-02-01", [{"key": "kondisi_alat", "value": "hilang" if n < gone else "baik"}])
    return facts


def test_a_lower_is_better_target_names_the_area_furthest_above_it_and_the_small_ones() -> None:
    spec = indicators.Spec(
        key="hilang",
        kind="share",
        title="Peralatan bantuan hilang",
        figure="kondisi_alat",
        values=["hilang"],
        target=5,
        better="lower",
        recommendation="Telusuri peralatan yang hilang.",
    )
    facts = facts_with({"64.02.06": (2, 40), "64.02.13": (3, 20), "64.02.07": (1, 4)})
    names = {"64.02.06": "Tenggarong", "64.02.13": "Samboja", "64.02.07": "Sebulu"}
    table = indicators.tables([spec], facts, None, names.__getitem__)[0]
    found = report_text.conclude([table], [spec], CONTEXT)
    text = found.paragraphs[0]
    assert text.startswith("Persentase peralatan bantuan hilang (Tabel 3.2) pada Triwulan I Tahun 2026 adalah 9,4%")
    assert "di atas target paling banyak 5% (selisih 4,4 poin)" in text
    assert "paling jauh di atas target adalah Kecamatan Samboja dengan 15,0% (3 dari 20 penerima)" in text
    assert "Kecamatan dengan kurang dari 10 penerima yang juga di atas target: Sebulu." in text
    assert "Belum ada data Triwulan IV Tahun 2025 sebagai pembanding." in text
    assert found.recommendations == [
        "Persentase peralatan bantuan hilang adalah 9,4%, di atas target 5%, terutama di Kecamatan Samboja "
        "(15,0%). Telusuri peralatan yang hilang."
    ]


def test_a_small_base_is_not_judged_against_the_target() -> None:
    spec = indicators.Spec(
        key="hilang", kind="share", title="Hilang", figure="kondisi_alat", values=["hilang"], target=5
    )
    table = indicators.tables([spec], facts_with({"64.02.06": (1, 6)}), None, str)[0]
    found = report_text.conclude([table], [spec], CONTEXT)
    assert "1 dari 6 penerima (16,7%)" in found.paragraphs[0] and "tidak dinilai" in found.paragraphs[0]
    assert found.recommendations == [] and "Tidak ada indikator bertarget" in found.summary
