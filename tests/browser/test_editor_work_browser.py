"""The form editor never loses an edit and speaks to staff in their words, at a staff
member's desk (1366x768, id-ID, WITA) against a real `pantau serve`: edits saved before publishing,
a warning before leaving with unsaved changes, one view visible at a time, deleting a question with
data confirmed with its count, staff's words for types, groups, codes, roles and regions, ready-made
lists and rules, compact cards, and exports from /data that give what the page shows."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.browser.conftest import inject_axe, signed_in_page
from tests.browser.server import Server
from tests.browser.test_fill_browser import AXE_RUN

pytestmark = pytest.mark.browser



def draft_of(server: Server, form_id: str) -> dict[str, Any]:
    [(source,)] = server.rows("SELECT source FROM form_draft WHERE form_id = ?", form_id)
    return dict(yaml.safe_load(source))



def new_form(desk: Any, server: Server, form_id: str, title: str) -> Any:
    page = signed_in_page(desk, server, "/formulir", username="ani")
    page.fill("#new-id", form_id)
    page.fill("#new-title", title)
    page.click("form[action='/formulir'] button[type=submit]")
    page.wait_for_selector("html[data-editor=siap]")
    return page


def card(page: Any, name: str) -> Any:
    return page.locator(f"#structure li.field[data-name={name}]")


def save(page: Any, ok: bool = True) -> None:
    page.evaluate("() => document.documentElement.removeAttribute('data-saved')")
    page.click("#save")
    page.wait_for_selector(f"html[data-saved={'true' if ok else 'false'}]")


# --- item 1: nothing typed is lost at publishing, leaving warns, the state is always shown ------------
def test_unsaved_edits_are_saved_before_publishing_and_leaving_warns(server: Server, desk: Any) -> None:
    page = new_form(desk, server, "uji_simpan", "Uji simpan")
    state = page.locator("#save-state")
    assert re.fullmatch(r"Tersimpan \d\d:\d\d", state.text_content().strip())  # the draft just made
    label = card(page, "pengantar").locator("input.f-label-id")
    label.fill("Selamat datang di survei kepuasan")
    assert state.text_content().strip() == "Belum disimpan"

    # Leaving with unsaved changes asks first; staying keeps the page and the text.
    dialogs: list[str] = []

    def stay(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    page.click("header a.brand")
    assert dialogs == ["beforeunload"]
    assert page.url.endswith("/formulir/uji_simpan")
    assert label.input_value() == "Selamat datang di survei kepuasan"
    page.remove_listener("dialog", stay)

    # "Periksa dan terbitkan…" without Simpan: the draft is saved first, the publish page has the change.
    page.click("#to-publish")
    page.wait_for_selector("#diff")
    assert draft_of(server, "uji_simpan")["fields"][0]["label"] == {"id": "Selamat datang di survei kepuasan"}
    page.go_back()
    page.wait_for_selector("html[data-editor=siap]")
    assert re.fullmatch(r"Tersimpan \d\d:\d\d", page.locator("#save-state").text_content().strip())

    # An edit that cannot be saved stops the way to publishing, with the reason, and nothing is lost.
    card(page, "pengantar").locator("input.f-name").fill("1salah")
    page.click("#to-publish")
    page.wait_for_selector("html[data-saved=false]")
    assert page.url.endswith("/formulir/uji_simpan")
    assert "terbit" in page.text_content("#say").lower()
    assert page.locator("#save-state").text_content().strip() == "Belum disimpan"
    assert draft_of(server, "uji_simpan")["fields"][0]["name"] == "pengantar"
    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []
    assert page.errors == []


# --- item 2: one view at a time, the visible one is saved, switching carries the edits ------------------
def test_only_the_visible_view_shows_and_is_saved_and_edits_cross_views(server: Server, desk: Any) -> None:
    page = new_form(desk, server, "uji_tampilan", "Uji tampilan")
    assert page.locator("#structure").is_visible()
    assert page.locator("#yaml").is_hidden() and page.locator("#yaml-view").is_hidden()

    # The YAML view: the structure is hidden; an edit there crosses to the structure view unsaved...
    page.click("#tab-yaml")
    page.wait_for_selector("#yaml-view:not([hidden])")
    assert page.locator("#structure").is_hidden() and page.locator("#yaml").is_visible()
    source = page.input_value("#yaml").replace("label: {id: Uji tampilan}", "label: {id: Dari YAML}", 1)
    assert "Dari YAML" in source
    page.fill("#yaml", source)
    assert page.locator("#save-state").text_content().strip() == "Belum disimpan"
    page.click("#tab-structure")
    page.wait_for_selector("#structure:not([hidden])")
    assert page.locator("#yaml").is_hidden()
    assert card(page, "pengantar").locator("input.f-label-id").input_value() == "Dari YAML"

    # ... and an edit in the structure crosses back; Simpan in the YAML view saves what it shows.
    card(page, "pengantar").locator("input.f-label-id").fill("Dari struktur")
    page.click("#tab-yaml")
    page.wait_for_selector("#yaml-view:not([hidden])")
    assert "label: {id: Dari struktur}" in page.input_value("#yaml")
    page.fill("#yaml", page.input_value("#yaml").replace("{id: Dari struktur}", "{id: Terakhir di YAML}"))
    save(page)
    assert draft_of(server, "uji_tampilan")["fields"][0]["label"] == {"id": "Terakhir di YAML"}
    assert page.errors == []


# --- item 3: deleting a question with data asks first and says how many answers it holds ----------------
HAPUS = """
settings: {id: uji_hapus, version: "1", title: {id: Uji hapus}}
fields:
  - {type: note, name: pengantar, label: {id: Survei kepuasan}}
  - {type: text, name: nama, label: {id: Nama}}
  - {type: integer, name: umur, label: {id: Umur}}
  - type: repeat
    name: anggota
    label: {id: Anggota}
    fields:
      - {type: text, name: nama_art, label: {id: Nama anggota}}
