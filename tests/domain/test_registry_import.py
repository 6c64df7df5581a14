"""Reading and checking a beneficiary list as offices write it: a title above the header,
region names in capitals with "KEC." prefixes, NIKs with spaces and as numbers, mixed date formats,
CSVs from Excel in Windows-1252 with semicolons or in UTF-16; and the files that cannot be read, each
with a message naming the problem. Expected people are computed here from the NIKs the test writes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import xlrd
from openpyxl import Workbook, load_workbook

from server.domain import registry_import as ri
from server.domain.registry_file import FileProblem, layout

TODAY = dt.date(2026, 12, 6)
DATA = Path(__file__).resolve().parents[1] / "data" / "registry_import"
CORPUS_XLS = Path(__file__).resolve().parents[1] / "data" / "pyxform_corpus" / "example_xls"
GROUPS = {"prse": "Perempuan rawan sosial ekonomi (PRSE)", "lansia": "Lanjut usia", "fakir_miskin": "Fakir miskin"}
HEADER = ["NO", "NAMA LENGKAP", "NIK", "NO. KK", "L/P", "TGL LAHIR", "KECAMATAN", "DESA/KEL", "KELOMPOK"]


def nik(region: str, born: dt.date, female: bool, serial: int) -> str:
    day = born.day + (40 if female else 0)
    return f"{region}{day:02d}{born.month:02d}{born.year % 100:02d}{serial:04d}"


SITI = nik("640206", dt.date(1990, 7, 5), True, 1)
BUDI = nik("640206", dt.date(1958, 3, 12), False, 22)
ANI = nik("640216", dt.date(1985, 11, 30), True, 7)
KK1, KK2 = "6402061203150002", "6402161503100004"


def office_xlsx(path: Path, rows: list[list[Any]], *, merged: str = "") -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(["DAFTAR PENERIMA BANTUAN UEP TAHUN 2025"])
    sheet.append([])
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    if merged:
        sheet.merge_cells(merged)
    book.save(path)
    return path


def office_rows() -> list[list[Any]]:
    return [
        [1, "SITI AMINAH", SITI[:4] + " " + SITI[4:8] + " " + SITI[8:12] + " " + SITI[12:], KK1, "P", "05/07/1990",
         "KEC. TENGGARONG", "JAHAB", "PRSE"],
        [2, "Budi Santoso", int(BUDI), KK1, "L", "12 Maret 1958", "Kec. Tenggarong", "Desa Jahab", "Lanjut Usia"],
        [3, "ANI", ANI, KK2, "Perempuan", dt.datetime(1985, 11, 30), "KECAMATAN TENGGARONG SEBERANG", "BUKIT RAYA",
         "fakir miskin"],
    ]


def check(path: Path, **kw: Any) -> ri.DryRun:
    return ri.check_file(path, today=TODAY, groups=GROUPS, **kw)


def test_an_office_xlsx_is_read_under_its_title_and_every_row_becomes_the_expected_person(tmp_path: Path) -> None:
    run = check(office_xlsx(tmp_path / "uep.xlsx", office_rows()), one_per_kk=True)
    assert run.layout.header_row == 3 and run.layout.kind == "xlsx"
    assert run.mapping.columns == {"name": "NAMA LENGKAP", "nik": "NIK", "kk": "NO. KK", "sex": "L/P",
                                   "birth_date": "TGL LAHIR", "kecamatan": "KECAMATAN", "desa": "DESA/KEL",
                                   "group": "KELOMPOK"}
    people = [r.person for r in run.results]
    jahab = ri.regions().desa_named("Jahab")[0]
    assert jahab.startswith("64.02.06.")
    assert people[0] == ri.Candidate(nik=SITI, kk=KK1, name="SITI AMINAH", sex="P", birth_date="1990-07-05",
                                     area_code=jahab, group="prse")
    assert people[1] is not None and people[1].nik == BUDI and people[1].birth_date == "1958-03-12"
    assert people[1].group == "lansia" and people[1].sex == "L"
    bukit_raya = ri.regions().desa_named("Bukit Raya", "64.02.16")
    assert people[2] is not None and [people[2].area_code] == bukit_raya and people[2].birth_date == "1985-11-30"
    # Budi shares Siti's family card in a one-recipient-per-family programme: a warning, not an error.
    assert [f.code for f in run.results[1].findings] == ["import.same_kk_in_file"]
    assert run.results[1].level == "warning" and "baris 4" in run.results[1].findings[0].id
    assert (run.summary.ok, run.summary.warning, run.summary.error) == (2, 1, 0)


def test_a_nik_stored_as_a_number_ending_in_zero_is_a_warning_to_check_the_last_digit(tmp_path: Path) -> None:
    ending_zero = nik("640206", dt.date(1970, 1, 2), False, 10)
    row = [1, "Ahmad", int(ending_zero), "", "L", "02-01-1970", "TENGGARONG", "JAHAB", ""]
    run = check(office_xlsx(tmp_path / "n.xlsx", [row]))
    assert [f.code for f in run.results[0].findings] == ["import.nik_number"]
    assert run.results[0].person is not None and run.results[0].person.nik == ending_zero


def test_excel_serial_dates_and_iso_dates_read_as_the_same_day() -> None:
    born = dt.date(1990, 3, 5)
    serial = (born - dt.date(1899, 12, 30)).days
    for value in ("05/03/1990", "5 Maret 1990", "05-03-1990", "1990-03-05", "5-Mar-1990", "05.03.1990", serial,
                  str(serial), dt.datetime(1990, 3, 5)):
        assert ri.parse_date(value) == born, value
    assert ri.parse_date("31/02/1990") is None and ri.parse_date("kemarin") is None


def test_a_windows_csv_with_semicolons_is_detected_and_shown(tmp_path: Path) -> None:
    path = tmp_path / "kec.csv"
    lines = ["Daftar penerima Kec. Tenggarong;;;", "Nama;NIK;Desa;Tanggal Lahir",
             f"Nur'aini Sé;{SITI};Jahab;5 Juli 1990", f"Budi;{BUDI};Jahap;12/03/1958"]
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    run = check(path)
    assert (run.layout.encoding, run.layout.delimiter, run.layout.header_row) == ("cp1252", ";", 2)
    assert run.results[0].person is not None and run.results[0].person.name == "Nur'aini Sé"
    # "Jahap" is a spelling of Jahab: read as it, and said so.
    assert run.results[1].level == "warning" and run.results[1].findings[0].code == "import.spelling"
    assert run.results[1].person is not None and run.results[1].person.area_code == run.results[0].person.area_code


def test_utf16_tab_separated_text_from_excel_is_read(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    path.write_bytes(f"NIK\tNama\tDesa\n{SITI}\tSiti\tJahab\n".encode("utf-16"))
    run = check(path)
    assert (run.layout.encoding, run.layout.delimiter) == ("utf-16", "\t")
    assert run.results[0].person is not None and run.results[0].person.nik == SITI


def test_row_errors_name_the_problem_in_indonesian(tmp_path: Path) -> None:
    rows = [
        [1, "A", "6.40206E+15", "", "L", "", "TENGGARONG", "JAHAB", ""],
        [2, "B", SITI, "", "L", "33/13/1990", "TENGGARONG", "SUMBER SARI", "janda"],
        [3, "C", SITI, "", "P", "", "", "SUMBER SARI", ""],
        [4, "", BUDI, "", "X", "", "KEC. ENTAH", "JAHAB", ""],
    ]
    run = check(office_xlsx(tmp_path / "bad.xlsx", rows))
    codes = [[f.code for f in r.findings] for r in run.results]
    assert codes[0] == ["nik.excel"] and "6.40206E+15" in run.results[0].findings[0].id
    assert {"import.date", "import.desa", "import.group", "nik.sex_mismatch"} <= set(codes[1])
    assert codes[2] == ["import.ambiguous"] and "beberapa wilayah" in run.results[2].findings[0].id
    assert {"import.missing", "import.sex", "import.kecamatan"} <= set(codes[3])
    assert all(r.level == "error" and r.person is None for r in run.results)


def test_the_same_nik_twice_in_a_file_is_an_error_on_the_second_row(tmp_path: Path) -> None:
    rows = [[1, "Siti", SITI, "", "P", "", "", "JAHAB", ""], [2, "Siti A.", SITI, "", "P", "", "", "JAHAB", ""]]
    run = check(office_xlsx(tmp_path / "twice.xlsx", rows))
    assert run.results[0].level == "ok"
    assert run.results[1].level == "error" and run.results[1].person is None
    assert run.results[1].findings[0].id == "NIK sama dengan baris 4."


def test_formulas_are_reported_with_their_row(tmp_path: Path) -> None:
    rows = [[1, "=UPPER(\"siti\")", SITI, "", "P", "", "", "JAHAB", ""]]
    run = check(office_xlsx(tmp_path / "f.xlsx", rows))
    assert run.results[0].row == 4 and run.results[0].findings[0].code == "import.formula"
    assert "Paste Special" in run.results[0].findings[0].id


@pytest.mark.parametrize("case", ["merged", "encrypted", "xls", "binary", "empty", "no_header"])
def test_files_that_cannot_be_read_say_why(tmp_path: Path, case: str) -> None:
    path = tmp_path / "file.xlsx"
    if case == "merged":
        office_xlsx(path, office_rows(), merged="C3:D3")
    elif case == "encrypted":
        # A real password-protected workbook (password "rahasia", Agile encryption as Excel 2010+ writes
        # it), made by msoffcrypto-tool 6.1.0: OOXMLFile(openpyxl's workbook).encrypt("rahasia", out).
        path.write_bytes((DATA / "encrypted.xlsx").read_bytes())
    elif case == "xls":
        # A real Excel 97-2003 workbook (BIFF8 in an OLE compound file) from pyxform's vendored test
        # corpus, under an .xlsx name as an office might rename it; xlrd reads it as the workbook it is.
        real = CORPUS_XLS / "yes_or_no_question.xls"
        assert xlrd.open_workbook(file_contents=real.read_bytes()).nsheets >= 1
        path.write_bytes(real.read_bytes())
    elif case == "binary":
        path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    elif case == "empty":
        path.write_bytes(b"")
    else:
        path.write_bytes(b"just one line of text\nand another\n")
    with pytest.raises(FileProblem) as caught:
        layout(path)
    expected = {"merged": "file.merged_header", "encrypted": "file.encrypted", "xls": "file.xls",
                "binary": "file.not_table", "empty": "file.empty", "no_header": "file.no_header"}[case]
    assert caught.value.code == expected
    if case == "merged":
        assert "baris 3" in caught.value.message() and "C3:D3" in caught.value.message()


def test_a_million_rows_are_refused_with_the_row_where_reading_stopped(tmp_path: Path) -> None:
    path = tmp_path / "juta.csv"
    with path.open("w") as out:
        out.write("Nama,NIK,Desa\n")
        out.writelines(f"Orang {n},{SITI},Jahab\n" for n in range(1_000_000))
    with pytest.raises(FileProblem) as caught:
        check(path)
    assert caught.value.code == "file.too_many_rows"
    assert caught.value.params["row"] == 1_000_001  # the header is row 1
    assert "200.000" in caught.value.message()


def test_a_mapping_without_the_required_columns_says_which(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("Nama,Alamat\nSiti,Jl. Mawar\n")
    run = check(path)
    assert run.missing == ["nik", "desa"] and run.results == []


def test_a_saved_mapping_is_used_as_given(tmp_path: Path) -> None:
    path = tmp_path / "odd.csv"
    path.write_text(f"Kolom A,Kolom B,Kolom C\nSiti,{SITI},64.02.06.1001\n")
    mapping = ri.Mapping(columns={"name": "Kolom A", "nik": "Kolom B", "desa": "Kolom C"})
    run = check(path, mapping=mapping)
    assert run.results[0].person is not None and run.results[0].person.area_code == "64.02.06.1001"
    assert ri.mapping_problems(["Kolom A"], ri.Mapping(columns={"nama": "Kolom Z"})) == [
        "unknown field 'nama'", "no column 'Kolom Z'"]


def test_the_reasons_workbook_has_every_row_with_its_status(tmp_path: Path) -> None:
    rows = [*office_rows(), [4, '=HYPERLINK("http://x")', "123", "", "L", "", "", "JAHAB", ""]]
    source = office_xlsx(tmp_path / "in.xlsx", rows)
    run = check(source)
    out = tmp_path / "alasan.xlsx"
    ri.write_reasons(source, run, out)
    sheet = load_workbook(out).active
    values = list(sheet.iter_rows(values_only=True))
    assert values[0] == (*HEADER, "Status", "Keterangan")
    assert [v[-2] for v in values[1:]] == ["ok", "ok", "ok", "galat"]
    assert "berisi rumus" in values[4][-1]
    assert sheet.cell(row=5, column=2).data_type == "s"  # the sender's formula came back as text
