"""Business survival: by months since the aid (per area) and by the year the aid was given (per
cohort), recipients not met counted apart."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from server.domain.indicators.facts import Facts, months_between
from server.domain.indicators.table import Measure, Names, Row, Spec, Table, area_table, indicator, previous, ratio
from server.domain.report_format import change, number, proportion, share


def _known_status(facts: Facts, spec: Spec, pid: str) -> str | None:
    """The latest status of a recipient who was met ('' when not met, None when not counted)."""
    figures = facts.latest[pid].figures
    if spec.met and figures.get(spec.met) not in (None, "", "ya"):
        return ""
    value = figures.get(spec.figure)
    return None if value in (None, "") or value in spec.exclude else str(value)


def _aid_date(facts: Facts, spec: Spec, pid: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(facts.latest[pid].figures.get(spec.since) or ""))
    except ValueError:
        return None


def _survival(facts: Facts, spec: Spec, areas: list[str]) -> dict[str, list[int]]:
    """Per column: [survived, known]; 'absent': [not met, visited]. Columns are `months` thresholds."""

    def compute() -> dict[str, Any]:
        per: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for pid in facts.latest:
            counts, status = per[facts.people[pid]], _known_status(facts, spec, pid)
            counts["absent"][1] += 1
            if status == "":
                counts["absent"][0] += 1
                continue
            aid = _aid_date(facts, spec, pid)
            if status is None or aid is None:
                continue
            counts["known"][1] += 1
            for months in spec.months:
                if months_between(aid, facts.end) >= months:
                    counts[f"m{months}"][0] += status in spec.values
                    counts[f"m{months}"][1] += 1
        return dict(per)

    per = facts.per_area(("survival", spec.key), compute)
    total: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for area in areas:
        for column, (hit, of) in per.get(area, {}).items():
            total[column][0] += hit
            total[column][1] += of
    return total


@indicator("survival")
def survival(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Business survival: of recipients aided at least 3/6/12 months before the period's end whose
    latest status is known, the share still running (`values`); not met is counted apart."""
    first = f"m{spec.months[0]}"

    def figure(facts: Facts, areas: list[str]) -> Measure:
        return ratio(*_survival(facts, spec, areas)[first])

    def cells(areas: list[str]) -> list[str]:
        found = _survival(now, spec, areas)
        old = figure(before, areas).value if before is not None else None
        return [
            number(found["known"][1]),
            *(proportion(*found[f"m{m}"]) for m in spec.months),
            number(found["absent"][0]),
            change(share(*found[first]), old, points=True),
        ]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=["Status diketahui", *(f"Bertahan ≥ {m} bln" for m in spec.months), "Tidak ditemui", "Perubahan"],
        cells=cells,
        figure=figure,
        subject=f"persentase usaha yang bertahan {spec.months[0]} bulan atau lebih sejak bantuan diterima",
    )


def _cohorts(facts: Facts, spec: Spec) -> dict[str, list[int]]:
    """Aid year -> [survived, known status, not met]."""

    def compute() -> dict[str, Any]:
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for pid in facts.latest:
            aid = _aid_date(facts, spec, pid)
            status = _known_status(facts, spec, pid)
            if aid is None or status is None:
                continue
            counts = per[str(aid.year)]
            if status == "":
                counts[2] += 1
            else:
                counts[0] += status in spec.values
                counts[1] += 1
        return dict(per)

    return facts.per_area(("cohorts", spec.key), compute)


@indicator("survival_cohort")
def survival_cohort(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Business survival by the year the aid was given (one row per cohort), not met apart."""
    found = _cohorts(now, spec)
    old = _cohorts(before, spec) if before is not None else {}

    def cells(counts: list[int], earlier: list[int] | None) -> list[str]:
        return [
            number(counts[1]),
            number(counts[0]),
            proportion(counts[0], counts[1]),
            number(counts[2]),
            change(share(counts[0], counts[1]), share(earlier[0], earlier[1]) if earlier else None, points=True),
        ]

    def figure(facts: Facts, areas: list[str]) -> Measure:
        cohorts = _cohorts(facts, spec).values()
        return ratio(sum(c[0] for c in cohorts), sum(c[1] for c in cohorts))

    rows = [Row(year, cells(counts, old.get(year))) for year, counts in sorted(found.items())]
    summed = [sum(c[i] for c in found.values()) for i in range(3)]
    before_sum = [sum(c[i] for c in old.values()) for i in range(3)] if before is not None else None
    overall = figure(now, [])
    return Table(
        key=spec.key,
        title=spec.title,
        columns=["Status diketahui", "Bertahan", "Persentase", "Tidak ditemui", "Perubahan"],
        row_heading="Tahun bantuan",
        rows=rows,
        total=Row(now.total_label, cells(summed, before_sum)),
        headline=overall.text,
        headline_value=overall.value,
        note=spec.note,
        unit="percent",
        subject="persentase usaha bertahan, semua tahun bantuan",
        overall=overall,
        previous=previous(before, figure),
        by_area=False,
    )
