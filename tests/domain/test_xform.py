"""The XForm ODK Collect gets (domain/xform.py): pyxform converts every shipped form and the editor's
every-type form, and ODK Validate (JavaRosa, on Java 17 here; pyxform ships the jar) accepts each;
region lists become CSV files behind a choice filter; the NIK's sex and birth date are calculated in
a note; the note at the top names what only the server checks; the beneficiary file never holds a
whole NIK; the QR payload decodes as Collect decodes it."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from server.domain.collect import collect_settings, qr_payload, read_payload
from server.domain.compile import compile_source
from server.domain.expr import Context, evaluate, parse
from server.domain.form import Form
from server.domain.xform import (
    BENEFICIARY_COLUMNS,
    SERVER_NOTE,
    Beneficiary,
    beneficiary_csv,
    build_xform,
    md5_hex,
)
from tests.conftest import REPO
from tests.domain.test_xlsform_export import every_type_form

XF = "{http://www.w3.org/2002/xforms}"
VALIDATE = shutil.which("java") is not None  # ODK Validate runs on Java; without it pyxform still converts
SHIPPED = sorted(p.stem for p in (REPO / "forms").glob("*.yaml"))


def compiled(name: str) -> Form:
    result = compile_source((REPO / "forms" / f"{name}.yaml").read_bytes(), f"{name}.yaml")
    assert result.compiled is not None
    return result.compiled.definition


def binds(xml: bytes) -> dict[str, dict[str, str]]:
    return {b.attrib["nodeset"].rsplit("/", 1)[1]: b.attrib for b in ET.fromstring(xml).iter(f"{XF}bind")}


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_form_becomes_an_xform_odk_validate_accepts(name: str) -> None:
    form = compiled(name)
    xform = build_xform(form, validate=VALIDATE)  # raises when pyxform or ODK Validate refuses
    assert xform.md5 == md5_hex(xform.xml)
    root = ET.fromstring(xform.xml)
    data = next(root.iter(f"{XF}instance"))[0]
    assert (data.attrib["id"], data.attrib["version"]) == (form.settings.id, form.settings.version)
    assert data[0].tag == f"{XF}{SERVER_NOTE}"  # the note at the top
    assert xform.added >= {SERVER_NOTE}
    # The same form gives the same bytes: the list's md5 is stable across processes.
    assert build_xform(form).xml == xform.xml


def test_the_editors_every_type_form_becomes_a_valid_xform() -> None:
    result = compile_source(json.dumps(every_type_form()).encode(), "semua.json")
    assert result.compiled is not None
    xform = build_xform(result.compiled.definition, validate=VALIDATE)
    found = binds(xform.xml)
    # A NIK inside a repeat gets its note inside the repeat too.
    assert {"nik_usaha_jk_nik", "nik_usaha_lahir_nik", "nik_usaha_info_nik"} <= set(found)
    nodeset = found["nik_usaha_info_nik"]["nodeset"]
    assert "/anggota/" not in nodeset and "/usaha/" in nodeset
    note = ET.fromstring(xform.xml).find(f".//{XF}itext")
    assert note is not None
    text = xform.xml.decode()
    assert "jumlah isian" in text and "paling sedikit 1, paling banyak 3" in text  # repeat bounds: the server's


def test_the_kecamatan_desa_cascade_is_a_choice_filter_over_csv_files() -> None:
    form = compiled("registrasi_penerima")
    xform = build_xform(form)
    assert sorted(xform.media) == ["wilayah_desa.csv", "wilayah_kecamatan.csv"]
    text = xform.xml.decode()
    assert 'src="jr://file-csv/wilayah_desa.csv"' in text
    assert re.search(r"instance\('wilayah_desa'\)/root/item\[parent = +/data/[a-z_/]+/kecamatan +\]", text)
    desa = list(csv.DictReader(io.StringIO(xform.media["wilayah_desa.csv"].decode())))
    listed = form.choices["desa"].choices
    assert [(r["name"], r["label"], r["parent"]) for r in desa] == \
        [(c.name, c.label["id"], c.columns["parent"]) for c in listed]
    assert len(desa) > 200 and all(r["name"].startswith(r["parent"] + ".") for r in desa)
    # The region lists no longer travel inside the XForm.
    assert "<instance id=\"desa\">" not in text and "64.02.06.1001" not in text


def _calculation(xform_binds: dict[str, dict[str, str]], name: str, nik: str) -> object:
    """The XForm's calculation, evaluated by Pantau's own evaluator (which follows JavaRosa: substr
    from 0, up to and not including the end) for a NIK answer."""
    expr = re.sub(r" ?/data/[a-z_/]+/nik ?", "${nik}", xform_binds[name]["calculate"])
    expr = expr.replace("&gt;", ">").replace("&lt;", "<")
    ctx = Context(answers={"nik": nik}, today=dt.date(2026, 12, 6), now=dt.datetime(2026, 12, 6, tzinfo=dt.UTC))
    return evaluate(parse(expr), ctx)


def test_the_niks_sex_and_birth_date_are_calculated_as_the_fill_page_shows_them() -> None:
    xform = build_xform(compiled("registrasi_penerima"))
    found = binds(xform.xml)
    assert {"nik_jk_nik", "nik_lahir_nik", "nik_info_nik"} <= xform.added
    assert found["nik_info_nik"]["readonly"] == "true()" and "regex(" in found["nik_info_nik"]["relevant"]
    woman, man = "6402064101900001", "6402061703850002"  # 1 Jan 1990 (day + 40), 17 Mar 1985
    assert _calculation(found, "nik_jk_nik", woman) == "Perempuan"
    assert _calculation(found, "nik_lahir_nik", woman) == "01-01-1990"
    assert _calculation(found, "nik_jk_nik", man) == "Laki-laki"
    assert _calculation(found, "nik_lahir_nik", man) == "17-03-1985"
    assert _calculation(found, "nik_lahir_nik", "6402064101150001") == "01-01-2015"
    note = xform.xml.decode()
    assert "Dari NIK: <output" in note


def test_the_top_note_names_what_only_the_server_checks() -> None:
    intake = build_xform(compiled("registrasi_penerima"))
    text = intake.xml.decode()
    assert "Diperiksa di server saat formulir dikirim, bukan di aplikasi ini" in text
    assert "daftar Kemendagri" in text and "KK yang sama" in text
    visit = build_xform(compiled("monev_uep"))
    assert "penerima yang dipilih masih terdaftar" in visit.xml.decode()
    assert visit.registry_files == ("penerima_bansos.csv",) and visit.media_names == ["penerima_bansos.csv"]
    assert 'src="jr://file-csv/penerima_bansos.csv"' in visit.xml.decode()


def test_the_beneficiary_file_has_the_documented_columns_and_no_whole_nik() -> None:
    people = [Beneficiary("b2", "64**************", "Wati", "64.02.13.2001", "Sanipah"),
              Beneficiary("b1", "64**************", "siti Aminah", "64.02.06.1001", "Timbau")]
    rows = list(csv.DictReader(io.StringIO(beneficiary_csv(people).decode())))
    assert tuple(rows[0]) == BENEFICIARY_COLUMNS
    assert [r["name"] for r in rows] == ["b1", "b2"]  # by name, whatever its case
    assert rows[0]["label"] == "siti Aminah · 64************** · Timbau"
    assert not re.search(r"\d{16}", beneficiary_csv(people).decode())


def test_the_qr_payload_is_zlib_compressed_base64_json_with_collects_keys() -> None:
    url = "https://pantau.example.id/key/" + "a" * 48 + "/"
    payload = qr_payload(collect_settings(url, "Pantau (citra)"))
    assert re.fullmatch(r"[A-Za-z0-9+/=]+", payload)
    settings = read_payload(payload)
    assert settings == {"general": {"server_url": url, "form_update_mode": "match_exactly",
                                    "periodic_form_updates_check": "every_fifteen_minutes",
                                    "autosend": "wifi_and_cellular", "app_language": "id"},
                        "admin": {}, "project": {"name": "Pantau (citra)", "icon": "P", "color": "#0b5d4b"}}