"""


def publish_by_hand(server: Server, source: str, form_id: str) -> None:
    """A form published through the editor's own endpoints, as Ani would with the page."""
    from tests.browser.server import csrf_token

    ani = server.client("ani")
    try:
        token = csrf_token(ani)
        made = ani.post("/formulir", data={"form_id": form_id, "title": form_id, "_csrf_token": token})
        assert made.status_code == 303, made.text
        saved = ani.post(f"/formulir/{form_id}/draf", json={"yaml": source}, headers={"x-csrftoken": token})
        assert saved.status_code == 200, saved.text
        done = ani.post(f"/formulir/{form_id}/terbit", data={"_csrf_token": token})
        assert done.status_code == 303, done.text
    finally:
        ani.close()


def submit(server: Server, form_id: str, records: list[dict[str, Any]]) -> None:
    import uuid

    from tests.browser.server import csrf_token

    citra = server.client("citra")
    try:
        headers = {"x-csrftoken": csrf_token(citra)}
        for answers in records:
            sent = citra.post("/api/v1/submissions", headers=headers, json={
                "instance_id": str(uuid.uuid4()), "form_id": form_id, "form_version": "1", "answers": answers})
            assert sent.status_code == 201, sent.text
    finally:
        citra.close()


def test_deleting_a_question_with_answers_asks_and_says_how_many_stay(server: Server, desk: Any) -> None:
    publish_by_hand(server, HAPUS, "uji_hapus")
    records = [{"nama": f"Warga {i}", **({"umur": 30 + i} if i % 7 else {}),
                "anggota": [{"nama_art": f"Anak {i}.{j}"} for j in range(i % 3)]} for i in range(14)]
    submit(server, "uji_hapus", records)
    with_age = sum(1 for r in records if "umur" in r)
    members = sum(len(r["anggota"]) for r in records)
    page = signed_in_page(desk, server, "/formulir/uji_hapus", username="ani")
    page.wait_for_selector("html[data-editor=siap]")
    asked: list[str] = []

    def answer(accept: bool) -> Any:
        def handle(dialog: Any) -> None:
            asked.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()
        return handle

    no = answer(False)
    page.on("dialog", no)
    card(page, "umur").locator("button.f-del").click()
    for _ in range(100):  # the question comes once the counts have arrived
        if asked:
            break
        page.wait_for_timeout(100)
    assert asked == [f"Hapus pertanyaan 'umur'? {with_age} jawaban tetap ada di ekspor dan laporan lama."]
    assert card(page, "umur").count() == 1  # "no" keeps it, and nothing is unsaved
    assert page.locator("#save-state").text_content().strip() != "Belum disimpan"
    page.remove_listener("dialog", no)
    page.on("dialog", answer(True))
    card(page, "anggota").locator(":scope > .head button.f-del").click()
    card(page, "anggota").wait_for(state="detached")
    assert asked[-1] == (f"Hapus 'anggota' beserta pertanyaan di dalamnya? {members}"
                         " jawaban tetap ada di ekspor dan laporan lama.")
    card(page, "umur").locator("button.f-del").click()
    card(page, "umur").wait_for(state="detached")
    card(page, "pengantar").locator("button.f-del").click()  # a note holds no answers: no question
    card(page, "pengantar").wait_for(state="detached")
    assert len(asked) == 3
    assert page.locator("#save-state").text_content().strip() == "Belum disimpan"

    # The publish page says the same of each removed question.
    page.click("#to-publish")
    page.wait_for_selector("#diff")
    removed = page.locator("#diff ul.removed li[data-field=umur]").text_content()
    assert f"{with_age} jawaban tetap ada di ekspor dan laporan lama" in removed
    assert page.errors == []


