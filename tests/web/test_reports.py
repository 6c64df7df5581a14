"""Evaluation reports through HTTP as the personas use them: budi (coordinator of Tenggarong) looks at
the preview, makes the PDF, downloads it (audited), makes a new edition and still has the old one;
nothing outside his kecamatan exists for him; enumerators have no reports; markup in a name is text."""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
from typing import Any

import pypdf
import pytest

from server import clock
from server.reports import worker
from server.settings import Settings
from server.storage import reports as store
from server.storage.db import Database
from server.storage.writer import Writer
from tests.reports import seed
from tests.web.conftest import post_form
from tests.web.test_registry import fetch

TENGGARONG_Q1 = "laporan=monev_triwulan&periode=2026-Q1&wilayah=64.02.06"


@pytest.fixture
def data(settings: Settings, people: dict[str, int]) -> seed.Fixture:
    fx = seed.build()
    fx.people[0].name = '<img src="file:///etc/passwd">Siti'
    return seed.seed(settings, fx)


def make(persona: Any, scope: str = "64.02.06", include_all: str = "") -> Any:
    return post_form(
        persona,
        "/laporan/buat",
        {"laporan": "monev_triwulan", "periode": "2026-Q1", "wilayah": scope, "semua": include_all},
    )


def wait_ready(persona: Any, location: str) -> str:
    """Poll the status page until the worker is done; meanwhile the server keeps answering at once
    (the layout runs in another process)."""
    for _ in range(240):
        began = time.perf_counter()
        assert persona.get("/healthz").status_code == 200
        assert time.perf_counter() - began < 1.0
        page = persona.get(location)
        assert page.status_code == 200, page.text
        status = re.search(r'data-status="(\w+)"', page.text)
        assert status is not None
        if status[1] in ("ready", "failed"):
            assert status[1] == "ready", page.text
            return page.text
        time.sleep(0.25)
    raise AssertionError("the report was not made in 60 s")


def test_preview_shows_the_indicators_and_escapes_names(as_, data: seed.Fixture) -> None:  # type: ignore[no-untyped-def]
    page = as_("budi").get(f"/laporan/pratinjau?{TENGGARONG_Q1}")
    assert page.status_code == 200, page.text
    assert "TRIWULAN I TAHUN 2026" in page.text and "KECAMATAN TENGGARONG" in page.text
    assert "Tabel 3.1" in page.text and "<svg" in page.text  # tables and charts, as in the PDF
    assert (
        '<img src="file:///etc/passwd">' not in page.text
        and "&lt;img src=&#34;file:///etc/passwd&#34;&gt;" in page.text
    )
    assert 'action="/laporan/buat"' in page.text  # the "buat PDF" button


def test_budi_makes_downloads_and_remakes_his_kecamatan_report(as_, data: seed.Fixture, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    budi = as_("budi")
    made = make(budi)
    assert made.status_code == 303, made.text
    location = made.headers["location"]
    page = wait_ready(budi, location)
    first = re.findall(r'href="(/laporan/edisi/\d+/unduh)"', page)
    assert len(first) == 1
    pdf = budi.get(first[0])
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-") and "edisi1.pdf" in pdf.headers["content-disposition"]
    rows = fetch(
        settings, "SELECT actor, target_type, area_code, detail FROM audit_log WHERE action = 'report.download'"
    )
    assert [(r["actor"], r["target_type"], r["area_code"]) for r in rows] == [("budi", "report_edition", "64.02.06")]
    # Again, with all data: a second edition; the first stays downloadable, unchanged.
    again = make(budi, include_all="1")
    assert again.headers["location"] == location
    page = wait_ready(budi, location)
    editions = re.findall(r'href="(/laporan/edisi/\d+/unduh)"', page)
    assert len(editions) == 2 and first[0] in editions
    assert budi.get(first[0]).content == pdf.content
    newer = budi.get(editions[0]).content
    assert newer != pdf.content
    assert "SEMUA data" in pypdf.PdfReader(__import__("io").BytesIO(newer)).pages[0].extract_text()
    # Ani (staff) sees the kabupaten and every kecamatan: the same edition is hers to download too.
    assert as_("ani").get(first[0]).status_code == 200
    # Dewi (enumerator) has no reports; the list shows budi's run to budi.
    assert as_("dewi").get(first[0]).status_code == 403
    assert location.split("/")[-1] in as_("budi").get("/laporan").text


def test_outside_his_kecamatan_nothing_exists_for_budi(as_, data: seed.Fixture) -> None:  # type: ignore[no-untyped-def]
    budi, ani = as_("budi"), as_("ani")
    for scope in ("64.02.13", "64.02"):
        refused = budi.get(
            f"/laporan/pratinjau?laporan=monev_triwulan&periode=2026-Q1&wilayah={scope}",
            headers={"accept": "application/json"},
        )
        assert refused.status_code == 403 and refused.json()["code"] == "report.outside_area"
        assert make(budi, scope).status_code == 403
    made = make(ani, "64.02.13")
    assert made.status_code == 303
    page = wait_ready(ani, made.headers["location"])
    edition = re.findall(r'href="(/laporan/edisi/\d+/unduh)"', page)[0]
    assert budi.get(made.headers["location"]).status_code == 404
    assert budi.get(edition).status_code == 404
    assert made.headers["location"].split("/")[-1] not in budi.get("/laporan").text.split("<tbody>")[1]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("laporan=nope&periode=2026-Q1", "report.unknown"),
        ("laporan=monev_triwulan&periode=2026-13", "report.bad_period"),
        ("laporan=monev_triwulan&periode=2026-07", "report.wrong_period"),
        ("laporan=monev_triwulan&periode=2026-Q1&wilayah=64.02.99", "report.bad_scope"),
    ],
)
def test_bad_requests_are_clear_4xx(as_, people, query: str, code: str) -> None:  # type: ignore[no-untyped-def]
    response = as_("ani").get(f"/laporan/pratinjau?{query}", headers={"accept": "application/json"})
    assert 400 <= response.status_code < 500 and response.json()["code"] == code


def test_a_report_whose_process_kept_dying_is_failed_and_budi_reads_why(  # type: ignore[no-untyped-def]
    as_, people, settings: Settings
) -> None:
    """Each taker of the run claimed it and died (its lease long run out) PANTAU_REPORT_ATTEMPTS
    times: the run is failed, its page tells the coordinator why in Indonesian, and the audit log
    (admin) names it."""

    async def lost_every_time() -> int:
        db = Database(settings.database_url)
        await db.open()
        writer = Writer(db)
        await writer.start()
        try:
            run_id = await writer.run(lambda tx: store.queue(tx, "monev_triwulan", "2026-Q1", "64.02.06", False,
                                                             people["budi"], clock.now()))
            assert run_id is not None
            for _ in range(settings.report_attempts):
                long_ago = clock.now() - dt.timedelta(seconds=worker.STALE_S * 10)
                assert await writer.run(lambda tx, held=long_ago: store.claim(tx, run_id, held))
                await worker.recover(writer, settings)
            return run_id
        finally:
            await writer.stop()
            await db.close()

    run_id = asyncio.run(lost_every_time())
    page = as_("budi").get(f"/laporan/run/{run_id}")
    assert page.status_code == 200 and 'data-status="failed"' in page.text, page.text
    assert "Pembuatan laporan dihentikan: proses pembuatnya berhenti 3 kali tanpa selesai" in page.text
    audit = as_("admin").get("/audit", params={"action": "report.abandon"})
    assert audit.status_code == 200 and "Laporan dihentikan: prosesnya berulang kali mati" in audit.text
