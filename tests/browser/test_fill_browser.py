"""An enumerator's phone (360x740, id-ID, WITA) fills forms in Debian's chromium against a real
`pantau serve`: registrasi_penerima through its skip logic, the kecamatan -> desa cascade, GPS, a
signature and a photo, with JavaScript and without; repeats on a small household form (the intake
form has none); and axe-core and a 44 px touch-target check on the pages."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import AXE, inject_axe, signed_in_page
from tests.browser.server import Server
from tests.web.test_api_submissions import JPEG

pytestmark = pytest.mark.browser

# A 2400x1800 JPEG drawn by the browser itself: the runtime must scale it to at most 1600 px.
JPEG_JS = """() => new Promise((done) => {
  const c = document.createElement('canvas'); c.width = 2400; c.height = 1800;
  const g = c.getContext('2d'); g.fillStyle = '#3a7'; g.fillRect(0, 0, 2400, 1800);
  g.fillStyle = '#fff'; g.fillRect(300, 300, 900, 600);
  c.toBlob((b) => b.arrayBuffer().then((a) => done(Array.from(new Uint8Array(a)))), 'image/jpeg', 0.9);
})"""
READY = "html[data-pantau=siap]"


def rows(server: Server, form_id: str) -> list[dict[str, Any]]:
    with sqlite3.connect(server.database) as db:
        found = db.execute("SELECT answers FROM submission WHERE form_id = ?", (form_id,)).fetchall()
    return [json.loads(r[0]) for r in found]


def jpeg_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a JPEG's start-of-frame marker."""
    at = 2
    while at + 9 < len(data):
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        if marker in (0xC0, 0xC1, 0xC2):
            return int.from_bytes(data[at + 7:at + 9], "big"), int.from_bytes(data[at + 5:at + 7], "big")
        at += 2 + length
    raise AssertionError("no SOF marker")


def stored_photo(server: Server, sha256: str) -> bytes:
    return (server.data_dir / "attachments" / sha256[:2] / sha256).read_bytes()


def radio(page: Any, name: str, value: str) -> None:
    settled(page).check(f"input[name='{name}'][value='{value}']")


def sign(page: Any) -> None:
    box = page.locator("canvas.pad").bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + 40)
    page.mouse.down()
    page.mouse.move(box["x"] + 220, box["y"] + 110, steps=10)
    page.mouse.up()


def settled(page: Any) -> Any:
    """After typing, the runtime updates the page a moment later (it marks the form aria-busy until
    then); a click before that may land where a button was before a field appeared above it."""
    page.wait_for_selector("#fill:not([aria-busy])", state="attached")
    return page


def wait_photo(page: Any, name: str) -> None:
    page.wait_for_function(f"() => document.querySelector('input[type=hidden][name={name}]').value.length === 64")


