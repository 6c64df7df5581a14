"""The front page after sign-in. Coordinators and staff see the programme at a glance (the report's
own figures for their area and a period, the review queue, the petugas' activity: dashboard_context);
everyone sees the forms they may fill."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Router, get
from litestar.response import Template

from server import clock
from server.domain import basis, periods
from server.domain.access import Principal, has, may
from server.domain.report_format import long_date
from server.errors import PantauError
from server.reports import definitions
from server.settings import Settings
from server.storage import access, dashboard, faults, forms, review, users
from server.storage.db import Database
from server.web import dashboard_context as board
from server.web.auth import SignedIn
from server.web.contexts import HomeContext, home_context
from server.web.controllers.reports import scopes_of
from server.web.deps import db_of, lang_of
from server.web.http import Request
from server.web.report_context import scope_name

NEED = "download_reports"  # who may read a report may see its figures on the home page
PARAMS = frozenset({"periode", "wilayah", "semua", "lang"})
WARM_KEYS = 30  # viewers' home pages made at start: the kabupaten's and the kecamatan' coordinators'
log = logging.getLogger("pantau.dashboard")
_LOADED: dict[str, object] = {}  # the definitions' files as last read, and the home's definition


@get("/")
async def index(request: Request, principal: SignedIn) -> Template:
    db = db_of(request)
    # only the forms assigned to this person
    shown = [f for f in await forms.list_forms(db) if await access.open_to(db, principal, f.form_id)]
    home = home_context(shown, lang_of(request), principal)
    definition = _home_report()
    if definition is not None and principal.role == "enumerator":
        field = await _field_home(request, principal, definition, {f.form_id: f.title for f in home.forms})
        return Template(template_name="home.html", context={"page": home, "field": field})
    if definition is None or not has(principal, NEED):
        return Template(template_name="home.html", context={"page": home})
    wanted = _wanted(principal, definition, request)
    context = await _dashboard(request, principal, wanted, home)
    return Template(template_name="dashboard.html", context={"page": context})


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Figures belong to this app's database; they are made in the background from the start, so the
    first view after a restart does not wait for a scan; a scan still running at shutdown is waited
    for briefly."""
    settings: Settings = app.state.settings
    board.reset(settings.dashboard_rescan_s)
    app.state.warmed_up = threading.Event()  # set when the warm-up is over (tests wait for it)
    warming = asyncio.get_running_loop().create_task(_warm_up(app.state.db, app.state.warmed_up))
    try:
        yield
    finally:
        warming.cancel()
        await board.CACHE.settle()


async def _warm_up(db: Database, done: threading.Event) -> None:
    """The default home page (current period, own first area or the kabupaten, approved data) of each
    kind of viewer the accounts hold (role and areas), the kabupaten's first, one after another; then
    the same pages for the previous period, the one the period switch offers first."""
    try:
        definition = _home_report()
        if definition is None:
            return
        today = clock.today()
        period = periods.containing(definition.period, today)
        viewers: dict[tuple[str, tuple[str, ...]], Principal] = {}
        for account in await users.list_all(db):
            found = Principal(account.id, account.username, account.display_name, account.role, account.areas)
            if account.active and account.role != "enumerator" and has(found, NEED):
                viewers.setdefault((found.role, found.areas), found)
        chosen = sorted(viewers.values(), key=lambda p: (not p.is_area_free, p.areas))[:WARM_KEYS]
        for wanted_period in (period, period.previous()):
            for principal in chosen:
                scopes = scopes_of(principal)
                scope = definitions.scope_for(definition, scopes[0] if scopes else definitions.KABUPATEN)
                source = await db.heavy_reads()
                await board.prime(source.db, source.db.url, principal,
                                  board.Wanted(definition, wanted_period, scope, False), today, source.data_time)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # the pages still work: the first view makes its figures as before
        down = faults.unavailable(exc)
        if down is None:
            log.exception("the home page's figures could not be made at start")
        else:
            log.warning("the home page's figures could not be made at start: database unavailable (%s)", down[0])
    finally:
        done.set()


