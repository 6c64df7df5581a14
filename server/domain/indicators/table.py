"""What an indicator kind returns (a Table: a row per area, a total, its main figure as a Measure per
area, overall and in the previous period), the Spec a report definition gives it, and the registry:
a kind registers in INDICATORS with @indicator, so adding one touches one module. tables() runs a
report's specs and gives every table what all tables get alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from server.domain.indicators.facts import Facts
from server.domain.report_format import SMALL_BASE, SUPPRESSED, is_small, number, proportion, rupiah, share, small_note


class Row(msgspec.Struct, frozen=True):
    label: str
    cells: list[str]


class Measure(msgspec.Struct, frozen=True, kw_only=True):
    """One area's main figure (or the whole scope's): what a chart bar and BAB V's sentences read."""

    label: str = ""
    value: float | None  # a share as 0..1, a count, or rupiah; None when there is nothing to divide
    base: int  # the people (children, records) it is computed on: 0 means no data
    count: int | None = None  # a share's numerator
    text: str  # as the table writes it ("78,0%", "3 (37,5%)", "Rp 25.000", "57")


def ratio(count: int, total: int, small: int = SMALL_BASE) -> Measure:
    return Measure(value=share(count, total), base=total, count=count, text=proportion(count, total, small))


def amount(value: float | None, base: int, unit: str = "count") -> Measure:
    text = rupiah(value) if unit == "rupiah" else SUPPRESSED if value is None else number(value)
    return Measure(value=value, base=base, text=text)


