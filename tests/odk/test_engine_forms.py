"""ODK's own form engine (@getodk/xforms-engine, the engine of ODK Web Forms, under Node with jsdom)
loads and fills the XForms Pantau's forms become: the shipped forms and a small
form with a repeat, each converted as Pantau converts them (`pantau forms convert`'s XLSForm,
pyxform's XForm; ODK Validate checks the XForms the server serves, in test_engine_server.py), with
the beneficiary CSV as a file attachment. The engine, not the test, decides what skip logic shows, which desa the
cascade offers and which beneficiaries the CSV holds; the instance it serialises is checked.

The server side (formList, manifests, /submission) is tests/odk/test_engine_server.py. These tests
touch no database, so they run in the SQLite pass only: the PostgreSQL pass would repeat them
unchanged at ~10 s of the CI budget."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from server.domain.regions import region_choices
from tests.conftest import ON_POSTGRES
from tests.odk import plans
from tests.odk.engine import REPO, run_client, violations, xform_of
from tests.web.test_api_submissions import JPEG

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="no database here: the SQLite pass runs it once")

HERE = Path(__file__).parent
SHIPPED = ["registrasi_penerima", "monev_uep", "cek_tumbuh_anak"]
DESA = sorted(c.name for c in region_choices(f"desa {plans.KECAMATAN}"))
# The enumerator's slice as the manifest serves it (xlsform_odk.beneficiary_file's columns).
CSV = ("name,label,nik,nama,desa,desa_nama\n"
       f"41,Siti Aminah · 6402********0001 · Jahab,6402********0001,Siti Aminah,{DESA[0]},Jahab\n"
       f"42,Budi Santoso · 6402********0002 · Jahab,6402********0002,Budi Santoso,{DESA[0]},Jahab\n")


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """The four forms converted, loaded, filled and serialised by the engine in one Node run."""
    work = tmp_path_factory.mktemp("odk")
    photo, csv = work / "foto.jpg", work / "penerima_bansos.csv"
    photo.write_bytes(JPEG)
    csv.write_text(CSV, encoding="utf-8")
    xml = {name: xform_of(REPO / "forms" / f"{name}.yaml", work) for name in SHIPPED}
    xml["uji_odk"] = xform_of(HERE / "uji_odk.yaml", work)
    media = {"penerima_bansos.csv": str(csv)}
    today = date.today().isoformat()
    jobs = {"registrasi_penerima": plans.registrasi_penerima(photo, DESA[0]),
            "monev_uep": plans.monev_uep(photo, "Siti Aminah"),
            "cek_tumbuh_anak": plans.cek_tumbuh_anak(photo, "Budi", today),
            "uji_odk": plans.uji_odk(photo, DESA[0])}
    report = run_client({"forms": [{"xform": str(xml[n]), "media": media, "steps": s} for n, s in jobs.items()]})
    return {Path(f["form"]).stem: f for f in report["forms"]}


def instance(form: dict[str, Any]) -> ET.Element:
    return ET.fromstring(form["submission"]["xml"])


@pytest.mark.parametrize("name", [*SHIPPED, "uji_odk"])
def test_the_engine_loads_fills_and_serialises_each_form(filled: dict[str, dict[str, Any]], name: str) -> None:
    form = filled[name]
    assert form["status"] == "success", form["error"] or form["warnings"]
    assert violations(form) == []
    assert form["submission"]["status"] == "ready"
    root = instance(form)
    assert root.get("id") == name
    assert (root.findtext("meta/instanceID") or "").startswith("uuid:")
    # Every photo the instance names is an attachment of the serialised submission, and back.
    named = {e.text for e in root.iter() if e.text and e.text.endswith(".jpg")}
    assert named and named == {f["name"] for f in form["submission"]["files"]}


def test_follow_up_forms_read_their_beneficiaries_from_the_csv_attachment(
        filled: dict[str, dict[str, Any]]) -> None:
    monev, cek = filled["monev_uep"], filled["cek_tumbuh_anak"]
    assert monev["fetched"] == cek["fetched"] == ["penerima_bansos.csv"]
    assert monev["steps"][0] == {"value": "41", "label": "Siti Aminah · 6402********0001 · Jahab"}
    assert instance(monev).findtext("penerima") == "41"
    assert instance(cek).findtext("pemeriksaan/identitas/keluarga") == "42"


def test_skip_logic_and_the_kecamatan_desa_cascade(filled: dict[str, dict[str, Any]]) -> None:
    steps = filled["registrasi_penerima"]["steps"]
    assert steps[0] is False and steps[2] is True  # the survey opens only after consent
    before, after = steps[10], steps[12]
    assert before == []  # no desa before a kecamatan
    assert sorted(o["value"] for o in after) == DESA  # exactly the desa of that kecamatan
    alamat = instance(filled["registrasi_penerima"]).find("pendataan/alamat_group")
    assert alamat is not None and alamat.findtext("desa") == DESA[0]
    cek = filled["cek_tumbuh_anak"]
    assert cek["steps"][9] is False  # no child NIK asked when the child has none
    assert instance(cek).find("pemeriksaan/identitas/nik_anak") is None  # and none sent
    assert cek["steps"][10] is True  # under two: measured lying down


def test_a_repeat_is_filled_twice_and_counted(filled: dict[str, dict[str, Any]]) -> None:
    form = filled["uji_odk"]
    assert form["steps"][10] == 2  # instances after adding one
    members = instance(form).findall("data/anggota")
    assert [(m.findtext("nama_art"), m.findtext("umur_art")) for m in members] == [("Siti Aminah", "41"), ("Rina", "1")]
    assert form["steps"][15] == "2"  # count(${anggota}) as the engine computed it
    assert instance(form).findtext("data/penghasilan") == "1250000"
