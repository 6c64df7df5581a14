"""The home pages in Debian's chromium, under the real Content-Security-Policy: the coordinators' and
staff's figures with the report's pygal charts (no inline style or script may be refused), at
1366x768 and at 360 px without horizontal scrolling, and the enumerator's home at 360 px; axe-core
finds no serious violation on either."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.browser.conftest import inject_axe, phone_context, signed_in_page
from tests.browser.server import Server, csrf_token
from tests.browser.test_fill_browser import AXE_RUN
from tests.domain.test_forms_shipped import SITI
from tests.web.test_api_submissions import JPEG

pytestmark = pytest.mark.browser
WIDE = """() => document.documentElement.scrollWidth - document.documentElement.clientWidth"""


def _register(server: Server, username: str, n: int, kecamatan: str, desa: str) -> None:
    client = server.client(username)
    try:
        _send(client, n, kecamatan, desa)
    finally:
        client.close()


def _send(client: Any, n: int, kecamatan: str, desa: str) -> None:
    headers = {"x-csrftoken": csrf_token(client)}
    picture = client.post("/api/v1/attachments", content=JPEG, headers={**headers, "content-type": "image/jpeg"})
    sha = picture.json()["sha256"]
    region = kecamatan.replace(".", "")
    answers = {**SITI, "ttd_persetujuan": sha, "foto_penerima": sha, "tgl_daftar": "2026-01-05",
               "nik": f"{region}4101900{n:03d}", "no_kk": f"{region}120315{n:04d}",
               "nama": f"Penerima {n}", "kecamatan": kecamatan, "desa": desa}
    sent = client.post("/api/v1/submissions", headers=headers, json={
        "instance_id": str(uuid.uuid4()), "form_id": "registrasi_penerima", "form_version": "2026041501",
        "answers": answers})
    assert sent.status_code == 201, sent.text


@pytest.fixture(scope="module")
def registered(server: Server) -> Server:
    for n in range(3):
        _register(server, "citra", n + 1, "64.02.06", "64.02.06.1001")
    for n in range(2):
        _register(server, "dewi", n + 11, "64.02.13", "64.02.13.1007")
    return server


def _checked(page: Any) -> None:
    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []
    assert page.evaluate(WIDE) <= 0, "the page scrolls sideways"
    assert page.errors == [], page.errors


def test_the_staff_home_shows_the_figures_and_charts_at_1366_and_at_360(registered: Server, browser: Any) -> None:
    for viewport in ({"width": 1366, "height": 768}, {"width": 360, "height": 740}):
        context = browser.new_context(viewport=viewport, locale="id-ID", timezone_id="Asia/Makassar")
        try:
            page = signed_in_page(context, registered, "/?semua=1", "ani")
            assert page.locator("#tile-penerima").is_visible()
            assert page.locator(".tile .figure").first.inner_text() == "5"
            chart = page.locator("svg.pantau-chart").first
            assert chart.is_visible()
            box = chart.bounding_box()
            assert box is not None and box["width"] <= viewport["width"]
            # The stylesheet reached the chart: pygal's white background and 11 px labels, not defaults.
            size = page.evaluate("() => getComputedStyle(document.querySelector('svg.pantau-chart .axis text'))"
                                 ".fontSize")
            assert size == "11px"
            # The trends: a chart per indicator, each inside the screen, its bars' labels the same size.
            trends = page.locator("figure.trend svg.pantau-chart")
            assert trends.count() == 5
            for n in range(trends.count()):
                drawn = trends.nth(n).bounding_box()
                assert drawn is not None and 0 < drawn["width"] <= viewport["width"] - 16
            size = page.evaluate("() => getComputedStyle(document.querySelector('figure.trend svg .axis text'))"
                                 ".fontSize")
            assert size == "11px"
            _checked(page)
        finally:
            context.close()


def test_the_enumerators_home_fits_a_phone(registered: Server, browser: Any) -> None:
    context = phone_context(browser)
    try:
        page = signed_in_page(context, registered, "/", "citra")
        assert page.locator("#jadwal").is_visible() and page.locator("#angka").is_visible()
        _checked(page)
    finally:
        context.close()
