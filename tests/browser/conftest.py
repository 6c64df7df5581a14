"""Browser tests: Debian's chromium through Playwright against a real `pantau serve`
(tests/browser/server.py) at 360x740, as an enumerator's phone in Kutai Kartanegara (id-ID, WITA).
Chromium comes from apt (.ci/run installs it); without it these tests fail rather than skip."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.server import PASSWORD, REPO, Server, server_with_forms

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"


def inject_axe(page: object) -> None:
    """axe-core into the page through the DevTools protocol: Pantau's CSP refuses inline scripts, so
    page.add_script_tag (an inline <script>) would be blocked, as it should be."""
    page.evaluate("() => {\n" + AXE.read_text(encoding="utf-8") + "\n}")  # type: ignore[attr-defined]
TENGGARONG = {"latitude": -0.4195, "longitude": 116.9856, "accuracy": 12}

# A form with repeats: registrasi_penerima has none, so the repeat runtime is tested on this one.
KELUARGA = b"""
settings: {id: uji_keluarga, version: "1", title: {id: Anggota keluarga, en: Household members}}
choices:
  jk: {L: {id: Laki-laki, en: Male}, P: {id: Perempuan, en: Female}}
fields:
  - {type: text, name: kepala, label: {id: Nama kepala keluarga, en: Head of household}, required: yes}
  - {type: nik, name: nik_kepala, label: {id: NIK kepala keluarga, en: Head's NIK}}
  - type: repeat
    name: anggota
    label: {id: Anggota, en: Member}
    min_count: 1
    max_count: 4
    fields:
      - {type: text, name: nama_art, label: {id: Nama anggota, en: Member's name}, required: yes}
      - {type: select_one jk, name: jk_art, label: {id: Jenis kelamin, en: Sex}, required: yes}
      - {type: integer, name: umur_art, label: {id: Umur, en: Age}, constraint: ". >= 0 and . <= 120"}
      - {type: note, name: balita, label: {id: Balita, en: Under five}, relevant: "${umur_art} < 5"}
  - {type: calculate, name: jumlah, calculation: "count(${anggota})"}
  - {type: note, name: ringkasan, label: {id: "Jumlah anggota: ${jumlah}", en: "Members: ${jumlah}"}}
"""
# A repeat whose number of instances is an answer (repeat_count).
ANAK = b"""
settings: {id: uji_anak, version: "1", title: {id: Data anak, en: Children}}
fields:
  - {type: integer, name: jml_anak, label: {id: Jumlah anak, en: Number of children}, required: yes}
  - type: repeat
    name: anak
    label: {id: Anak, en: Child}
    repeat_count: ${jml_anak}
    fields:
      - {type: text, name: nama_anak, label: {id: Nama anak, en: Child's name}, required: yes}
  - {type: rupiah, name: uang_saku, label: {id: Uang saku per bulan, en: Pocket money a month}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    shipped = sorted((REPO / "forms").glob("*.yaml"))
    with server_with_forms(tmp_path_factory.mktemp("browser"), {"uji_keluarga": KELUARGA, "uji_anak": ANAK},
                           shipped) as running:
        yield running


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread while
# it is open, and the rest of the suite calls asyncio.run(), which refuses to run inside one.
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.fail("Debian chromium is not installed: apt-get install -y chromium (.ci/run does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def phone_context(browser: object, javascript: bool = True) -> object:
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True,
        locale="id-ID", timezone_id="Asia/Makassar", java_script_enabled=javascript,
        geolocation=TENGGARONG, permissions=["geolocation"])
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def phone(browser: object) -> Iterator[object]:
    context = phone_context(browser)
    try:
        yield context
    finally:
        context.close()  # type: ignore[attr-defined]


@pytest.fixture
def phone_without_js(browser: object) -> Iterator[object]:
    context = phone_context(browser, javascript=False)
    try:
        yield context
    finally:
        context.close()  # type: ignore[attr-defined]


@pytest.fixture
def desk(browser: object) -> Iterator[object]:
    """A staff member's laptop: where forms are edited, uploaded and reviewed."""
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID",  # type: ignore[attr-defined]
                                  timezone_id="Asia/Makassar")
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()  # type: ignore[attr-defined]


def signed_in_page(context: object, server: Server, path: str, username: str = "citra") -> object:
    page = context.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # A script, style or frame the Content-Security-Policy blocked is a broken page too.
    page.on("console", lambda message: errors.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text else None)
    page.errors = errors
    page.goto(f"{server.url}/masuk?next={path}")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{path}")
    return page
