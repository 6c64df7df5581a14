"""An intake's checks on the phone before sending (static/js/dupcheck.js), online and with the network
gone: registrasi_penerima's programme allows one recipient per family card, so typing a KK that a
recipient in the phone's copy already has says who, and a KK nobody has says nothing; a name and
birth date of someone already in the copy (titles and spellings aside) names them and offers their
record instead of a second registration."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.server import Server
from tests.browser.test_fill_browser import READY, radio, settled
from tests.browser.test_picker_browser import register
from tests.domain.test_forms_shipped import SITI

pytestmark = pytest.mark.browser
WARNING = "#w-no_kk p.kkdup, .q:has(#f-no_kk) p.kkdup"
PERSON = "#w-tgl_lahir p.dupperson, .q:has(#f-tgl_lahir) p.dupperson"


def _to_identity_page(page: Any) -> None:
    page.wait_for_selector(READY)
    radio(page, "persetujuan", "ya")
    settled(page).click("#next")
    page.wait_for_selector("#f-no_kk", state="visible")


def _type_kk(page: Any, kk: str) -> None:
    page.fill("#f-no_kk", kk)
    page.dispatch_event("#f-no_kk", "change")


def test_a_person_already_registered_is_named_before_a_second_registration(server: Server, phone: Any) -> None:
    siti = register(server, "citra")
    page = signed_in_page(phone, server, "/f/registrasi_penerima")
    _to_identity_page(page)
    page.fill("#f-nama", "Hj. Sitti Aminah")
    page.fill("#f-tgl_lahir", SITI["tgl_lahir"])
    page.dispatch_event("#f-tgl_lahir", "change")
    page.wait_for_selector(PERSON, state="visible")
    assert "Siti Aminah (Jahab)" in page.text_content(PERSON)
    assert page.get_attribute("p.dupopen a", "href") == f"/penerima/{siti}"
    page.fill("#f-nama", "Siti Rahmah")  # another person born the same day
    page.dispatch_event("#f-nama", "change")
    page.wait_for_selector(PERSON, state="hidden")
    assert page.locator("p.dupopen").is_hidden()

    # Instead of a second registration: her record, and from it a visit with her already picked.
    page.fill("#f-nama", "Siti Aminah")
    page.dispatch_event("#f-nama", "change")
    page.click("p.dupopen a")
    page.wait_for_url(f"**/penerima/{siti}")
    page.click(f"a[href^='/f/monev_uep?penerima={siti}']")
    page.wait_for_selector(".q[data-picker=siap]")
    assert page.input_value("#f-penerima") == siti and "Siti Aminah" in page.text_content(".chosen")
    assert page.errors == []


def test_a_second_recipient_on_one_family_card_is_warned_before_sending(server: Server, phone: Any) -> None:
    register(server, "citra")  # Siti Aminah, on SITI's family card
    register(server, "dewi", nama="Sitirah", nik="6402134303800003", no_kk="6402131203150009", kecamatan="64.02.13",
             desa="64.02.13.1007", tgl_lahir="1980-03-03")  # Samboja: not in Citra's copy
    page = signed_in_page(phone, server, "/f/registrasi_penerima")
    _to_identity_page(page)

    _type_kk(page, SITI["no_kk"])
    page.wait_for_selector(WARNING, state="visible")
    text = page.text_content(WARNING)
    assert "Siti Aminah (Jahab)" in text and "KK ganda" in text
    assert page.locator("#f-no_kk ~ .cf").is_hidden()  # a notice, not a warning to tick: sending stays possible

    _type_kk(page, "6402131203150009")  # Sitirah's card: she is outside Citra's areas, the server flags it
    page.wait_for_selector(WARNING, state="hidden")
    _type_kk(page, "6402061203159999")  # nobody's
    settled(page)
    assert page.locator(WARNING).is_hidden()

    # Upriver: the copy in IndexedDB still knows the card.
    page.route("**/api/v1/penerima*", lambda route: route.abort("internetdisconnected"))
    page.reload()
    phone.set_offline(True)
    _to_identity_page(page)
    _type_kk(page, SITI["no_kk"])
    page.wait_for_selector(WARNING, state="visible")
    assert "Siti Aminah" in page.text_content(WARNING)
    phone.set_offline(False)
    assert page.errors == []
