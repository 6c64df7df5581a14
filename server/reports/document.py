"""Dataset -> HTML: the definition's Jinja template (reports/templates, autoescaped: labels and answers
are user text) with pygal charts as inline SVG (reports/charts.py) and BAB V's sentences
(domain/report_text.py). The same HTML is the coordinator's preview and
WeasyPrint's input, so what they look at is what gets printed."""

from __future__ import annotations

import re
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from server.domain import report_format, report_text
from server.reports import charts as bar_charts
from server.reports import edition
from server.reports.dataset import Dataset
from server.reports.definitions import TEMPLATES

# pygal names each chart chart-<uuid4>: a new id on every render would make two editions of the same
# data differ in their bytes, so each is renamed by its order in the document.
_CHART_ID = re.compile(r"chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = report_format.number
    env.filters["long_date"] = report_format.long_date
    return env


def html(data: Dataset, *, preview: bool = False, toolbar: Markup | None = None) -> str:
    """The report's HTML. In a preview (a browser page) photos come from Pantau's photo route, and
    the toolbar (the web layer's "buat PDF" form) sits on top; in the PDF they come through the fetcher."""
    definition = data.definition
    # A table with nothing to count is named, not printed as zeros; the rest are numbered in order.
    shown = [t for t in data.tables if not t.empty]
    charts = {t.key: bar_charts.svg(t) for t in shown if t.chart}
    chart_numbers = {key: f"3.{n}" for n, key in enumerate(charts, 1)}
    stylesheet = (TEMPLATES / definition.stylesheet).read_text(encoding="utf-8")
    page = (
        environment()
        .get_template(definition.template)
        .render(
            d=definition,
            data=data,
            period=data.period,
            tables=shown,
            without_data=[t for t in data.tables if t.empty],
            conclusions=report_text.conclude(
                data.tables,
                definition.indicators,
                report_text.Context(
                    period=data.period.title(),
                    previous=data.period.previous().title(),
                    numbers={t.key: f"3.{n}" for n, t in enumerate(shown, 1)},
                ),
            ),
            charts=charts,
            chart_numbers=chart_numbers,
            by_key={t.key: t for t in data.tables},
            stylesheet=Markup(stylesheet),  # noqa: S704 - a packaged file
            preview=preview,
            toolbar=toolbar or "",
            # Signed on the day the edition is made (WITA), which may be long after the period ended.
            closing=report_format.long_date(data.made_on),
            made_at=edition.made_at(data).isoformat(),
            fingerprint=edition.fingerprint(data),
            provisional=edition.provisional(data),
            attachment_name=edition.attachment_name(data),
            asset_url=(lambda name: "") if preview else (lambda name: f"asset:{name}"),
            photo_url=(lambda sha: f"/api/v1/attachments/{sha}") if preview else (lambda sha: f"photo:{sha}"),
        )
    )
    return _stable_chart_ids(page)


def _stable_chart_ids(page: str) -> str:
    names: dict[str, str] = {}
    return _CHART_ID.sub(lambda m: names.setdefault(m[0], f"chart-{len(names) + 1}"), page)
