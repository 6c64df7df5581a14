"""The coordinators' and staff's home page (/): the report's own tables for the viewer's area and a
period (the current one unless another is asked for), a tile per table the definition's `home`
lists, each figure linking to the records behind it; the review queue and each petugas' activity.
Below them, the trend of the main indicators over the last 8 periods (each point that period's
report figure). The tables and trends are reports/dataset.home_of (one pass over the data), cached
per (report, period, scope, basis) and data stamp (storage/dashboard.stamp) in web/dashboard_cache:
the home page is the report's numbers as of a stated moment, and a write costs a background scan,
not the next viewer's wait."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import urlencode

import msgspec

from server import clock
from server.domain import basis, periods
from server.domain.access import Principal, has
from server.domain.indicators import Table, distance_km, geopoint
from server.domain.registry import area_name
from server.domain.report_format import decimal, long_date, number
from server.domain.review import STATUSES
from server.reports import charts, dataset
from server.reports.definitions import Definition
from server.storage import dashboard as store
from server.storage import review as review_store
from server.storage.db import Database
from server.web import dashboard_cache, visit_map
from server.web.contexts import HomeContext
from server.web.viewer import Viewer

TREND_PERIODS = 8
MAP_LIMIT = 3000  # points on one map: more would make a page too heavy for the office's network
CACHE: dashboard_cache.Figures[Figures] = dashboard_cache.Figures()
SCANS_KEPT = 8
_SCANS: OrderedDict[tuple[str, str, str, str, bool], tuple[str, list[Table], list[dataset.Trend]]] = OrderedDict()


class Figure(msgspec.Struct, frozen=True):
    label: str
    text: str
    href: str = ""


class Tile(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    title: str
    headline: str  # the table's main figure, exactly as the report writes it
    href: str
    details: list[Figure]  # the total row's cells under the table's own column headings
    caution: str = ""
    note: str = ""
    chart: str = ""  # the report's chart of the table (Markup: pygal's SVG made safe for the CSP)
    chart_title: str = ""
    bars: list[Figure] = []  # the chart as a text table, for screen readers


class TrendChart(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    title: str
    chart: str  # Markup: the report's bar chart style, one bar per period, oldest on top
    points: list[Figure]  # the chart as a text table: each period, its figure and its home page


class PetugasRow(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    records: str  # in the period, as the report's per-petugas table counts them
    last_sync: str
    this_week: str
    href: str


class Choice(msgspec.Struct, frozen=True):
    code: str
    title: str
    chosen: bool


class DashboardContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer | None
    report: str
    period: str
    period_title: str
    provisional: bool
    scope: str
    scope_name: str
    include_all: bool
    basis: str
    periods: list[Choice]
    scopes: list[Choice]
    tiles: list[Tile]
    trends: list[TrendChart] = []
    trend_title: str = ""
    queue: list[Figure]
    petugas: list[PetugasRow]
    map_svg: str = ""
    map_legend: list[Figure] = []  # each status with its count: the map as text
    map_note: str = ""
    home: HomeContext  # the forms one may fill, and the phone's offline runtime for those who fill
    as_of: str = ""  # the data time of every figure above, and whether newer data is being counted
    current: bool = True


class Wanted(msgspec.Struct, frozen=True):
    """What the viewer asked for, checked (controllers/home.py)."""

    definition: Definition
    period: periods.Period
    scope: str
    include_all: bool


class Figures(msgspec.Struct, frozen=True):
    """Everything the home page counts, made together and cached together under one data stamp."""

    tiles: list[Tile]  # drawn once: pygal takes a good part of a second per chart on a busy machine
    petugas: Table | None
    queue: store.Queue
    activity: list[store.Activity]
    map_svg: str = ""  # Markup from web/visit_map.py
    map_counts: dict[str, int] = {}
    map_points: int = 0
    trends: list[TrendChart] = []


async def figures(db: Database, url: str, principal: Principal, wanted: Wanted, today: dt.date,
                  data_time: dt.datetime | None = None) -> dashboard_cache.Shown[Figures]:
    """The report's home tables for this period, scope and basis, the review queue and the petugas'
    activity, as of a stated moment: made once per data stamp (and day, for "this week"); after a
    write the last ones are shown, stamped, while a background job makes them again. data_time: what
    the hot standby `db` had replayed (storage/replica.ReadSource), None when `db` is the primary."""
    version = f"{await store.stamp(db)}|{today.isoformat()}"
    return await CACHE.get(_key(url, principal, wanted), version,
                           lambda: _make(db, url, principal, wanted, today, data_time))


async def prime(db: Database, url: str, principal: Principal, wanted: Wanted, today: dt.date,
                data_time: dt.datetime | None = None) -> None:
    """Make what `figures` would show in a background job, before anyone asks (the server's start)."""
    await CACHE.prime(_key(url, principal, wanted), lambda: _make(db, url, principal, wanted, today, data_time))


def _key(url: str, principal: Principal, wanted: Wanted) -> dashboard_cache.Key:
    # The queue and the petugas' activity are the viewer's (role and areas); the rest is the report's.
    return (url, wanted.definition.name, wanted.period.code, wanted.scope, str(wanted.include_all),
            principal.role, *principal.areas)


async def _make(db: Database, url: str, principal: Principal, wanted: Wanted, today: dt.date,
                data_time: dt.datetime | None) -> dashboard_cache.Made[Figures]:
    # The moment is read before the stamp and the scan: every write before it is counted. On the hot
    # standby that is the time of the last transaction it had replayed (what the reports print as
    # their data time), not the clock: the newest minutes of the primary may not be there yet.
    as_of = clock.now() if data_time is None else data_time
    version = f"{await store.stamp(db)}|{today.isoformat()}"
    tables, trends = await _scanned(url, wanted, version)
    definition = wanted.definition
    location = definition.records.answers.get("intake", {}).get(definition.records.location, "")
    points = await store.map_points(db, definition.programme, wanted.scope, location, MAP_LIMIT) if location else []
    drawn, counts = visit_map.draw(points, wanted.period, today, has(principal, "view_data"))
    made = Figures(
        *home_tiles(tables, wanted),
        await store.queue(db, principal, wanted.scope),
        await store.activity(db, principal, wanted.scope, week_start(today)),
        map_svg=drawn, map_counts=dict(counts), map_points=len(points),
        trends=trend_charts(trends, wanted),
    )
    return dashboard_cache.Made(made, version, as_of)


def reset(min_interval: float) -> None:
    """A new app (its own database, its own loop): nothing made before is kept."""
    CACHE.reset(min_interval)
    _SCANS.clear()


async def _scanned(url: str, wanted: Wanted, version: str) -> tuple[list[Table], list[dataset.Trend]]:
    """The report's pass for this page, shared by the viewers whose keys differ only in role or areas
    (admin and staff both see the kabupaten): made again only when the data stamp moved."""
    key = (url, wanted.definition.name, wanted.period.code, wanted.scope, wanted.include_all)
    found = _SCANS.get(key)
    if found is not None and found[0] == version:
        return found[1], found[2]
    tables, trends = await asyncio.to_thread(dataset.home_of, url, wanted.definition, wanted.period, wanted.scope,
                                             wanted.include_all, TREND_PERIODS)
    _SCANS[key] = (version, tables, trends)
    _SCANS.move_to_end(key)
    while len(_SCANS) > SCANS_KEPT:
        _SCANS.popitem(last=False)
    return tables, trends


def as_of_text(shown: dashboard_cache.Shown[Figures], lang: str) -> str:
    """The figures' data time in words, and whether newer data is being counted."""
    local = shown.as_of.astimezone(clock.WITA)
    when = f"{long_date(local.date())} {local:%H.%M} WITA"
    if lang == "en":
        return f"Figures as of {when}." + ("" if shown.current else
                                            " Newer data came in and is being counted: reload in a moment.")
    return f"Angka per {when}." + ("" if shown.current else
                                    " Ada data baru yang sedang dihitung: muat ulang sebentar lagi.")


def week_start(today: dt.date) -> dt.date:
    return today - dt.timedelta(days=today.weekday())


def period_choices(definition: Definition, chosen: periods.Period, today: dt.date) -> list[Choice]:
    """The current period and the seven before it, newest first; the chosen one is there too."""
    found, period = [], periods.containing(definition.period, today)
    for _ in range(TREND_PERIODS):
        found.append(period)
        period = period.previous()
    if chosen not in found:
        found.append(chosen)
    return [Choice(p.code, p.title(), p == chosen) for p in found]


class Links:
    """The filtered list behind each figure: the records the table counts (form, area, period and
    the basis' statuses) in /data, the registry's schedule for visits and follow-ups."""

    def __init__(self, wanted: Wanted) -> None:
        self.wanted = wanted

    def data(self, form: str = "", **more: str) -> str:
        w = self.wanted
        params: list[tuple[str, str]] = [("form", form)] if form else []
        params += [("area", w.scope), ("since", w.period.start.isoformat()), ("until", w.period.end.isoformat())]
        params += [("status", s) for s in basis.statuses(w.include_all)]
        params += list(more.items())
        return "/data?" + urlencode(params)

    def of(self, kind: str) -> str:
        forms = self.wanted.definition.forms
        if kind in ("visit_coverage", "overdue"):
            return "/penerima/jadwal"
        if kind == "growth":
            return self.data(forms.growth)
        if kind == "enrolment":
            return self.data(forms.intake)
        return self.data(forms.visit)


def tile(table: Table, kind: str, links: Links, number: int = 0) -> Tile:
    drawn = table.chart and len(table.measures) > 1
    return Tile(
        chart=charts.web_svg(table, number) if drawn else "",
        chart_title=table.chart_title if drawn else "",
        bars=[Figure(m.label, m.text) for m in table.measures] if drawn else [],
        key=table.key,
        title=table.title,
        headline=table.headline,
        href=links.of(kind),
        details=[Figure(label, text) for label, text in zip(table.columns, table.total.cells, strict=False)],
        caution=table.caution,
        note=table.note,
    )


def trend_charts(found: list[dataset.Trend], wanted: Wanted) -> list[TrendChart]:
    """Each trend as the report's bar chart (a bar per period) and its text table, each period
    linking to the home page of that period for the same area and basis."""
    charts_made = []
    for n, trend in enumerate(found, 1):
        title = f"{trend.title[:1].upper()}{trend.title[1:]}"
        drawn = charts.web_svg(charts.trend_table(title, trend.unit, trend.points), 100 + n)
        links = ["/?" + urlencode([("periode", code), ("wilayah", wanted.scope),
                                   *([("semua", "1")] if wanted.include_all else [])]) for code in trend.periods]
        charts_made.append(TrendChart(key=trend.key, title=title, chart=drawn,
                                      points=[Figure(p.label, p.text, href) for p, href in zip(trend.points, links,
                                                                                                 strict=True)]))
    return charts_made


def trend_title(definition: Definition, lang: str) -> str:
    unit = {"monthly": ("bulan", "months"), "quarterly": ("triwulan", "quarters"),
            "semester": ("semester", "semesters"), "yearly": ("tahun", "years")}[definition.period]
    return f"Trends over the last {TREND_PERIODS} {unit[1]}" if lang == "en" else \
        f"Tren {TREND_PERIODS} {unit[0]} terakhir"


def petugas_rows(table: Table | None, activity: list[store.Activity], links: Links) -> list[PetugasRow]:
    """The report's per-petugas rows (records in the period) beside each one's last sync and records
    received this week; a petugas with records only outside the period still shows their sync."""
    in_report = {row.label: row.cells[0] for row in table.rows} if table is not None else {}
    return [
        PetugasRow(
            name=a.name or a.username,
            records=in_report.get(a.name, "0"),
            last_sync=_when(a.last_sync),
            this_week=number(a.this_week),
            href=links.data(enumerator=a.username),
        )
        for a in activity
    ]


def queue_figures(found: store.Queue, wanted: Wanted, lang: str) -> list[Figure]:
    en = lang == "en"
    waiting = "/data?" + urlencode([("area", wanted.scope), ("status", "received")])
    back = "/data?" + urlencode([("area", wanted.scope), ("status", "needs_correction")])
    received, sent_back = STATUSES["received"], STATUSES["needs_correction"]
    return [
        Figure(received[1] if en else received[0], number(found.received), waiting),
        Figure(sent_back[1] if en else sent_back[0], number(found.sent_back), back),
        Figure("Waiting longest since" if en else "Menunggu paling lama sejak", _when(found.oldest), waiting),
    ]


def _when(moment: dt.datetime | None) -> str:
    if moment is None:
        return "–"
    local = moment.astimezone(clock.WITA)
    return f"{long_date(local.date())} {local:%H.%M}"


def kinds_of(definition: Definition) -> dict[str, str]:
    return {spec.key: spec.kind for spec in definition.indicators}


def home_tiles(found: list[Table], wanted: Wanted) -> tuple[list[Tile], Table | None]:
    kinds, links = kinds_of(wanted.definition), Links(wanted)
    petugas = next((t for t in found if kinds[t.key] == "enumerators"), None)
    return [tile(t, kinds[t.key], links, n) for n, t in enumerate(found, 1) if t is not petugas], petugas


def scope_choices(scopes: list[str], chosen: str, name_of: Callable[[str], str]) -> list[Choice]:
    return [Choice(s, name_of(s), s == chosen) for s in scopes]


# --- the enumerator's home -----------------------------------------------------------------------------
class CorrectionRow(msgspec.Struct, frozen=True, kw_only=True):
    title: str
    comment: str
    when: str
    href: str


class DueRow(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    area: str
    due: str
    overdue: bool
    distance: str  # "2,4 km" from the petugas' last GPS point, "" when either point is unknown
    href: str


class FieldHome(msgspec.Struct, frozen=True, kw_only=True):
    """What the enumerator's home adds to the forms: records sent back (first), who is due this week
    nearest first, and their own counts for the period."""

    corrections: list[CorrectionRow]
    due: list[DueRow]
    due_until: str
    counts: list[Figure]
    period_title: str
    located: bool  # a last GPS point was known, so the list is sorted by distance


def week_end(today: dt.date) -> dt.date:
    return week_start(today) + dt.timedelta(days=6)


def correction_rows(found: list[review_store.Correction], titles: dict[str, str]) -> list[CorrectionRow]:
    return [CorrectionRow(title=titles.get(c.form_id, c.form_id), comment=c.comment, when=_when(c.sent_back_at),
                          href=f"/perbaiki/{c.instance_id}") for c in found]


def due_rows(found: list[store.Due], origin: str, today: dt.date) -> list[DueRow]:
    """Nearest first from the petugas' last GPS point (unknown distances last), then by due day."""
    start = geopoint(origin)

    def km(due: store.Due) -> float | None:
        home = geopoint(due.home)
        return distance_km(start[:2], home[:2]) if start and home else None

    measured = [(km(d), d) for d in found]
    measured.sort(key=lambda pair: (pair[0] is None, pair[0] or 0.0, pair[1].next_due_on, pair[1].name))
    return [
        DueRow(name=d.name, area=area_name(d.area_code), due=long_date(dt.date.fromisoformat(d.next_due_on)),
               overdue=d.next_due_on < today.isoformat(),
               distance="" if k is None else f"{decimal(k)} km", href=f"/penerima/{d.id}")
        for k, d in measured
    ]


def own_figures(counts: dict[str, int], lang: str) -> list[Figure]:
    en = lang == "en"
    total = Figure("Sent" if en else "Terkirim", number(sum(counts.values())))
    return [total, *(Figure(labels[1] if en else labels[0], number(counts.get(code, 0)))
                     for code, labels in STATUSES.items())]


def map_legend(found: Figures, lang: str) -> list[Figure]:
    return [Figure(labels[1] if lang == "en" else labels[0], number(found.map_counts.get(code, 0)), code)
            for code, labels in visit_map.STATUSES.items()]


def map_note(found: Figures, lang: str) -> str:
    en = lang == "en"
    shown = sum(found.map_counts.values())
    note = (f"{number(shown)} beneficiaries with a GPS point at registration." if en
            else f"{number(shown)} penerima dengan titik GPS saat pendaftaran.")
    if found.map_points >= MAP_LIMIT:
        limit = number(MAP_LIMIT)
        note += f" Only the first {limit} are drawn." if en else f" Hanya {limit} yang pertama digambar."
    return note + (" No kecamatan boundaries: no package gives them for Kutai Kartanegara." if en else
                   " Batas kecamatan tidak digambar: belum ada paket yang menyediakannya untuk Kutai Kartanegara.")
