"""Ani (staff) uploads a broken XLSForm on an office laptop (1366x768, real Chromium against a real
`pantau serve`): the page lists each problem with its sheet, row and column, and shows those rows
of the workbook marked in place; following a problem's link brings its row into view: the
upload page marks the rows it says to fix."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest

from tests.browser.conftest import inject_axe, signed_in_page
from tests.browser.server import Server
from tests.browser.test_fill_browser import AXE_RUN

pytestmark = pytest.mark.browser
WIDE = ["type", "name", "label::Indonesian (id)", "label::English (en)", "hint::Indonesian (id)",
        "hint::English (en)", "required", "relevant", "constraint", "constraint_message::Indonesian (id)",
        "constraint_message::English (en)", "calculation", "appearance", "choice_filter", "parameters"]


def broken_workbook() -> bytes:
    book = openpyxl.Workbook()
    survey = book.active
    assert survey is not None
    survey.title = "survey"
    survey.append(WIDE)
    survey.append(["text", "nama", "Nama lengkap penerima manfaat", "Full name of the beneficiary"])
    survey.append(["salah_jenis", "x", "X"])  # row 3: an unknown type
    for i in range(40):  # rows 4-43, every eighth of them an unknown type too
        survey.append(["note" if i % 8 else f"jenis_{i}", f"catatan_{i}", f"Catatan {i}", f"Note {i}"])
    # row 44: no name, and the last column is far to the right of a laptop screen
    survey.append(["integer", "", "Umur", "Age", *[""] * 10, "bukan parameter"])
    settings = book.create_sheet("settings")
    settings.append(["form_id", "version"])
    settings.append(["uji_unggah", "1"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()



IN_VIEW = """(selector) => {
  const box = document.querySelector(selector).getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight && box.height > 0;
}"""


def test_the_rows_to_fix_are_marked_and_each_problem_leads_to_its_row(server: Server, desk: Any) -> None:
    page = signed_in_page(desk, server, "/formulir", username="ani")
    page.set_input_files("#upload", files=[{"name": "rusak.xlsx", "buffer": broken_workbook(),
                                            "mimeType": "application/vnd.openxmlformats-officedocument"
                                                        ".spreadsheetml.sheet"}])
    page.click("form[action='/formulir/unggah'] button[type=submit]")
    page.wait_for_selector("#problems")

    problems = page.locator("#problems li[data-sheet]")
    places = [(problems.nth(i).get_attribute("data-sheet"), problems.nth(i).get_attribute("data-row"))
              for i in range(problems.count())]
    marked = page.locator("table.sheet tr.marked")
    marked_ids = [marked.nth(i).get_attribute("id") for i in range(marked.count())]
    # every row a problem names is marked, and nothing else is
    assert sorted(set(marked_ids)) == sorted({f"baris-survey-{row}" for sheet, row in places if sheet == "survey"})
    assert {"baris-survey-3", "baris-survey-44"} <= set(marked_ids)
    assert page.locator("#baris-survey-3 td.marked mark").inner_text() == "salah_jenis"
    assert page.locator("#baris-survey-3 .fix").is_visible()

    # The far row is below the fold; its problem's link brings it into view, marked.
    assert not page.evaluate(IN_VIEW, "#baris-survey-44")
    page.locator("#problems a[href='#baris-survey-44']").first.click()
    page.wait_for_function("() => location.hash === '#baris-survey-44'")
    assert page.evaluate(IN_VIEW, "#baris-survey-44")
    # A wide sheet scrolls inside its own box: the page itself never scrolls sideways at 1366 px.
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1366
    assert page.evaluate("() => document.querySelector('.sheet-scroll').scrollWidth "
                         "> document.querySelector('.sheet-scroll').clientWidth")

    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []
    assert page.errors == []
