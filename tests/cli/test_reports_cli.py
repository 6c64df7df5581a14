"""`pantau reports render` as staff run it: a real subprocess writes a PDF with a progress bar on
stderr; bad input (an unknown report, a bad period or scope) is one clear line and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pypdf
import pytest

from server.cli.main import main
from server.settings import Settings
from tests.reports import seed

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["nope", "--period", "2026-Q1"], "report.unknown"),
        (["monev_triwulan", "--period", "2026-Q5"], "report.bad_period"),
        (["monev_triwulan", "--period", "kemarin"], "report.bad_period"),
        (["monev_triwulan", "--period", "2026-07"], "report.wrong_period"),
        (["monev_triwulan", "--period", "2026-Q1", "--scope", "64.03"], "report.bad_scope"),
        (["monev_triwulan", "--period", "2026-Q1", "--scope", "64.02.99"], "report.bad_scope"),
    ],
)
def test_bad_input_is_exit_code_2_with_a_clear_message(
    argv: list[str], code: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["reports", "render", *argv, "--out", str(tmp_path / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"[{code}]" in err
    assert not (tmp_path / "x.pdf").exists()


def test_render_writes_the_pdf_with_a_progress_bar(settings: Settings, tmp_path: Path) -> None:
    seed.seed(settings)
    out = tmp_path / "laporan.pdf"
    env = {
        **os.environ,
        "PANTAU_DATABASE_URL": settings.database_url,
        "PANTAU_DATA_DIR": settings.data_dir,
        "PANTAU_SECRET_KEY": settings.secret_key,
        "PYTHONPATH": str(REPO),
    }
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "server.cli.main",
            "reports",
            "render",
            "monev_triwulan",
            "--period",
            "2026-Q1",
            "--scope",
            "64.02.06",
            "--out",
            str(out),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "100%" in done.stderr and "[####" in done.stderr
    assert "halaman/pages" in done.stdout
    text = pypdf.PdfReader(out).pages[0].extract_text()
    assert "KECAMATAN TENGGARONG" in text and "TRIWULAN I TAHUN 2026" in text