def test_registrasi_penerima_on_a_phone(server: Server, phone: Any, tmp_path: Path) -> None:
    page = signed_in_page(phone, server, "/f/registrasi_penerima")
    page.wait_for_selector(READY)
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(bytes(page.evaluate(JPEG_JS)))

    # Consent first: without it the rest of the form is not relevant, so there is one step.
    assert page.text_content("#step") == "Langkah 1 dari 1"
    radio(page, "persetujuan", "ya")
    assert page.text_content("#step") == "Langkah 1 dari 7"
    settled(page).click("#next")

    # Identitas: Next checks the page first; the message sits at its field.
    settled(page).click("#next")
    assert page.text_content("[id='e-nik']") == "Wajib diisi."
    assert page.text_content("#step") == "Langkah 2 dari 7"
    sign(page)
    page.fill("#f-nik", "7371014101900001")  # issued in Makassar: a warning that needs the tick
    page.wait_for_selector("#f-nik ~ ul.warn li")
    assert "73.71.01" in page.text_content("#f-nik ~ ul.warn") and page.locator("#f-nik ~ .cf").is_visible()
    page.fill("#f-nik", "6402064101900001")
    settled(page)
    assert page.locator("#f-nik ~ ul.warn").is_hidden() and page.locator("#f-nik ~ .cf").is_hidden()
    page.fill("#f-no_kk", "6402061203150007")
    page.fill("#f-nama", "Siti Aminah")
    radio(page, "jenis_kelamin", "P")
    page.fill("#f-tgl_lahir", "1990-01-01")
    assert page.text_content("#f-nik ~ p.nik") == "Perempuan · lahir 1 Januari 1990"
    assert page.locator("[id='e-nik']").count() == 0  # fixed: the message went away
    for value in ("cerai_mati",):
        radio(page, "status_kawin", value)
    radio(page, "hubungan_kk", "kepala")
    radio(page, "pendidikan", "smp")
    page.fill("#f-no_hp", "0812-3456-7890")
    assert page.locator("#f-desil").is_hidden()
    radio(page, "status_dtsen", "terdaftar")
    assert page.locator("#f-desil").is_visible()
    page.fill("#f-desil", "3")
    wait_photo(page, "ttd_persetujuan")
    settled(page).click("#next")

    # Alamat: only Citra's own kecamatan is offered, and the desa list follows it; GPS with its accuracy.
    assert options(page, "#f-kecamatan") == ["64.02.06"]
    assert options(page, "#f-desa") == []  # nothing until the kecamatan is chosen
    settled(page).select_option("#f-kecamatan", "64.02.06")
    tenggarong = page.eval_on_selector_all("#f-desa option[value]:not([value=''])", "os => os.map(o => o.value)")
    assert tenggarong and all(v.startswith("64.02.06.") for v in tenggarong)
    settled(page).select_option("#f-desa", tenggarong[0])
    page.fill("#f-rt_rw", "005/002")
    page.fill("#f-alamat", "Jl. Danau Aji No. 12")
    settled(page).click("button.gps")
    page.wait_for_function("() => document.getElementById('f-lokasi').value !== ''")
    assert page.text_content(".acc") == "Akurasi ±12 m"
    settled(page).click("#next")

    # Sasaran: each target group opens its own questions.
    radio(page, "kelompok_rentan", "lansia")
    assert page.locator("#w-lansia").is_visible() and page.locator("#w-prse").is_hidden()
    radio(page, "kelompok_rentan", "prse")
    assert page.locator("#w-prse").is_visible() and page.locator("#w-lansia").is_hidden()
    radio(page, "prse_kondisi", "cerai_mati")
    radio(page, "nafkah_utama", "ya")
    settled(page).click("#next")

    for name, value in [("jml_art", "4"), ("jml_balita", "1"), ("jml_lansia", "0"), ("jml_disabilitas", "0"),
                        ("penghasilan_bln", "Rp 1.250.000"), ("luas_lantai", "36")]:
        page.fill(f"#f-{name}", value)
    assert "Rp 312500" in page.text_content("#w-info_kapita")  # a calculation shown in a note
    for name, value in [("status_bangunan", "milik_sendiri"), ("lantai", "5"), ("dinding", "3"), ("atap", "3"),
                        ("air_minum", "2"), ("penerangan", "1"), ("daya", "450"), ("bbm_masak", "04"), ("bab", "1")]:
        radio(page, name, value)
    settled(page).check("input[name=bansos_diterima][value=pkh]")
    settled(page).click("#next")

    assert page.locator("#f-jenis_usaha").is_hidden()
    radio(page, "punya_usaha", "ya")
    radio(page, "jenis_usaha", "kuliner")
    page.fill("#f-omzet_bln", "3000000")
    page.fill("#f-untung_bln", "900000")
    settled(page).check("input[name=bantuan_diusulkan][value=uep_peralatan]")
    page.fill("#f-rincian_alat", "Oven dan mixer")
    radio(page, "pernah_uep", "tidak")
    settled(page).click("#next")

    assert page.text_content("#step") == "Langkah 7 dari 7" and page.locator("#next").is_hidden()
    page.set_input_files("#f-foto_penerima", str(photo))
    wait_photo(page, "foto_penerima")
    settled(page).click("#send")
    page.wait_for_selector(".receipt h2")
    assert page.text_content(".receipt h2") == "Terkirim"

    [answers] = rows(server, "registrasi_penerima")
    assert answers["desa"] == tenggarong[0] and answers["prse_kondisi"] == "cerai_mati"
    assert answers["penghasilan_bln"] == 1250000 and answers["lokasi"].startswith("-0.4195")
    assert "lansia_potensi" not in answers  # answered, then not relevant: dropped
    assert max(jpeg_size(stored_photo(server, answers["foto_penerima"]))) == 1600
    assert len(answers["ttd_persetujuan"]) == 64
    assert page.errors == []


