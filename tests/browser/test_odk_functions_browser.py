"""The ODK functions forms from XLSForm bring (domain/expr/odk.py) on a phone in Debian's chromium:
the fill page loads static/js/expr-more.js for such a form only, its calculations follow the answers
as the server's do, and once(uuid()) keeps the code the enumerator saw, which the server stores."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import REPO, signed_in_page
from tests.browser.server import Server, server_with_forms
from tests.browser.test_fill_browser import READY, rows, settled

pytestmark = pytest.mark.browser

ODK = (REPO / "tests" / "data" / "odk_functions.yaml").read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with server_with_forms(tmp_path_factory.mktemp("odk"), {"uji_odk": ODK}) as running:
        yield running


def test_odk_functions_run_on_the_phone_and_once_keeps_its_code(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/uji_odk")
    page.wait_for_selector(READY)
    code = page.text_content("#w-tampil_kode").removeprefix("Kode ")
    assert len(code) == 36 and code.count("-") == 4
    page.fill("#f-kepala", "Ani")
    settled(page).check("input[name='desa'][value='1002']")
    for i, name in enumerate(["Budi", "", "Citra"]):
        settled(page).click("button.add")
        if name:
            page.fill(f"[id='f-anggota[{i}].nama']", name)
    settled(page)
    assert page.text_content("#w-ringkasan") == "2: Budi, , Citra @07.05"
    sidik = hashlib.sha256(b"Ani").hexdigest()  # the phone's own SHA-256, checked against Python's
    assert page.text_content("#w-desa_teks") == f"Bukit Biru (64.02.06, 2, 900) {''} {sidik[:16]}"
    assert page.text_content("#w-tampil_kode") == f"Kode {code}"  # the answers changed, the code did not
    settled(page).click("#send")
    page.wait_for_selector(".receipt h2")
    [answers] = rows(server, "uji_odk")
    assert answers["kode"] == code and answers["terisi"] == 2 and answers["daftar"] == "Budi, , Citra"
    assert (answers["nama_desa"], answers["kec"], answers["jumlah_sekec"], answers["penduduk"], answers["sidik"]) == (
        "Bukit Biru", "64.02.06", 2, "900", sidik)  # a CSV's (or list's) value is text
    assert "kedua" not in answers  # the second member left their name empty
    assert page.errors == []


def test_a_form_without_them_does_not_load_them(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/registrasi_penerima")
    page.wait_for_selector(READY)
    scripts = page.eval_on_selector_all("script[src]", "(s) => s.map((e) => e.getAttribute('src'))")
    assert any(s.endswith("/js/form.js") for s in scripts) and not any("expr-more" in s for s in scripts)
    assert page.errors == []
