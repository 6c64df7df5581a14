"""`pantau forms check | eval | convert` as staff run them: through main() with the output
captured, and once as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from server.cli.main import main
from server.domain.compile import compile_source

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted(str(p) for p in (REPO / "forms").glob("*.yaml"))
LINE = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+) (?P<code>[a-z_]+\.[a-z_]+) .+$")

BROKEN = """\
settings:
  id: rusak
  version: "1"
fields:
  - {type: integer, name: umur, label: Umur, relevant: "${umr} > 1"}
  - {type: txt, name: nama, label: Nama}
"""


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_the_shipped_forms_pass_check(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "check", *SHIPPED]) == 0
    out = capsys.readouterr().out
    assert out.strip().splitlines()[-1] == "3 file(s) checked: 0 error(s), 0 warning(s)"


def test_check_prints_file_line_column_code_and_a_hint_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "rusak.yaml", BROKEN)
    assert main(["forms", "check", path]) == 1
    lines = capsys.readouterr().out.splitlines()
    problems = [LINE.match(line) for line in lines if not line.startswith(" ")]
    found = [(m["file"], int(m["line"]), m["code"]) for m in problems if m]
    assert found == [(path, 5, "form.unknown_reference"), (path, 6, "form.unknown_type")]
    assert lines[1].startswith("    ") and "${umur}" in lines[1]  # the hint, indented
    assert lines[-1] == "1 file(s) checked: 2 error(s), 0 warning(s)"


def test_warnings_alone_exit_0_and_indonesian_messages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "w.yaml", 'settings: {id: w, version: "1"}\nfields: [{type: text, name: t}]\n')
    assert main(["forms", "check", "--lang", "id", path]) == 0
    out = capsys.readouterr().out
    assert "form.missing_label" in out and "tidak punya label" in out


def test_check_reports_unreadable_files_and_non_workbooks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fake = tmp_path / "palsu.xlsx"
    fake.write_bytes(b"not a workbook")
    assert main(["forms", "check", str(tmp_path / "tidak_ada.yaml"), str(fake)]) == 1
    out = capsys.readouterr().out
    assert "form.unreadable" in out and "xlsform.not_workbook" in out and "Traceback" not in out


def test_eval_prints_the_value_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "eval", 'if(${umur} >= 60, "lansia", "bukan")', "--answers", '{"umur": 61}']) == 0
    assert json.loads(capsys.readouterr().out) == "lansia"
    assert main(["forms", "eval", "today() - date('2026-01-01')", "--today", "2026-03-31"]) == 0
    assert capsys.readouterr().out.strip() == "89"
    assert main(["forms", "eval", ". >= 18 and . <= 59", "--current", "61"]) == 0
    assert capsys.readouterr().out.strip() == "false"
    assert main(["forms", "eval", "format-date(today(), '%Y')", "--today", "2026-03-31"]) == 0
    assert json.loads(capsys.readouterr().out) == "2026"


@pytest.mark.parametrize("args", [
    ["foo(1)"], ["${a} +"], ["1", "--answers", "{umur: 61}"], ["1", "--answers", "[1]"], ["1", "--today", "31-03-2026"],
])
def test_eval_rejects_bad_input_with_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "eval", *args]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("pantau:") and "Traceback" not in captured.err


def test_convert_yaml_to_xlsform_and_back(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = REPO / "forms" / "monev_uep.yaml"
    book, back, as_json = tmp_path / "monev.xlsx", tmp_path / "monev.yaml", tmp_path / "monev.json"
    assert main(["forms", "convert", str(source), str(book)]) == 0
    assert main(["forms", "convert", str(book), str(back)]) == 0
    assert main(["forms", "convert", str(back), str(as_json)]) == 0
    hashes = {compile_source(p.read_bytes(), p.name).compiled.content_hash  # type: ignore[union-attr]
              for p in (source, book, back, as_json)}
    assert len(hashes) == 1
    assert "monev.xlsx" in capsys.readouterr().out


def test_convert_writes_what_pyxforms_xls2xform_converts(tmp_path: Path) -> None:
    book, xform = tmp_path / "registrasi.xlsx", tmp_path / "registrasi.xml"
    assert main(["forms", "convert", str(REPO / "forms" / "registrasi_penerima.yaml"), str(book)]) == 0
    # pyxform's own command line, as an ODK or Kobo user would run it (ODK Validate: tests/domain).
    done = subprocess.run([str(Path(sys.executable).parent / "xls2xform"), "--skip_validate", "--json", str(book),
                           str(xform)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0 and json.loads(done.stderr)["code"] in (100, 101), done.stderr  # 101: with warnings
    assert 'type="int"' in xform.read_text() and "regex(., '^(11|12" in xform.read_text()


def test_convert_refuses_unknown_targets_and_broken_sources(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["forms", "convert", SHIPPED[0], str(tmp_path / "out.txt")]) == 2
    broken = write(tmp_path, "rusak.yaml", "fields: [")
    assert main(["forms", "convert", broken, str(tmp_path / "out.xlsx")]) == 1
    assert "form.yaml" in capsys.readouterr().out
    assert not (tmp_path / "out.xlsx").exists()


def test_forms_load_is_still_registered(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["forms", "--help"])
    out = capsys.readouterr().out
    assert all(action in out for action in ("check", "eval", "convert", "load"))


def test_check_as_a_subprocess(tmp_path: Path) -> None:
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)}
    ok = subprocess.run([sys.executable, "-m", "server.cli.main", "forms", "check", *SHIPPED], env=env, cwd=tmp_path,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    path = write(tmp_path, "rusak.yaml", BROKEN)
    bad = subprocess.run([sys.executable, "-m", "server.cli.main", "forms", "check", path], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert f"{path}:5:" in bad.stdout


def test_check_finds_the_csv_files_a_workbook_names_beside_it(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    assert book.active is not None
    book.active.title = "survey"
    for row in [["type", "name", "label"], ["select_one_from_file desa.csv", "desa", "Desa"]]:
        book.active.append(row)
    book.save(tmp_path / "desa_form.xlsx")
    assert main(["forms", "check", str(tmp_path / "desa_form.xlsx")]) == 0  # a warning: no choices yet
    assert "xlsform.missing_choices_file" in capsys.readouterr().out
    (tmp_path / "desa.csv").write_text("name,label\nd1,Desa Satu\n", encoding="utf-8")
    assert main(["forms", "check", str(tmp_path / "desa_form.xlsx")]) == 0
