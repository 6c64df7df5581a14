"""The import page in Debian's chromium, as staff use it: upload an office's list, the progress bar
runs through static/js/registry-import.js (no inline script: the CSP would refuse one, and a refusal
fails the test) until the rows' results show; import the rows without errors; axe finds no serious
violation on the page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import inject_axe, signed_in_page
from tests.browser.server import Server
from tests.browser.test_fill_browser import AXE_RUN
from tests.domain.test_registry_import import office_rows, office_xlsx

pytestmark = pytest.mark.browser


def test_staff_upload_a_list_follow_the_check_and_import_it(server: Server, phone: Any, tmp_path: Path) -> None:
    rows = [*office_rows(), [4, "Salah", "6.40206E+15", "", "L", "", "TENGGARONG", "JAHAB", ""]]
    path = office_xlsx(tmp_path / "penerima_2025.xlsx", rows)
    page = signed_in_page(phone, server, "/penerima/impor", "ani")
    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []
    page.set_input_files("#berkas", str(path))
    page.click("form[action='/penerima/impor'] button[type=submit]")
    page.wait_for_selector("[data-summary]", timeout=60_000)
    assert page.get_attribute("[data-summary]", "data-summary") == "2 1 1"
    assert page.locator("tr[data-level=error]").count() == 1
    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []
    page.check("input[name=pilihan][value=ok]")
    page.click("form[action$='/simpan'] button[type=submit]")
    page.wait_for_selector("[data-created]")
    assert page.get_attribute("[data-created]", "data-created") == "2"  # Budi's row had a warning: not confirmed
    assert page.errors == []
