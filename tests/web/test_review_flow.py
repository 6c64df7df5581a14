"""A coordinator clears a queue without going back to the list: a record opened from a filtered list
knows the next record of that list ("Data berikutnya", Alt+Shift+N), and after approving or sending
back, the next record of the same filter opens. The list's filter panel is one collapsed line and
is remembered for the next visit to /data (without the name searched for)."""

from __future__ import annotations

import html
import re
import time
from typing import Any
from urllib.parse import parse_qs

from tests.web.conftest import post_form
from tests.web.test_api_submissions import body, publish, send

QUEUE = "/data?status=received&area=64.02.06"


def _sent(citra: Any, names: list[str]) -> list[str]:
    ids = []
    for name in names:
        payload = body(nama=name)
        assert send(citra, payload).status_code == 201
        ids.append(str(payload["instance_id"]))
        time.sleep(0.01)  # distinct arrival times: the list is newest first
    return ids


def _decide(persona: Any, page: Any, status: str, comment: str = "") -> Any:
    text = page.text
    action = html.unescape(re.search(r'<form method="post" action="(/data/[^"]+/tinjau[^"]*)"', text)[1])
    listed = html.unescape(re.search(r'name="daftar" value="([^"]*)"', text)[1])
    revision = re.search(r'name="revision" value="(\d+)"', text)[1]
    return post_form(persona, action, {"status": status, "comment": comment, "revision": revision, "daftar": listed})


def test_a_decision_opens_the_next_record_of_the_same_list(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish(settings)
    citra, budi = as_("citra"), as_("budi")
    ids = _sent(citra, ["Satu", "Dua", "Tiga"])
    newest_first = list(reversed(ids))
    listed = budi.get(QUEUE).text
    first = html.unescape(re.search(r'<a href="(/data/[0-9a-f-]{36}\?[^"]*)">', listed)[1])
    assert first.startswith(f"/data/{newest_first[0]}?") and "status=received" in first
    page = budi.get(first)
    nxt = re.search(r'<a href="([^"]+)" accesskey="n" aria-keyshortcuts="Alt\+Shift\+N"', page.text)
    assert nxt and html.unescape(nxt[1]).startswith(f"/data/{newest_first[1]}?")
    done = _decide(budi, page, "approved")
    assert done.status_code == 303 and done.headers["location"].startswith(f"/data/{newest_first[1]}?")
    page = budi.get(done.headers["location"])
    assert "Keputusan tersimpan; ini data berikutnya pada daftar." in page.text
    done = _decide(budi, page, "needs_correction", "Umur tidak sesuai KTP")
    assert done.headers["location"].startswith(f"/data/{newest_first[2]}?")
    page = budi.get(done.headers["location"])
    # The last one of the queue: nothing follows it (the first two left the "received" list).
    assert 'accesskey="n"' not in page.text
    done = _decide(budi, page, "approved")
    assert done.headers["location"].startswith(f"/data/{newest_first[2]}?") and "ok=1" in done.headers["location"]
    assert "Tidak ada data" in budi.get(QUEUE).text or newest_first[0] not in budi.get(QUEUE).text


def test_a_hostile_list_in_the_decision_is_refused_before_anything_is_decided(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish(settings)
    citra, budi = as_("citra"), as_("budi")
    [record] = _sent(citra, ["Satu"])
    page = budi.get(f"/data/{record}")
    refused = post_form(budi, f"/data/{record}/tinjau", {"status": "approved", "comment": "", "revision": "1",
                                                          "daftar": "area=64.02.13&urut=1"})
    assert refused.status_code == 400
    assert "Masuk" in budi.get(f"/data/{record}").text and page.status_code == 200


def test_the_filter_panel_is_one_collapsed_line_and_remembered(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish(settings)
    budi = as_("budi")
    page = budi.get("/data?status=received&area=64.02.06&q=Siti").text
    summary = re.search(r'<details class="filter-panel"><summary>(.*?)</summary>', page, re.S)
    assert summary and "Masuk" in summary[1] and "64.02.06" in summary[1] and "\n" not in summary[1]
    again = budi.get("/data", follow_redirects=False)
    assert again.status_code == 303
    kept = again.headers["location"]
    assert kept.startswith("/data?") and parse_qs(kept[6:]) == {"status": ["received"], "area": ["64.02.06"]}
    # ... and not the name searched for.
    assert budi.get("/data?status=all").status_code == 200
    assert budi.get("/data", follow_redirects=False).headers["location"] == "/data?status=all"


def test_money_dates_and_states_read_in_indonesian_on_the_record_and_the_reports_page(as_, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.web.test_registry import REPO, publish_source, registered, visit

    for name in ("registrasi_penerima", "monev_uep"):
        publish_source(settings, (REPO / "forms" / f"{name}.yaml").read_bytes(), f"{name}.yaml")
    citra = as_("citra")
    person = registered(citra)
    made = visit(citra, person, tgl_kunjungan="2026-03-17", omzet_bln=820000)
    assert made.status_code == 201, made.text
    page = as_("budi").get(f"/data/{made.json()['instance_id']}").text
    assert "Rp 820.000" in page and "17 Maret 2026" in page and "2026-03-17" not in page
    assert re.search(r"\d{1,2} (Januari|Februari|Maret|April|Mei|Juni|Juli|Agustus|September|Oktober|November|"
                     r"Desember) \d{4} \d\d\.\d\d WITA", page)
    assert ">received<" not in page and "Masuk" in page
    reports = as_("budi").get("/laporan").text
    assert "(triwulanan)" in reports and "quarterly" not in reports
