"""Indicator kinds about the people a programme serves and the petugas' work: enrolment, age and
sex, flagged records, visit coverage, overdue follow-ups, data quality and the per-petugas recap.
Each is a pure function of Facts registered in indicators.INDICATORS; shares go through
report_format.proportion, so a small base reads "n (x%)" here as everywhere."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from server.domain.indicators import (
    AGE_BANDS,
    Facts,
    Measure,
    Names,
    Row,
    Spec,
    Table,
    amount,
    area_table,
    indicator,
    ratio,
)
from server.domain.report_format import SUPPRESSED, change, median, number, proportion, share, short_date


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
