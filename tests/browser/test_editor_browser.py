"""Ani (staff) builds a form in the browser editor against a real `pantau serve`:
a skip rule and a kecamatan -> desa cascade, expressions checked as typed, a preview running the
real phone runtime whose test submission stays out of the data, the difference before publishing,
publishing; then Citra fills it on her phone and the submission is in the database; finally a
retype of a published field is refused with the suggested new name."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from tests.browser.conftest import inject_axe, signed_in_page
from tests.browser.server import Server
from tests.browser.test_fill_browser import AXE_RUN

pytestmark = pytest.mark.browser
FORM_ID = "uji_bangun"




def last_card(page: Any) -> Any:
    return page.locator("#structure li.field").last


def add_question(page: Any, kind: str, name: str, label_id: str, label_en: str) -> Any:
    page.click("#structure .fields-box > .adds .add-question")
    card = last_card(page)
    card.locator("select.f-type").select_option(kind)
    card = last_card(page)  # the card is drawn anew for its type
    card.locator("input.f-name").fill(name)
    card.locator("input.f-label-id").fill(label_id)
    card.locator("input.f-label-en").fill(label_en)
    return card


def save(page: Any, ok: bool = True) -> None:
    page.evaluate("document.documentElement.removeAttribute('data-saved')")
    page.click("#save")
    page.wait_for_selector(f"html[data-saved={'true' if ok else 'false'}]")


def add_list(page: Any, button: str, name: str) -> Any:
    page.click(f"#structure .lists-box .{button}")
    card = page.locator("#structure .list-card").last
    card.locator("input.l-name").fill(name)
    card.locator("input.l-name").dispatch_event("change")
    return page.locator(f"#structure .list-card[data-list='{name}']")


def test_staff_build_preview_and_publish_a_form_that_a_phone_then_fills(server: Server, desk: Any, phone: Any) -> None:
    page = signed_in_page(desk, server, "/formulir", username="ani")
    page.fill("#new-id", FORM_ID)
    page.fill("#new-title", "Uji bangun")
    page.click("form[action='/formulir'] button[type=submit]")
    page.wait_for_selector("html[data-editor=siap]")
    page.fill("#structure input.s-title-en", "Build test")
    last_card(page).locator("details.more > summary").click()  # a card's details open on demand
    last_card(page).locator("input.f-label-en").fill("Build test")

    # Choice lists: yes/no typed by hand, and the Kemendagri regions for the cascade.
    yes_no = add_list(page, "add-list", "ya_tidak")
    yes_no.locator("input.c-name").fill("ya")
    yes_no.locator("input.c-label-id").fill("Ya")
    yes_no.locator("input.c-label-en").fill("Yes")
    yes_no.locator(".add-choice").click()
    second = page.locator("#structure .list-card[data-list='ya_tidak'] li.choice").nth(1)
    second.locator("input.c-name").fill("tidak")
    second.locator("input.c-label-id").fill("Tidak")
    second.locator("input.c-label-en").fill("No")
    add_list(page, "add-region", "kecamatan").locator("input.l-region").fill("kecamatan 64.02")
    add_list(page, "add-region", "desa").locator("input.l-region").fill("desa 64.02")

    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []  # the editor itself: labelled inputs, no serious violations

    card = add_question(page, "select_one", "bekerja", "Apakah bekerja?", "Working?")
    card.locator("select.f-list").select_option("ya_tidak")
    card.locator("input.f-required").check()

    # The skip rule, checked as it is typed: the error shows at the input, with field names offered.
    card = add_question(page, "text", "pekerjaan", "Pekerjaan", "Job")
    relevant = card.locator("input.x-relevant")
    relevant.fill("${bekerja} = = 'ya'")
    error = card.locator(".x-relevant .xerr")
    assert error.is_visible() and "kolom" in error.text_content()
    relevant.fill("${bekrja} = 'ya'")
    assert "bekrja" in error.text_content()
    relevant.fill("")
    relevant.press_sequentially("${bek")  # field names are offered at the cursor
    card.locator(".x-relevant ul.suggest li[data-name=bekerja]").wait_for()
    relevant.press("Enter")
    relevant.press_sequentially(" = 'ya'")
    assert relevant.input_value() == "${bekerja} = 'ya'"
    assert error.is_hidden()

    card = add_question(page, "select_one", "kecamatan", "Kecamatan", "District")
    card.locator("select.f-list").select_option("kecamatan")
    card = add_question(page, "select_one", "desa", "Desa", "Village")
    card.locator("select.f-list").select_option("desa")
    card.locator("input.x-choice_filter").fill("parent = ${kecamatan}")
    assert card.locator(".x-choice_filter .xerr").is_hidden()
    save(page)

    # The YAML view shows the same definition.
    page.click("#tab-yaml")
    page.wait_for_selector("#yaml-view:not([hidden])")
    yaml_text = page.input_value("#yaml")
    assert "choice_filter: parent = ${kecamatan}" in yaml_text and "relevant: ${bekerja} = 'ya'" in yaml_text
    page.click("#tab-structure")
    page.wait_for_selector("#structure:not([hidden])")

    # The preview runs the real runtime on the draft; its submission is a test, not data.
    preview = page.frame_locator("#preview")
    preview.locator("html[data-pantau=siap]").wait_for(state="attached")
    assert preview.locator("#f-pekerjaan").is_hidden()
    preview.locator("input[name=bekerja][value=ya]").check()
    preview.locator("#f-pekerjaan").wait_for(state="visible")
    preview.locator("#f-pekerjaan").fill("Petani")
    preview.locator("#f-kecamatan").select_option("64.02.13")
    preview.locator("#fill:not([aria-busy])").wait_for(state="attached")
    villages = preview.locator("#f-desa option[value]:not([value=''])").evaluate_all("os => os.map(o => o.value)")
    assert villages and all(v.startswith("64.02.13.") for v in villages)
    preview.locator("#f-desa").select_option(villages[0])
    preview.locator("#send").click()
    preview.locator(".receipt h2").wait_for()
    assert server.rows("SELECT COUNT(*) FROM draft_submission") == [(1,)]
    assert server.rows("SELECT COUNT(*) FROM submission WHERE form_id = ?", FORM_ID) == [(0,)]

    # Before publishing: the difference; then publish.
    page.click("#to-publish")
    page.wait_for_selector("#diff")
    added = page.eval_on_selector_all("#diff ul.added li", "ls => ls.map(l => l.dataset.field)")
    assert {"bekerja", "pekerjaan", "kecamatan", "desa"} <= set(added)
    page.click("#publish")
    page.wait_for_url(f"**/formulir/{FORM_ID}?ok=terbit*")
    assert "Terbit sebagai versi 1." in page.text_content("main")
    assert server.rows(
        "SELECT COUNT(*) FROM form_version v JOIN form f ON f.id = v.form WHERE f.form_id = ?", FORM_ID
    ) == [(1,)]
    assert server.rows("SELECT COUNT(*) FROM draft_submission") == [(0,)]  # deleted with the draft

    # Citra fills the published form on her phone: the skip rule and the cascade work there too.
    phone_page = signed_in_page(phone, server, f"/f/{FORM_ID}")
    phone_page.wait_for_selector("html[data-pantau=siap]")
    phone_page.check("input[name=bekerja][value=tidak]")
    assert phone_page.locator("#f-pekerjaan").is_hidden()
    phone_page.select_option("#f-kecamatan", "64.02.06")
    phone_page.wait_for_selector("#fill:not([aria-busy])", state="attached")
    tenggarong = phone_page.eval_on_selector_all("#f-desa option[value]:not([value=''])", "os => os.map(o => o.value)")
    assert tenggarong and all(v.startswith("64.02.06.") for v in tenggarong)
    phone_page.select_option("#f-desa", tenggarong[0])
    phone_page.wait_for_selector("#fill:not([aria-busy])", state="attached")
    phone_page.click("#send")
    phone_page.wait_for_selector(".receipt h2")
    [(instance_id, answers)] = server.rows("SELECT id, answers FROM submission WHERE form_id = ?", FORM_ID)
    assert json.loads(answers) == {"bekerja": "tidak", "kecamatan": "64.02.06", "desa": tenggarong[0]}
    # Ani finds it on the submissions page, filtered by the new form.
    page.goto(f"{server.url}/data?form={FORM_ID}")
    page.locator(f"a[href^='/data/{instance_id}']").first.wait_for()  # the list's filter may follow

    # A published field cannot change its type: the save is refused and the fix suggested at the field.
    page.goto(f"{server.url}/formulir/{FORM_ID}")
    page.wait_for_selector("html[data-editor=siap]")
    card = page.locator("#structure li.field[data-name=pekerjaan]")
    card.locator("select.f-type").select_option("integer")
    save(page, ok=False)
    problem = page.locator("#structure li.field[data-name=pekerjaan] ul.perr li[data-code='form.retyped']")
    assert "pekerjaan_2" in problem.text_content()
    assert page.locator("#problems li[data-code='form.retyped']").count() == 1
    assert page.errors == [] and phone_page.errors == []


SUSUN = "uji_susun"
# The preview has loaded the form and its runtime is ready. While the frame navigates, its document
# can exist without a root element yet: that is "not yet", not an error (a throw ends the wait).
IN_FRAME = (
    "() => { const f = document.getElementById('preview'); const d = f && f.contentDocument;"
    " return !!d && !!d.documentElement && f.src.includes('t=') && f.contentWindow.location.href === f.src"
    " && d.documentElement.getAttribute('data-pantau') === 'siap'; }"
)


def card(page: Any, name: str) -> Any:
    return page.locator(f"#structure li.field[data-name={name}]")


def test_fields_move_into_and_out_of_groups_and_type_details_are_edited(server: Server, desk: Any) -> None:
    """Moving a field into and out of a group or repeat from the
    keyboard, repeat counts, appearance, defaults and type parameters in the structured view (checked as
    typed), the test count following a preview submission, and the read-only preview of a published form."""
    page = signed_in_page(desk, server, "/formulir", username="ani")
    page.fill("#new-id", SUSUN)
    page.fill("#new-title", "Uji susun")
    page.click("form[action='/formulir'] button[type=submit]")
    page.wait_for_selector("html[data-editor=siap]")

    # A group, then a question below it: "into the group above" from the keyboard, then out again.
    page.click("#structure .fields-box > .adds .add-group")
    add_question(page, "text", "catatan", "Catatan", "Notes")
    card(page, "catatan").locator("button.f-indent").focus()
    page.keyboard.press("Enter")
    inside = page.locator("#structure li.field[data-name=kelompok_1] li.field[data-name=catatan]")
    inside.wait_for()
    assert page.evaluate("document.activeElement.closest('li.field').dataset.name") == "catatan"  # focus kept
    inside.locator("button.f-outdent").click()
    assert inside.count() == 0
    top = page.eval_on_selector_all(
        "#structure .fields-box > ol.fields > li.field", "ls => ls.map(l => l.dataset.name)"
    )
    assert top == ["pengantar", "kelompok_1", "catatan"]  # right after its old group
    card(page, "catatan").locator("button.f-indent").click()
    inside.wait_for()

    # A repeat, and a question moved into it with the "move to" list.
    page.click("#structure .fields-box > .adds .add-repeat")
    add_question(page, "text", "nama_anak", "Nama anak", "Child's name")
    move = card(page, "nama_anak").locator("select.f-move")
    move.select_option(label="berulang_1 (pertanyaan berulang)")
    assert page.locator("#structure li.field[data-name=berulang_1] li.field").count() == 0  # only on the button
    move.press("Tab")
    page.keyboard.press("Enter")
    page.locator("#structure li.field[data-name=berulang_1] li.field[data-name=nama_anak]").wait_for()

    # Repeat bounds and count, checked as typed.
    repeat = card(page, "berulang_1")
    repeat.locator("input.f-min_count").fill("3")
    repeat.locator("input.f-max_count").fill("2")
    assert repeat.locator(".f-max_count .xerr").is_visible()
    repeat.locator("input.f-max_count").fill("4")
    assert repeat.locator(".f-max_count .xerr").is_hidden()
    repeat.locator("input.f-min_count").fill("")
    repeat.locator("input.x-repeat_count").fill("${tidak_ada}")
    assert "tidak_ada" in repeat.locator(".x-repeat_count .xerr").text_content()
    repeat.locator("input.x-repeat_count").fill("")

    # Appearance, a default (an expression only when it calls a function), a NIK's parameters.
    card(page, "catatan").locator("select.f-appearance").select_option("multiline")
    add_question(page, "date", "tgl_lahir", "Tanggal lahir", "Birth date")
    default = card(page, "tgl_lahir").locator("input.x-default")
    default.fill("today(")
    assert card(page, "tgl_lahir").locator(".x-default .xerr").is_visible()
    default.fill("2020-01-01")  # a plain value: no expression to check
    assert card(page, "tgl_lahir").locator(".x-default .xerr").is_hidden()
    default.fill("today()")
    add_question(page, "nik", "nik", "NIK", "NIK")
    card(page, "nik").locator("select.p-birth_date").select_option("tgl_lahir")
    inject_axe(page)
    assert page.evaluate(AXE_RUN) == []  # the new controls are labelled too
    save(page)
    page.click("#tab-yaml")
    page.wait_for_selector("#yaml-view:not([hidden])")
    yaml_text = page.input_value("#yaml")
    for expected in ("max_count: 4", "appearance: multiline", "default: today()", "birth_date: tgl_lahir"):
        assert expected in yaml_text, expected
    assert "min_count" not in yaml_text and "repeat_count" not in yaml_text
    page.click("#tab-structure")
    page.wait_for_selector("#structure:not([hidden])")

    # A preview submission: the count beside the preview follows without a reload.
    page.wait_for_function(IN_FRAME)
    assert page.text_content("#test-count") == "0"
    preview = page.frame_locator("#preview")
    preview.locator("#send").click()
    preview.locator(".receipt h2").wait_for()
    page.wait_for_function("() => document.getElementById('test-count').textContent === '1'")
    assert page.locator("aside.preview ul.tests li").count() == 1
    assert server.rows("SELECT COUNT(*) FROM submission WHERE form_id = ?", SUSUN) == [(0,)]

    # Published, no draft: the preview shows the published version and refuses test submissions.
    page.click("#to-publish")
    page.wait_for_selector("#diff")
    page.click("#publish")
    page.wait_for_url(f"**/formulir/{SUSUN}?ok=terbit*")
    assert page.locator("#read-only-preview").is_visible()
    preview = page.frame_locator("#preview")
    preview.locator("html[data-pantau=siap]").wait_for(state="attached")
    assert "hanya untuk dilihat" in preview.locator("#msg").text_content()
    preview.locator("#send").click()
    preview.locator("#msg p.error").wait_for()
    assert "versi terbit 1" in preview.locator("#msg").text_content()
    assert server.rows("SELECT COUNT(*) FROM submission WHERE form_id = ?", SUSUN) == [(0,)]
    assert server.rows("SELECT COUNT(*) FROM form_draft WHERE form_id = ?", SUSUN) == [(0,)]
    assert page.errors == []


RAPI = "uji_rapi"
TOP_FIELDS = "#structure .fields-box > ol.fields > li.field"


def test_fields_are_reordered_deleted_and_take_hints_constraints_and_calculations(server: Server, desk: Any) -> None:
    """The rest of item 2's common work, each step seen in the saved definition: hints in both
    languages, a constraint with its message, a calculation, moving a question up, deleting one."""
    page = signed_in_page(desk, server, "/formulir", username="ani")
    page.fill("#new-id", RAPI)
    page.fill("#new-title", "Uji rapi")
    page.click("form[action='/formulir'] button[type=submit]")
    page.wait_for_selector("html[data-editor=siap]")

    umur = add_question(page, "integer", "umur", "Umur", "Age")
    umur.locator("input.f-hint-id").fill("Dalam tahun")
    umur.locator("input.f-hint-en").fill("In years")
    umur.locator("input.x-constraint").fill(". >= 0 and . <= 120")
    assert umur.locator(".x-constraint .xerr").is_hidden()
    umur.locator("input.f-cm-id").fill("Umur 0 sampai 120")
    umur.locator("input.f-cm-en").fill("Age 0 to 120")
    bulan = add_question(page, "calculate", "umur_bln", "Umur (bulan)", "Age (months)")
    bulan.locator("input.x-calculation").fill("${umr} * 12")
    assert "umr" in bulan.locator(".x-calculation .xerr").text_content()  # checked as typed
    bulan.locator("input.x-calculation").fill("${umur} * 12")
    assert bulan.locator(".x-calculation .xerr").is_hidden()
    add_question(page, "text", "sementara", "Sementara", "Temporary")
    card(page, "sementara").locator("button.f-up").click()  # above umur_bln
    card(page, "sementara").locator("button.f-up").click()  # above umur
    order = page.eval_on_selector_all(TOP_FIELDS, "ls => ls.map(l => l.dataset.name)")
    assert order == ["pengantar", "sementara", "umur", "umur_bln"]
    card(page, "umur").locator("button.f-down").click()
    card(page, "sementara").locator("button.f-del").click()
    order = page.eval_on_selector_all(TOP_FIELDS, "ls => ls.map(l => l.dataset.name)")
    assert order == ["pengantar", "umur_bln", "umur"]
    save(page)
    [(source,)] = server.rows("SELECT source FROM form_draft WHERE form_id = ?", RAPI)
    fields = {f["name"]: f for f in yaml.safe_load(source)["fields"]}
    assert list(fields) == ["pengantar", "umur_bln", "umur"]
    assert fields["umur"]["hint"] == {"id": "Dalam tahun", "en": "In years"}
    assert fields["umur"]["constraint"] == ". >= 0 and . <= 120"
    assert fields["umur"]["constraint_message"] == {"id": "Umur 0 sampai 120", "en": "Age 0 to 120"}
    assert fields["umur_bln"]["type"] == "calculate" and fields["umur_bln"]["calculation"] == "${umur} * 12"
    assert page.errors == []
