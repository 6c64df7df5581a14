"""A table's chart as inline pygal SVG that reads like the table: one bar per row in the same order
from the top, value labels written exactly as the table cell (the small-base "n (x%)" included)
just past the end of each bar, light solid gridlines behind opaque bars, and an axis in the table's
unit (0-100% for shares, whole numbers for counts). The SVG is printed at its own size (print.css
gives figure.chart svg no scaling), so a px here is 0.75 pt on paper and its text, 11 px, is 8.25 pt
at 100 % zoom on A4 (legible; the house minimum is 7 pt)."""

from __future__ import annotations

import math
import re
import sys
from typing import Any

import pygal
from markupsafe import Markup
from pygal.style import Style

from server.domain.indicators import Measure, Row, Table
from server.domain.report_format import number, percent, rupiah

# pygal appends a legacy sys.meta_path finder (for its map plugins, unused here) whose missing
# find_spec makes every later import of an uninstalled module warn (ImportWarning): take it out.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

WIDTH_PX = 600  # 158.75 mm: inside the text width of a portrait page and of the landscape figure
BAR_PX = 24  # height per bar
FONT_PX = {"label": 11, "value": 11, "axis": 11}  # 8.25 pt on paper
STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#555",
    colors=("#1f5f8b",),
    font_family="DejaVu Sans",
    label_font_size=FONT_PX["label"],
    major_label_font_size=FONT_PX["axis"],
    value_font_size=FONT_PX["value"],
    title_font_size=FONT_PX["label"],
    opacity="1",  # an opaque bar hides the gridlines behind it instead of showing them through
    opacity_hover="1",
    guide_stroke_color="#d0d0d0",
    major_guide_stroke_color="#d0d0d0",
    guide_stroke_dasharray="none",
    major_guide_stroke_dasharray="none",
)
_COMMENTS = re.compile(r"<!--.*?-->", re.S)
# pygal writes its tooltip config as an inline <script> even with js=[]: dead in a PDF, and in the
# report preview page the CSP (no inline script) would block it. The chart needs none of it.
_SCRIPTS = re.compile(r"<script\b.*?</script>", re.S)
_FORMAT = {"percent": percent, "rupiah": rupiah, "count": number}


class _Bars(pygal.HorizontalBar):  # type: ignore[misc]
    """pygal's horizontal bars with each value label outside the bar's end, left-aligned, where a
    long label ("3 (37,5%)") neither covers the bar nor runs into the next row."""

    def _tooltip_and_print_values(
        self, serie_node: Any, serie: Any, parent: Any, i: int, val: str, metadata: Any, x: float, y: float,
        width: float, height: float,
    ) -> None:
        # Drawn vertically then transposed: the bar's value end is at y (or y + height when negative).
        negative = serie.values[i] < self.zero
        end = y + height if negative else y
        gap = FONT_PX["value"] / 3
        self._static_value(
            serie_node, val, end - gap if negative else end + gap, x + width / 2, metadata,
            "end" if negative else "start",
        )


def ticks(low: float, high: float, unit: str) -> list[float]:
    """Round gridline positions over [low, high]: 0-100% by 20 for shares, 1-2-5 steps otherwise,
    whole numbers for counts (never a 0-1 axis of fractions for a count of people)."""
    if unit == "percent":
        return [n / 5 for n in range(6)]
    span = max(high - low, 1.0)
    raw = span / 5
    step = min((m * 10 ** math.floor(math.log10(raw)) for m in (1, 2, 5, 10)), key=lambda s: abs(span / s - 5))
    if unit == "count":
        step = max(1.0, round(step))
    first, last = math.floor(low / step), math.ceil(high / step)
    return [n * step for n in range(first, last + 1)]