def _home_report() -> definitions.Definition | None:
    """The first report definition that names home figures, read again only when a file changed."""
    files = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(definitions.ROOT.glob("*.yaml")))
    if _LOADED.get("files") != files:
        found = [definitions.load(name) for name in definitions.names()]
        _LOADED.update(files=files, home=next((d for d in found if d.home), None))
    home = _LOADED["home"]
    return home if isinstance(home, definitions.Definition) else None


def _wanted(principal: Principal, definition: definitions.Definition, request: Request) -> board.Wanted:
    """?periode=2026-Q1&wilayah=64.02.06&semua=1, checked as the report checks them: an unknown
    parameter or period is a 400, an area outside one's own a 403."""
    q = request.query_params
    unknown = sorted(set(q) - PARAMS)
    if unknown:
        raise PantauError("review.bad_filter", detail=unknown[0][:40])
    today = clock.today()
    text = (q.get("periode") or "").strip()
    period = definitions.period_for(definition, text) if text else periods.containing(definition.period, today)
    definitions.require_started(period, today)
    scopes = scopes_of(principal)
    scope = definitions.scope_for(definition, q.get("wilayah") or (scopes[0] if scopes else definitions.KABUPATEN))
    if not may(principal, NEED, scope):
        raise PantauError("report.outside_area", scope=scope)
    return board.Wanted(definition, period, scope, q.get("semua") == "1")


async def _dashboard(request: Request, principal: Principal, wanted: board.Wanted,
                     home: HomeContext) -> board.DashboardContext:
    db, lang, today = db_of(request), lang_of(request), clock.today()
    # The figures, their cache stamp included, come from one place: the hot standby while it keeps up.
    source = await db.heavy_reads()
    shown = await board.figures(source.db, source.db.url, principal, wanted, today, source.data_time)
    found = shown.value
    return board.DashboardContext(
        lang=lang,
        viewer=home.viewer,
        report=wanted.definition.name,
        period=wanted.period.code,
        period_title=wanted.period.title(),
        provisional=not wanted.period.closed_by(today),
        scope=wanted.scope,
        scope_name=scope_name(wanted.scope),
        include_all=wanted.include_all,
        basis=basis.label(wanted.include_all, lang),
        periods=board.period_choices(wanted.definition, wanted.period, today),
        scopes=board.scope_choices(scopes_of(principal), wanted.scope, scope_name),
        tiles=found.tiles,
        trends=found.trends,
        trend_title=board.trend_title(wanted.definition, lang),
        map_svg=found.map_svg,
        map_legend=board.map_legend(found, lang),
        map_note=board.map_note(found, lang),
        queue=board.queue_figures(found.queue, wanted, lang),
        petugas=board.petugas_rows(found.petugas, found.activity, board.Links(wanted)),
        home=home,
        as_of=board.as_of_text(shown, lang),
        current=shown.current,
    )


async def _field_home(request: Request, principal: Principal, definition: definitions.Definition,
                      titles: dict[str, str]) -> board.FieldHome:
    db, lang, today = db_of(request), lang_of(request), clock.today()
    location = definition.records.location
    intake_location = definition.records.answers.get("intake", {}).get(location, location)
    period = periods.containing(definition.period, today)
    until = board.week_end(today)
    due = await dashboard.due_this_week(db, principal, until, intake_location)
    visit_location = definition.records.answers.get("visit", {}).get(location, location)
    origin = await dashboard.last_point(db, principal, visit_location)
    return board.FieldHome(
        corrections=board.correction_rows(await review.corrections_for(db, principal), titles),
        due=board.due_rows(due, origin, today),
        due_until=long_date(until),
        counts=board.own_figures(await dashboard.own_counts(db, principal, period.start, period.end), lang),
        period_title=period.title(),
        located=bool(origin),
    )


router = Router(path="/", route_handlers=[index])