# --- item 7: exports from /data give what the page shows, photos as links -------------------------------
FOTO = """
settings: {id: uji_foto, version: "1", title: {id: Uji foto}}
fields:
  - {type: text, name: nama, label: {id: Nama}}
  - {type: image, name: foto_rumah, label: {id: Foto rumah}}
"""


def test_exports_from_the_data_page_give_the_records_shown_with_photos_as_links(server: Server, desk: Any) -> None:
    import io
    import zipfile

    import httpx
    import openpyxl

    from tests.browser.server import csrf_token
    from tests.web.test_api_submissions import JPEG

    publish_by_hand(server, FOTO, "uji_foto")
    citra = server.client("citra")
    try:
        sha = citra.post("/api/v1/attachments", content=JPEG, headers={
            "x-csrftoken": csrf_token(citra), "content-type": "image/jpeg"}).json()["sha256"]
    finally:
        citra.close()
    records = [{"nama": f"Warga {i}", **({"foto_rumah": sha} if i % 2 else {})} for i in range(5)]
    submit(server, "uji_foto", records)

    # The list shows every received, unreviewed record; its CSV link gives exactly those.
    page = signed_in_page(desk, server, "/data?form=uji_foto", username="ani")
    assert page.locator("table.list tbody tr").count() == len(records)
    with page.expect_download() as got:
        page.click("text=CSV (zip)")
    with zipfile.ZipFile(got.value.path()) as archive:
        lines = archive.read("uji_foto.csv").decode("utf-8-sig").splitlines()
    assert len(lines) == 1 + len(records)
    link = f"{server.url}/api/v1/attachments/{sha}"
    assert sum(1 for line in lines[1:] if line.endswith("," + link)) == sum(1 for r in records if "foto_rumah" in r)
    assert all(sha not in line.replace(link, "") for line in lines)  # no bare sha256

    # The same in Excel, as a link one clicks; it opens for a signed-in reader and for nobody else.
    with page.expect_download() as got:
        page.click("text=Excel")
    sheet = openpyxl.load_workbook(io.BytesIO(got.value.path().read_bytes())).worksheets[0]
    # Row 1 holds the questions' labels, row 2 their codes; the records start on row 3.
    codes = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    column = codes.index("foto_rumah") + 1
    photos = [sheet.cell(row=r, column=column).value for r in range(3, sheet.max_row + 1)]
    assert sorted(p for p in photos if p) == [f'=HYPERLINK("{link}")'] * sum(1 for r in records if "foto_rumah" in r)
    opened = desk.request.get(link)
    assert opened.status == 200 and opened.headers["content-type"] == "image/jpeg"
    assert httpx.get(link, follow_redirects=False).status_code in (302, 401, 404)

    # A filtered list still exports what it shows.
    page.goto(f"{server.url}/data?form=uji_foto&status=approved")
    with page.expect_download() as got:
        page.click("text=CSV (zip)")
    with zipfile.ZipFile(got.value.path()) as archive:
        assert len(archive.read("uji_foto.csv").decode("utf-8-sig").splitlines()) == 1  # none approved yet
    assert page.errors == []