def svg(table: Table, width: int = WIDTH_PX) -> Markup:
    """The bars of `table.measures` (its rows' main figure) as inline SVG; no script, no external
    reference. Rows without a value (nothing to divide) get no bar but keep their place."""
    bars = table.measures
    values = [m.value for m in bars]
    known = [v for v in values if v is not None]
    grid = ticks(min([0.0, *known]), max([0.0, *known]), table.unit)
    chart = _Bars(
        style=STYLE,
        js=[],
        disable_xml_declaration=True,
        show_legend=False,
        width=width,
        height=BAR_PX * len(bars) + 60,
        explicit_size=True,
        print_values=True,
        print_zeroes=True,
        value_formatter=_FORMAT[table.unit],
        range=(grid[0], grid[-1]),
        y_labels=grid,
        show_minor_y_labels=True,
        margin=6,
        margin_right=70,  # room for the longest value label past the longest bar
        spacing=6,
        truncate_label=-1,
    )
    # pygal draws its first category at the bottom: reversed, the first table row is the top bar.
    chart.x_labels = [m.label for m in reversed(bars)]
    chart.add(
        table.chart_title,
        [
            None if m.value is None else {"value": m.value, "formatter": (lambda _v, text=m.text: text)}
            for m in reversed(bars)
        ],
    )
    return Markup(_SCRIPTS.sub("", _COMMENTS.sub("", chart.render(is_unicode=True))))  # noqa: S704 - pygal's SVG, text escaped by etree


# --- the same charts on a web page, under the Content-Security-Policy --------------------------------
# The CSP allows no inline style: pygal's <style> element and its style="" attributes go, and the
# rules they held are served as static/css/charts.css (web_stylesheet(), kept equal by a test), with
# pygal's per-chart id selector made the class every web chart carries.
_STYLE = re.compile(r"<style\b[^>]*>(.*?)</style>", re.S)
_STYLE_ATTR = re.compile(r'\sstyle="[^"]*"')
_ID = re.compile(r'id="(chart-[0-9a-f-]{36})"')
WEB_CLASS = "pantau-chart"
# Drawn for a phone's width and never shown wider than 30rem (static/css/home.css): its 11 px text
# reads at 11-15 px from 360 px screens to laptops.
WEB_WIDTH_PX = 360


def web_svg(table: Table, number: int) -> Markup:
    """The report's chart of `table` for a page: no <style>, no style attribute, no script, the id
    chart-<number> (unique on the page) and the class the static stylesheet styles."""
    drawn = str(svg(table, WEB_WIDTH_PX))
    found = _ID.search(drawn)
    chart_id = found[1] if found else ""
    drawn = _STYLE_ATTR.sub("", _STYLE.sub("", drawn))
    drawn = drawn.replace(chart_id, f"chart-{number}")
    drawn = drawn.replace('class="pygal-chart"', f'class="pygal-chart {WEB_CLASS}"', 1)
    return Markup(drawn)  # noqa: S704 - pygal's SVG as above, its text escaped by etree


def trend_table(title: str, unit: str, points: list[Measure]) -> Table:
    """A trend (one indicator's main figure per period, oldest first) as the table its chart draws:
    the same bars, one per period, top to bottom, each labelled as the period's report writes it."""
    return Table(key="trend", title=title, columns=[], rows=[], total=Row("", []), headline="", unit=unit,
                 measures=points, chart=True, chart_title=title)


def web_stylesheet() -> str:
    """pygal's rules for the charts' style, as a stylesheet for every `.pantau-chart` on a page."""
    sample = Table(key="x", title="x", columns=[], rows=[], total=Row("x", []), headline="", unit="count",
                   measures=[Measure(label="x", value=1, base=1, text="1")])
    drawn = svg(sample)
    chart_id = _ID.search(drawn)[1]  # type: ignore[index]
    rules = "\n".join(found.strip() for found in _STYLE.findall(drawn))
    # pygal escapes ">" inside its <style> as XML text; a stylesheet wants the character.
    rules = rules.replace("&gt;", ">").replace(f"#{chart_id}", f".{WEB_CLASS}")
    return "/* Made by server/reports/charts.web_stylesheet() from pygal's style: do not edit by hand. */\n" \
        f"{rules}\n.{WEB_CLASS} .tooltip{{opacity:0}}\n.{WEB_CLASS}{{max-width:100%;height:auto}}\n"
