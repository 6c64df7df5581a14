"""Report definitions are checked when read: a mistake is report.bad_definition naming the file and
the problem; the shipped definition passes and names only registered indicator kinds."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.domain.indicators import INDICATORS
from server.errors import PantauError
from server.reports import definitions

MINIMAL = """\
name: bulanan
title: Laporan Bulanan
period: monthly
programme: bansos
forms: {visit: monev_uep}
template: monev_triwulan.html
stylesheet: print.css
signoff:
  - {title: Kepala Bidang Pemberdayaan Sosial, name: NAMA, nip: "197001012000031001"}
indicators:
  - {key: kunjungan, kind: visit_coverage, title: Cakupan kunjungan}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def test_the_shipped_definition_is_valid() -> None:
    assert "monev_triwulan" in definitions.names()
    found = definitions.load("monev_triwulan")
    assert found.period == "quarterly" and all(s.kind in INDICATORS for s in found.indicators)
    assert found.signoff and all(s.name and s.title for s in found.signoff)  # who signs: configured, not coded


def test_the_shipped_definition_sets_targets_with_recommendations() -> None:
    found = {s.key: s for s in definitions.load("monev_triwulan").indicators}
    assert found["kunjungan"].target == 90 and found["kunjungan"].better == "higher"
    assert found["alat_hilang"].better == "lower" and found["alat_hilang"].recommendation
    assert all(s.recommendation for s in found.values() if s.target is not None)


def test_every_indicator_kind_is_documented() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "reports.md").read_text(encoding="utf-8")
    assert [kind for kind in INDICATORS if f"| `{kind}` |" not in text] == []


def test_a_records_block_naming_an_unknown_form_is_refused(tmp_path: Path) -> None:
    root = write(tmp_path, "bulanan", MINIMAL + "records: {complete: {kunjungan: [lokasi]}}\n")
    with pytest.raises(PantauError) as caught:
        definitions.load("bulanan", root)
    assert caught.value.code == "report.bad_definition" and "kunjungan" in caught.value.message("en")


def test_a_monthly_report_is_a_few_lines(tmp_path: Path) -> None:
    found = definitions.load("bulanan", write(tmp_path, "bulanan", MINIMAL))
    assert definitions.period_for(found, "2026-07").title() == "Juli 2026"
    with pytest.raises(PantauError) as caught:
        definitions.period_for(found, "2026-Q3")
    assert caught.value.code == "report.wrong_period"


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (("kind: visit_coverage", "kind: pie_chart"), "unknown kind 'pie_chart'"),
        (("period: monthly", "period: weekly"), "period: 'weekly'"),
        (("template: monev_triwulan.html", "template: nope.html"), "nope.html: missing"),
        (("name: bulanan", "name: lain"), "differs from the file name"),
        (("programme: bansos\n", ""), "programme"),
        (("title: Laporan Bulanan", "title: [tidak: ditutup"), "bulanan.yaml"),
        (("programme: bansos", "programme: bansos\nwarna: merah"), "warna"),
        (("title: Cakupan kunjungan}", "title: Cakupan, target: 120}"), "target 120 is a percentage, from 0 to 100"),
        (("title: Cakupan kunjungan}", "title: Cakupan, recommendation: Kunjungi.}"), "recommendation needs a target"),
        (("title: Cakupan kunjungan}", "title: Cakupan, target: 90, better: naik}"), "better: 'naik'"),
        (("title: Cakupan kunjungan}", "title: Cakupan, target: nol}"), "target"),
    ],
)
def test_mistakes_name_the_file_and_the_problem(tmp_path: Path, change: tuple[str, str], needle: str) -> None:
    root = write(tmp_path, "bulanan", MINIMAL.replace(*change))
    with pytest.raises(PantauError) as caught:
        definitions.load("bulanan", root)
    assert caught.value.code == "report.bad_definition"
    assert "bulanan.yaml" in caught.value.message("en") and needle in caught.value.message("en")


@pytest.mark.parametrize("name", ["nope", "../forms/monev_uep", "MONEV", ""])
def test_unknown_reports(name: str) -> None:
    with pytest.raises(PantauError) as caught:
        definitions.load(name)
    assert caught.value.code == "report.unknown"