# --- item 4: staff's words ------------------------------------------------------------------------------
STAFF_TYPES = ["Teks", "Angka bulat", "Pilihan satu", "Pilihan ganda", "Rupiah", "NIK", "Foto", "Lokasi GPS",
               "Tanggal", "Catatan", "Persetujuan", "Kelompok pertanyaan", "Pertanyaan berulang"]


def test_the_editor_speaks_in_staff_words(server: Server, desk: Any) -> None:
    page = new_form(desk, server, "uji_kata", "Uji kata")
    # Roles in Indonesian wherever they are shown: the assignment and the list of forms.
    roles = page.locator("#assign fieldset label").all_text_contents()
    assert [r.strip() for r in roles] == ["Koordinator", "Petugas lapangan"]
    page.locator("#assign input[value=coordinator]").check()
    page.click("#assign button[type=submit]")
    page.wait_for_selector("html[data-editor=siap]")
    page.goto(f"{server.url}/formulir")
    assert "Koordinator" in page.locator("main").inner_text()
    assert not re.search(r"\b(coordinator|enumerator)\b", page.locator("main").inner_text())
    page.goto(f"{server.url}/formulir/uji_kata")
    page.wait_for_selector("html[data-editor=siap]")

    # A problem in the structure view points at the question's card, not at a YAML line.
    page.click("#structure .fields-box > .adds .add-question")
    last = page.locator("#structure li.field").last
    last.locator("input.f-name").fill("umur")
    last.locator("select.f-type").select_option("integer")
    page.locator("#structure li.field").last.locator("input.x-constraint").fill(". > ${tidak_ada}")
    save(page, ok=False)
    problem = page.locator("#problems li", has_text="tidak_ada")
    assert "baris" not in problem.text_content() and "Pertanyaan 'umur'" in problem.text_content()
    assert not [p for p in page.locator("#problems li").all_text_contents() if "baris" in p]
    problem.locator("button.to-card").click()
    assert page.evaluate("() => document.activeElement.closest('li.field').dataset.name") == "umur"
    page.click("#tab-yaml")
    page.wait_for_selector("#yaml-view:not([hidden])")
    assert "baris" in page.locator("#problems li", has_text="tidak_ada").text_content()  # lines where lines are
    page.fill("#yaml", page.input_value("#yaml").replace("${tidak_ada}", "0"))  # fixed where it is shown
    page.click("#tab-structure")
    page.wait_for_selector("#structure:not([hidden])")
    assert page.locator("#problems li.error").count() == 0

    page.click("#structure .fields-box > .adds .add-question")
    question = page.locator("#structure li.field").last
    offered = question.locator("select.f-type option").evaluate_all("os => os.map(o => o.textContent)")
    assert offered[:len(STAFF_TYPES)] == STAFF_TYPES  # the common ones first, in Indonesian
    assert not {"text", "integer", "select_one", "repeat", "group", "Ulangan"} & set(offered)
    assert question.locator(".f-type-help").text_content().strip()  # one line saying what it is
    assert question.locator(".in.f-name label").text_content() == "Kode pertanyaan"
    question.locator("select.f-type").select_option("repeat")
    assert page.locator("#structure li.field").last.locator(".f-type-help").text_content().startswith("Pertanyaan")

    # One word for a group everywhere; no "grup", no "ulangan".
    page.click("#structure .fields-box > .adds .add-group")
    words = page.locator("#structure").inner_text().lower()
    assert "kelompok" in words and "grup" not in words and "ulangan" not in words

    # Regions by name, alphabetically, the code beside.
    page.click("#structure .lists-box .add-region")
    within = page.locator("#structure .list-card").last.locator("select.l-within option")
    names = within.evaluate_all("os => os.map(o => o.textContent)")
    assert "Kabupaten Kutai Kartanegara (64.02)" in names
    bare = [re.sub(r"^(Kabupaten|Kota) | \(.*\)$", "", n).lower() for n in names]
    assert bare == sorted(bare)
    page.locator("#structure .list-card").last.locator("select.l-level").select_option("desa")
    within = page.locator("#structure .list-card").last.locator("select.l-within")
    assert "Tenggarong (64.02.06)" in within.locator("option").evaluate_all("os => os.map(o => o.textContent)")
    within.select_option("64.02.06")
    assert page.locator("#structure .list-card").last.locator("input.l-region").input_value() == "desa 64.02.06"

    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []
    assert page.errors == []


