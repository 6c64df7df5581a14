"""`pantau forms load` with the files a workbook names (select_one_from_file, csv-external): found
beside the workbook or given with --attach, published inside the definition; a missing --attach
file stops the command before anything is published, a hostile file refuses the form by its row."""

from __future__ import annotations

import asyncio
from pathlib import Path

from server.settings import Settings
from tests.cli.test_cli_foundation import SECRET, assert_clean_failure, pantau
from tests.domain.test_odk_types import PAIN_XML
from tests.domain.test_xlsform import workbook
from tests.web.live import query

BOOK = workbook([["type", "name", "label"], ["select_one_from_file sakit.xml", "sakit", "Sakit"],
                 ["select_one_from_file desa.csv", "desa", "Desa"]],
                settings=[["form_id", "version"], ["uji_lampiran", "1"]])
DESA = b"name,label\nd1,Desa Satu\n"


def _env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {"PANTAU_DATABASE_URL": settings.database_url, "PANTAU_DATA_DIR": str(tmp_path / "data"),
            "PANTAU_SECRET_KEY": SECRET}


def _published(settings: Settings) -> list[str]:
    rows = asyncio.run(query(settings, "SELECT source FROM form_version fv JOIN form f ON f.id = fv.form "
                                       "WHERE f.form_id = $1", "uji_lampiran"))
    return [str(row["source"]) for row in rows]


def test_load_reads_the_files_beside_the_workbook_and_given_with_attach(settings: Settings, tmp_path: Path) -> None:
    forms, elsewhere = tmp_path / "formulir", tmp_path / "berkas"
    forms.mkdir()
    elsewhere.mkdir()
    (forms / "uji_lampiran.xlsx").write_bytes(BOOK)
    (forms / "desa.csv").write_bytes(DESA)
    (elsewhere / "sakit.xml").write_bytes(PAIN_XML)
    done = pantau("forms", "load", str(forms / "uji_lampiran.xlsx"), "--attach", str(elsewhere / "sakit.xml"),
                  env=_env(settings, tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "missing_choices_file" not in done.stdout and "uji_lampiran v1: diterbitkan" in done.stdout
    [source] = _published(settings)
    assert "Desa Satu" in source and "kepala" in source and "Kepala" in source


def test_load_warns_for_a_file_that_is_not_there_and_stops_at_a_missing_attach(settings: Settings,
                                                                               tmp_path: Path) -> None:
    (tmp_path / "uji_lampiran.xlsx").write_bytes(BOOK)
    missing = pantau("forms", "load", str(tmp_path / "uji_lampiran.xlsx"), "--attach", str(tmp_path / "sakit.xml"),
                     env=_env(settings, tmp_path), cwd=tmp_path)
    assert_clean_failure(missing, "form.file_missing")
    assert "sakit.xml" in missing.stderr and "tidak ditemukan" in missing.stderr and _published(settings) == []
    # Without the files pyxform converts the workbook too: published with empty lists and a warning each.
    done = pantau("forms", "load", str(tmp_path / "uji_lampiran.xlsx"), env=_env(settings, tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("xlsform.missing_choices_file") == 2 and "'sakit.xml'" in done.stdout


def test_load_refuses_a_hostile_or_oversized_file_by_its_row(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "uji_lampiran.xlsx").write_bytes(BOOK)
    (tmp_path / "sakit.xml").write_bytes(b'<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><root><item>'
                                         b"<name>&x;</name></item></root>")
    (tmp_path / "desa.csv").write_bytes(b"name,label\n" + b"d,Desa\n" * 800_000)  # 5.6 MB
    done = pantau("forms", "load", str(tmp_path / "uji_lampiran.xlsx"), env=_env(settings, tmp_path), cwd=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith(f"{tmp_path / 'uji_lampiran.xlsx'}:2:1 xlsform.bad_choices_file ") and "DTD" in lines[0]
    assert lines[1].startswith(f"{tmp_path / 'uji_lampiran.xlsx'}:3:1 xlsform.bad_attachment ")
    assert "larger than 5 MB" in lines[1] and len(lines) == 2
    assert "root:" not in done.stdout and _published(settings) == []


MEDIA_BOOK = workbook([["type", "name", "label", "media::image", "audio"],
                       ["text", "nama", "Nama", "rumah.png", "salam.wav"]],
                      settings=[["form_id", "version"], ["uji_media_cli", "1"]])


def test_load_stores_the_media_beside_the_form_and_refuses_a_file_that_is_not_what_it_names(
        settings: Settings, tmp_path: Path) -> None:
    from tests.web.test_form_media import SVG, png, wav

    forms, elsewhere = tmp_path / "formulir", tmp_path / "media"
    forms.mkdir()
    elsewhere.mkdir()
    (forms / "uji_media_cli.xlsx").write_bytes(MEDIA_BOOK)
    (forms / "rumah.png").write_bytes(SVG)  # an SVG under a PNG's name: refused by its bytes
    first = pantau("forms", "load", str(forms / "uji_media_cli.xlsx"), env=_env(settings, tmp_path), cwd=tmp_path)
    assert first.returncode == 1 and "media.bad_type" in first.stdout, first.stdout + first.stderr
    assert "form.missing_media salam.wav" in first.stdout
    published = asyncio.run(query(settings, "SELECT form_id FROM form WHERE form_id = $1", "uji_media_cli"))
    assert "diterbitkan" not in first.stdout and published == []  # a refused file: the form is not published
    (forms / "rumah.png").write_bytes(png())
    (elsewhere / "salam.wav").write_bytes(wav())
    done = pantau("forms", "load", str(forms / "uji_media_cli.xlsx"), "--attach", str(elsewhere / "salam.wav"),
                  env=_env(settings, tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "media rumah.png (image/png" in done.stdout and "media salam.wav (audio/wav" in done.stdout
    rows = asyncio.run(query(settings, "SELECT name, content_type, uploaded_by FROM form_media WHERE form_id = $1 "
                                       "ORDER BY name", "uji_media_cli"))
    assert [(r["name"], r["content_type"], r["uploaded_by"]) for r in rows] == [
        ("rumah.png", "image/png", "pantau forms load"), ("salam.wav", "audio/wav", "pantau forms load")]
    again = pantau("forms", "load", str(forms / "uji_media_cli.xlsx"), "--attach", str(elsewhere / "salam.wav"),
                   env=_env(settings, tmp_path), cwd=tmp_path)
    assert again.returncode == 0 and "media " not in again.stdout  # the same bytes again: nothing new
