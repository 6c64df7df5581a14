"""The form editor never loses an edit and speaks to staff in their words (issue 22), at a staff
member's desk (1366x768, id-ID, WITA) against a real `pantau serve`: edits saved before publishing,
a warning before leaving with unsaved changes, one view visible at a time, deleting a question with
data confirmed with its count, staff's words for types, groups, codes, roles and regions, ready-made
lists and rules, compact cards, and exports from /data that give what the page shows."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.browser.conftest import inject_axe, signed_in_page
from tests.browser.server import Server
from tests.browser.test_fill_browser import AXE_RUN

pytestmark = pytest.mark.browser


def rows(server: Server, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    with sqlite3.connect(server.database) as db:
        return db.execute(sql, args).fetchall()


def draft_of(server: Server, form_id: str) -> dict[str, Any]:
    [(source,)] = rows(server, "SELECT source FROM form_draft WHERE form_id = ?", form_id)
    return dict(yaml.safe_load(source))


@pytest.fixture
def desk(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="id-ID",
                                  timezone_id="Asia/Makassar")
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()


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