def test_registrasi_penerima_without_javascript(server: Server, phone_without_js: Any, tmp_path: Path) -> None:
    page = signed_in_page(phone_without_js, server, "/f/registrasi_penerima")
    photo = tmp_path / "foto.jpg"
    photo.write_bytes(JPEG)
    assert page.locator("#f-nama").is_visible()  # one long page: every field shows
    radio(page, "persetujuan", "ya")
    page.set_input_files("#f-ttd_persetujuan", str(photo))
    page.fill("#f-nik", "6402064101900001")
    page.fill("#f-no_kk", "6402061203150007")
    page.fill("#f-nama", "Siti Aminah")
    radio(page, "jenis_kelamin", "P")
    page.fill("#f-tgl_lahir", "1990-01-01")
    for name, value in [("status_kawin", "kawin"), ("hubungan_kk", "kepala"), ("pendidikan", "sd"),
                        ("status_dtsen", "tidak_terdaftar"), ("kelompok_rentan", "fakir_miskin")]:
        radio(page, name, value)
    # No cascade without JavaScript: choosing the kecamatan and asking for the choices is a post.
    settled(page).select_option("#f-kecamatan", "64.02.06")
    settled(page).click("#w-alamat_group button[value=hitung]")
    page.wait_for_load_state()
    assert page.input_value("#f-nama") == "Siti Aminah"  # the answers survive the round trip
    assert len(page.input_value("input[type=hidden][name=ttd_persetujuan]")) == 64  # and so does the photo
    desa = page.eval_on_selector_all("#f-desa option[value]:not([value=''])", "os => os.map(o => o.value)")
    assert desa and all(v.startswith("64.02.06.") for v in desa)
    settled(page).select_option("#f-desa", desa[-1])
    page.fill("#f-rt_rw", "001/001")
    page.fill("#f-alamat", "Jl. Mangkurawang")
    page.fill("#f-lokasi", "-0.4195 116.9856 20 8")
    for name, value in [("jml_art", "2"), ("jml_balita", "0"), ("jml_lansia", "0"), ("jml_disabilitas", "0"),
                        ("penghasilan_bln", "800000"), ("luas_lantai", "20")]:
        page.fill(f"#f-{name}", value)
    for name, value in [("status_bangunan", "kontrak"), ("lantai", "5"), ("dinding", "4"), ("atap", "3"),
                        ("air_minum", "3"), ("penerangan", "4"), ("bbm_masak", "10"), ("bab", "6"),
                        ("punya_usaha", "tidak"), ("pernah_uep", "tidak")]:
        radio(page, name, value)
    settled(page).check("input[name=bansos_diterima][value=tidak_ada]")
    settled(page).check("input[name=bantuan_diusulkan][value=pelatihan]")
    camera = tmp_path / "kamera.jpg"  # a camera's full picture: no runtime scales it on this phone
    from PIL import Image
    Image.new("RGB", (2400, 1800), (40, 160, 90)).save(camera, "JPEG", quality=90)
    page.set_input_files("#f-foto_penerima", str(camera))
    settled(page).click("#send")
    page.wait_for_selector(".receipt")
    assert page.text_content(".receipt h2") == "Terkirim"
    found = [a for a in rows(server, "registrasi_penerima") if a.get("alamat") == "Jl. Mangkurawang"]
    assert len(found) == 1 and found[0]["desa"] == desa[-1] and "daya" not in found[0]
    # Stored as the runtime would have sent it: a JPEG of at most 1600 px.
    assert jpeg_size(stored_photo(server, found[0]["foto_penerima"])) == (1600, 1200)