class Table(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    title: str
    columns: list[str]
    rows: list[Row]
    total: Row
    headline: str  # the total's main figure, as shown (the summary page quotes it)
    headline_value: float | None = None
    note: str = ""
    row_heading: str = "Wilayah"
    unit: str = "count"  # how the main figure is written: count, percent or rupiah (UNITS)
    subject: str = ""  # what the main figure measures, as the noun phrase of a sentence
    base_unit: str = "penerima"  # what its base counts
    overall: Measure | None = None  # the main figure of the whole scope
    previous: Measure | None = None  # the same in the previous period; None when it had no data
    measures: list[Measure] = []  # the main figure per area, in the order of the rows
    by_area: bool = True  # one row per area (not per petugas or aid year)
    chart: bool = False
    chart_title: str = ""  # what the chart draws (its bars are `measures`)
    omitted: list[str] = []  # areas without active beneficiaries: no row, named under the table
    level: str = "wilayah"  # what a row is: kecamatan, desa/kelurahan
    small: int = SMALL_BASE  # a share on fewer than this is written "n (x%)"
    caution: str = ""  # the note a table with such a cell carries

    @property
    def empty(self) -> bool:
        """Nothing to count in the period: the report says so instead of printing zeros."""
        return self.overall is None or self.overall.base == 0

    @property
    def compares(self) -> bool:
        """The table has a change column, so its footnote names the previous period."""
        return any(column.startswith("Perubahan") for column in self.columns)


class Spec(msgspec.Struct, frozen=True, kw_only=True):
    """One indicator of a report definition (reports/*.yaml)."""

    key: str
    kind: str
    title: str
    figure: str = ""  # the visit figure it reads (status_usaha, kondisi_alat, penilaian, pendapatan)
    values: list[str] = []  # the answers counted
    exclude: list[str] = []  # answers that are not a known status (e.g. not met)
    baseline: str = ""  # the intake figure a change is measured against
    chart: bool = False
    note: str = ""
    index: str = "haz"  # growth: haz, whz or waz
    cutoff: float = -2.0
    labels: dict[str, str] = {}  # answer code -> column heading (prse -> PRSE)
    limit: int = 30  # rows of a per-petugas table
    since: str = ""  # survival: the visit figure holding the aid date (tgl_bantuan)
    months: list[int] = msgspec.field(default_factory=lambda: [3, 6, 12])  # survival: months since the aid
    threshold: float = 0.0  # poverty_line: the BPS Garis Kemiskinan, Rp per person per month
    per: str = ""  # poverty_line: the intake figure the household income is divided by (jml_art)
    failed: list[str] = []  # graduation: the answers that mean the recipient failed
    met: str = ""  # survival: the visit figure saying whether the recipient was met ("ya")
    referrals: list[str] = []  # graduation: follow-up actions that refer to other aid (PKH/BPNT/PBI, ATENSI)
    chart_title: str = ""  # what the chart draws, when the default ("<subject> menurut kecamatan") is not apt
    # BAB V: the main figure's target (a percentage for shares, a count, or rupiah, as UNITS says),
    # whether higher or lower is better, and what to do when a period misses it.
    target: float | None = None
    better: str = "higher"
    recommendation: str = ""


Names = Callable[[str], str]


Kind = Callable[[Spec, Facts, Facts | None, Names], Table]


Figure = Callable[[Facts, list[str]], Measure]  # an indicator's main figure over some areas


INDICATORS: dict[str, Kind] = {}


UNITS: dict[str, str] = {}  # kind -> how its main figure is written (count, percent, rupiah)


def indicator(kind: str, unit: str = "percent") -> Callable[[Kind], Kind]:
    def register(function: Kind) -> Kind:
        INDICATORS[kind], UNITS[kind] = function, unit
        return function

    return register


def per_area(facts: Facts, names: Names, cells: Callable[[list[str]], list[str]]) -> tuple[list[Row], Row]:
    rows = [Row(names(area), cells([area])) for area in facts.areas()]
    return rows, Row(facts.total_label, cells(facts.areas()))


def area_table(
    spec: Spec,
    now: Facts,
    before: Facts | None,
    names: Names,
    *,
    columns: list[str],
    cells: Callable[[list[str]], list[str]],
    figure: Figure,
    subject: str,
    **more: Any,
) -> Table:
    """A table with a row per area and a total, whose main figure (`figure`) is also kept per area
    (for its chart and for naming the area furthest from target) and for the previous period."""
    rows, total = per_area(now, names, cells)
    overall = figure(now, now.areas())
    return Table(
        key=spec.key,
        title=spec.title,
        columns=columns,
        rows=rows,
        total=total,
        headline=more.pop("headline", overall.text),
        headline_value=overall.value,
        note=more.pop("note", spec.note),
        unit=UNITS[spec.kind],
        subject=subject,
        overall=overall,
        previous=previous(before, figure),
        measures=[msgspec.structs.replace(figure(now, [a]), label=names(a)) for a in now.areas()],
        **more,
    )


def previous(before: Facts | None, figure: Figure) -> Measure | None:
    if before is None or not before.people:
        return None  # nobody was active then: there is nothing to compare with
    found = figure(before, before.areas())
    return found if found.base else None


def lower_first(text: str) -> str:
    """'Usaha bertahan' -> 'usaha bertahan' (an abbreviation such as 'NIK' stays as it is)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def tables(specs: Iterable[Spec], now: Facts, before: Facts | None, names: Names) -> list[Table]:
    omitted = [names(area) for area in now.absent()]
    return [_finish(INDICATORS[spec.kind](spec, now, before, names), spec, now.level, omitted) for spec in specs]


def _finish(table: Table, spec: Spec, level: str, omitted: list[str]) -> Table:
    """What every table gets alike: the areas left out, the small-base note when a cell needs it, and
    its chart's title (what is drawn: the main figure per area, never the groups of the table)."""
    cells = [c for row in (*table.rows, table.total) for c in row.cells]
    small = any(is_small(c) for c in cells) or (table.overall is not None and is_small(table.overall.text))
    subject = table.subject or lower_first(table.title)
    return msgspec.structs.replace(
        table,
        subject=subject,
        level=level,
        omitted=omitted if table.by_area else [],
        caution=small_note(table.small, table.base_unit) if small else "",
        chart=spec.chart and table.by_area and bool(table.measures),
        chart_title=spec.chart_title or f"{subject[:1].upper()}{subject[1:]} menurut {level}",
    )
