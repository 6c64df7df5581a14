"""ODK Collect's side of Pantau, spoken as Collect speaks it: the 401 challenge and HTTP
Basic, app keys made on the account page (the QR code decoded as Collect decodes it), the form list of
the forms each person may fill, the XForms with the md5 the list promised, manifests whose md5 match
the media files, and the beneficiary file: the person's own areas, never a whole NIK."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from server.domain.collect import read_payload
from tests.conftest import REPO
from tests.web.conftest import PASSWORD, csrf_of, post_form
from tests.web.test_fill_shipped import _publish
from tests.web.test_registry import SITI_NIK, fetch, insert_beneficiary

OR = {"X-OpenRosa-Version": "1.0"}
XL = "{http://openrosa.org/xforms/xformsList}"
MF = "{http://openrosa.org/xforms/xformsManifest}"
RESP = "{http://openrosa.org/http/response}"
SHIPPED = sorted(p.stem for p in (REPO / "forms").glob("*.yaml"))


def basic(username: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {**OR, "Authorization": f"Basic {token}"}


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def form_list(response: Any) -> dict[str, dict[str, str]]:
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    assert root.tag == f"{XL}xforms"
    return {x.findtext(f"{XL}formID"): {c.tag.removeprefix(XL): c.text or "" for c in x} for x in root}


def message(response: Any) -> str:
    root = ET.fromstring(response.content)
    assert root.tag == f"{RESP}OpenRosaResponse", response.text
    return root.findtext(f"{RESP}message") or ""


def openrosa_headers(response: Any) -> None:
    assert response.headers["x-openrosa-version"] == "1.0"
    assert re.fullmatch(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT", response.headers["date"])


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


@pytest.fixture
def shipped(settings) -> list[str]:  # type: ignore[no-untyped-def]
    return [_publish(settings, REPO / "forms" / f"{name}.yaml") for name in SHIPPED]


def make_key(persona: Any, name: str = "HP uji") -> dict[str, Any]:
    """A key made on the account page, read back from its QR code as Collect reads it."""
    response = post_form(persona, "/akun/kunci-aplikasi", {"name": name})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    svg = re.search(r"<svg.*?</svg>", response.text, re.S)
    assert svg is not None
    url = re.search(r'<code class="secret key-url">([^<]+)</code>', response.text)
    assert url is not None
    return {"url": url.group(1), "svg": svg.group(0)}


def test_basic_auth_answers_the_challenge_first_then_lists_the_forms(app_client, shipped) -> None:  # type: ignore[no-untyped-def]
    anonymous = app_client.get("/formList", headers=OR)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == 'Basic realm="Pantau"'
    openrosa_headers(anonymous)
    assert "Masuk dulu" in message(anonymous)
    wrong = app_client.get("/formList", headers=basic("citra", "salah-sandi-1"))
    assert wrong.status_code == 401 and "salah" in message(wrong)
    assert wrong.headers["www-authenticate"] == 'Basic realm="Pantau"'
    listed = app_client.get("/formList", headers=basic("citra"))
    openrosa_headers(listed)
    assert listed.headers["content-type"] == "text/xml; charset=utf-8"
    entries = form_list(listed)
    assert sorted(entries) == sorted(shipped)
    head = app_client.head("/formList", headers=basic("citra"))
    assert head.status_code == 200 and head.content == b""
    openrosa_headers(head)


def test_each_xform_has_the_md5_the_list_promised_and_is_the_version_listed(app_client, shipped) -> None:  # type: ignore[no-untyped-def]
    entries = form_list(app_client.get("/formList", headers=basic("citra")))
    for form_id, entry in entries.items():
        xml = app_client.get(path_of(entry["downloadUrl"]), headers=basic("citra"))
        openrosa_headers(xml)
        assert entry["hash"] == f"md5:{md5(xml.content)}"
        root = ET.fromstring(xml.content)
        data = next(root.iter("{http://www.w3.org/2002/xforms}instance"))[0]
        assert (data.attrib["id"], data.attrib["version"]) == (form_id, entry["version"])
        # Every shipped form has media: region lists or the beneficiary file.
        assert path_of(entry["manifestUrl"]) == f"/xformsManifest/{form_id}/{entry['version']}"


def test_a_person_who_may_not_fill_gets_an_openrosa_refusal(app_client, shipped) -> None:  # type: ignore[no-untyped-def]
    refused = app_client.get("/formList", headers=basic("budi"))  # a coordinator reviews, never fills
    assert refused.status_code == 403
    openrosa_headers(refused)
    assert message(refused)


def test_the_form_list_holds_only_forms_assigned_to_the_person(app_client, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    fetch(settings, "INSERT INTO form_assignment (form_id, role, area_code) VALUES ('monev_uep', '', '64.02.13')")
    citra = form_list(app_client.get("/formList", headers=basic("citra")))  # Tenggarong
    dewi = form_list(app_client.get("/formList", headers=basic("dewi")))  # Samboja
    assert "monev_uep" not in citra and "monev_uep" in dewi
    version = dewi["monev_uep"]["version"]
    refused = app_client.get(f"/formXml/monev_uep/{version}", headers=basic("citra"))
    assert refused.status_code == 404 and "monev_uep" in message(refused)


def test_without_the_openrosa_header_the_list_says_what_is_missing(app_client, shipped) -> None:  # type: ignore[no-untyped-def]
    response = app_client.get("/formList", headers={"Authorization": basic("citra")["Authorization"]})
    assert response.status_code == 400
    assert "X-OpenRosa-Version" in message(response)


def test_unknown_forms_versions_and_files_are_openrosa_404s(app_client, shipped) -> None:  # type: ignore[no-untyped-def]
    for path in ("/formXml/tidak_ada/1", "/formXml/monev_uep/1999", "/xformsManifest/tidak_ada/1",
                 "/xformsMedia/monev_uep/1999/penerima_bansos.csv"):
        response = app_client.get(path, headers=basic("citra"))
        assert response.status_code == 404, path
        openrosa_headers(response)
        assert message(response).startswith("Tidak ada")
    entries = form_list(app_client.get("/formList", headers=basic("citra")))
    version = entries["monev_uep"]["version"]
    response = app_client.get(f"/xformsMedia/monev_uep/{version}/..%2Fpantau.sqlite3", headers=basic("citra"))
    assert response.status_code == 404


def test_manifest_md5s_match_the_media_and_the_beneficiary_file_is_ones_own_slice(  # type: ignore[no-untyped-def]
        app_client, shipped, settings) -> None:
    insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001")  # Tenggarong: citra's
    insert_beneficiary(settings, "Wati Samboja", "64.02.13.2001", nik="6402134101900002", kk="6402131203150008")
    files = {}
    for who in ("citra", "dewi"):
        entries = form_list(app_client.get("/formList", headers=basic(who)))
        manifest = app_client.get(path_of(entries["monev_uep"]["manifestUrl"]), headers=basic(who))
        openrosa_headers(manifest)
        root = ET.fromstring(manifest.content)
        assert root.tag == f"{MF}manifest"
        media = [{c.tag.removeprefix(MF): c.text for c in m} for m in root]
        assert [m["filename"] for m in media] == ["penerima_bansos.csv"]
        for m in media:
            data = app_client.get(path_of(m["downloadUrl"]), headers=basic(who))
            assert data.status_code == 200
            assert m["hash"] == f"md5:{md5(data.content)}"
            files[who] = data.content
    citra = list(csv.DictReader(io.StringIO(files["citra"].decode())))
    dewi = list(csv.DictReader(io.StringIO(files["dewi"].decode())))
    assert [r["nama"] for r in citra] == ["Siti Aminah"] and [r["nama"] for r in dewi] == ["Wati Samboja"]
    assert list(citra[0]) == ["name", "label", "nik", "nama", "desa", "desa_nama"]
    assert citra[0]["desa"] == "64.02.06.1001" and citra[0]["desa_nama"]
    for content in files.values():
        assert SITI_NIK.encode() not in content and b"6402134101900002" not in content
        assert not re.search(rb"\d{16}", content)  # no whole NIK or KK at all
    assert citra[0]["nik"].startswith("64") and "*" in citra[0]["nik"]
    # The registry changes: the manifest's md5 changes with it, so Collect fetches the file again.
    before, dewi_before = manifest_hashes(app_client, "citra"), manifest_hashes(app_client, "dewi")
    insert_beneficiary(settings, "Ani Timbau", "64.02.06.1001", nik="6402065101900003", kk="6402061203150009")
    assert manifest_hashes(app_client, "citra") != before
    assert manifest_hashes(app_client, "dewi") == dewi_before  # a person in Tenggarong is not Samboja's


def manifest_hashes(client: Any, who: str) -> list[str]:
    entries = form_list(client.get("/formList", headers=basic(who)))
    manifest = client.get(path_of(entries["monev_uep"]["manifestUrl"]), headers=basic(who))
    return [m.findtext(f"{MF}hash") or "" for m in ET.fromstring(manifest.content)]


def test_region_lists_are_csv_files_with_the_cascade_column(app_client, shipped) -> None:  # type: ignore[no-untyped-def]
    entries = form_list(app_client.get("/formList", headers=basic("citra")))
    manifest = app_client.get(path_of(entries["registrasi_penerima"]["manifestUrl"]), headers=basic("citra"))
    media = {m.findtext(f"{MF}filename"): m for m in ET.fromstring(manifest.content)}
    assert sorted(media) == ["wilayah_desa.csv", "wilayah_kecamatan.csv"]
    desa = app_client.get(path_of(media["wilayah_desa.csv"].findtext(f"{MF}downloadUrl") or ""), headers=basic("citra"))
    rows = list(csv.DictReader(io.StringIO(desa.text)))
    assert {"name": "64.02.06.1001", "label": "Timbau", "parent": "64.02.06"} in rows or \
        any(r["name"] == "64.02.06.1001" and r["parent"] == "64.02.06" for r in rows)
    assert media["wilayah_desa.csv"].findtext(f"{MF}hash") == f"md5:{md5(desa.content)}"


def test_an_app_key_is_made_on_the_account_page_scanned_used_and_revoked(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    made = make_key(citra, "Samsung A14 Citra")
    key_url = made["url"]
    assert re.fullmatch(r"http://[^/]+/key/[A-Za-z0-9_-]{48}/", key_url)
    key_path = path_of(key_url)
    # The key: stored only as its sha256.
    secret = key_path.split("/")[2]
    stored = [dict(r) for r in fetch(settings, "SELECT key_hash, prefix, name FROM app_key")]
    assert stored == [{"key_hash": hashlib.sha256(secret.encode()).hexdigest(), "prefix": secret[:6],
                       "name": "Samsung A14 Citra"}]
    # The key's root is a whole OpenRosa server: no password, links under the key.
    anon = as_(None)  # no cookie, no Basic
    entries = form_list(anon.get(f"{key_path}formList", headers=OR))
    assert sorted(entries) == sorted(shipped)
    entry = entries["monev_uep"]
    assert path_of(entry["downloadUrl"]).startswith(f"{key_path}formXml/")
    assert path_of(entry["manifestUrl"]).startswith(f"{key_path}xformsManifest/")
    xml = anon.get(path_of(entry["downloadUrl"]))
    assert entry["hash"] == f"md5:{md5(xml.content)}"
    media = ET.fromstring(anon.get(path_of(entry["manifestUrl"])).content)
    assert all(path_of(m.findtext(f"{MF}downloadUrl") or "").startswith(key_path) for m in media)
    audit = [dict(r) for r in fetch(settings, "SELECT action, actor FROM audit_log WHERE action LIKE 'app_key.%' "
                                           "ORDER BY id")]
    assert audit == [{"action": "app_key.create", "actor": "citra"}]
    # Revoked: 401 with a message, and no password challenge (a password would not help).
    key_id = fetch(settings, "SELECT id FROM app_key")[0]["id"]
    revoked = post_form(citra, f"/akun/kunci-aplikasi/{key_id}/cabut")
    assert revoked.status_code == 303, revoked.headers
    after = anon.get(f"{key_path}formList", headers=OR)
    assert after.status_code == 401 and "www-authenticate" not in after.headers
    assert "dicabut" in message(after)
    assert anon.get(path_of(entry["downloadUrl"])).status_code == 401
    audit = fetch(settings, "SELECT action FROM audit_log WHERE action LIKE 'app_key.%' ORDER BY id")
    assert [a["action"] for a in audit] == ["app_key.create", "app_key.revoke"]
    page = citra.get("/akun")
    assert "Samsung A14 Citra" in page.text and "dicabut" in page.text and secret not in page.text


def test_the_qr_code_holds_collects_settings_with_the_key_url(as_, shipped) -> None:  # type: ignore[no-untyped-def]
    import segno

    citra = as_("citra")
    made = make_key(citra)
    # The SVG is the QR code of exactly this payload (segno draws the same matrix again).
    from server.domain.collect import collect_settings, qr_payload

    payload = qr_payload(collect_settings(made["url"], "Pantau (citra)"))
    expected = segno.make(payload, error="m", micro=False).svg_inline(scale=4, border=4, dark="#000",
                                                                      light="#fff", omitsize=False)
    assert made["svg"] == expected
    settings = read_payload(payload)
    assert settings["general"]["server_url"] == made["url"]
    assert settings["general"]["form_update_mode"] == "match_exactly"
    assert settings["general"]["app_language"] == "id"
    assert settings["project"]["name"] == "Pantau (citra)"
    assert "username" not in settings["general"] and "password" not in settings["general"]


def test_someone_elses_key_cannot_be_revoked_and_bad_names_are_refused(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    citra, dewi = as_("citra"), as_("dewi")
    make_key(citra)
    key_id = fetch(settings, "SELECT id FROM app_key")[0]["id"]
    assert post_form(dewi, f"/akun/kunci-aplikasi/{key_id}/cabut").status_code == 404
    assert fetch(settings, "SELECT revoked_at FROM app_key")[0]["revoked_at"] is None
    response = post_form(citra, "/akun/kunci-aplikasi", {"name": "   "})
    assert response.status_code == 400 and "app_key.bad_name" in response.text
    assert csrf_of(citra)


@pytest.mark.parametrize("header", ["Basic", "Basic !!!", "Basic " + base64.b64encode(b"tanpa-titik-dua").decode(),
                                    "Basic " + base64.b64encode(b"\xff\xfe:x").decode(),
                                    "Basic " + base64.b64encode(b"x" * 200 + b":y").decode(), "Digest abc",
                                    "Basic " + base64.b64encode(b"citra:" + b"p" * 5000).decode()])
def test_hostile_basic_headers_are_401s_with_a_message(app_client, shipped, header: str) -> None:  # type: ignore[no-untyped-def]
    response = app_client.get("/formList", headers={**OR, "Authorization": header})
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == 'Basic realm="Pantau"'
    assert message(response)


def test_hostile_app_keys_are_401s(app_client, shipped) -> None:  # type: ignore[no-untyped-def]
    for key in ("k" * 48, "a%00b", "x" * 3000, "%ff%fe", "k" * 47 + "%00"):
        response = app_client.get(f"/key/{key}/formList", headers=OR)
        assert response.status_code in (400, 401, 404), (key, response.status_code)
        assert message(response)
    assert app_client.get("/key/..%2F../formList", headers=OR).status_code == 404  # no such route


def test_choice_files_go_to_collect_in_their_own_format(app_client, settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """A select_one_from_file list read from XML or GeoJSON is served back as that file, with its
    content type, and its md5 in the manifest."""
    from server.domain.compile import compile_source
    from server.domain.load import encode_yaml
    from tests.domain.test_odk_types import PAIN_XML, PURA_GEOJSON
    from tests.domain.test_xlsform import workbook

    book = workbook([["type", "name", "label"], ["select_one_from_file sakit.xml", "sakit", "Sakit"],
                     ["select_one_from_file pura.geojson", "pura", "Pura"]],
                    settings=[["form_id", "version", "title"], ["uji_berkas", "1", "Uji berkas"]])
    loaded = compile_source(book, "uji_berkas.xlsx", {"sakit.xml": PAIN_XML, "pura.geojson": PURA_GEOJSON})
    assert loaded.compiled is not None
    (tmp_path / "uji_berkas.yaml").write_bytes(encode_yaml(loaded.compiled.definition))
    _publish(settings, tmp_path / "uji_berkas.yaml")
    entries = form_list(app_client.get("/formList", headers=basic("citra")))
    root = ET.fromstring(app_client.get(path_of(entries["uji_berkas"]["manifestUrl"]), headers=basic("citra")).content)
    media = {m.findtext(f"{MF}filename"): m for m in root}
    assert sorted(media) == ["pura.geojson", "sakit.xml"]
    kinds = {"sakit.xml": "application/xml", "pura.geojson": "application/geo+json"}
    for name, kind in kinds.items():
        response = app_client.get(path_of(media[name].findtext(f"{MF}downloadUrl") or ""), headers=basic("citra"))
        assert response.status_code == 200 and response.headers["content-type"].startswith(kind), name
        assert media[name].findtext(f"{MF}hash") == f"md5:{md5(response.content)}"
    sakit = ET.fromstring(app_client.get(path_of(media["sakit.xml"].findtext(f"{MF}downloadUrl") or ""),
                                         headers=basic("citra")).content)
    assert [item.findtext("name") for item in sakit] == ["kepala", "kaki"]