# --- item 5: common things ready-made -------------------------------------------------------------------
def test_yes_no_and_likert_lists_and_the_region_pair_are_one_click_away(server: Server, desk: Any) -> None:
    page = new_form(desk, server, "uji_siap", "Uji siap")
    page.click("#structure .lists-box .add-yes-no")
    page.click("#structure .lists-box .add-likert")
    lists = page.locator("#structure .list-card")
    assert lists.evaluate_all("cs => cs.map(c => c.dataset.list)") == ["ya_tidak", "skala_puas"]
    likert = page.locator("#structure .list-card[data-list=skala_puas] input.c-label-id")
    assert likert.evaluate_all("is => is.map(i => i.value)") == [
        "Sangat tidak puas", "Tidak puas", "Cukup", "Puas", "Sangat puas"]

    # A question picks a ready-made list from its own list picker; an existing one is reused, not copied.
    page.click("#structure .fields-box > .adds .add-question")
    page.locator("#structure li.field").last.locator("select.f-type").select_option("select_one")
    page.locator("#structure li.field").last.locator("select.f-list").select_option("+ya_tidak")
    assert page.locator("#structure li.field").last.locator("select.f-list").input_value() == "ya_tidak"
    assert lists.count() == 2

    # "Wilayah (kecamatan dan desa)": both questions, both lists and the filter in one click.
    page.click("#structure .fields-box > .adds .add-wilayah")
    assert card(page, "desa").locator("input.x-choice_filter").input_value() == "parent = ${kecamatan}"
    save(page)
    saved = draft_of(server, "uji_siap")
    assert saved["choices"]["kecamatan"] == {"wilayah": "kecamatan 64.02"}
    assert saved["choices"]["desa"] == {"wilayah": "desa 64.02"}
    fields = {f["name"]: f for f in saved["fields"]}
    assert fields["kecamatan"]["type"] == "select_one kecamatan" and fields["desa"]["type"] == "select_one desa"
    assert fields["desa"]["choice_filter"] == "parent = ${kecamatan}"
    assert [c["name"] for c in saved["choices"]["skala_puas"]] == ["1", "2", "3", "4", "5"]
    assert page.errors == []


# --- item 6: compact cards ---------------------------------------------------------------------------------
RINGKAS = """
settings: {id: uji_ringkas, version: "1", title: {id: Survei kepuasan UEP}}
choices:
  ya_tidak: {ya: Ya, tidak: Tidak}
  skala: {"1": Sangat tidak puas, "2": Tidak puas, "3": Cukup, "4": Puas, "5": Sangat puas}
fields:
  - {type: text, name: nama, label: {id: Nama penerima}, required: yes}
  - {type: select_one ya_tidak, name: usaha_jalan, label: {id: Apakah usaha masih berjalan?}, required: yes}
  - {type: integer, name: omzet, label: {id: Omzet per bulan}, relevant: "${usaha_jalan} = 'ya'", constraint: ". >= 0"}
  - {type: select_one skala, name: puas_bantuan, label: {id: Kepuasan atas bantuan}}
  - {type: select_one skala, name: puas_petugas, label: {id: Kepuasan atas pendampingan}}
  - {type: text, name: saran, label: {id: Saran}, hint: {id: Boleh dikosongkan}}
"""


