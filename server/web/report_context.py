"""Typed contexts of the report pages (STYLE.md 8): the list of reports with a form to preview or
make one, and one run's status with its editions. Built from storage Structs, testable without HTTP."""

from __future__ import annotations

import msgspec

from server.clock import WITA
from server.domain import periods
from server.domain import registry as regions
from server.domain.access import Principal
from server.storage import reports as store
from server.web.viewer import Viewer, viewer_of


class ReportChoice(msgspec.Struct, frozen=True):
    name: str
    title: str
    period_kind: str


class RunRow(msgspec.Struct, frozen=True):
    id: int
    report: str  # the code, for links and forms; people read `title`
    period: str  # the code (2026-Q1); people read `period_title` (Triwulan I Tahun 2026)
    scope: str
    scope_name: str
    status: str
    status_label: str
    include_all: bool
    scheduled: bool
    message: str
    fingerprint: str = ""  # of the newest edition, "" before the first
    provisional: bool = False  # the newest edition was made before the period ended
    title: str = ""
    period_title: str = ""


class EditionRow(msgspec.Struct, frozen=True):
    id: int
    edition: int
    sha256: str
    size_kb: int
    pages: int
    include_all: bool
    created_at: str
    fingerprint: str
    provisional: bool


class ReportsContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    reports: list[ReportChoice]
    scopes: list[tuple[str, str]]  # (code, name) the viewer may choose
    period: str
    runs: list[RunRow]


class RunContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    run: RunRow
    editions: list[EditionRow]
    working: bool  # queued or rendering: the page refreshes itself


def period_title(code: str) -> str:
    try:
        return periods.parse(code).title()
    except periods.BadPeriod:  # a stored run always names a parsed period; never a blank heading
        return code


def run_row(run: store.Run, lang: str, latest: store.Edition | None = None,
            titles: dict[str, str] | None = None) -> RunRow:
    labels = store.STATUSES.get(run.status, (run.status, run.status))
    return RunRow(
        title=(titles or {}).get(run.report, run.report),
        period_title=period_title(run.period),
        id=run.id,
        report=run.report,
        period=run.period,
        scope=run.scope,
        scope_name=scope_name(run.scope),
        status=run.status,
        status_label=labels[1] if lang == "en" else labels[0],
        include_all=run.include_all,
        scheduled=run.scheduled,
        message=run.message,
        fingerprint=latest.fingerprint if latest else "",
        provisional=latest.provisional if latest else False,
    )


def scope_name(scope: str) -> str:
    return "Kutai Kartanegara" if scope == regions.KUKAR else regions.area_name(scope)


def reports_context(
    principal: Principal,
    lang: str,
    reports: list[ReportChoice],
    scopes: list[str],
    period: str,
    runs: list[store.Run],
    latest: dict[int, store.Edition] | None = None,
) -> ReportsContext:
    return ReportsContext(
        lang=lang,
        viewer=viewer_of(principal),
        reports=reports,
        scopes=[(s, scope_name(s)) for s in scopes],
        period=period,
        runs=[run_row(r, lang, (latest or {}).get(r.id), {c.name: c.title for c in reports}) for r in runs],
    )


def run_context(principal: Principal, lang: str, run: store.Run, editions: list[store.Edition],
                title: str = "") -> RunContext:
    rows = [
        EditionRow(
            id=e.id,
            edition=e.edition,
            sha256=e.sha256,
            size_kb=max(1, e.size // 1024),
            pages=e.pages,
            include_all=e.include_all,
            created_at=e.created_at.astimezone(WITA).strftime("%Y-%m-%d %H:%M WITA") if e.created_at else "",
            fingerprint=e.fingerprint,
            provisional=e.provisional,
        )
        for e in editions
    ]
    return RunContext(
        lang=lang,
        viewer=viewer_of(principal),
        run=run_row(run, lang, titles={run.report: title or run.report}),
        editions=rows,
        working=run.status in (store.QUEUED, store.RENDERING),
    )
