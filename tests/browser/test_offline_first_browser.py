"""Signing in is all the signal a phone needs: from the home page on, every form the enumerator may
fill and the beneficiaries their forms pick from are kept on the phone, so a visit form never opened
online works upriver and finds its people; the home page, the pages the header links to and a
sign-in page that says signing in needs a signal all open with no network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.server import REPO, _cli
from tests.browser.test_offline_browser import (
    READY,
    Restartable,
    pantau,  # noqa: F401  (the fixture)
    phone,
    playwright,  # noqa: F401  (the fixture)
    sign_in,
)
from tests.browser.test_picker_browser import _search, register

pytestmark = pytest.mark.browser

KEPT_ON_SIGN_IN = """async () => {
  await navigator.serviceWorker.ready;
  const people = () => new Promise((done) => {
    const open = indexedDB.open('pantau-penerima-bansos');
    open.onerror = () => done(0);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('rows')) { db.close(); return done(0); }
      const count = db.transaction('rows').objectStore('rows').count();
      count.onsuccess = () => { done(count.result); db.close(); };
    };
  });
  for (let i = 0; i < 300; i++) {
    let page = false;
    for (const name of await caches.keys()) if (await (await caches.open(name)).match('/f/monev_uep')) page = true;
    if (page && (await people()) > 0) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}"""


def test_signing_in_keeps_every_form_and_the_beneficiaries_for_offline(
    pantau: Restartable, playwright: Any, tmp_path: Path  # noqa: F811
) -> None:
    _cli(pantau.env, "forms", "load", str(REPO / "forms" / "registrasi_penerima.yaml"),
         str(REPO / "forms" / "monev_uep.yaml"))
    server = pantau.server
    siti = register(server, "citra")
    context = phone(playwright, tmp_path / "profile")
    page = sign_in(context, server, "/")  # the home page only: no form opened, no picker shown
    assert page.evaluate(KEPT_ON_SIGN_IN), "the forms and the beneficiaries were not kept on the phone"

    context.set_offline(True)
    page.goto(f"{server.url}/f/monev_uep")  # never opened online
    page.wait_for_selector(READY)
    page.wait_for_selector(".q[data-picker=offline]")
    assert _search(page, "siti") == [siti]

    for path in ("/", "/draf", "/terkirim", "/akun"):  # the header's links
        page.goto(f"{server.url}{path}")
        assert page.locator("header.bar").count() == 1, path
        assert "belum tersimpan di HP" not in page.content(), path
    page.goto(f"{server.url}/masuk")
    assert "Masuk perlu sinyal" in page.text_content("body")
    context.close()
