"""Evaluation reports over HTTP, for staff and coordinators (their own kecamatan only): the list of
reports and runs, an HTML preview of the indicators and charts for a period and scope (the same
HTML the PDF is made from), "buat PDF" (queued; a worker process renders it), a run's status page,
and the download of each edition (audited as report.download)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar, Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Stream, Template
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup

from server import clock
from server.domain import periods
from server.domain.access import Principal, may
from server.domain.registry import kecamatan_of
from server.errors import PantauError
from server.reports import dataset, definitions, document, worker
from server.storage import access, audit
from server.storage import reports as store
from server.web.auth import SignedIn, client_address
from server.web.deps import db_of, lang_of, settings_of, writer_of
from server.web.formdata import read_form, text
from server.web.http import Request
from server.web.report_context import ReportChoice, reports_context, run_context, scope_name

NEED = access.REPORT_NEED


def scopes_of(principal: Principal) -> list[str]:
    if principal.is_area_free:
        return [definitions.KABUPATEN, *(c for c in _kecamatan())]
    return sorted({kecamatan_of(a) for a in principal.areas if len(a.split(".")) >= 3})


def _kecamatan() -> list[str]:
    from server.domain.regions import region_choices

    return [c.name for c in region_choices(f"kecamatan {definitions.KABUPATEN}")]


def _wanted(
    principal: Principal, name: str, period_text: str, scope_text: str
) -> tuple[definitions.Definition, periods.Period, str]:
    """The report, period and scope asked for, checked, and within the viewer's areas."""
    access.require(principal, NEED)
    definition = definitions.load(name or definitions.names()[0])
    scopes = scopes_of(principal)
    period = definitions.period_for(
        definition, period_text or periods.last_closed(definition.period, clock.today()).code
    )
    scope = definitions.scope_for(definition, scope_text or (scopes[0] if scopes else definitions.KABUPATEN))
    if not may(principal, NEED, scope):
        raise PantauError("report.outside_area", scope=scope)
    definitions.require_started(period, clock.today())
    return definition, period, scope


@get("/laporan")
async def reports_page(request: Request, principal: SignedIn) -> Template:
    access.require(principal, NEED)
    choices = []
    for name in definitions.names():
        definition = definitions.load(name)
        choices.append(ReportChoice(name, definition.title, definition.period))
    db = db_of(request)
    runs = await access.report_runs_for(db, principal)
    latest = await store.latest_editions(db, [r.id for r in runs])
    period = periods.last_closed(choices[0].period_kind, clock.today()).code if choices else ""
    context = reports_context(principal, lang_of(request), choices, scopes_of(principal), period, runs, latest)
    return Template(template_name="reports.html", context={"page": context})


# The report document inlines its print stylesheet and its charts' SVG styles (the same HTML becomes
# the PDF): inline style is allowed here; script still is not.
@get("/laporan/pratinjau", opt={"csp": {"style-src": "'self' 'unsafe-inline'"}})
async def preview(request: Request, principal: SignedIn) -> Response[str]:
    """?laporan=NAME&periode=2026-Q1&wilayah=64.02.06&semua=1: the report as an HTML page."""
    q = request.query_params
    definition, period, scope = _wanted(principal, q.get("laporan", ""), q.get("periode", ""), q.get("wilayah", ""))
    include_all = q.get("semua") == "1"
    settings = settings_of(request)
    data = await asyncio.to_thread(
        dataset.build, settings.database_url, definition, period, scope, include_all, clock.today()
    )
    toolbar = _toolbar(request, definition, period, scope, include_all)
    html = document.html(data, preview=True, toolbar=toolbar)
    return Response(html, media_type="text/html", headers={"Cache-Control": "no-store"})


def _toolbar(request: Request, definition: definitions.Definition, period: periods.Period, scope: str,
             include_all: bool) -> Markup:
    env = request.app.template_engine.engine  # type: ignore[union-attr]
    csrf = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    toolbar = env.get_template("report_toolbar.html")  # autoescaped, like every page template
    html = toolbar.render(name=definition.name, title=definition.title, period=period.code,
                          period_title=period.title(), scope=scope, scope_name=scope_name(scope),
                          include_all=include_all, csrf=csrf)
    return Markup(html)  # noqa: S704 - rendered by the autoescaping environment above


@post("/laporan/buat")
async def make_report(request: Request, principal: SignedIn) -> Redirect:
    """Queue the PDF (or a new edition of it) and start the worker; the status page follows it."""
    form = await read_form(request)
    definition, period, scope = _wanted(
        principal,
        text(form, "laporan", max_len=64),
        text(form, "periode", max_len=20) or "-",
        text(form, "wilayah", max_len=20),
    )
    include_all = text(form, "semua", max_len=1) == "1"
    db, writer, settings = db_of(request), writer_of(request), settings_of(request)
    queued = await writer.run(
        lambda tx: store.queue(tx, definition.name, period.code, scope, include_all, principal.id, clock.now())
    )
    if queued is not None:
        worker.start(db, writer, settings, queued, principal.id)
    run_id = queued or await _run_id(request, definition.name, period.code, scope)
    return Redirect(f"/laporan/run/{run_id}", status_code=303)


async def _run_id(request: Request, name: str, period: str, scope: str) -> int:
    found = await store.run_id_of(db_of(request), name, period, scope)
    if found is None:
        raise PantauError("http.not_found")
    return found


@get("/laporan/run/{run_id:int}")
async def run_page(request: Request, principal: SignedIn, run_id: FromPath[int]) -> Template:
    run = await access.report_run_for(db_of(request), principal, run_id)
    editions = await store.editions_of(db_of(request), run.id)
    context = run_context(principal, lang_of(request), run, editions, _title_of(run.report))
    return Template(template_name="report_run.html", context={"page": context})


def _title_of(name: str) -> str:
    """The report's title as people know it; its code when its definition is no longer shipped."""
    return definitions.load(name).title if name in definitions.names() else name


@get("/laporan/edisi/{edition_id:int}/unduh")
async def download_edition(
    request: Request,
    principal: SignedIn,
    edition_id: FromPath[int],
) -> Stream:
    db = db_of(request)
    edition, run = await access.edition_for(db, principal, edition_id)
    body = store.pdf_chunks(db, settings_of(request).data_dir, edition.sha256)
    await audit.record(
        db,
        principal,
        "report.download",
        target_type="report_edition",
        target_id=str(edition.id),
        area_code=run.scope,
        detail=f"report={run.report} period={run.period} edition={edition.edition}",
        address=client_address(request),
    )
    filename = f"{run.report}-{run.period}-{run.scope}-edisi{edition.edition}.pdf"
    return Stream(
        body,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


router = Router(path="/", route_handlers=[reports_page, preview, make_report, run_page, download_edition])


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """The report loop for the app's life: scheduled reports after each period closes, queued runs
    (also those another process queued), and runs left `rendering` by a process that died."""
    loop = worker.lifespan(app.state.db, app.state.settings, lambda: app.state.writer)
    task = asyncio.get_running_loop().create_task(loop())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
