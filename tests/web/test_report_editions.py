"""Report periods and editions through HTTP and the CLI, as budi (coordinator of Tenggarong) meets
them: a quarter that has not begun is refused with a clear 4xx; a quarter under way can be previewed
and made, but its edition is provisional (SEMENTARA on every page and in the lists); after the quarter
ends the edition is final. The web and `pantau reports render`, made on the same day from the same
data, give the same bytes; the lists show each edition's data fingerprint."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pypdf
import pytest
import time_machine

from server.cli.main import main
from server.settings import Settings
from tests.reports import seed
from tests.web.conftest import post_form
from tests.web.test_registry import fetch
from tests.web.test_reports import wait_ready

WITA = dt.timezone(dt.timedelta(hours=8))
IN_Q1 = dt.datetime(2026, 3, 20, 9, 0, tzinfo=WITA)  # 2026-Q1 under way, 2026-Q2 not begun
AFTER_Q1 = dt.datetime(2026, 4, 2, 9, 0, tzinfo=WITA)


@pytest.fixture
def data(settings: Settings, people: dict[str, int]) -> seed.Fixture:
    return seed.seed(settings)


def make(persona: Any, period: str) -> Any:
    return post_form(persona, "/laporan/buat", {"laporan": "monev_triwulan", "periode": period, "wilayah": "64.02.06"})


def pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages]


def test_a_quarter_that_has_not_begun_is_refused(as_, data: seed.Fixture, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(IN_Q1, tick=True):
        budi = as_("budi")
        preview = budi.get(
            "/laporan/pratinjau?laporan=monev_triwulan&periode=2026-Q2&wilayah=64.02.06",
            headers={"accept": "application/json"},
        )
        assert preview.status_code == 422 and preview.json()["code"] == "report.not_started"
        page = budi.get("/laporan/pratinjau?laporan=monev_triwulan&periode=2026-Q2&wilayah=64.02.06")
        assert page.status_code == 422 and "2026-04-01" in page.text and "report.not_started" in page.text
        assert make(budi, "2026-Q2").status_code == 422
        assert fetch(settings, "SELECT id FROM report_run") == []  # nothing queued


def test_a_quarter_under_way_is_provisional_and_final_after_it_ends(as_, data: seed.Fixture) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(IN_Q1, tick=True):
        budi = as_("budi")
        preview = budi.get("/laporan/pratinjau?laporan=monev_triwulan&periode=2026-Q1&wilayah=64.02.06")
        assert preview.status_code == 200 and 'class="watermark"' in preview.text
        made = make(budi, "2026-Q1")
        assert made.status_code == 303, made.text
        location = made.headers["location"]
        page = wait_ready(budi, location)
        assert page.count('data-provisional="1"') == 1
        download = re.findall(r'href="(/laporan/edisi/\d+/unduh)"', page)[0]
        provisional = budi.get(download).content
        pages = pdf_text(provisional)
        assert all("SEMENTARA" in p for p in pages)
        assert "Dibuat 20 Maret 2026" in pages[0]
        fingerprint = re.search(r"Sidik data ([0-9a-f]{12})", pages[0])
        assert fingerprint is not None and f'data-fingerprint="{fingerprint[1]}"' in page
        listing = budi.get("/laporan").text
        assert f'data-fingerprint="{fingerprint[1]}"' in listing and 'data-provisional="1"' in listing
    with time_machine.travel(AFTER_Q1, tick=True):
        budi = as_("budi")
        assert make(budi, "2026-Q1").headers["location"] == location
        page = wait_ready(budi, location)
        assert page.count('data-provisional="1"') == 1  # the first edition stays marked; the new one is final
        newest = re.findall(r'href="(/laporan/edisi/\d+/unduh)"', page)[0]
        final = budi.get(newest).content
        pages = pdf_text(final)
        assert not any("SEMENTARA" in p for p in pages)
        assert "Dibuat 2 April 2026" in pages[0] and "Tenggarong, 2 April 2026" in "\n".join(pages)
        assert f'data-fingerprint="{fingerprint[1]}"' in page  # same data, same fingerprint
        assert 'data-provisional="1"' not in budi.get("/laporan").text  # the newest edition is final


def test_the_web_and_the_cli_make_the_same_bytes(
    as_,  # type: ignore[no-untyped-def]
    data: seed.Fixture,
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PANTAU_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PANTAU_DATA_DIR", settings.data_dir)
    monkeypatch.setenv("PANTAU_SECRET_KEY", settings.secret_key)
    with time_machine.travel(AFTER_Q1, tick=True):
        budi = as_("budi")
        page = wait_ready(budi, make(budi, "2026-Q1").headers["location"])
        web = budi.get(re.findall(r'href="(/laporan/edisi/\d+/unduh)"', page)[0]).content
        out = tmp_path / "cli.pdf"
        argv = ["reports", "render", "monev_triwulan", "--period", "2026-Q1", "--scope", "64.02.06", "--out", str(out)]
        assert main(argv) == 0
        assert main([*argv[:-1], str(tmp_path / "again.pdf")]) == 0
    cli = out.read_bytes()
    assert hashlib.sha256(cli).hexdigest() == hashlib.sha256(web).hexdigest()
    assert (tmp_path / "again.pdf").read_bytes() == cli
    printed = re.findall(r"fingerprint ([0-9a-f]{12}), final", capsys.readouterr().out)
    assert len(printed) == 2 and f'data-fingerprint="{printed[0]}"' in page
    # `pantau reports editions` lists the web's edition with the same fingerprint, as final.
    assert main(["reports", "editions", "monev_triwulan"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 1 and listed[0].startswith("monev_triwulan\t2026-Q1\t64.02.06\tedisi 1\t")
    assert f"\tfinal\t{printed[0]}\t" in listed[0] and hashlib.sha256(web).hexdigest() in listed[0]


def test_the_cli_refuses_a_quarter_that_has_not_begun(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "x.pdf"
    with time_machine.travel(IN_Q1, tick=False):
        code = main(["reports", "render", "monev_triwulan", "--period", "2026-Q2", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "[report.not_started]" in err
    assert not out.exists()
