"""What a period's rows leave behind: Facts gathers them as they stream past (people, visits, growth
checks, records, open follow-ups), keeping only what the figures need (the latest visit per person,
counters per area), never the rows themselves. Every indicator kind is a function of Facts."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

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
