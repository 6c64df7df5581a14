"""Every route, for every role and for an anonymous visitor, answers as the matrix says. The
matrix is checked against the app's own route table: a new route without an entry fails here."""

from __future__ import annotations

import pytest
from litestar.routes import HTTPRoute

from server.web.app import create_app
from tests.web.conftest import post_form

WHO = ("anon", "admin", "ani", "budi", "citra", "dewi")


def row(anon: int, admin: int, ani: int, budi: int, citra: int, dewi: int) -> dict[str, int]:
    return dict(zip(WHO, (anon, admin, ani, budi, citra, dewi), strict=True))


EVERYONE_200 = row(200, 200, 200, 200, 200, 200)
SIGNED_IN_200 = row(302, 200, 200, 200, 200, 200)
ADMIN_ONLY = row(302, 200, 403, 403, 403, 403)

# (method, path template) -> expected status per person. POSTs are sent with a valid CSRF token and
# an empty body, so a permitted role gets the validation answer (400/401) and others 302/403.
MATRIX: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/healthz"): EVERYONE_200,
    ("GET", "/readyz"): EVERYONE_200,
    # The API's description is for the people who run the integrations: staff and admins.
    ("GET", "/schema"): row(302, 200, 200, 403, 403, 403),
    ("GET", "/schema/openapi.json"): row(302, 200, 200, 403, 403, 403),
    ("GET", "/schema/{path:str}"): row(302, 200, 200, 403, 403, 403),
    ("GET", "/static/{file_path:path}"): EVERYONE_200,
    ("GET", "/"): SIGNED_IN_200,
    ("GET", "/masuk"): row(200, 302, 302, 302, 302, 302),
    ("POST", "/masuk"): row(401, 401, 401, 401, 401, 401),
    ("GET", "/akun"): SIGNED_IN_200,
    ("POST", "/akun/sandi"): row(302, 400, 400, 400, 400, 400),
    # App keys for ODK Collect: one's own; an unknown key id is a 404.
    ("POST", "/akun/kunci-aplikasi"): row(302, 400, 400, 400, 400, 400),
    ("POST", "/akun/kunci-aplikasi/{key_id:int}/cabut"): row(302, 404, 404, 404, 404, 404),
    ("GET", "/pengguna"): ADMIN_ONLY,
    ("POST", "/pengguna"): row(302, 400, 403, 403, 403, 403),
    ("GET", "/pengguna/{user_id:int}"): ADMIN_ONLY,
    ("POST", "/pengguna/{user_id:int}/peran"): row(302, 400, 403, 403, 403, 403),
    ("POST", "/pengguna/{user_id:int}/sandi"): ADMIN_ONLY,
    ("POST", "/pengguna/{user_id:int}/status"): ADMIN_ONLY,
    ("POST", "/pengguna/{user_id:int}/buka-kunci"): ADMIN_ONLY,
    ("GET", "/audit"): row(302, 200, 200, 403, 403, 403),
    ("POST", "/api/v1/submissions"): row(401, 400, 400, 400, 400, 400),
    ("GET", "/api/v1/submissions"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/submissions/{instance_id:uuid}"): row(401, 404, 404, 404, 404, 404),
    ("POST", "/api/v1/attachments"): row(401, 415, 415, 403, 415, 415),
    ("GET", "/api/v1/attachments/{sha256:str}"): row(401, 404, 404, 404, 404, 404),
    # The fill page of a form that does not exist: who may fill learns 404, who may not 403.
    ("GET", "/f/{form_id:str}"): row(302, 404, 404, 403, 404, 404),
    ("GET", "/f/{form_id:str}/aturan"): row(302, 404, 404, 403, 404, 404),
    ("POST", "/f/{form_id:str}"): row(302, 400, 400, 403, 400, 400),
    ("GET", "/aset/{version:str}/{file_path:path}"): EVERYONE_200,
    # The beneficiary registry: {beneficiary_id} is Siti, registered in Tenggarong. Dewi works in
    # Samboja: for her Siti does not exist (404), like any unknown id.
    ("GET", "/penerima"): SIGNED_IN_200,
    ("GET", "/penerima/jadwal"): SIGNED_IN_200,
    ("GET", "/penerima/{beneficiary_id:uuid}"): row(302, 200, 200, 200, 200, 404),
    ("POST", "/penerima/{beneficiary_id:uuid}/nik"): row(302, 200, 200, 403, 403, 403),
    ("GET", "/penerima/duplikat"): row(302, 200, 200, 403, 403, 403),
    ("POST", "/penerima/gabung"): row(302, 400, 400, 403, 403, 403),
    # Probable duplicates: coordinators decide the pairs of their areas, staff and admins all.
    ("GET", "/penerima/kemungkinan-sama"): row(302, 200, 200, 200, 403, 403),
    ("POST", "/penerima/kemungkinan-sama/{candidate_id:int}"): row(302, 400, 400, 400, 403, 403),
    # Importing a beneficiary list: staff and admins; a job is its uploader's only (404 else).
    ("GET", "/penerima/impor"): row(302, 200, 200, 403, 403, 403),
    ("POST", "/penerima/impor"): row(302, 400, 400, 403, 403, 403),
    ("GET", "/penerima/impor/{job_id:str}"): row(302, 404, 404, 403, 403, 403),
    ("GET", "/penerima/impor/{job_id:str}/status"): row(302, 404, 404, 403, 403, 403),
    ("GET", "/penerima/impor/{job_id:str}/alasan"): row(302, 404, 404, 403, 403, 403),
    ("POST", "/penerima/impor/{job_id:str}/peta"): row(302, 404, 404, 403, 403, 403),
    ("POST", "/penerima/impor/{job_id:str}/ulang"): row(302, 404, 404, 403, 403, 403),
    ("POST", "/penerima/impor/{job_id:str}/simpan"): row(302, 404, 404, 403, 403, 403),
    ("GET", "/api/v1/penerima"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/penerima/cari"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/penerima/{beneficiary_id:uuid}"): row(401, 200, 200, 200, 200, 404),
    # Review and export: staff and coordinators review; everyone reads the API within their scope.
    ("GET", "/data"): row(302, 200, 200, 200, 403, 403),
    ("GET", "/data/{instance_id:uuid}"): row(302, 404, 404, 404, 404, 404),
    ("POST", "/data/{instance_id:uuid}/tinjau"): row(302, 400, 400, 400, 403, 403),
    ("GET", "/data/ekspor"): row(302, 400, 400, 400, 403, 403),
    ("GET", "/api/v1/forms/{form_id:str}/export"): row(401, 404, 404, 404, 403, 403),
    ("GET", "/api/v1/forms"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/forms/{form_id:str}"): row(401, 404, 404, 404, 404, 404),
    ("GET", "/api/v1/forms/{form_id:str}/submissions"): row(401, 404, 404, 404, 404, 404),
    ("GET", "/api/v1/corrections"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/beneficiaries"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/beneficiaries/{beneficiary_id:uuid}"): row(401, 200, 200, 200, 200, 404),
    ("GET", "/akun/token"): SIGNED_IN_200,
    ("POST", "/akun/token"): row(302, 400, 400, 400, 400, 400),
    ("POST", "/akun/token/{token_id:int}/cabut"): row(302, 404, 404, 404, 404, 404),
    # The form editor (controllers/editor.py): staff and admins only; {form_id} does not exist, so
    # editors get 404.
    ("GET", "/formulir"): row(302, 200, 200, 403, 403, 403),
    ("POST", "/formulir"): row(302, 400, 400, 403, 403, 403),
    ("POST", "/formulir/unggah"): row(302, 400, 400, 403, 403, 403),
    ("GET", "/formulir/{form_id:str}"): row(302, 404, 404, 403, 403, 403),
    ("POST", "/formulir/{form_id:str}/draf"): row(302, 400, 400, 403, 403, 403),
    ("POST", "/formulir/{form_id:str}/draf/hapus"): row(302, 404, 404, 403, 403, 403),
    ("GET", "/formulir/{form_id:str}/pratinjau"): row(302, 404, 404, 403, 403, 403),
    ("GET", "/formulir/{form_id:str}/pratinjau/aturan"): row(302, 404, 404, 403, 403, 403),
    ("POST", "/formulir/{form_id:str}/pratinjau"): row(302, 404, 404, 403, 403, 403),
    ("GET", "/formulir/{form_id:str}/unduh"): row(302, 404, 404, 403, 403, 403),
    ("GET", "/formulir/{form_id:str}/jawaban"): row(302, 404, 404, 403, 403, 403),
    # Publishing, archiving and assignment (controllers/publishing.py): the same people as the editor.
    ("GET", "/formulir/{form_id:str}/terbit"): row(302, 404, 404, 403, 403, 403),
    ("POST", "/formulir/{form_id:str}/terbit"): row(302, 404, 404, 403, 403, 403),
    ("POST", "/formulir/{form_id:str}/status"): row(302, 404, 404, 403, 403, 403),
    ("POST", "/formulir/{form_id:str}/penugasan"): row(302, 404, 404, 403, 403, 403),
    # Form media: uploaded by who edits forms; a file read by them (the preview) or by who may fill.
    ("POST", "/formulir/{form_id:str}/media"): row(302, 404, 404, 403, 403, 403),
    ("GET", "/f/{form_id:str}/media/{sha256:str}/{name:str}"): row(302, 404, 404, 403, 404, 404),
    # Offline first: the service worker is public; the phone's pages are for who may fill.
    ("GET", "/sw.js"): EVERYONE_200,
    ("GET", "/api/v1/offline"): row(401, 200, 200, 403, 200, 200),
    ("GET", "/draf"): row(302, 200, 200, 403, 200, 200),
    ("GET", "/terkirim"): row(302, 200, 200, 403, 200, 200),
    ("GET", "/perbaiki/{instance_id:uuid}"): row(302, 404, 404, 403, 404, 404),
    ("GET", "/impor"): row(302, 200, 200, 403, 403, 403),
    ("POST", "/impor"): row(302, 400, 400, 403, 403, 403),
    # Evaluation reports: staff and coordinators (their kecamatan); unknown run/edition ids 404.
    ("GET", "/laporan"): row(302, 200, 200, 200, 403, 403),
    ("GET", "/laporan/pratinjau"): row(302, 200, 200, 200, 403, 403),
    ("POST", "/laporan/buat"): row(302, 400, 400, 400, 403, 403),
    ("GET", "/laporan/run/{run_id:int}"): row(302, 404, 404, 404, 403, 403),
    ("GET", "/laporan/edisi/{edition_id:int}/unduh"): row(302, 404, 404, 404, 403, 403),
    # OpenRosa: anonymous gets Basic's 401 challenge; the session reads too, but the form list
    # wants the X-OpenRosa-Version header (400); a form that does not exist is a 404 for who may fill and
    # a 403 for who may not; under an unknown app key everyone is a 401 (test_openrosa.py uses real keys).
    ("GET", "/formList"): row(401, 400, 400, 400, 400, 400),
    ("GET", "/formXml/{form_id:str}/{version:str}"): row(401, 404, 404, 403, 404, 404),
    ("GET", "/xformsManifest/{form_id:str}/{version:str}"): row(401, 404, 404, 403, 404, 404),
    ("GET", "/xformsMedia/{form_id:str}/{version:str}/{filename:str}"): row(401, 404, 404, 403, 404, 404),
    # Submissions from the apps sign in by HTTP Basic or an app key, never by the session cookie alone
    # (no CSRF token guards them): 401 for everyone here, as under an unknown key.
    ("POST", "/submission"): row(401, 401, 401, 401, 401, 401),
    ("POST", "/key/{app_key:str}/submission"): row(401, 401, 401, 401, 401, 401),
    ("GET", "/key/{app_key:str}/formList"): row(401, 401, 401, 401, 401, 401),
    ("GET", "/key/{app_key:str}/formXml/{form_id:str}/{version:str}"): row(401, 401, 401, 401, 401, 401),
    ("GET", "/key/{app_key:str}/xformsManifest/{form_id:str}/{version:str}"): row(401, 401, 401, 401, 401, 401),
    ("GET", "/key/{app_key:str}/xformsMedia/{form_id:str}/{version:str}/{filename:str}"):
        row(401, 401, 401, 401, 401, 401),
    # The icon and the web app manifest: for every browser, signed in or not.
    ("GET", "/favicon.ico"): EVERYONE_200,
    ("GET", "/ikon/{size:int}"): EVERYONE_200,
    ("GET", "/manifest.webmanifest"): EVERYONE_200,
    # A whole NIK/KK is checked, or a record's NIK revealed, only by the roles that may reveal
    # (tests/web/test_privacy.py sends real numbers). Here the JSON body is empty, which is refused (400)
    # before anyone's role is looked at, and the record id does not exist, which is a 404 for whoever
    # may not see it as well: neither answer tells anything.
    ("POST", "/api/v1/penerima/cek"): row(401, 400, 400, 400, 400, 400),
    ("POST", "/penerima/cek"): row(302, 400, 400, 403, 403, 403),
    ("POST", "/data/{instance_id:uuid}/nik"): row(302, 404, 404, 404, 404, 404),
    ("POST", "/keluar"): row(302, 302, 302, 302, 302, 302),  # run last: it ends the session
}


def app_routes(settings) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    found = set()
    for route in create_app(settings).routes:
        if isinstance(route, HTTPRoute):
            for method in route.methods - {"HEAD", "OPTIONS"}:
                found.add((method, route.path))
    return found


def test_every_route_has_a_matrix_entry(settings) -> None:  # type: ignore[no-untyped-def]
    routes = app_routes(settings)
    assert sorted(routes - MATRIX.keys()) == [], "add these routes to MATRIX"
    assert sorted(MATRIX.keys() - routes) == [], "MATRIX names routes the app no longer has"


def concrete(path: str, ids: dict[str, int]) -> str:
    return (path.replace("{user_id:int}", str(ids["eko"])).replace("{file_path:path}", "css/pantau.css")
            .replace("{beneficiary_id:uuid}", str(ids["siti"]))
            .replace("{path:str}", "openapi.json").replace("{instance_id:uuid}", "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11")
            .replace("{sha256:str}", "0" * 64).replace("{form_id:str}", "tidak_ada")
            .replace("/aturan", "/aturan?v=1").replace("{version:str}", "0123456789ab")
            .replace("{token_id:int}", "999999").replace("{candidate_id:int}", "999999")
            .replace("{job_id:str}", "j" * 22).replace("{app_key:str}", "k" * 48)
            .replace("{filename:str}", "penerima.csv").replace("{name:str}", "foto.jpg")
            .replace("{key_id:int}", "999999").replace("{run_id:int}", "999999")
            .replace("{edition_id:int}", "999999").replace("{size:int}", "192"))


@pytest.mark.parametrize("who", WHO)
def test_route_matrix(who: str, as_, people: dict[str, int], settings) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import _create_extra
    from tests.web.test_registry import insert_beneficiary

    ids = {**people, **_create_extra(settings, "eko")}  # a target user whose changes harm no persona
    ids["siti"] = insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001")  # type: ignore[assignment]
    client = as_(None if who == "anon" else who)
    failures = []
    for (method, path), expected in MATRIX.items():
        url = concrete(path, ids)
        if method == "GET":
            response = client.get(url, follow_redirects=False)
        else:
            response = post_form(client, url)
        if response.status_code != expected[who]:
            failures.append(f"{method} {url}: {response.status_code}, expected {expected[who]}")
    assert failures == []