def test_compact_cards_show_label_type_and_rules_and_five_fit_on_a_screen(server: Server, desk: Any) -> None:
    publish_by_hand(server, RINGKAS, "uji_ringkas")
    page = signed_in_page(desk, server, "/formulir/uji_ringkas", username="ani")
    page.wait_for_selector("html[data-editor=siap]")
    cards = page.locator("#structure .fields-box > ol.fields > li.field")
    assert cards.count() == 6
    omzet = card(page, "omzet")
    assert omzet.locator("input.f-label-id").is_visible()
    assert omzet.locator("select.f-type").input_value() == "integer"
    rules = omzet.locator("p.rules span.rule").all_text_contents()
    assert rules == ["Tampil jika: ${usaha_jalan} = 'ya'", "Batasan: . >= 0"]
    assert card(page, "nama").locator("p.rules").inner_text() == "Wajib diisi"
    assert omzet.locator("input.f-hint-id").is_hidden()  # the rest opens on demand
    boxes = cards.evaluate_all("cs => cs.map(c => c.getBoundingClientRect()).map(r => [r.top, r.bottom])")
    assert boxes[4][1] - boxes[0][0] <= 768, boxes  # five questions fit on a 768 px high screen
    omzet.locator("details.more > summary").click()
    assert omzet.locator("input.f-hint-id").is_visible()
    omzet.locator("input.f-hint-id").fill("Dalam rupiah")
    save(page)
    assert card(page, "omzet").locator("input.f-hint-id").is_visible()  # stays open across the save
    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []
    assert page.errors == []


def test_shown_when_and_constraint_are_built_from_lists(server: Server, desk: Any) -> None:
    page = new_form(desk, server, "uji_aturan", "Uji aturan")
    page.click("#structure .fields-box > .adds .add-question")
    page.locator("#structure li.field").last.locator("input.f-name").fill("bekerja")
    page.locator("#structure li.field").last.locator("select.f-type").select_option("select_one")
    page.locator("#structure li.field").last.locator("select.f-list").select_option("+ya_tidak")
    page.click("#structure .fields-box > .adds .add-question")
    page.locator("#structure li.field").last.locator("input.f-name").fill("umur")
    page.locator("#structure li.field").last.locator("select.f-type").select_option("integer")
    umur = card(page, "umur")
    builder = umur.locator(".x-relevant + .builder")
    builder.locator("select.b-question").select_option("bekerja")
    builder.locator("select.b-op").select_option("=")
    assert builder.locator("datalist option").evaluate_all("os => os.map(o => o.value)") == ["ya", "tidak"]
    builder.locator("input.b-value").fill("ya")
    builder.locator("button.b-write").click()
    assert umur.locator("input.x-relevant").input_value() == "${bekerja} = 'ya'"  # written and shown
    limit = umur.locator(".x-constraint + .builder")
    limit.locator("select.b-op").select_option(">=")
    limit.locator("input.b-value").fill("17")
    limit.locator("button.b-write").click()
    assert umur.locator("input.x-constraint").input_value() == ". >= 17"
    umur.locator("input.x-constraint").fill(". >= 17 and . <= 120")  # free typing still works
    save(page)
    fields = {f["name"]: f for f in draft_of(server, "uji_aturan")["fields"]}
    assert fields["umur"]["relevant"] == "${bekerja} = 'ya'" and fields["umur"]["constraint"] == ". >= 17 and . <= 120"
    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []
    assert page.errors == []
