"""`pantau registry import` as staff run it: a dry run prints every finding as FILE:ROW: level code
message and exits 1 on errors, --report writes the reasons workbook, --commit imports the rows
without errors under a staff account, the same file twice changes nothing, and a file that is not
a list is one clear line with exit code 2."""

from __future__ import annotations

import asyncio

import pytest
from openpyxl import load_workbook

from server import clock
from server.cli.main import main
from server.domain import registry_import as ri
from server.domain.access import Principal
from server.domain.compile import compile_source
from server.settings import Settings
from server.storage import forms
from server.storage import registry_import as store
from server.storage.db import Database
from tests.conftest import REPO
from tests.domain.test_registry_import import SITI, office_rows, office_xlsx


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("PANTAU_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PANTAU_DATA_DIR", settings.data_dir)
    monkeypatch.setenv("PANTAU_SECRET_KEY", settings.secret_key)

    async def prepare() -> None:
        db = Database(settings.database_url)
        await db.open()
        try:
            source = (REPO / "forms" / "registrasi_penerima.yaml").read_bytes()
            result = compile_source(source, "registrasi_penerima.yaml")
            assert result.compiled is not None
            await forms.publish(db, result.compiled, source, "registrasi_penerima.yaml")
            await db.fetch("INSERT INTO pantau_user (username, display_name, password_hash, role, created_at) "
                           "VALUES ('ani', 'Ani', 'x', 'staff', {}), ('citra', 'Citra', 'x', 'enumerator', {})",
                           clock.now(), clock.now())
        finally:
            await db.close()

    asyncio.run(prepare())
    return settings


def count(settings: Settings) -> int:
    async def run() -> int:
        db = Database(settings.database_url)
        await db.open()
        try:
            return int((await db.fetch("SELECT COUNT(*) AS n FROM beneficiary"))[0]["n"])
        finally:
            await db.close()

    return asyncio.run(run())


def test_a_dry_run_prints_each_finding_with_its_row_and_writes_the_reasons(  # type: ignore[no-untyped-def]
        cli_env, tmp_path, capsys) -> None:
    rows = [*office_rows(), [4, "Salah", "6.40206E+15", "", "L", "", "TENGGARONG", "JAHAB", ""]]
    path = office_xlsx(tmp_path / "uep.xlsx", rows)
    out = tmp_path / "alasan.xlsx"
    assert main(["registry", "import", str(path), "--report", str(out)]) == 1
    printed = capsys.readouterr()
    assert f"{path}:7: error nik.excel NIK rusak oleh Excel" in printed.out
    assert f"{path}:5: warning import.same_kk_in_file" in printed.out
    assert "4 baris/rows: 2 ok, 1 peringatan/warnings, 1 galat/errors" in printed.out
    assert "baris/rows" in printed.err  # the progress bar
    assert count(cli_env) == 0  # a dry run stores nothing
    values = list(load_workbook(out).active.iter_rows(values_only=True))
    assert [v[-2] for v in values[1:]] == ["ok", "peringatan", "ok", "galat"]


def test_commit_imports_the_rows_without_errors_once(cli_env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    rows = [*office_rows(), [4, "Salah", "123", "", "L", "", "TENGGARONG", "JAHAB", ""]]
    path = office_xlsx(tmp_path / "uep.xlsx", rows)
    assert main(["registry", "import", str(path), "--commit", "--user", "ani", "--confirm-warnings"]) == 1
    assert "3 baru/new, 0 diperbarui/updated, 0 tetap/unchanged, 1 dilewati/skipped" in capsys.readouterr().out
    assert count(cli_env) == 3
    assert main(["registry", "import", str(path), "--commit", "--user", "ani", "--confirm-warnings"]) == 1
    assert "sudah diimpor" in capsys.readouterr().out and count(cli_env) == 3


def test_a_saved_mapping_is_reused_by_name(cli_env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "a.csv"
    path.write_text(f"Kolom A,Kolom B,Kolom C\nSiti,{SITI},64.02.06.1001\n")
    assert main(["registry", "import", str(path)]) == 1  # nothing says which column is the name or the desa
    assert "import.missing_columns" in capsys.readouterr().out

    async def save() -> None:
        db = Database(cli_env.database_url)
        await db.open()
        try:
            mapping = ri.Mapping(columns={"name": "Kolom A", "nik": "Kolom B", "desa": "Kolom C"})
            await store.save_mapping(db, "aneh", mapping, Principal(id=1, username="ani", display_name="Ani",
                                                                     role="staff"))
        finally:
            await db.close()

    asyncio.run(save())
    assert main(["registry", "import", str(path), "--mapping", "aneh", "--commit", "--user", "ani"]) == 0
    assert "1 baru/new" in capsys.readouterr().out and count(cli_env) == 1


@pytest.mark.parametrize(("argv", "expected"), [
    (["--commit"], "--commit perlu --user"),
    (["--area", "99.99"], "--area 99.99"),
    (["--update", "nik"], "--update"),
    (["--commit", "--user", "citra"], "--user citra"),
    (["--mapping", "tidak-ada"], "--mapping tidak-ada"),
])
def test_bad_usage_is_exit_code_2_with_one_line(cli_env, tmp_path, capsys, argv, expected) -> None:  # type: ignore[no-untyped-def]
    path = office_xlsx(tmp_path / "uep.xlsx", office_rows())
    assert main(["registry", "import", str(path), *argv]) == 2
    err = capsys.readouterr().err
    assert expected in err and count(cli_env) == 0


def test_a_file_that_is_not_a_list_is_exit_code_2(cli_env, tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "foto.xlsx"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)))
    assert main(["registry", "import", str(path)]) == 2
    assert "bukan XLSX atau CSV" in capsys.readouterr().err