def test_repeats_are_added_removed_and_renumbered(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/uji_keluarga")
    page.wait_for_selector(READY)
    page.fill("#f-kepala", "Ani")
    assert page.locator("[id='w-anggota[0]'] .rm").is_hidden()  # min_count 1
    for i, (name, sex, age) in enumerate([("Ani", "P", "30"), ("Budi", "L", "3"), ("Citra", "P", "8"),
                                          ("Dodi", "L", "1")]):
        if i:
            settled(page).click("button.add")
        page.fill(f"[id='f-anggota[{i}].nama_art']", name)
        radio(page, f"anggota[{i}].jk_art", sex)
        page.fill(f"[id='f-anggota[{i}].umur_art']", age)
    assert page.locator("button.add").is_disabled()  # max_count 4
    assert page.locator("[id='w-anggota[1].balita']").is_visible()
    assert page.locator("[id='w-anggota[0].balita']").is_hidden()
    assert page.text_content("#w-ringkasan") == "Jumlah anggota: 4"
    settled(page).click("[id='w-anggota[1]'] .rm")  # Budi leaves: Citra and Dodi move up
    assert page.input_value("[id='f-anggota[1].nama_art']") == "Citra"
    assert page.is_checked("input[name='anggota[2].jk_art'][value=L]")
    assert page.text_content("[id='w-anggota[2]'] .rn span") == "3"
    assert page.locator("button.add").is_enabled() and page.text_content("#w-ringkasan") == "Jumlah anggota: 3"
    # A kecamatan code that is not in the Kemendagri list: only the server knows; its 422 puts the
    # warning and the tick at the field, and nothing is stored until it is ticked.
    page.fill("#f-nik_kepala", "6402994101900001")
    settled(page).click("#send")
    page.wait_for_selector("#f-nik_kepala ~ ul[data-srv] li")
    assert "64.02.99" in page.text_content("ul[data-srv]") and rows(server, "uji_keluarga") == []
    settled(page).check("input[name=_konfirmasi][value=nik_kepala]")
    settled(page).click("#send")
    page.wait_for_selector(".receipt h2")
    [answers] = rows(server, "uji_keluarga")
    assert [(m["nama_art"], m["jk_art"], m["umur_art"]) for m in answers["anggota"]] == [
        ("Ani", "P", 30), ("Citra", "P", 8), ("Dodi", "L", 1)]
    assert answers["_konfirmasi"] == ["nik_kepala"]
    assert page.errors == []


def test_a_counted_repeat_follows_its_answer(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/uji_anak")
    page.wait_for_selector(READY)
    assert page.locator(".ri").count() == 0 and page.locator("button.add").count() == 0
    page.fill("#f-jml_anak", "3")
    settled(page)
    assert page.locator(".ri").count() == 3
    page.fill("[id='f-anak[0].nama_anak']", "Ani")
    page.fill("#f-jml_anak", "1")
    settled(page)
    assert page.locator(".ri").count() == 1 and page.input_value("[id='f-anak[0].nama_anak']") == "Ani"
    settled(page).click("#send")
    page.wait_for_selector(".receipt h2")
    assert rows(server, "uji_anak") == [{"jml_anak": 1, "anak": [{"nama_anak": "Ani"}]}]


AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => v.id + ': ' + v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', '));
}"""
TARGETS = """() => Array.from(document.querySelectorAll('button, a, select, textarea, fieldset.q > label, label.o, '
    + 'input:not([type=radio]):not([type=checkbox]):not([type=hidden])'))
  .filter((e) => e.offsetParent !== null && !e.closest('.sr'))
  .map((e) => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])
  .filter((p) => p[1] < 44)"""


def test_axe_finds_no_serious_violations_and_targets_are_44px(server: Server, phone: Any) -> None:
    assert AXE.exists(), "npm install --no-audit --no-fund (axe-core is a devDependency)"
    page = signed_in_page(phone, server, "/f/registrasi_penerima")
    page.wait_for_selector(READY)
    radio(page, "persetujuan", "ya")
    settled(page).click("#next")
    settled(page).click("#next")  # the page's errors are shown: they must be announced and described too
    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []
    assert page.evaluate(TARGETS) == []
    # The page as a phone without JavaScript gets it: the same markup with the runtime never loaded.
    # axe itself needs timers, which a JavaScript-disabled page never fires (axe.run would hang), so
    # this page blocks the runtime's scripts instead of disabling JavaScript.
    # The service worker would serve the runtime from its cache, past the route below.
    page.evaluate("navigator.serviceWorker.ready.then(() => navigator.serviceWorker.getRegistrations())"
                  ".then((found) => Promise.all(found.map((r) => r.unregister())))")
    plain = phone.new_page()  # same context: already signed in by the page above
    plain.route("**/*.js", lambda route: route.abort())  # the runtime (served under /aset/) never arrives
    plain.goto(f"{server.url}/f/registrasi_penerima")
    assert plain.evaluate("() => document.documentElement.getAttribute('data-pantau')") is None  # no runtime
    inject_axe(plain)
    assert plain.evaluate(AXE_RUN) == []
    assert plain.evaluate(TARGETS) == []


def options(page: Any, select: str) -> list[str]:
    return [v for v in page.eval_on_selector_all(f"{select} option", "os => os.map(o => o.value)") if v]


def test_region_questions_offer_only_ones_own_areas(server: Server, browser: Any) -> None:
    citra = browser.new_context(viewport={"width": 360, "height": 740}, locale="id-ID", timezone_id="Asia/Makassar")
    page = signed_in_page(citra, server, "/f/registrasi_penerima")
    page.wait_for_selector("html[data-pantau=siap]")
    assert options(page, "#f-kecamatan") == ["64.02.06"]
    radio(page, "persetujuan", "ya")  # without consent the rest is not relevant
    # The kecamatan question sits on a later page: choose it as the runtime would see a choice.
    page.evaluate("""() => { const e = document.getElementById('f-kecamatan'); e.value = '64.02.06';
      e.dispatchEvent(new Event('change', { bubbles: true })); }""")
    page.wait_for_function("() => document.querySelectorAll('#f-desa option').length > 1")
    desa = options(page, "#f-desa")
    assert desa and all(code.startswith("64.02.06" + ".") for code in desa)
    citra.close()

    ani = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID")
    page = signed_in_page(ani, server, "/f/registrasi_penerima", username="ani")  # staff: the whole kabupaten
    page.wait_for_selector("html[data-pantau=siap]")
    everything = options(page, "#f-kecamatan")
    assert len(everything) == 20 and "64.02.06" in everything and "64.02.13" in everything
    ani.close()


def test_the_back_button_goes_to_the_previous_page_and_a_draft_reopens_where_it_was_left(
        server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/registrasi_penerima")
    page.wait_for_selector(READY)
    radio(page, "persetujuan", "ya")
    settled(page).click("#next")
    assert page.text_content("#step") == "Langkah 2 dari 7"
    page.fill("#f-nama", "Siti Aminah")
    page.go_back()  # the phone's Back button: the previous page of the form, not out of it
    page.wait_for_function("() => document.getElementById('step').textContent === 'Langkah 1 dari 7'")
    assert page.url.endswith("/f/registrasi_penerima")
    page.go_forward()
    page.wait_for_function("() => document.getElementById('step').textContent === 'Langkah 2 dari 7'")
    assert page.input_value("#f-nama") == "Siti Aminah"

    page.wait_for_timeout(400)  # the draft is saved a moment after the last change
    page.reload()  # a resumed draft opens on the page where it was left
    page.wait_for_selector("html[data-pantau=siap][data-offline=siap]")
    page.wait_for_function("() => document.getElementById('step').textContent === 'Langkah 2 dari 7'")
    assert page.input_value("#f-nama") == "Siti Aminah" and page.locator("#f-nama").is_visible()
    assert page.errors == []


def test_header_links_are_44_px_tall_on_a_phone(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/")
    for path in ("/", "/draf", "/terkirim", "/f/registrasi_penerima"):
        page.goto(f"{server.url}{path}")
        heights = page.eval_on_selector_all(".bar a, .bar button",
                                            "es => es.map(e => e.getBoundingClientRect().height)")
        assert heights and min(heights) >= 44, (path, heights)


def test_an_amount_is_read_back_in_rupiah_as_it_is_typed(server: Server, phone: Any) -> None:
    page = signed_in_page(phone, server, "/f/uji_anak")
    page.wait_for_selector(READY)
    page.fill("#f-uang_saku", "1200000")
    page.wait_for_function(
        "() => (document.querySelector('.q:has(#f-uang_saku) p.rp') || {}).textContent === 'Rp 1.200.000'")
    page.fill("#f-uang_saku", "Rp 25.000")  # as people write it: the same amount
    page.wait_for_function("() => document.querySelector('.q:has(#f-uang_saku) p.rp').textContent === 'Rp 25.000'")
    page.fill("#f-uang_saku", "")
    page.wait_for_function("() => document.querySelector('.q:has(#f-uang_saku) p.rp').hidden")
