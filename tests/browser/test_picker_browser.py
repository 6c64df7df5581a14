"""The beneficiary picker on an enumerator's phone: monev_uep's `penerima`
question searches the phone's own copy of its areas' beneficiaries (IndexedDB, from
/api/v1/penerima), the pick becomes the answer, the submission names that beneficiary, and with
the network gone the copy still finds names."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.browser.conftest import signed_in_page
from tests.browser.server import Server, csrf_token
from tests.browser.test_fill_browser import READY, radio, rows, settled
from tests.domain.test_forms_shipped import SITI
from tests.web.test_api_submissions import JPEG

pytestmark = pytest.mark.browser


def register(server: Server, username: str, **changes: Any) -> str:
    """An intake through the API, as a phone would send it; returns the beneficiary's id."""
    instance_id = str(uuid.uuid4())
    client = server.client(username)
    try:
        headers = {"x-csrftoken": csrf_token(client)}
        sha = client.post("/api/v1/attachments", content=JPEG, headers={**headers, "content-type": "image/jpeg"}
                          ).json()["sha256"]
        answers = {**SITI, "ttd_persetujuan": sha, "foto_penerima": sha, **changes}
        sent = client.post("/api/v1/submissions", headers=headers, json={
            "instance_id": instance_id, "form_id": "registrasi_penerima", "form_version": "2026041501",
            "answers": answers})
    finally:
        client.close()
    assert sent.status_code == 201, sent.text
    return instance_id


def test_an_enumerator_picks_a_beneficiary_by_name_and_finds_names_offline(server: Server, phone: Any) -> None:
    siti = register(server, "citra")
    other = register(server, "citra", nama="Rahmawati", nik="6402064505880002", no_kk="6402061104120003",
                     tgl_lahir="1988-05-05")
    register(server, "dewi", nama="Sitirah", nik="6402134303800003", no_kk="6402131203150009", kecamatan="64.02.13",
             desa="64.02.13.1007", tgl_lahir="1980-03-03")  # Samboja: not on Citra's phone
    page = signed_in_page(phone, server, "/f/monev_uep")
    page.wait_for_selector(READY)
    page.wait_for_selector(".q[data-picker=siap]")
    assert page.locator("#f-penerima").is_hidden()  # the answer; the search box stands in for it

    page.fill("#c-f-penerima", "sit")
    options = page.locator("#l-f-penerima button[role=option]")
    options.first.wait_for()
    assert options.count() == 1  # Sitirah lives in Samboja, outside Citra's areas
    assert "Siti Aminah · 64************** · Jahab" in options.first.text_content()
    options.first.click()
    assert page.input_value("#f-penerima") == siti
    assert "Siti Aminah" in page.text_content(".chosen")

    page.fill("#f-periode", "2026-TW1")
    page.fill("#f-tgl_bantuan", "2026-01-10")
    settled(page).click("button.gps")
    page.wait_for_function("() => document.getElementById('f-lokasi').value !== ''")
    radio(page, "bertemu", "tidak_di_tempat")  # not met: the rest of the visit is not asked
    while page.locator("#send").is_hidden():  # the last step: the visit's pages are not asked
        settled(page).click("#next")
    settled(page).click("#send")
    page.wait_for_selector(".receipt h2")
    assert page.text_content(".receipt h2") == "Terkirim"
    [answers] = rows(server, "monev_uep")
    assert answers["penerima"] == siti

    # Offline: the next form opens with no way to reach the list (the page itself is the service
    # worker's business); the copy in IndexedDB still finds names, and by desa.
    page.route("**/api/v1/penerima*", lambda route: route.abort("internetdisconnected"))
    page.goto(f"{server.url}/f/monev_uep")
    page.wait_for_selector(".q[data-picker=offline]")
    phone.set_offline(True)
    assert "Tidak tersambung" in page.text_content("#w-penerima, .q:has(#f-penerima)")
    assert _search(page, "rahma") == [other]
    assert _search(page, "jahab") == [other, siti]  # equally good matches: by name
    phone.set_offline(False)
    assert page.errors == []


def _search(page: Any, query: str) -> list[str]:
    page.fill("#c-f-penerima", query)
    page.locator("#l-f-penerima li").first.wait_for()
    return [b.get_attribute("data-id") for b in page.locator("#l-f-penerima button[role=option]").all()]
