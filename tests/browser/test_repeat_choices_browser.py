"""select_one ${nama} over a repeat on a phone in Debian's chromium (static/js/repchoice.js, loaded
only by such forms): the select offers the names entered in the repeat as they are typed, through
its choice_filter per instance, and the server stores the one chosen."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.server import Server, server_with_forms
from tests.browser.test_fill_browser import READY, rows, settled

pytestmark = pytest.mark.browser

FORM = b"""
settings: {id: uji_pilih_ulang, version: "1", title: {id: Pilih dari ulangan, en: Choose from a repeat}}
fields:
  - type: repeat
    name: anggota
    label: {id: Anggota, en: Member}
    fields:
      - {type: text, name: nama, label: {id: Nama, en: Name}}
      - {type: integer, name: umur, label: {id: Umur, en: Age}}
  - {type: select_one, name: kepala, label: {id: Kepala keluarga, en: Head}, choices: "${nama}"}
  - {type: select_one, name: dewasa, label: {id: Yang dewasa, en: Adult}, choices: "${nama}",
     choice_filter: "${umur} >= 18"}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with server_with_forms(tmp_path_factory.mktemp("pilih_ulang"), {"uji_pilih_ulang": FORM}) as running:
        yield running


def _offered(page: Any, name: str) -> list[str]:
    return [v for v in page.eval_on_selector_all(f"#f-{name} option", "os => os.map(o => o.value)") if v]


def test_the_select_offers_the_repeats_answers_and_the_chosen_one_is_stored(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/uji_pilih_ulang")
    page.wait_for_selector(READY)
    assert _offered(page, "kepala") == []
    if page.locator(".ri").count() == 0:
        settled(page).click("button.add")
    page.fill("[id='f-anggota[0].nama']", "Ani")
    page.fill("[id='f-anggota[0].umur']", "40")
    settled(page).click("button.add")
    page.fill("[id='f-anggota[1].nama']", "Budi")
    page.fill("[id='f-anggota[1].umur']", "9")
    settled(page)
    assert _offered(page, "kepala") == ["Ani", "Budi"]
    assert _offered(page, "dewasa") == ["Ani"]  # Budi is 9
    page.select_option("#f-kepala", "Budi")
    page.select_option("#f-dewasa", "Ani")
    page.fill("[id='f-anggota[1].nama']", "Budi S")  # a renamed answer: the old choice goes, the new is offered
    settled(page)
    assert _offered(page, "kepala") == ["Ani", "Budi S"] and page.input_value("#f-kepala") == ""
    page.select_option("#f-kepala", "Budi S")
    settled(page).click("#send")
    page.wait_for_selector(".receipt h2")
    [answers] = rows(server, "uji_pilih_ulang")
    assert answers["kepala"] == "Budi S" and answers["dewasa"] == "Ani"
    assert [m["nama"] for m in answers["anggota"]] == ["Ani", "Budi S"]
