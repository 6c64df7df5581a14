"""Dataset -> HTML: the definition's Jinja template (reports/templates, autoescaped: labels and answers
are user text) with pygal charts as inline SVG. The same HTML is the coordinator's preview and
WeasyPrint's input, so what they look at is what gets printed."""

from __future__ import annotations

import re
import sys
from functools import lru_cache

import pygal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from pygal.style import Style

from server.domain import indicators
from server.reports.dataset import Dataset
from server.reports.definitions import TEMPLATES

# pygal appends a legacy sys.meta_path finder (for its map plugins, unused here) whose missing
# find_spec makes every later import of an uninstalled module warn (ImportWarning): take it out.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

CHART_STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#999",
    colors=("#1f5f8b",),
    font_family="DejaVu Sans",
    label_font_size=11,
    major_label_font_size=11,
    value_font_size=10,
    title_font_size=13,
)
_COMMENTS = re.compile(r"<!--.*?-->", re.S)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["number"] = indicators.number
    env.filters["long_date"] = indicators.long_date
    return env


def chart(table: indicators.Table) -> Markup:
    """A horizontal bar per area as inline SVG; no script, no external reference."""
    bar = pygal.HorizontalBar(
        style=CHART_STYLE,
        js=[],
        disable_xml_declaration=True,
        show_legend=False,
        width=760,
        height=max(220, 26 * len(table.chart) + 80),
        print_values=True,
        value_formatter=indicators.percent if table.chart_percent else indicators.number,
        explicit_size=True,
        margin=8,
    )
    bar.x_labels = [label for label, _ in table.chart]
    bar.add(table.title, [value for _, value in table.chart])
    svg = bar.render(is_unicode=True)
    return Markup(_COMMENTS.sub("", svg))  # noqa: S704 - pygal's own SVG; its text is escaped by etree


def html(data: Dataset, *, preview: bool = False, toolbar: Markup | None = None) -> str:
    """The report's HTML. In a preview (a browser page) photos come from Pantau's photo route, and
    the toolbar (the web layer's "buat PDF" form) sits on top; in the PDF they come through the fetcher."""
    definition = data.definition
    charts = {t.key: chart(t) for t in data.tables if t.chart}
    chart_numbers = {key: f"3.{n}" for n, key in enumerate(charts, 1)}
    stylesheet = (TEMPLATES / definition.stylesheet).read_text(encoding="utf-8")
    return (
        environment()
        .get_template(definition.template)
        .render(
            d=definition,
            data=data,
            period=data.period,
            tables=data.tables,
            charts=charts,
            chart_numbers=chart_numbers,
            by_key={t.key: t for t in data.tables},
            stylesheet=Markup(stylesheet),  # noqa: S704 - a packaged file
            preview=preview,
            toolbar=toolbar or "",
            closing=indicators.long_date(data.period.end),
            asset_url=(lambda name: "") if preview else (lambda name: f"asset:{name}"),
            photo_url=(lambda sha: f"/api/v1/attachments/{sha}") if preview else (lambda sha: f"photo:{sha}"),
        )
    )
