"""The growth check on an enumerator's phone (360x740): the measuring position is never preset. The
form once defaulted it from the age before the age was known, so a girl of 730 days measured lying
but left on the preset "standing" got HAZ -2.39 instead of -2.60. The enumerator now chooses, the
page says which position WHO asks for at this age, and the verdict follows the answer given."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

import pytest
from pygrowup.tables.by_day import lfa

from tests.browser.conftest import signed_in_page
from tests.browser.server import Server
from tests.browser.test_fill_browser import READY, radio, rows, settled
from tests.browser.test_picker_browser import register

pytestmark = pytest.mark.browser


def who_haz(sex: str, days: int, length_cm: float) -> float:
    """HAZ straight from the WHO length-for-age LMS row (no correction: the position is right)."""
    row = lfa.DATA["female" if sex == "P" else "male"][days]
    el, m, s = float(row["l"]), float(row["m"]), float(row["s"])
    return ((length_cm / m) ** el - 1) / (el * s)


def born_days_ago(days: int) -> str:
    return (dt.datetime.now(zoneinfo.ZoneInfo("Asia/Makassar")).date() - dt.timedelta(days=days)).isoformat()


def to_measurement_page(page: Any, birth_date: str) -> None:
    radio(page, "persetujuan_ortu", "ya")
    settled(page).click("#next")
    page.wait_for_selector(".q[data-picker=siap]")
    page.fill("#c-f-keluarga", "siti")
    page.locator("#l-f-keluarga button[role=option]").first.click()
    page.fill("#f-nama_anak", "Nur")
    page.fill("#f-nama_ibu", "Siti Aminah")
    radio(page, "jk_anak", "P")
    page.fill("#f-tgl_lahir", birth_date)
    radio(page, "punya_nik", "tidak")
    settled(page).click("#next")
    page.wait_for_selector("#f-berat")


def test_the_position_is_chosen_not_preset_and_decides_haz(server: Server, phone: Any) -> None:
    register(server, "citra")
    page = signed_in_page(phone, server, "/f/cek_tumbuh_anak")
    page.wait_for_selector(READY)
    to_measurement_page(page, born_days_ago(730))

    assert page.locator("input[name='cara_ukur']:checked").count() == 0
    assert page.locator("#w-saran_terlentang").is_visible() and page.locator("#w-saran_berdiri").is_hidden()
    assert "(di bawah 2 tahun): ukur panjang badan terlentang" in page.text_content("#w-saran_terlentang")
    page.fill("#f-berat", "9,5")
    page.fill("#f-panjang_tinggi", "78")
    radio(page, "edema", "tidak")
    settled(page).click("#next")
    assert page.text_content("[id='e-cara_ukur']") == "Wajib diisi."  # nothing was chosen for them

    radio(page, "cara_ukur", "terlentang")
    # The verdict is on the phone as the enumerator types, offline too: the WHO tables are in the page.
    phone.set_offline(True)
    verdict = page.locator(".q:has(#f-panjang_tinggi) p.growth")
    verdict.wait_for()
    assert verdict.text_content().startswith("TB/U −2,60 (Pendek); BB/U ")
    assert "Anak perlu dirujuk: TB/U < −2" in verdict.text_content()
    settled(page).click("#next")
    for name in ("asi_eksklusif", "imunisasi_lengkap", "vit_a", "posyandu_rutin", "terima_pmt", "jamban"):
        radio(page, name, "ya")
    radio(page, "air_minum", "3")
    settled(page).check("input[name='edukasi'][value='gizi_seimbang']")
    radio(page, "rujukan", "tidak_perlu")  # refused at the question, before sending, with no signal
    page.wait_for_selector("[id='e-rujukan']")
    assert "Anak perlu dirujuk (TB/U < −2)" in page.text_content("[id='e-rujukan']")
    radio(page, "rujukan", "puskesmas")
    page.wait_for_selector("[id='e-rujukan']", state="detached")
    phone.set_offline(False)
    while page.locator("#send").is_hidden():
        settled(page).click("#next")
    settled(page).click("#send")
    page.wait_for_selector(".receipt h2")

    [answers] = rows(server, "cek_tumbuh_anak")
    assert answers["cara_ukur"] == "terlentang"
    expected = f"{who_haz('P', 730, 78.0):+.2f}".replace("-", "−").replace(".", ",")
    assert expected == "−2,60"  # the case as reported: the wrong preset gave −2,39
    assert f"TB/U {expected} (Pendek)" in page.text_content(".receipt")
    assert page.errors == []


def test_from_two_years_the_page_asks_for_standing(server: Server, phone: Any) -> None:
    register(server, "citra", nama="Rahmawati", nik="6402064505880002", no_kk="6402061104120003",
             tgl_lahir="1988-05-05")
    page = signed_in_page(phone, server, "/f/cek_tumbuh_anak")
    page.wait_for_selector(READY)
    to_measurement_page(page, born_days_ago(731))
    assert page.locator("input[name='cara_ukur']:checked").count() == 0
    assert page.locator("#w-saran_berdiri").is_visible() and page.locator("#w-saran_terlentang").is_hidden()
    assert "24 bulan (2 tahun atau lebih): ukur tinggi badan berdiri" in page.text_content("#w-saran_berdiri")
