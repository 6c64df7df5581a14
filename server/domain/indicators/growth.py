"""Children's growth: the share of children whose latest measurement is below a WHO z-score cut-off,
with the children's own small-base threshold."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from server.domain.indicators.facts import Facts
from server.domain.indicators.table import Measure, Names, Spec, Table, area_table, indicator, lower_first, ratio
from server.domain.report_format import change, number

MIN_CHILDREN = 30  # domain.md 6.1 #7: a percentage on fewer children than this is shown as "n (x%)"


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
