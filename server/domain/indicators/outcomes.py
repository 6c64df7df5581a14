"""Indicator kinds about what the latest visits found: the share of answers in a list, the median
change from the intake, income above the poverty line, and graduation with referrals to other aid."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from server.domain.indicators.facts import Facts
from server.domain.indicators.table import (
    Measure,
    Names,
    Spec,
    Table,
    amount,
    area_table,
    indicator,
    lower_first,
    ratio,
)
from server.domain.report_format import change, median, number, proportion, rupiah, share


def _counted(facts: Facts, spec: Spec, areas: list[str]) -> Measure:
    """People whose latest answer is one of spec.values, of the people with a known answer."""

    def compute() -> dict[str, Any]:
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for pid, visit in facts.latest.items():
            value = visit.figures.get(spec.figure)
            if value is None or value == "" or value in spec.exclude:
                continue
            counts = per[facts.people[pid]]
            counts[0] += value in spec.values
            counts[1] += 1
        return dict(per)

    per = facts.per_area(("counted", spec.figure, tuple(spec.values), tuple(spec.exclude)), compute)
    return ratio(sum(per[a][0] for a in areas if a in per), sum(per[a][1] for a in areas if a in per))


@indicator("share")
def share_of_latest(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Of the people visited in the period, the share whose latest answer to `figure` is in `values`."""

    def figure(facts: Facts, areas: list[str]) -> Measure:
        return _counted(facts, spec, areas)

    def cells(areas: list[str]) -> list[str]:
        found = figure(now, areas)
        old = figure(before, areas).value if before is not None else None
        return [number(found.count or 0), number(found.base), found.text, change(found.value, old, points=True)]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=["Jumlah", "Dari", "Persentase", "Perubahan"],
        cells=cells,
        figure=figure,
        subject="persentase " + lower_first(spec.title),
    )


def _changes(facts: Facts, spec: Spec, areas: list[str]) -> list[float]:
    def compute() -> dict[str, Any]:
        per: dict[str, list[float]] = defaultdict(list)
        for pid, visit in facts.latest.items():
            value, base = visit.figures.get(spec.figure), facts.baseline.get(pid, {}).get(spec.baseline)
            if isinstance(value, int | float) and isinstance(base, int | float):
                per[facts.people[pid]].append(float(value - base))
        return dict(per)

    per = facts.per_area(("changes", spec.figure, spec.baseline), compute)
    return [c for a in areas for c in per.get(a, [])]


@indicator("median_change", unit="rupiah")
def median_change(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Median (never the mean) of the latest figure minus the intake baseline; share with an increase."""

    def figure(facts: Facts, areas: list[str]) -> Measure:
        changes = _changes(facts, spec, areas)
        return amount(median(changes), len(changes), "rupiah")

    def cells(areas: list[str]) -> list[str]:
        changes = _changes(now, spec, areas)
        found = figure(now, areas)
        old = figure(before, areas).value if before is not None else None
        return [
            number(len(changes)),
            found.text,
            proportion(sum(1 for c in changes if c > 0), len(changes)),
            rupiah(None if old is None or found.value is None else found.value - old),
        ]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=["Penerima", "Median perubahan", "Naik", "Perubahan median"],
        cells=cells,
        figure=figure,
        subject="median " + lower_first(spec.title),
    )


def _above_line(facts: Facts, spec: Spec, areas: list[str]) -> Measure:
    """Recipients whose latest household income per person is above the line, of recipients with both figures."""

    def compute() -> dict[str, Any]:
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for pid, visit in facts.latest.items():
            income, size = visit.figures.get(spec.figure), facts.baseline.get(pid, {}).get(spec.per)
            if isinstance(income, int | float) and isinstance(size, int | float) and size > 0:
                counts = per[facts.people[pid]]
                counts[0] += income / size > spec.threshold
                counts[1] += 1
        return dict(per)

    per = facts.per_area(("above_line", spec.key), compute)
    return ratio(sum(per[a][0] for a in areas if a in per), sum(per[a][1] for a in areas if a in per))


@indicator("poverty_line")
def poverty_line(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Recipients whose latest household income per person (`figure` ÷ the intake's `per`) is above
    the Garis Kemiskinan `threshold` set in the report definition."""

    def figure(facts: Facts, areas: list[str]) -> Measure:
        return _above_line(facts, spec, areas)

    def cells(areas: list[str]) -> list[str]:
        found = figure(now, areas)
        old = figure(before, areas).value if before is not None else None
        return [number(found.base), number(found.count or 0), found.text, change(found.value, old, points=True)]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=["Penerima", "Di atas garis kemiskinan", "Persentase", "Perubahan"],
        cells=cells,
        figure=figure,
        subject="persentase " + lower_first(spec.title),
        note=spec.note or f"Garis Kemiskinan: {rupiah(spec.threshold)} per kapita per bulan.",
    )


def _graduation(facts: Facts, spec: Spec, areas: list[str]) -> list[int]:
    """[assessed, graduated, failed, *referred per action]."""

    def compute() -> dict[str, Any]:
        per: dict[str, list[int]] = defaultdict(lambda: [0] * (3 + len(spec.referrals)))
        for pid, visit in facts.latest.items():
            value = visit.figures.get(spec.figure)
            if value not in (None, ""):
                counts = per[facts.people[pid]]
                counts[0] += 1
                counts[1] += value in spec.values
                counts[2] += value in spec.failed
        for pid, actions in facts.referred.items():
            counts = per[facts.people[pid]]
            for n, action in enumerate(spec.referrals):
                counts[3 + n] += action in actions
        return dict(per)

    per = facts.per_area(("graduation", spec.key), compute)
    found = [per[a] for a in areas if a in per]
    return [sum(c[i] for c in found) for i in range(3 + len(spec.referrals))]


@indicator("graduation")
def graduation(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Latest assessment: the share graduated (`values`) and failed (`failed`), and the recipients a
    visit of the period referred to other aid (follow-up actions in `referrals`)."""

    def figure(facts: Facts, areas: list[str]) -> Measure:
        counts = _graduation(facts, spec, areas)
        return ratio(counts[1], counts[0])

    def cells(areas: list[str]) -> list[str]:
        counts = _graduation(now, spec, areas)
        old = figure(before, areas).value if before is not None else None
        return [
            number(counts[0]),
            proportion(counts[1], counts[0]),
            proportion(counts[2], counts[0]),
            *(number(c) for c in counts[3:]),
            change(share(counts[1], counts[0]), old, points=True),
        ]

    graduated = " atau ".join(spec.labels.get(v, v.replace("_", " ")) for v in spec.values)
    return area_table(
        spec,
        now,
        before,
        names,
        columns=[
            "Dinilai",
            "Mandiri/graduasi",
            "Gagal",
            *(f"Dirujuk {spec.labels.get(r, r)}" for r in spec.referrals),
            "Perubahan",
        ],
        cells=cells,
        figure=figure,
        subject=f"persentase penerima yang pada penilaian terakhir dinilai {graduated}",
    )
