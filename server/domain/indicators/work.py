"""Indicator kinds about the petugas' work and the data they send: overdue follow-ups, data quality
and the per-petugas recap."""

from __future__ import annotations

from collections import Counter

from server.domain.indicators.facts import Facts
from server.domain.indicators.table import Measure, Names, Row, Spec, Table, amount, area_table, indicator, ratio
from server.domain.report_format import change, number, proportion, share, short_date

BUCKETS = (("≤ 7 hari", 0, 7), ("8-30 hari", 8, 30), ("> 30 hari", 31, 100_000))


@indicator("overdue", unit="count")
def overdue(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    def late(facts: Facts, areas: list[str]) -> Measure:
        wanted = set(areas)
        # Based on the active people the follow-ups are about: none late among them is a finding.
        return amount(sum(1 for _, area, _, _ in facts.overdue if area in wanted), sum(facts.active[a] for a in areas))

    def cells(areas: list[str]) -> list[str]:
        wanted = set(areas)
        days = [d for _, area, d, _ in now.overdue if area in wanted]
        counts = [sum(1 for d in days if lo <= d <= hi) for _, lo, hi in BUCKETS]
        old = late(before, areas).value if before is not None else None
        return [*(number(c) for c in counts), number(len(days)), change(len(days), old)]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=[*(b[0] for b in BUCKETS), "Jumlah", "Perubahan"],
        cells=cells,
        figure=late,
        subject="jumlah tindak lanjut yang terlambat pada akhir periode",
    )


QUALITY = ("records", "complete", "id_confirmed", "edited", "corrected", "duplicates")


@indicator("data_quality")
def data_quality(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """The period's records of the report's forms: complete, NIK/KK warnings confirmed by the petugas,
    edited after they were sent (revision > 1), sent back for correction; and the probable-duplicate
    pairs still undecided when the report is made."""

    def counts(facts: Facts, areas: list[str]) -> dict[str, int]:
        return {name: sum(facts.quality[(a, name)] for a in areas) for name in QUALITY}

    def complete(facts: Facts, areas: list[str]) -> Measure:
        found = counts(facts, areas)
        return ratio(found["complete"], found["records"])

    def cells(areas: list[str]) -> list[str]:
        found = counts(now, areas)
        old = complete(before, areas).value if before is not None else None
        return [
            number(found["records"]),
            proportion(found["complete"], found["records"]),
            proportion(found["id_confirmed"], found["records"]),
            proportion(found["edited"], found["records"]),
            number(found["corrected"]),
            number(found["duplicates"]),
            change(share(found["complete"], found["records"]), old, points=True),
        ]

    return area_table(
        spec,
        now,
        before,
        names,
        columns=[
            "Data",
            "Lengkap",
            "Peringatan NIK/KK dikonfirmasi",
            "Diedit setelah dikirim",
            "Dikembalikan",
            "Kemungkinan ganda",
            "Perubahan",
        ],
        cells=cells,
        figure=complete,
        subject="persentase data yang lengkap",
        base_unit="data",
    )


def _enumerator_columns(now: Facts) -> list[str]:
    return ["Data", "Kunjungan", "Penerima dikunjungi", f"GPS ≤ {number(now.accuracy_m)} m", "Berfoto",
            f"> {number(now.distance_km)} km dari rumah", "Dikembalikan", "Sinkron terakhir"]


@indicator("enumerators", unit="count")
def enumerators(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Per-petugas activity, busiest first, at most `limit` rows: records, visits, people visited, the
    share of visits with GPS at the set accuracy, with a photo, and farther than the set distance from
    the registered point (of visits where both points are known), records sent back for correction
    and the day of the last record received (last sync)."""
    everyone = set(now.by_enumerator) | set(now.work)
    ranked = sorted(everyone, key=lambda name: (-now.by_enumerator[name], -now.work[name]["records"], name))
    shown = ranked[: spec.limit]

    def cells(work: Counter[str], visits: int, people: int, synced: str) -> list[str]:
        return [
            number(work["records"]),
            number(visits),
            number(people),
            proportion(work["accurate"], work["located"]),
            proportion(work["photo"], work["visits"]),
            proportion(work["far"], work["compared"]),
            number(work["corrected"]),
            short_date(synced),
        ]

    rows = [
        Row(
            name or "(tanpa nama)",
            cells(now.work[name], now.by_enumerator[name], len(now.seen_by[name]), now.synced.get(name, "")),
        )
        for name in shown
    ]
    summed: Counter[str] = Counter()
    for work in now.work.values():
        summed.update(work)
    people = len({pid for name in ranked for pid in now.seen_by[name]})
    total = Row("Jumlah", cells(summed, now.visits.total(), people, max(now.synced.values(), default="")))
    note = spec.note or (
        f"{len(ranked) - len(shown)} petugas lain tidak ditampilkan." if len(ranked) > len(shown) else ""
    )
    overall = amount(len(ranked), summed["records"])
    return Table(
        key=spec.key,
        title=spec.title,
        columns=_enumerator_columns(now),
        row_heading="Petugas",
        rows=rows,
        total=total,
        headline=number(len(ranked)) + " petugas",
        headline_value=len(ranked),
        note=note,
        unit="count",
        subject="jumlah petugas yang mengirim data",
        base_unit="kunjungan",
        overall=overall,
        by_area=False,
    )
