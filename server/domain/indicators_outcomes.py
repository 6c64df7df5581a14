"""Indicator kinds about what the visits found: the share of latest answers in a list, the median
change from the intake, business survival by months since the aid and by aid year, income above the
poverty line, graduation and referrals, and children's growth. Each is a pure function of Facts
registered in indicators.INDICATORS; shares go through report_format.proportion."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from server.domain.indicators import (
    MIN_CHILDREN,
    Facts,
    Measure,
    Names,
    Row,
    Spec,
    Table,
    amount,
    area_table,
    indicator,
    lower_first,
    months_between,
    previous,
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


def _growth(facts: Facts, spec: Spec, areas: list[str]) -> tuple[int, int, int]:
    """(children below the cut-off, children measured with a plausible index, flagged and excluded)."""

    def compute() -> dict[str, Any]:
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for (pid, _child), (_day, result) in facts.children.items():
            if result.get("too_old"):
                continue
            counts = per[facts.people[pid]]
            if spec.index in (result.get("implausible") or []):
                counts[2] += 1
                continue
            z = result.get(spec.index)
            if isinstance(z, int | float):
                counts[1] += 1
                counts[0] += z < spec.cutoff
        return dict(per)

    per = facts.per_area(("growth", spec.index, spec.cutoff), compute)
    found = [per[a] for a in areas if a in per]
    return sum(c[0] for c in found), sum(c[1] for c in found), sum(c[2] for c in found)


@indicator("growth")
def growth_share(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Latest measurement per child: the share below the cut-off; on fewer than 30 children the count
    leads and the percentage is in brackets (the small-base rule, with the children's threshold)."""

    def figure(facts: Facts, areas: list[str]) -> Measure:
        low, measured, _ = _growth(facts, spec, areas)
        return ratio(low, measured, MIN_CHILDREN)

    def cells(areas: list[str]) -> list[str]:
        low, measured, flagged = _growth(now, spec, areas)
        found = figure(now, areas)
        old = figure(before, areas).value if before is not None else None
        return [number(measured), number(low), found.text, number(flagged), change(found.value, old, points=True)]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=["Anak diukur", "Di bawah ambang", "Persentase", "Dikecualikan", "Perubahan"],
        cells=cells,
        figure=figure,
        subject="persentase " + lower_first(spec.title),
        note=spec.note or "Tidak sebanding dengan prevalensi survei SSGI/SKI.",
        small=MIN_CHILDREN,
        base_unit="anak",
    )


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
