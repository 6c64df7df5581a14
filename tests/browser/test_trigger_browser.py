"""ODK's trigger on a phone in Debian's chromium (static/js/trigger.js): when the answer a question's
trigger names changes, the question takes its calculation (now() here) or is emptied, and a
background-geopoint takes the phone's location; the enumerator can still change the value, and the
server stores what the page sent. A typed question's calculation shows in its read-only input."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import TENGGARONG, signed_in_page
from tests.browser.server import Server, server_with_forms
from tests.browser.test_fill_browser import READY, rows, settled

pytestmark = pytest.mark.browser

FORM = b"""
settings: {id: uji_pemicu, version: "1", title: {id: Pemicu, en: Trigger}}
fields:
  - {type: integer, name: suhu, label: {id: Suhu, en: Temperature}}
  - {type: datetime, name: diukur, label: {id: Diukur, en: Measured}, calculation: "now()", trigger: "${suhu}"}
  - {type: text, name: catatan, label: {id: Catatan, en: Note}, trigger: "${suhu}"}
  - {type: hidden, name: lokasi, trigger: "${suhu}", xlsform: {type: background-geopoint}}
  - {type: decimal, name: fahrenheit, label: {id: Fahrenheit}, calculation: "${suhu} * 9 div 5 + 32"}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with server_with_forms(tmp_path_factory.mktemp("pemicu"), {"uji_pemicu": FORM}) as running:
        yield running


def test_a_trigger_sets_its_question_which_stays_editable_and_is_stored_as_sent(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/uji_pemicu")
    page.wait_for_selector(READY)
    page.fill("#f-catatan", "sebelum")
    settled(page)
    assert page.input_value("#f-diukur") == ""  # nothing triggered it yet
    page.fill("#f-suhu", "37")
    page.wait_for_function("() => document.querySelector('#f-diukur').value !== ''")
    assert page.input_value("#f-diukur").startswith("20")
    assert page.input_value("#f-catatan") == ""  # no calculation: the trigger empties it
    assert page.input_value("#f-fahrenheit") == "98.6"
    assert page.get_attribute("#f-fahrenheit", "readonly") is not None
    page.wait_for_function("() => document.querySelector('[name=lokasi]').value !== ''")
    assert page.input_value("[name=lokasi]").split()[:2] == [str(TENGGARONG["latitude"]), str(TENGGARONG["longitude"])]
    page.fill("#f-diukur", "2026-08-17T08:12")  # the enumerator corrects it; no recalculation overwrites it
    page.fill("#f-catatan", "sesudah")
    settled(page).click("#send")
    page.wait_for_selector(".receipt h2")
    [answers] = rows(server, "uji_pemicu")
    assert answers["suhu"] == 37 and answers["diukur"] == "2026-08-17T08:12:00+08:00"
    assert answers["fahrenheit"] == 98.6 and answers["catatan"] == "sesudah"
    assert answers["lokasi"].startswith(f"{TENGGARONG['latitude']} ")
