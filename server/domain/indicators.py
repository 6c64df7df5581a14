"""Report indicators as pure functions (domain.md 6.1): Facts gathers one period's rows as they stream
past (people, visits, growth checks, open follow-ups) keeping only what the figures need (the latest
visit per person, counters per area), and each indicator kind turns Facts into a Table with one row
per area, a total row and the change from the previous period. Kinds register in INDICATORS, so a
report definition names them and adding one touches one place; the kinds themselves live in
indicators_people.py (the registry and the petugas' work) and indicators_outcomes.py (what visits
found). Figures are written by report_format (Indonesian formats, the small-base rule)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from server.domain.report_format import (
    SMALL_BASE,
    SUPPRESSED,
    change,
    is_small,
    long_date,
    median,
    number,
    percent,
    proportion,
    rupiah,
    share,
    small_note,
)

# Formats that callers once found here; report_format is their home now.
__all__ = ["SUPPRESSED", "change", "long_date", "median", "number", "percent", "proportion", "rupiah", "share"]

MIN_CHILDREN = 30  # domain.md 6.1 #7: a percentage on fewer children than this is shown as "n (x%)"
AGE_BANDS = (("anak", 0, 18), ("18-39", 18, 40), ("40-59", 40, 60), ("60+", 60, 200))


def age_band(birth_date: str, on: dt.date) -> str:
    try:
        born = dt.date.fromisoformat(birth_date)
    except ValueError:
        return ""
    years = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return next((name for name, lo, hi in AGE_BANDS if lo <= years < hi), "")


def geopoint(text: Any) -> tuple[float, float, float | None] | None:
    """'lat lon [alt [accuracy]]' (the form runtime's geopoint) -> (lat, lon, accuracy in m or None)."""
    if not isinstance(text, str):
        return None
    parts = text.split()
    try:
        lat, lon = float(parts[0]), float(parts[1])
        accuracy = float(parts[3]) if len(parts) > 3 else None
    except (IndexError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon, accuracy


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance (haversine, mean Earth radius 6371 km)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def months_between(earlier: dt.date, later: dt.date) -> int:
    """Whole months from `earlier` to `later` (15 Jan -> 14 Apr is 2, -> 15 Apr is 3)."""
    return (later.year - earlier.year) * 12 + later.month - earlier.month - (later.day < earlier.day)


# --- what a period's rows leave behind --------------------------------------------------------------
class Visit(msgspec.Struct, frozen=True):
    happened_on: str
    figures: dict[str, Any]


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """What one submission of the period says about data quality and the petugas' work."""

    enumerator: str = ""
    visit: bool = False
    revision: int = 1
    photo: bool = False
    received_on: str = ""  # the day it reached the server (the petugas' last sync)
    location: str = ""  # the visit's geopoint answer
    complete: bool = True
    id_confirmed: bool = False  # the petugas ticked a NIK/KK warning (answers' _konfirmasi)


class Facts:
    """One period's figures per area, filled row by row; never holds the rows themselves."""

    def __init__(
        self,
        start: dt.date,
        end: dt.date,
        group_of: Callable[[str], str],
        all_areas: Iterable[str] = (),
        total_label: str = "Jumlah",
        *,
        level: str = "wilayah",
        accuracy_m: float = 50.0,
        distance_km: float = 2.0,
    ) -> None:
        self.start, self.end, self.group_of = start, end, group_of
        # A visit's GPS is good at this accuracy or better; farther than this from home is flagged.
        self.accuracy_m, self.distance_km = accuracy_m, distance_km
        self.all_areas = frozenset(all_areas)  # every area gets a row, with zeros when nobody is there
        self.total_label = total_label
        self.level = level  # what a row is: "kecamatan" in the kabupaten's report, "desa/kelurahan" in one kecamatan's
        self.people: dict[str, str] = {}  # beneficiary id -> area group
        self.baseline: dict[str, dict[str, Any]] = {}
        self.active: Counter[str] = Counter()
        self.planned: Counter[str] = Counter()
        self.new: Counter[str] = Counter()
        self.by_group: Counter[tuple[str, str]] = Counter()  # (area, target group)
        self.by_sex: Counter[tuple[str, str]] = Counter()
        self.by_age: Counter[tuple[str, str]] = Counter()
        self.flags: Counter[tuple[str, str]] = Counter()  # (area, flag): duplicate NIK/KK, NIK warnings
        self.flagged: Counter[str] = Counter()
        self.by_enumerator: Counter[str] = Counter()  # visits per petugas
        self.seen_by: dict[str, set[str]] = defaultdict(set)  # petugas -> people visited
        self.visits: Counter[str] = Counter()
        self.latest: dict[str, Visit] = {}
        self.children: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}  # (beneficiary, child) -> latest
        self.overdue: list[tuple[str, str, int, list[str]]] = []  # (beneficiary, area, days late, actions)
        self.last_seen: dict[str, str] = {}  # beneficiary -> the last visit on or before the period's end
        self.home: dict[str, tuple[float, float]] = {}  # beneficiary -> the registered GPS point
        self.referred: dict[str, set[str]] = defaultdict(set)  # beneficiary -> referral actions opened
        # (area, records|complete|id_confirmed|edited|corrected|duplicates)
        self.quality: Counter[tuple[str, str]] = Counter()
        self.work: dict[str, Counter[str]] = defaultdict(Counter)  # petugas -> what their records show
        self.synced: dict[str, str] = {}  # petugas -> the day their last record reached the server
        # Per-area sums each indicator computes once (one pass over the people), then adds up per row.
        self.memo: dict[tuple[Any, ...], dict[str, Any]] = {}

    def per_area(self, key: tuple[Any, ...], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def add_person(
        self,
        pid: str,
        area_code: str,
        sex: str,
        birth_date: str,
        group: str,
        registered_on: str,
        baseline: list[dict[str, Any]],
        visit_months: int,
        flags: str = "",
        last_visit_on: str = "",
        home: str = "",
    ) -> None:
        area = self.group_of(area_code)
        for flag in flags.split():
            self.flags[(area, flag)] += 1
        if flags.strip():
            self.flagged[area] += 1
        self.people[pid] = area
        self.baseline[pid] = {str(f.get("key")): f.get("value") for f in baseline if isinstance(f, dict)}
        self.active[area] += 1
        if visit_months > 0:
            months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1
            self.planned[area] += max(1, months // visit_months)
        if registered_on >= self.start.isoformat():
            self.new[area] += 1
        self.by_group[(area, group or "lainnya")] += 1
        self.by_sex[(area, sex or "?")] += 1
        self.by_age[(area, age_band(birth_date, self.end) or "?")] += 1
        # Days since the last visit start from the registry's last visit when it is not after this
        # period's end (a report made later for an old period), else from the registration.
        known = last_visit_on if last_visit_on and last_visit_on <= self.end.isoformat() else ""
        self.last_seen[pid] = max(known, registered_on)
        point = geopoint(home)
        if point is not None:
            self.home[pid] = point[:2]

    def add_visit(self, pid: str, happened_on: str, figures: list[dict[str, Any]], enumerator: str = "") -> None:
        if pid not in self.people:
            return  # a visit to someone outside the scope or no longer active
        self.visits[self.people[pid]] += 1
        self.by_enumerator[enumerator] += 1
        self.seen_by[enumerator].add(pid)
        self.saw(pid, happened_on)
        seen = self.latest.get(pid)
        if seen is None or happened_on >= seen.happened_on:
            self.latest[pid] = Visit(
                happened_on, {str(f.get("key")): f.get("value") for f in figures if isinstance(f, dict)}
            )

    def saw(self, pid: str, happened_on: str) -> None:
        """A visit on `happened_on` (this period or an earlier one): the last-visit date moves up."""
        if pid in self.last_seen and happened_on <= self.end.isoformat():
            self.last_seen[pid] = max(self.last_seen[pid], happened_on)

    def add_record(self, pid: str, record: Record) -> None:
        """One submission of the report's forms in the period: data quality per area and what the
        petugas' records show (GPS accuracy, photo, distance from the registered point, corrections)."""
        if pid not in self.people:
            return
        area = self.people[pid]
        self.quality[(area, "records")] += 1
        self.quality[(area, "complete")] += record.complete
        self.quality[(area, "id_confirmed")] += record.id_confirmed
        self.quality[(area, "edited")] += record.revision > 1
        work = self.work[record.enumerator]
        work["records"] += 1
        if record.received_on > self.synced.get(record.enumerator, ""):
            self.synced[record.enumerator] = record.received_on
        if not record.visit:
            return
        work["visits"] += 1
        work["photo"] += record.photo
        point = geopoint(record.location)
        if point is None:
            return
        work["located"] += 1
        work["accurate"] += point[2] is not None and point[2] <= self.accuracy_m
        home = self.home.get(pid)
        if home is not None:
            work["compared"] += 1
            work["far"] += distance_km(home, point[:2]) > self.distance_km

    def add_sent_back(self, area_code: str, enumerator: str) -> None:
        """A record sent back for correction during the period, counted whatever its status now (and
        so outside the counting basis: the count is of the reviewers' work, not of the records)."""
        self.quality[(self.group_of(area_code), "corrected")] += 1
        self.work[enumerator]["corrected"] += 1

    def add_open_duplicate(self, area_code: str) -> None:
        """A probable-duplicate pair not yet decided when the report is made, in its first record's area."""
        self.quality[(self.group_of(area_code), "duplicates")] += 1

    def add_referral(self, pid: str, opened_on: str, actions: list[str]) -> None:
        if pid in self.people and self.start.isoformat() <= opened_on <= self.end.isoformat():
            self.referred[pid].update(actions)

    def add_growth(self, pid: str, child: str, measured_on: str, growth: dict[str, Any]) -> None:
        if pid not in self.people:
            return
        key = (pid, child)
        seen = self.children.get(key)
        if seen is None or measured_on >= seen[0]:
            self.children[key] = (measured_on, growth)

    def add_overdue(self, pid: str, due_on: str, actions: list[str]) -> None:
        if pid not in self.people:
            return
        late = (self.end - dt.date.fromisoformat(due_on)).days
        self.overdue.append((pid, self.people[pid], late, actions))

    def areas(self) -> list[str]:
        """The areas with active beneficiaries: a row of zeros for an area the programme does not
        reach says nothing, so those are named under the table instead (`absent`)."""
        return sorted(set(self.people.values()))

    def absent(self) -> list[str]:
        return sorted(self.all_areas - set(self.people.values()))


# --- tables ----------------------------------------------------------------------------------------------
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


def attention(facts: Facts, spec_values: dict[str, list[str]]) -> list[tuple[str, str]]:
    """People who need attention in the period, most urgent first, at most `limit`: (beneficiary id,
    reason). Overdue follow-ups (longest first), then latest visits whose figure is one of the listed
    answers (equipment sold, pawned or lost; business stopped). The caller shows the first few."""
    reasons: dict[str, list[str]] = defaultdict(list)
    # Ties broken by id: the rows arrive in whatever order the database returns them, and the same
    # data must list the same people in the same order (reproducible editions).
    for pid, _area, days, _actions in sorted(facts.overdue, key=lambda o: (-o[2], o[0])):
        reasons[pid].append(f"tindak lanjut terlambat {days} hari")
    for pid, visit in sorted(facts.latest.items()):
        for figure, values in spec_values.items():
            if visit.figures.get(figure) in values:
                reasons[pid].append(f"{figure.replace('_', ' ')}: {str(visit.figures[figure]).replace('_', ' ')}")
    return [(pid, "; ".join(found)) for pid, found in reasons.items()]


# The kinds register themselves on import; they need the names above, so they come last.
from server.domain import indicators_outcomes, indicators_people  # noqa: E402, F401
