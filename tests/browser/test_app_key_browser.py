"""The account page's app key for ODK Collect in Debian's chromium at 360x740, under the real
Content-Security-Policy and a real `pantau serve` (uvicorn): the QR code is an inline SVG that fits
the phone's width, axe finds nothing serious, the key's URL is an OpenRosa root whose answers carry
X-OpenRosa-Version and exactly one Date header, and "Cabut" ends it with a 401."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.browser.conftest import inject_axe, phone_context, signed_in_page
from tests.browser.server import Server
from tests.browser.test_fill_browser import AXE_RUN

pytestmark = pytest.mark.browser
WIDE = """() => document.documentElement.scrollWidth - document.documentElement.clientWidth"""
OR = {"X-OpenRosa-Version": "1.0"}


def test_a_key_made_on_the_phone_shows_its_qr_code_and_is_revoked_there(server: Server, browser: Any) -> None:
    context = phone_context(browser)
    try:
        page = signed_in_page(context, server, "/akun", "citra")
        page.fill("#key-name", "HP Citra")
        page.click("text=Buat kunci aplikasi dan kode QR")
        qr = page.locator(".qr svg")
        qr.wait_for()
        box = qr.bounding_box()
        assert box is not None and 150 <= box["width"] <= 360 and box["height"] == box["width"]
        url = page.locator("code.secret").inner_text()
        assert url.startswith(server.url + "/key/") and url.endswith("/")
        inject_axe(page)
        assert page.evaluate(AXE_RUN) == []
        assert page.evaluate(WIDE) <= 0, "the page scrolls sideways"
        assert page.errors == [], page.errors
        listed = httpx.get(url + "formList", headers=OR, timeout=60)
        assert listed.status_code == 200 and b"<formID>monev_uep</formID>" in listed.content
        assert listed.headers["x-openrosa-version"] == "1.0"
        assert len(listed.headers.get_list("date")) == 1  # the app's, not uvicorn's as well
        page.goto(f"{server.url}/akun")
        page.click("form.inline button.danger")
        page.wait_for_selector("td:text-is('dicabut')")
        refused = httpx.get(url + "formList", headers=OR, timeout=60)
        assert refused.status_code == 401 and "dicabut" in refused.text
        assert page.errors == [], page.errors
    finally:
        context.close()
