"""A record the server refuses never sits on the phone under a false message. Region questions offer
only the enumerator's own areas (the server refuses the others), and when the server still refuses a
queued record (here: staff moved the enumerator to another kecamatan while her records waited for a
signal), the outbox shows the server's own reason at the item, stops sending it, and offers
"Perbaiki" (the form opens at the question the refusal names) or "Hapus" (after a confirmation).
Only a 401 asks the enumerator to sign in again."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from server.storage import epochs
from tests.browser.server import Server
from tests.browser.test_fill_browser import options
from tests.browser.test_offline_browser import (
    READY,
    Restartable,
    arrive,
    cached,
    outbox,
    pantau,  # noqa: F401  (the fixture)
    phone,
    playwright,  # noqa: F401  (the fixture)
    sign_in,
)

pytestmark = pytest.mark.browser

WILAYAH = b"""
settings: {id: uji_wilayah, version: "1", title: {id: Kunjungan wilayah, en: Area visit}}
choices:
  kecamatan: {wilayah: kecamatan 64.02}
  desa: {wilayah: desa 64.02}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}, required: yes}
  - {type: select_one kecamatan, name: kecamatan, label: {id: Kecamatan, en: District}, required: yes}
  - {type: select_one desa, name: desa, label: {id: Desa, en: Village}, required: yes,
     choice_filter: "parent = ${kecamatan}"}
"""
TENGGARONG, SAMBOJA = "64.02.06", "64.02.13"
OUTSIDE = "di luar wilayah tugas Anda"


def queue_visit(page: Any, server: Server, name: str) -> str:
    page.goto(f"{server.url}/f/uji_wilayah")
    page.wait_for_selector(READY)
    page.fill("#f-nama", name)
    page.select_option("#f-kecamatan", TENGGARONG)
    page.wait_for_function("() => document.querySelectorAll('#f-desa option').length > 1")
    page.select_option("#f-desa", options(page, "#f-desa")[0])
    instance_id = page.input_value("input[name=_id]")
    page.wait_for_selector("#fill:not([aria-busy])", state="attached")
    page.click("#send")
    page.wait_for_selector(".receipt h2")
    return instance_id


def stored_areas(server: Server) -> dict[str, str]:
    with sqlite3.connect(server.database) as db:
        rows = db.execute("SELECT id, area_code FROM submission WHERE form_id = 'uji_wilayah'").fetchall()
    return dict(rows)


def test_a_refused_record_says_why_stops_retrying_and_is_fixed_or_deleted(
    pantau: Restartable, playwright: Any, tmp_path: Path  # noqa: F811
) -> None:
    pantau.publish(WILAYAH)
    server = pantau.server
    context = phone(playwright, tmp_path / "profile")
    page = sign_in(context, server, "/f/uji_wilayah")
    page.wait_for_selector(READY)
    cached(page)
    context.set_offline(True)  # upriver: both visits wait on the phone
    fixed = queue_visit(page, server, "Siti Aminah")
    dropped = queue_visit(page, server, "Rahmawati")
    with sqlite3.connect(server.database) as db:  # meanwhile staff move Citra to Samboja
        db.execute("UPDATE user_area SET area_code = ? WHERE user_id = (SELECT id FROM pantau_user WHERE username = "
                   "'citra')", (SAMBOJA,))
        db.execute("INSERT INTO epoch (name, value) VALUES ('users', 1) "  # as users.set_role does: every
                   "ON CONFLICT (name) DO UPDATE SET value = epoch.value + 1")  # process drops its sessions
    time.sleep(epochs.POLL_S + 0.5)  # the server is another process: it sees the move within POLL_S

    page.goto(f"{server.url}/terkirim")
    context.set_offline(False)  # the online event: the outbox sends, the server refuses both
    for instance_id in (fixed, dropped):
        item = page.locator(f"#outbox li[data-id='{instance_id}'][data-state=attention]")
        item.wait_for(timeout=60_000)
        assert "Ditolak" in item.text_content() and OUTSIDE in item.text_content()  # the server's own reason
    assert page.locator("#signin p").count() == 0  # not "your session ended": it did not
    assert {i["state"] for i in outbox(page)} == {"attention"}  # not waiting to be sent again
    assert stored_areas(server) == {}

    # Hapus asks first; cancelled, nothing happens; confirmed, the record leaves the phone.
    questions: list[str] = []
    page.once("dialog", lambda d: (questions.append(d.message), d.dismiss()))
    page.click(f"#outbox li[data-id='{dropped}'] button.drop")
    page.wait_for_timeout(300)
    assert questions and "tidak akan terkirim" in questions[0]
    assert page.locator(f"#outbox li[data-id='{dropped}']").count() == 1
    page.once("dialog", lambda d: d.accept())
    page.click(f"#outbox li[data-id='{dropped}'] button.drop")
    page.wait_for_selector(f"#outbox li[data-id='{dropped}']", state="detached")
    assert dropped not in {i["id"] for i in outbox(page)}

    # Perbaiki: the form opens with the refusal at a region question, in view and focused.
    page.click(f"#outbox li[data-id='{fixed}'] button.fix")
    page.wait_for_url("**/f/uji_wilayah?**")
    page.wait_for_selector(READY)
    page.wait_for_selector("[id='e-kecamatan'], [id='e-desa']")
    focused = page.evaluate("document.activeElement && document.activeElement.id")
    assert focused in ("f-kecamatan", "f-desa")
    assert page.input_value("#f-nama") == "Siti Aminah" and page.input_value("input[name=_id]") == fixed
    assert TENGGARONG not in options(page, "#f-kecamatan")  # her own areas now
    page.select_option("#f-kecamatan", SAMBOJA)
    page.wait_for_function("() => document.querySelectorAll('#f-desa option').length > 1")
    village = options(page, "#f-desa")[0]
    assert village.startswith(SAMBOJA + ".")
    page.select_option("#f-desa", village)
    page.wait_for_selector("#fill:not([aria-busy])", state="attached")
    page.click("#send")
    page.wait_for_selector(".receipt h2")
    arrive(page, server, 1)
    assert stored_areas(server) == {fixed: village}  # once, in her area; the deleted one never
    context.close()
