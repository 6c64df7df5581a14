"""Form media on a phone, in Debian's chromium against a real `pantau serve`: the image and audio a
form's media columns name show beside the question and the choice (axe finds nothing serious), also
on the choices a choice_filter lets in as answers change, and after one visit online the form opens
offline with its picture still there (the service worker precaches the media from /api/v1/offline)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import AXE, inject_axe
from tests.browser.server import Server, csrf_token, server_with_forms
from tests.browser.test_fill_browser import AXE_RUN
from tests.browser.test_offline_browser import READY, phone, sign_in
from tests.web.test_form_media import png, wav

pytestmark = pytest.mark.browser

FORM = b"""
settings: {id: uji_media, version: "1", title: {id: Warna rumah, en: House colour}}
choices:
  warna:
  - {name: merah, label: {id: Merah, en: Red}, image: merah.png}
  - {name: biru, label: {id: Biru, en: Blue}}
  bentuk:
  - {name: bulat, label: {id: Bulat, en: Round}, warna: merah, image: merah.png}
  - {name: kotak, label: {id: Kotak, en: Square}, warna: biru, image: rumah.png}
  - {name: segitiga, label: {id: Segitiga, en: Triangle}, warna: merah}
fields:
  - type: select_one warna
    name: warna
    label: {id: Warna rumah, en: House colour}
    xlsform: {image: rumah.png, audio: salam.wav}
  - {type: select_one bentuk, name: bentuk, label: {id: Bentuk atap, en: Roof shape}, choice_filter: "warna = ${warna}"}
  - {type: text, name: nama, label: {id: Nama, en: Name}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with server_with_forms(tmp_path_factory.mktemp("media"), {"uji_media": FORM}, shipped=[]) as running:
        staff = running.client("ani")
        try:
            answer = staff.post("/formulir/uji_media/media", data={"_csrf_token": csrf_token(staff)}, files=[
                ("media", ("rumah.png", png((200, 120, 40), (160, 90)))),
                ("media", ("merah.png", png((220, 0, 0), (40, 40)))),
                ("media", ("salam.wav", wav()))])
        finally:
            staff.close()
        assert answer.status_code == 303, answer.text
        yield running


@pytest.fixture
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as started:
        yield started


SHOWN = "(sel) => { const e = document.querySelector(sel); return !!e && e.complete && e.naturalWidth > 0; }"


@contextmanager
def the_form_on_a_phone(server: Server, playwright: Any, profile: Path) -> Iterator[tuple[Any, Any]]:
    """(the phone's browser context, the test form open and ready in it), signed in as the enumerator."""
    context = phone(playwright, profile)
    try:
        page = sign_in(context, server, "/f/uji_media")
        page.wait_for_selector(READY)
        yield context, page
    finally:
        context.close()


def test_the_media_show_beside_the_question_and_choice_and_offline(server: Server, playwright: Any,
                                                                   tmp_path: Path) -> None:
    with the_form_on_a_phone(server, playwright, tmp_path / "profil") as (context, page):
        page.wait_for_function(SHOWN, arg="#f-warna img.md[alt='Warna rumah']")
        page.wait_for_function(SHOWN, arg="label img.md[alt=Merah]")
        audio = page.eval_on_selector("audio.md", "a => [a.controls, a.preload, a.getAttribute('aria-label')]")
        assert audio == [True, "none", "Warna rumah"]
        box = page.eval_on_selector("#f-warna img.md", "e => e.getBoundingClientRect().width")
        assert 0 < box <= 360  # within the phone's width
        page.screenshot(path=str(tmp_path / "media.png"), full_page=True)
        # The player's controls are there to press (a style once collapsed them to 0 px).
        assert page.eval_on_selector("audio.md", "a => a.getBoundingClientRect().height") >= 44
        assert AXE.exists(), "npm install --no-audit --no-fund (axe-core is a devDependency)"
        inject_axe(page)
        assert page.evaluate(AXE_RUN) == []
        image_url = page.get_attribute("#f-warna img.md", "src")
        page.evaluate("""async (url) => {
          await navigator.serviceWorker.ready;
          for (let i = 0; i < 300; i++) {
            for (const name of await caches.keys()) {
              const c = await caches.open(name);
              if (await c.match('/f/uji_media') && await c.match(url)) return;
            }
            await new Promise((r) => setTimeout(r, 100));
          }
          throw new Error('the form or its image was never cached');
        }""", image_url)
        context.set_offline(True)
        page.goto(f"{server.url}/f/uji_media")
        page.wait_for_selector(READY)
        page.wait_for_function(SHOWN, arg="#f-warna img.md[alt='Warna rumah']")
        page.wait_for_function(SHOWN, arg="label img.md[alt=Merah]")


VISIBLE = ("(sel) => Array.from(document.querySelectorAll(sel)).filter((l) => !l.closest('[hidden]'))"
           ".map((l) => l.textContent.trim())")


def test_a_filtered_lists_choices_keep_their_media_as_the_filter_changes(server: Server, playwright: Any,
                                                                         tmp_path: Path) -> None:
    with the_form_on_a_phone(server, playwright, tmp_path / "profil") as (_context, page):
        assert page.evaluate(VISIBLE, "#f-bentuk label") == []  # nothing chosen, nothing offered
        red = ["Bulat", "Segitiga"]
        for colour, offered in (("merah", red), ("biru", ["Kotak"]), ("merah", red)):
            page.check(f"#f-warna input[value={colour}]")
            page.wait_for_function(f"() => ({VISIBLE})('#f-bentuk label').join() === {offered!r}.join()")
            assert page.evaluate(VISIBLE, "#f-bentuk label") == offered
            for label in offered:
                if label != "Segitiga":  # the one choice without an image
                    page.wait_for_function(SHOWN, arg=f"#f-bentuk label img.md[alt={label}]")
            images = len([label for label in offered if label != "Segitiga"])
            assert page.locator("#f-bentuk label:not([hidden]) img.md").count() == images
        page.check("#f-bentuk input[value=bulat]")
        page.check("#f-warna input[value=biru]")  # the answer the filter no longer lets in is cleared
        page.wait_for_function("() => !document.querySelector('#f-bentuk input:checked')")
