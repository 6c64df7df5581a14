"""ODK's own form engine as the client of a real Pantau: `pantau serve` with the
shipped forms and tests/odk/uji_odk.yaml; an enumerator makes an app key on her account page; the
engine (tests/odk/client.mjs) reads /key/<token>/formList, downloads every listed XForm and its
media (checking each md5 the list and the manifests give), loads each without error, fills and
serialises them and posts them to /submission with photos. The record is then compared with the
same answers entered through the web page: in the database, in the review list and in the export.
The same instance sent again is 201 with one row; changed, 409; an instance that breaks a rule only
the server checks (a NIK whose birth date does not exist), 400 with the message.

It runs once, in the SQLite pass: it is about the protocol and the client, and the storage path
under it (intake, writer, registry) is the web page's, which the PostgreSQL pass covers already;
one server start and three Node runs cost ~15 s of CPU the second pass would only repeat."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from server.domain.regions import region_choices
from server.storage import pii
from tests.browser.server import Server, csrf_token, pantau_server
from tests.conftest import ON_POSTGRES
from tests.odk import plans
from tests.odk.engine import REPO, run_client, violations
from tests.web.test_api_submissions import JPEG

KEYS = pii.keys_from("s" * 48)  # tests/browser/server.py's PANTAU_SECRET_KEY, the NIK key without its own

pytestmark = pytest.mark.skipif(ON_POSTGRES, reason="protocol test: the SQLite pass runs it once (module doc)")

HERE = Path(__file__).parent
FORMS = [*sorted((REPO / "forms").glob("*.yaml")), HERE / "uji_odk.yaml"]
DESA = sorted(c.name for c in region_choices(f"desa {plans.KECAMATAN}"))
BAD_NIK = "6402063102850001"  # passes the XForm's pattern, but 31 February does not exist
OPENROSA = {"X-OpenRosa-Version": "1.0"}


def app_key_root(server: Server, username: str) -> str:
    """The account page makes a key and shows its server root once (and as a QR code)."""
    with closing(server.client(username)) as person:
        page = person.post("/akun/kunci-aplikasi", data={"name": "HP uji", "_csrf_token": csrf_token(person)})
    assert page.status_code == 200, page.text
    found = re.search(r"https?://[^\s\"<>]+/key/[A-Za-z0-9_-]+/", page.text)
    assert found, page.text
    return found.group(0)


def web_post(server: Server, username: str, instance_id: str, photo: bytes) -> httpx.Response:
    """uji_odk's plan entered on the fill page instead (tests/web/test_fill_post.py's names)."""
    with closing(server.client(username)) as person:
        data = {"_csrf_token": csrf_token(person), "_id": instance_id, "_versi": "1", "setuju": "ya",
                "nama": "Siti Aminah", "jk": "P", "nik": plans.NIK, "kecamatan": plans.KECAMATAN, "desa": DESA[0],
                "penghasilan": "1250000", "anggota[0].nama_art": "Siti Aminah", "anggota[0].umur_art": "41",
                "anggota[1].nama_art": "Rina", "anggota[1].umur_art": "1"}
        return person.post("/f/uji_odk", data=data, files=[("foto", ("foto.jpg", photo, "image/jpeg"))])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    work = tmp_path_factory.mktemp("odk_server")
    photo = work / "foto.jpg"
    photo.write_bytes(JPEG)
    with pantau_server(work, FORMS) as server:
        root = app_key_root(server, "citra")
        # First the intake: the person it registers is in the follow-up forms' CSV afterwards.
        first = run_client({"server": root, "post": True, "fill": {
            "registrasi_penerima": {"steps": plans.registrasi_penerima(photo, DESA[0])},
            "uji_odk": [
                # sent, sent again (the same bytes: 201), changed under the same instanceID (409)
                {"steps": plans.uji_odk(photo, DESA[0]),
                 "variants": [[], [{"set": "/data/data/penghasilan", "value": "1300000"}]]},
                {"steps": [*plans.uji_odk(photo, DESA[0]), {"set": "/data/data/nik", "value": BAD_NIK}]},
            ]}})
        second = run_client({"server": root, "post": True, "fill": {
            "monev_uep": {"steps": plans.monev_uep(photo, "Siti Aminah")},
            "cek_tumbuh_anak": {"steps": plans.cek_tumbuh_anak(photo, "Siti Aminah", date.today().isoformat())}}})
        web_id = str(uuid.uuid4())
        web = web_post(server, "citra", web_id, JPEG)
        filled = {f["form"]: f for f in [*first["forms"], *second["forms"]] if "fills" in f}
        yield {"server": server, "root": root, "work": work, "first": first, "second": second,
               "web": web, "web_id": web_id, "forms": filled}


def instance_id(fill: dict[str, Any]) -> str:
    found = re.search(r"<instanceID>uuid:([0-9a-f-]{36})</instanceID>", fill["submission"]["xml"])
    assert found
    return found.group(1)


def test_the_form_list_through_an_app_key_lists_every_form_and_each_loads(run: dict[str, Any]) -> None:
    forms = {f["form"]: f for f in run["first"]["forms"]}
    assert set(forms) == {"registrasi_penerima", "monev_uep", "cek_tumbuh_anak", "uji_odk"}
    for name, form in forms.items():
        assert form["status"] == "success", (name, form["error"], form["warnings"])
        assert form["problems"] == [], form["problems"]  # every md5 matches what was downloaded
        assert form["entry"]["downloadUrl"].startswith(run["root"])
    assert "penerima_bansos.csv" in forms["monev_uep"]["media"]
    assert forms["monev_uep"]["fetched"] == ["penerima_bansos.csv"]


def test_engine_submissions_are_accepted_and_replayed_exactly_once(run: dict[str, Any]) -> None:
    forms = run["forms"]
    for name in ("registrasi_penerima", "monev_uep", "cek_tumbuh_anak"):
        [fill] = forms[name]["fills"]
        assert violations(fill) == [] and fill["submission"]["status"] == "ready"
        assert [p["status"] for p in fill["posts"]] == [201], fill["posts"]
    sent, refused = forms["uji_odk"]["fills"]
    assert [p["status"] for p in sent["posts"]] == [201, 201, 409], sent["posts"]
    assert sent["posts"][0]["body"] == sent["posts"][1]["body"]  # the first receipt again
    assert all(p["openrosa"] == "1.0" for p in sent["posts"])
    assert "<OpenRosaResponse" in sent["posts"][2]["body"]
    rows = database_rows(run["server"].database, instance_id(sent))
    assert len(rows) == 1 and rows[0]["answers"]["penghasilan"] == 1250000  # the 409 changed nothing
    [bad] = refused["posts"]
    assert bad["status"] == 400 and "NIK" in bad["body"], bad
    assert database_rows(run["server"].database, instance_id(refused)) == []


def database_rows(database: Path, record: str) -> list[dict[str, Any]]:
    """The submission rows of a record, each with its sealed answers opened (the NIK is stored masked
    in the answers and sealed beside them, in the row's `sealed` column; the test server's NIK key is
    its secret key)."""
    with sqlite3.connect(database) as con:
        con.row_factory = sqlite3.Row
        rows = [dict(r) for r in con.execute("SELECT * FROM submission WHERE replace(id, '-', '') = ?",
                                             (record.replace("-", ""),))]
        for row in rows:
            row["answers"] = json.loads(row["answers"])
            row["sealed"] = sorted((path, kind, pii.open_sealed(KEYS, kind, value))
                                   for path, (kind, value) in pii.held_answers(row["sealed"]).items())
    return rows


def test_the_engine_record_equals_the_web_page_record(run: dict[str, Any]) -> None:
    assert run["web"].status_code == 201, run["web"].text
    [odk] = database_rows(run["server"].database, instance_id(run["forms"]["uji_odk"]["fills"][0]))
    [web] = database_rows(run["server"].database, run["web_id"])
    assert odk["answers"] == web["answers"]
    assert odk["sealed"] == web["sealed"] and odk["sealed"]  # the same NIK arrived, not only its mask
    assert (odk["form_version"], odk["area_code"], odk["enumerator"]) == (web["form_version"], web["area_code"],
                                                                          web["enumerator"])
    with closing(run["server"].client("ani")) as ani:
        listing = ani.get("/data", params={"form": "uji_odk"})
        exported = ani.get("/data/ekspor", params={"form": "uji_odk", "format": "jsonl", "status": "all"})
    assert listing.status_code == 200
    assert row_cells(listing.text, odk["id"]) == row_cells(listing.text, web["id"])
    lines = [json.loads(x) for x in exported.text.splitlines()]
    by_id = {line["_id"]: line for line in lines}
    assert set(by_id) == {odk["id"], web["id"]}
    mine = {k: v for k, v in by_id[odk["id"]].items() if k not in ("_id", "_received_at", "_submitted_at")}
    theirs = {k: v for k, v in by_id[web["id"]].items() if k not in ("_id", "_received_at", "_submitted_at")}
    assert mine == theirs


def row_cells(page: str, record: str) -> list[str]:
    row = re.search(r"<tr[^>]*>(?:(?!</tr>).)*" + re.escape(record) + r"(?:(?!</tr>).)*</tr>", page, re.S)
    assert row, record
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(0), re.S)
    shown = [re.sub(r"<[^>]+>|\s+", " ", c).replace(record, "").replace(record[:8], "").strip() for c in cells]
    return [c for c in shown if not re.search(r"\d\d\.\d\d WITA", c)]  # when it arrived differs


def test_the_cascade_reads_the_served_region_files(run: dict[str, Any]) -> None:
    """Region lists are CSV media (wilayah_*.csv): the engine filters desa by the chosen kecamatan
    from the downloaded file, and both forms fill without a violation."""
    for name, options_at in (("registrasi_penerima", 12), ("uji_odk", 7)):
        form = run["forms"][name]
        assert {"wilayah_kecamatan.csv", "wilayah_desa.csv"} <= set(form["fetched"])
        fill = form["fills"][0]
        assert sorted(o["value"] for o in fill["steps"][options_at]) == DESA
        assert violations(fill) == [] and fill["submission"]["status"] == "ready"
    assert run["forms"]["registrasi_penerima"]["fills"][0]["steps"][10] == []  # no desa before a kecamatan


def test_served_xforms_pass_odk_validate(run: dict[str, Any]) -> None:
    """ODK Validate (JavaRosa, the parser of ODK Collect, shipped with pyxform) on the XForms exactly
    as served; pyxform's own checks ran when the server converted each form's XLSForm (an XForm it
    refuses is not listed). pyxform's XForm reader (xform2json) is no second check: it cannot read
    the CSV-backed instances the region lists and the beneficiaries are. Without Java ODK Validate
    cannot run and the skip says so; the engine above still loaded every form."""
    if shutil.which("java") is None:
        pytest.skip("no Java: ODK Validate cannot run here")
    from pyxform.validators.odk_validate import check_xform

    for form in run["first"]["forms"]:
        path = run["work"] / f"{form['form']}.xml"
        path.write_bytes(httpx.get(form["entry"]["downloadUrl"], headers=OPENROSA).content)
        check_xform(str(path))
