"""Indicator kinds about the people a programme serves: enrolment, visit coverage, age and sex, and
records flagged for checking. Shares go through report_format.proportion, so a small base reads
"n (x%)" here as everywhere."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from server.domain.indicators.facts import AGE_BANDS, Facts
from server.domain.indicators.table import Measure, Names, Spec, Table, amount, area_table, indicator, ratio
from server.domain.report_format import SUPPRESSED, change, median, number, proportion


@indicator("enrolment", unit="count")
def enrolment(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    groups = spec.values or sorted({g for _, g in now.by_group})

    def figure(facts: Facts, areas: list[str]) -> Measure:
        active = sum(facts.active[a] for a in areas)
        return amount(active, active)

    def cells(areas: list[str]) -> list[str]:
        active = sum(now.active[a] for a in areas)
        old = figure(before, areas).value if before is not None else None
        return [
            number(active),
            number(sum(now.new[a] for a in areas)),
            number(sum(now.by_sex[(a, "P")] for a in areas)),
            *(number(sum(now.by_group[(a, g)] for a in areas)) for g in groups),
            change(active, old),
        ]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=["Penerima aktif", "Baru", "Perempuan", *(spec.labels.get(g, g) for g in groups), "Perubahan"],
        cells=cells,
        figure=figure,
        subject="jumlah penerima manfaat aktif",
    )


def _visited(facts: Facts, areas: list[str]) -> Measure:
    seen = facts.per_area(("visited",), lambda: Counter(facts.people[pid] for pid in facts.latest))
    return ratio(sum(seen.get(a, 0) for a in areas), sum(facts.active[a] for a in areas))


def _days_since(facts: Facts) -> dict[str, Any]:
    """Per area, each active recipient's days from their last visit (or registration) to the period's end."""
    per: dict[str, list[float]] = {}
    for pid, area in facts.people.items():
        try:
            days = float((facts.end - dt.date.fromisoformat(facts.last_seen[pid])).days)
        except (KeyError, ValueError):
            continue
        per.setdefault(area, []).append(days)
    return per


@indicator("visit_coverage")
def visit_coverage(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    def days(areas: list[str]) -> str:
        per = now.per_area(("days_since",), lambda: _days_since(now))
        found = median([d for a in areas for d in per.get(a, [])])
        return SUPPRESSED if found is None else number(found)

    def cells(areas: list[str]) -> list[str]:
        done, planned = sum(now.visits[a] for a in areas), sum(now.planned[a] for a in areas)
        seen = _visited(now, areas)
        old = _visited(before, areas).value if before is not None else None
        return [
            number(done),
            number(planned),
            proportion(done, planned),
            seen.text,
            days(areas),
            change(seen.value, old, points=True),
        ]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=[
            "Kunjungan",
            "Rencana",
            "Realisasi",
            "Penerima dikunjungi",
            "Median hari sejak kunjungan",
            "Perubahan",
        ],
        cells=cells,
        figure=_visited,
        subject="persentase penerima aktif yang dikunjungi paling sedikit sekali",
    )


@indicator("age_sex")
def age_sex(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Active beneficiaries by sex and age band (anak < 18, 18-39, 40-59, 60+) at the period's end."""
    bands = [name for name, _, _ in AGE_BANDS]

    def women(facts: Facts, areas: list[str]) -> Measure:
        return ratio(sum(facts.by_sex[(a, "P")] for a in areas), sum(facts.active[a] for a in areas))

    def cells(areas: list[str]) -> list[str]:
        return [
            number(sum(now.by_sex[(a, "L")] for a in areas)),
            number(sum(now.by_sex[(a, "P")] for a in areas)),
            *(number(sum(now.by_age[(a, band)] for a in areas)) for band in bands),
        ]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=["Laki-laki", "Perempuan", *(f"Umur {b}" if b != "anak" else "Anak (< 18)" for b in bands)],
        cells=cells,
        figure=women,
        subject="persentase perempuan di antara penerima manfaat aktif",
        headline=women(now, now.areas()).text + " perempuan",
    )


@indicator("flags")
def flags(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Targeting accuracy: records carrying each flag in `values` (duplicate NIK, shared KK, NIK warnings)."""

    def flagged(facts: Facts, areas: list[str]) -> Measure:
        return ratio(sum(facts.flagged[a] for a in areas), sum(facts.active[a] for a in areas))

    def cells(areas: list[str]) -> list[str]:
        found = flagged(now, areas)
        old = flagged(before, areas).value if before is not None else None
        counts = [number(sum(now.flags[(a, f)] for a in areas)) for f in spec.values]
        return [*counts, number(found.count or 0), found.text, change(found.value, old, points=True)]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=[*(spec.labels.get(f, f) for f in spec.values), "Bertanda", "Persentase", "Perubahan"],
        cells=cells,
        figure=flagged,
        subject="persentase data penerima aktif yang bertanda perlu diperiksa",
    )
