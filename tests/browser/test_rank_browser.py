"""ODK's rank on a phone in Debian's chromium (static/js/rank.js): the choices as a list with
Naik/Turun (up/down) buttons, used by keyboard and by touch at 360 px; unanswered until the
enumerator moves a choice or accepts the order; the order stored as the list of names. Without
JavaScript, one drop-down per place; offline, the widget comes from the service worker's cache."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.server import Server, server_with_forms
from tests.browser.test_fill_browser import READY, rows, settled

pytestmark = pytest.mark.browser

FORM = b"""
settings: {id: uji_urutan, version: "1", title: {id: Urutan kebutuhan, en: Ranking the needs}}
choices:
  kebutuhan: {air: {id: Air bersih, en: Clean water}, listrik: {id: Listrik, en: Electricity},
              jalan: {id: Jalan desa, en: Village road}}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}, required: yes}
  - {type: rank kebutuhan, name: urutan, label: {id: Urutkan kebutuhan, en: Rank the needs}, required: yes}
  - {type: rank kebutuhan, name: cadangan, label: {id: Urutan cadangan, en: Spare ranking}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with server_with_forms(tmp_path_factory.mktemp("urutan"), {"uji_urutan": FORM}) as running:
        yield running


def order(page: Any, name: str) -> list[str]:
    return page.locator(f"#f-{name} li").evaluate_all("lis => lis.map(li => li.dataset.v)")  # type: ignore[no-any-return]


def focused_row(page: Any) -> tuple[str, str]:
    return tuple(page.evaluate(  # type: ignore[return-value]
        "() => [document.activeElement.closest('li').dataset.v, document.activeElement.className]"))


def test_the_enumerator_orders_the_choices_with_the_buttons_and_the_order_is_stored(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/uji_urutan")
    page.wait_for_selector(READY)
    assert page.locator("#f-urutan li span").all_text_contents() == ["Air bersih", "Listrik", "Jalan desa"]
    assert page.locator("#f-urutan select").count() == 0  # the drop-downs became the list
    assert "Belum diurutkan" in page.locator("#f-urutan p.h").text_content()
    page.fill("#f-nama", "Siti Aminah")
    settled(page).click("#send")  # a required rank left unranked is not answered
    page.wait_for_selector("#e-urutan")
    assert rows(server, "uji_urutan") == []

    # By keyboard: the focus stays on the moved choice, on the button that still works.
    page.focus("#f-urutan li[data-v=air] .down")
    page.keyboard.press("Enter")
    assert order(page, "urutan") == ["listrik", "air", "jalan"] and focused_row(page) == ("air", "alt down")
    page.keyboard.press("Enter")
    assert order(page, "urutan") == ["listrik", "jalan", "air"] and focused_row(page) == ("air", "alt up")
    assert page.locator("#f-urutan [aria-live]").text_content() == "Air bersih: urutan ke-3 dari 3"
    # By touch, the button named for its choice.
    page.locator("#f-urutan").get_by_role("button", name="Naik: Jalan desa").tap()
    assert order(page, "urutan") == ["jalan", "listrik", "air"]
    assert page.input_value("#f-urutan input[type=hidden]") == "jalan listrik air"
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360  # nothing wider than the phone
    assert page.locator("#f-urutan").get_by_role("button", name="Turun: Air bersih").is_disabled()  # the last one
    settled(page).click("#send")
    page.wait_for_selector(".receipt h2")
    [answers] = rows(server, "uji_urutan")
    assert answers["urutan"] == ["jalan", "listrik", "air"] and "cadangan" not in answers  # not required, unranked
    assert page.errors == []


def test_without_javascript_each_place_is_a_drop_down(server: Server, phone_without_js: Any) -> None:
    page = signed_in_page(phone_without_js, server, "/f/uji_urutan")
    before = len(rows(server, "uji_urutan"))
    places = page.locator("#f-urutan select")
    assert places.count() == 3 and places.nth(0).get_attribute("aria-label") == "Urutan ke-1"
    page.fill("#f-nama", "Budi")
    for i, name in enumerate(["listrik", "air", "jalan"]):
        places.nth(i).select_option(name)
    page.click("#send")
    page.wait_for_load_state()
    assert [r["urutan"] for r in rows(server, "uji_urutan")[before:]] == [["listrik", "air", "jalan"]]


def test_a_form_with_a_rank_opens_and_works_offline(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/uji_urutan")
    page.wait_for_selector("html[data-pantau=siap][data-offline=siap]")
    page.evaluate("""async () => {
      await navigator.serviceWorker.ready;
      for (let i = 0; i < 300; i++) {
        for (const name of await caches.keys()) {
          const cache = await caches.open(name), keys = (await cache.keys()).map((r) => r.url);
          if (await cache.match('/f/uji_urutan') && keys.some((u) => u.endsWith('/js/rank.js'))) return;
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error('the form or rank.js was never cached');
    }""")
    before = len(rows(server, "uji_urutan"))
    phone.set_offline(True)
    page.reload()
    page.wait_for_selector("html[data-pantau=siap][data-offline=siap]")
    page.fill("#f-nama", "Ani")
    page.locator("#f-urutan").get_by_role("button", name="Pakai urutan ini").tap()  # the order shown is the answer
    page.locator("#f-urutan").get_by_role("button", name="Turun: Air bersih").tap()
    assert order(page, "urutan") == ["listrik", "air", "jalan"]
    settled(page).click("#send")  # into the outbox
    page.wait_for_timeout(500)
    assert len(rows(server, "uji_urutan")) == before
    phone.set_offline(False)  # the online event sends it
    for _ in range(100):
        if len(rows(server, "uji_urutan")) > before:
            break
        page.wait_for_timeout(200)
    assert rows(server, "uji_urutan")[before]["urutan"] == ["listrik", "air", "jalan"]
