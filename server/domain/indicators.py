"""Report indicators as pure functions (domain.md 6.1): Facts gathers one period's rows as they stream
past (people, visits, growth checks, open follow-ups) keeping only what the figures need (the latest
visit per person, counters per area), and each indicator kind turns Facts into a Table with one row
per area, a total row and the change from the previous period. Kinds register in INDICATORS, so a
report definition names them and adding one touches one place. Numbers are shown the Indonesian way
through Babel: 1.234.567; 12,5%; Rp 1.500.000; 31 Maret 2026."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import msgspec
from babel.dates import format_date
from babel.numbers import format_decimal

MIN_CHILDREN = 30  # domain.md 6.1 #7: no percentage on fewer children than this
SUPPRESSED = "–"
AGE_BANDS = (("anak", 0, 18), ("18-39", 18, 40), ("40-59", 40, 60), ("60+", 60, 200))


# --- Indonesian formats -------------------------------------------------------------------------------
def number(value: float) -> str:
    """1234567 -> '1.234.567'."""
    return format_decimal(value, locale="id_ID")


def percent(share: float | None) -> str:
    """0.125 -> '12,5%'; None (nothing to divide) -> '–'."""
    if share is None:
        return SUPPRESSED
    return format_decimal(round(share * 100, 1), format="#,##0.0", locale="id_ID") + "%"


def rupiah(amount: float | None) -> str:
    if amount is None:
        return SUPPRESSED
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {format_decimal(round(abs(amount)), locale='id_ID')}"


def long_date(day: dt.date) -> str:
    """31 Maret 2026."""
    return format_date(day, "d MMMM y", locale="id")


def change(now: float | None, before: float | None, *, points: bool = False) -> str:
    """The period-on-period change: '+12', '-3', '+2,5 poin' (shares change in percentage points)."""
    if now is None or before is None:
        return SUPPRESSED
    delta = now - before
    if points:
        text = format_decimal(round(delta * 100, 1), format="#,##0.0", locale="id_ID")
        return ("+" if delta > 0 else "") + text + " poin"
    return ("+" if delta > 0 else "") + number(delta)


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def share(count: int, total: int, minimum: int = 1) -> float | None:
    """count/total, or None when total is below the minimum (nothing to show, or too few children)."""
    return count / total if total >= max(minimum, 1) else None


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
    corrected: bool = False  # ever sent back for correction
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
        accuracy_m: float = 50.0,
        distance_km: float = 2.0,
    ) -> None:
        self.start, self.end, self.group_of = start, end, group_of
        # A visit's GPS is good at this accuracy or better; farther than this from home is flagged.
        self.accuracy_m, self.distance_km = accuracy_m, distance_km
        self.all_areas = frozenset(all_areas)  # every area gets a row, with zeros when nobody is there
        self.total_label = total_label
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
        self.quality: Counter[tuple[str, str]] = Counter()  # (area, records|complete|id_confirmed|edited|corrected)
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
        self.quality[(area, "corrected")] += record.corrected
        work = self.work[record.enumerator]
        work["records"] += 1
        work["corrected"] += record.corrected
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
        return sorted(set(self.people.values()) | self.all_areas)


# --- tables ----------------------------------------------------------------------------------------------
class Row(msgspec.Struct, frozen=True):
    label: str
    cells: list[str]


class Table(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    title: str
    columns: list[str]
    rows: list[Row]
    total: Row
    headline: str  # the total's main figure, as shown (the summary page quotes it)
    headline_value: float | None = None
    note: str = ""
    chart: list[tuple[str, float]] = []  # (area, value) bars for the chart of this table
    chart_percent: bool = False
    row_heading: str = "Wilayah"


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


Names = Callable[[str], str]
Kind = Callable[[Spec, Facts, Facts | None, Names], Table]
INDICATORS: dict[str, Kind] = {}


def indicator(kind: str) -> Callable[[Kind], Kind]:
    def register(function: Kind) -> Kind:
        INDICATORS[kind] = function
        return function

    return register


def _per_area(facts: Facts, names: Names, cells: Callable[[list[str]], list[str]]) -> tuple[list[Row], Row]:
    rows = [Row(names(area), cells([area])) for area in facts.areas()]
    return rows, Row(facts.total_label, cells(facts.areas()))


@indicator("enrolment")
def enrolment(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    groups = spec.values or sorted({g for _, g in now.by_group})

    def cells(areas: list[str]) -> list[str]:
        active = sum(now.active[a] for a in areas)
        women = sum(now.by_sex[(a, "P")] for a in areas)
        old = sum(now.active[a] for a in areas) if before is None else sum(before.active[a] for a in areas)
        return [
            number(active),
            number(sum(now.new[a] for a in areas)),
            number(women),
            *(number(sum(now.by_group[(a, g)] for a in areas)) for g in groups),
            change(active, old if before is not None else None),
        ]

    rows, total = _per_area(now, names, cells)
    active = sum(now.active.values())
    return Table(
        key=spec.key,
        title=spec.title,
        columns=["Penerima aktif", "Baru", "Perempuan", *(spec.labels.get(g, g) for g in groups), "Perubahan"],
        rows=rows,
        total=total,
        headline=number(active),
        headline_value=active,
        note=spec.note,
        chart=[(names(a), float(now.active[a])) for a in now.areas()] if spec.chart else [],
    )


@indicator("visit_coverage")
def visit_coverage(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    def visited(facts: Facts, areas: list[str]) -> tuple[int, int]:
        seen = facts.per_area(("visited",), lambda: Counter(facts.people[pid] for pid in facts.latest))
        return sum(seen.get(a, 0) for a in areas), sum(facts.active[a] for a in areas)

    def days(areas: list[str]) -> str:
        per = now.per_area(("days_since",), lambda: _days_since(now))
        found = median([d for a in areas for d in per.get(a, [])])
        return SUPPRESSED if found is None else number(found)

    def cells(areas: list[str]) -> list[str]:
        done, planned = sum(now.visits[a] for a in areas), sum(now.planned[a] for a in areas)
        seen, active = visited(now, areas)
        rate = share(seen, active)
        old = share(*visited(before, areas)) if before is not None else None
        return [
            number(done),
            number(planned),
            percent(share(done, planned)),
            percent(rate),
            days(areas),
            change(rate, old, points=True),
        ]

    rows, total = _per_area(now, names, cells)
    seen, active = visited(now, now.areas())
    return Table(
        key=spec.key,
        title=spec.title,
        columns=[
            "Kunjungan",
            "Rencana",
            "Realisasi",
            "Penerima dikunjungi",
            "Median hari sejak kunjungan",
            "Perubahan",
        ],
        rows=rows,
        total=total,
        headline=percent(share(seen, active)),
        headline_value=share(seen, active),
        note=spec.note,
        chart_percent=True,
        chart=[(names(a), share(*visited(now, [a])) or 0.0) for a in now.areas()] if spec.chart else [],
    )


def _days_since(facts: Facts) -> dict[str, Any]:
    """Per area, each active recipient's days from their last visit (or registration) to the period's end."""
    per: dict[str, list[float]] = defaultdict(list)
    for pid, area in facts.people.items():
        try:
            per[area].append(float((facts.end - dt.date.fromisoformat(facts.last_seen[pid])).days))
        except (KeyError, ValueError):
            continue
    return dict(per)


def _counted(facts: Facts, spec: Spec, areas: list[str]) -> tuple[int, int]:
    """(people whose latest answer is one of spec.values, people with a known answer)."""

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
    return sum(per[a][0] for a in areas if a in per), sum(per[a][1] for a in areas if a in per)


@indicator("share")
def share_of_latest(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Of the people visited in the period, the share whose latest answer to `figure` is in `values`."""

    def cells(areas: list[str]) -> list[str]:
        hits, known = _counted(now, spec, areas)
        old = share(*_counted(before, spec, areas)) if before is not None else None
        return [number(hits), number(known), percent(share(hits, known)), change(share(hits, known), old, points=True)]

    rows, total = _per_area(now, names, cells)
    value = share(*_counted(now, spec, now.areas()))
    return Table(
        key=spec.key,
        title=spec.title,
        columns=["Jumlah", "Dari", "Persentase", "Perubahan"],
        rows=rows,
        total=total,
        headline=percent(value),
        headline_value=value,
        note=spec.note,
        chart_percent=True,
        chart=[(names(a), share(*_counted(now, spec, [a])) or 0.0) for a in now.areas()] if spec.chart else [],
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


@indicator("median_change")
def median_change(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Median (never the mean) of the latest figure minus the intake baseline; share with an increase."""

    def cells(areas: list[str]) -> list[str]:
        changes = _changes(now, spec, areas)
        old = median(_changes(before, spec, areas)) if before is not None else None
        up = share(sum(1 for c in changes if c > 0), len(changes))
        return [
            number(len(changes)),
            rupiah(median(changes)),
            percent(up),
            rupiah(None if old is None or not changes else (median(changes) or 0) - old),
        ]

    rows, total = _per_area(now, names, cells)
    value = median(_changes(now, spec, now.areas()))
    return Table(
        key=spec.key,
        title=spec.title,
        columns=["Penerima", "Median perubahan", "Naik", "Perubahan median"],
        rows=rows,
        total=total,
        headline=rupiah(value),
        headline_value=value,
        note=spec.note,
        chart=[(names(a), median(_changes(now, spec, [a])) or 0.0) for a in now.areas()] if spec.chart else [],
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
    """Latest measurement per child: the share below the cut-off, suppressed on fewer than 30 children."""

    def cells(areas: list[str]) -> list[str]:
        low, measured, flagged = _growth(now, spec, areas)
        rate = share(low, measured, MIN_CHILDREN)
        old = share(*_growth(before, spec, areas)[:2], MIN_CHILDREN) if before is not None else None
        return [number(measured), number(low), percent(rate), number(flagged), change(rate, old, points=True)]

    rows, total = _per_area(now, names, cells)
    low, measured, _ = _growth(now, spec, now.areas())
    value = share(low, measured, MIN_CHILDREN)
    note = spec.note or (
        f"Persentase tidak ditampilkan (–) bila anak yang diukur kurang dari {MIN_CHILDREN}. "
        "Tidak sebanding dengan prevalensi survei SSGI/SKI."
    )
    return Table(
        key=spec.key,
        title=spec.title,
        columns=["Anak diukur", "Di bawah ambang", "Persentase", "Dikecualikan", "Perubahan"],
        rows=rows,
        total=total,
        headline=percent(value),
        headline_value=value,
        note=note,
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

    def cells(areas: list[str]) -> list[str]:
        found = _survival(now, spec, areas)
        old = share(*_survival(before, spec, areas)[first]) if before is not None else None
        return [
            number(found["known"][1]),
            *(percent(share(*found[f"m{m}"])) for m in spec.months),
            number(found["absent"][0]),
            change(share(*found[first]), old, points=True),
        ]

    rows, total = _per_area(now, names, cells)
    value = share(*_survival(now, spec, now.areas())[first])
    return Table(
        key=spec.key,
        title=spec.title,
        columns=["Status diketahui", *(f"Bertahan ≥ {m} bln" for m in spec.months), "Tidak ditemui", "Perubahan"],
        rows=rows,
        total=total,
        headline=percent(value),
        headline_value=value,
        note=spec.note,
        chart_percent=True,
        chart=[(names(a), share(*_survival(now, spec, [a])[first]) or 0.0) for a in now.areas()] if spec.chart else [],
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

    def cells(counts: list[int], previous: list[int] | None) -> list[str]:
        rate = share(counts[0], counts[1])
        return [
            number(counts[1]),
            number(counts[0]),
            percent(rate),
            number(counts[2]),
            change(rate, share(previous[0], previous[1]) if previous else None, points=True),
        ]

    rows = [Row(year, cells(counts, old.get(year))) for year, counts in sorted(found.items())]
    summed = [sum(c[i] for c in found.values()) for i in range(3)]
    before_sum = [sum(c[i] for c in old.values()) for i in range(3)] if before is not None else None
    value = share(summed[0], summed[1])
    return Table(
        key=spec.key,
        title=spec.title,
        columns=["Status diketahui", "Bertahan", "Persentase", "Tidak ditemui", "Perubahan"],
        row_heading="Tahun bantuan",
        rows=rows,
        total=Row(now.total_label, cells(summed, before_sum)),
        headline=percent(value),
        headline_value=value,
        note=spec.note,
    )


def _above_line(facts: Facts, spec: Spec, areas: list[str]) -> tuple[int, int]:
    """(recipients whose latest household income per person is above the line, recipients with both figures)."""

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
    return sum(per[a][0] for a in areas if a in per), sum(per[a][1] for a in areas if a in per)


@indicator("poverty_line")
def poverty_line(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Recipients whose latest household income per person (`figure` ÷ the intake's `per`) is above
    the Garis Kemiskinan `threshold` set in the report definition."""

    def cells(areas: list[str]) -> list[str]:
        above, counted = _above_line(now, spec, areas)
        old = share(*_above_line(before, spec, areas)) if before is not None else None
        return [
            number(counted),
            number(above),
            percent(share(above, counted)),
            change(share(above, counted), old, points=True),
        ]

    rows, total = _per_area(now, names, cells)
    value = share(*_above_line(now, spec, now.areas()))
    note = spec.note or f"Garis Kemiskinan: {rupiah(spec.threshold)} per kapita per bulan."
    return Table(
        key=spec.key,
        title=spec.title,
        columns=["Penerima", "Di atas garis kemiskinan", "Persentase", "Perubahan"],
        rows=rows,
        total=total,
        headline=percent(value),
        headline_value=value,
        note=note,
        chart_percent=True,
        chart=[(names(a), share(*_above_line(now, spec, [a])) or 0.0) for a in now.areas()] if spec.chart else [],
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

    def cells(areas: list[str]) -> list[str]:
        counts = _graduation(now, spec, areas)
        rate = share(counts[1], counts[0])
        old = _graduation(before, spec, areas) if before is not None else None
        return [
            number(counts[0]),
            percent(rate),
            percent(share(counts[2], counts[0])),
            *(number(c) for c in counts[3:]),
            change(rate, share(old[1], old[0]) if old else None, points=True),
        ]

    rows, total = _per_area(now, names, cells)
    counts = _graduation(now, spec, now.areas())
    value = share(counts[1], counts[0])
    return Table(
        key=spec.key,
        title=spec.title,
        columns=[
            "Dinilai",
            "Mandiri/graduasi",
            "Gagal",
            *(f"Dirujuk {spec.labels.get(r, r)}" for r in spec.referrals),
            "Perubahan",
        ],
        rows=rows,
        total=total,
        headline=percent(value),
        headline_value=value,
        note=spec.note,
    )


QUALITY = ("records", "complete", "id_confirmed", "edited", "corrected")


@indicator("data_quality")
def data_quality(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """The period's records of the report's forms: complete, NIK/KK warnings confirmed by the petugas,
    edited after they were sent (revision > 1), and sent back for correction."""

    def counts(facts: Facts, areas: list[str]) -> dict[str, int]:
        return {name: sum(facts.quality[(a, name)] for a in areas) for name in QUALITY}

    def cells(areas: list[str]) -> list[str]:
        found = counts(now, areas)
        rate = share(found["complete"], found["records"])
        old = counts(before, areas) if before is not None else None
        return [
            number(found["records"]),
            percent(rate),
            percent(share(found["id_confirmed"], found["records"])),
            percent(share(found["edited"], found["records"])),
            number(found["corrected"]),
            change(rate, share(old["complete"], old["records"]) if old else None, points=True),
        ]

    rows, total = _per_area(now, names, cells)
    found = counts(now, now.areas())
    value = share(found["complete"], found["records"])
    return Table(
        key=spec.key,
        title=spec.title,
        columns=[
            "Data",
            "Lengkap",
            "Peringatan NIK/KK dikonfirmasi",
            "Diedit setelah dikirim",
            "Dikembalikan",
            "Perubahan",
        ],
        rows=rows,
        total=total,
        headline=percent(value),
        headline_value=value,
        note=spec.note,
    )


BUCKETS = (("≤ 7 hari", 0, 7), ("8-30 hari", 8, 30), ("> 30 hari", 31, 100_000))


@indicator("overdue")
def overdue(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    def cells(areas: list[str]) -> list[str]:
        wanted = set(areas)
        late = [days for _, area, days, _ in now.overdue if area in wanted]
        counts = [sum(1 for d in late if lo <= d <= hi) for _, lo, hi in BUCKETS]
        old = sum(1 for _, area, _, _ in before.overdue if area in wanted) if before is not None else None
        return [*(number(c) for c in counts), number(len(late)), change(len(late), old)]

    rows, total = _per_area(now, names, cells)
    return Table(
        key=spec.key,
        title=spec.title,
        columns=[*(b[0] for b in BUCKETS), "Jumlah", "Perubahan"],
        rows=rows,
        total=total,
        headline=number(len(now.overdue)),
        headline_value=len(now.overdue),
        note=spec.note,
    )


@indicator("age_sex")
def age_sex(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Active beneficiaries by sex and age band (anak < 18, 18-39, 40-59, 60+) at the period's end."""
    bands = [name for name, _, _ in AGE_BANDS]

    def cells(areas: list[str]) -> list[str]:
        return [
            number(sum(now.by_sex[(a, "L")] for a in areas)),
            number(sum(now.by_sex[(a, "P")] for a in areas)),
            *(number(sum(now.by_age[(a, band)] for a in areas)) for band in bands),
        ]

    rows, total = _per_area(now, names, cells)
    women = sum(v for (_, sex), v in now.by_sex.items() if sex == "P")
    value = share(women, sum(now.active.values()))
    return Table(
        key=spec.key,
        title=spec.title,
        columns=["Laki-laki", "Perempuan", *(f"Umur {b}" if b != "anak" else "Anak (< 18)" for b in bands)],
        rows=rows,
        total=total,
        headline=percent(value) + " perempuan",
        headline_value=value,
        note=spec.note,
    )


@indicator("flags")
def flags(spec: Spec, now: Facts, before: Facts | None, names: Names) -> Table:
    """Targeting accuracy: records carrying each flag in `values` (duplicate NIK, shared KK, NIK warnings)."""

    def cells(areas: list[str]) -> list[str]:
        flagged = sum(now.flagged[a] for a in areas)
        old = share(sum(before.flagged[a] for a in areas), sum(before.active[a] for a in areas)) if before else None
        rate = share(flagged, sum(now.active[a] for a in areas))
        counts = [number(sum(now.flags[(a, f)] for a in areas)) for f in spec.values]
        return [*counts, number(flagged), percent(rate), change(rate, old, points=True)]

    rows, total = _per_area(now, names, cells)
    value = share(sum(now.flagged.values()), sum(now.active.values()))
    return Table(
        key=spec.key,
        title=spec.title,
        columns=[*(spec.labels.get(f, f) for f in spec.values), "Bertanda", "Persentase", "Perubahan"],
        rows=rows,
        total=total,
        headline=percent(value),
        headline_value=value,
        note=spec.note,
    )


@indicator("enumerators")
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
            percent(share(work["accurate"], work["located"])),
            percent(share(work["photo"], work["visits"])),
            percent(share(work["far"], work["compared"])),
            number(work["corrected"]),
            _short_date(synced),
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
    return Table(
        key=spec.key,
        title=spec.title,
        columns=[
            "Data",
            "Kunjungan",
            "Penerima dikunjungi",
            f"GPS ≤ {number(now.accuracy_m)} m",
            "Berfoto",
            f"> {number(now.distance_km)} km dari rumah",
            "Dikembalikan",
            "Sinkron terakhir",
        ],
        row_heading="Petugas",
        rows=rows,
        total=total,
        headline=number(len(ranked)) + " petugas",
        headline_value=len(ranked),
        note=note,
    )


def _short_date(day: str) -> str:
    """'2026-03-05' -> '05-03-2026' (a narrow column); '' -> '–'."""
    try:
        return dt.date.fromisoformat(day[:10]).strftime("%d-%m-%Y")
    except ValueError:
        return SUPPRESSED


def tables(specs: Iterable[Spec], now: Facts, before: Facts | None, names: Names) -> list[Table]:
    return [INDICATORS[spec.kind](spec, now, before, names) for spec in specs]


def attention(facts: Facts, spec_values: dict[str, list[str]]) -> list[tuple[str, str]]:
    """People who need attention in the period, most urgent first, at most `limit`: (beneficiary id,
    reason). Overdue follow-ups (longest first), then latest visits whose figure is one of the listed
    answers (equipment sold, pawned or lost; business stopped). The caller shows the first few."""
    reasons: dict[str, list[str]] = defaultdict(list)
    for pid, _area, days, _actions in sorted(facts.overdue, key=lambda o: -o[2]):
        reasons[pid].append(f"tindak lanjut terlambat {days} hari")
    for pid, visit in sorted(facts.latest.items()):
        for figure, values in spec_values.items():
            if visit.figures.get(figure) in values:
                reasons[pid].append(f"{figure.replace('_', ' ')}: {str(visit.figures[figure]).replace('_', ' ')}")
    return [(pid, "; ".join(found)) for pid, found in reasons.items()]
