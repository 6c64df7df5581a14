"""The read API for scripts with personal tokens: made and revoked by their owner, stored only as a
hash, honoured only for GET on /api/, acting with the owner's current role and areas, and described
in the OpenAPI document."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import pytest

from tests.web.conftest import post_form
from tests.web.test_registry import insert_beneficiary
from tests.web.test_review import SAMBOJA, decide, publish, query, submit


def make_token(persona: Any, name: str = "skrip laporan") -> str:
    page = post_form(persona, "/akun/token", {"name": name})
    assert page.status_code == 200, page.text
    assert page.headers["cache-control"] == "no-store"
    found = re.search(r'<code class="secret">(pantau_[A-Za-z0-9_-]+)</code>', page.text)
    assert found is not None
    return found.group(1)


def bearer(app_client: Any, token: str, path: str, method: str = "GET", **kw: Any) -> httpx.Response:
    app_client.cookies = httpx.Cookies()  # a script has no session cookie
    return app_client.request(method, path, headers={"authorization": f"Bearer {token}"}, follow_redirects=False,
                              **kw)


@pytest.fixture
def data(as_, settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    publish(settings)
    tenggarong = submit(as_("citra"), nama="Siti Aminah")["instance_id"]
    samboja = submit(as_("dewi"), nama="Sari", kecamatan=SAMBOJA)["instance_id"]
    for made in (tenggarong, samboja):
        assert decide(as_("ani"), made, "approved").status_code == 303
    pending = submit(as_("citra"), nama="Belum Ditinjau")["instance_id"]
    return {"tenggarong": tenggarong, "samboja": samboja, "pending": pending}


def test_a_token_is_shown_once_and_only_its_hash_is_stored(as_, app_client, settings) -> None:  # type: ignore[no-untyped-def]
    ani = as_("ani")
    token = make_token(ani)
    assert token not in ani.get("/akun/token").text  # never shown again
    stored = query(settings, "SELECT token_hash, prefix FROM api_token")
    assert len(stored) == 1 and token not in str(stored) and token.startswith(stored[0]["prefix"])
    assert bearer(app_client, token, "/api/v1/forms").status_code == 200


def test_tokens_read_the_api_with_the_owners_scope(as_, app_client, data) -> None:  # type: ignore[no-untyped-def]
    budi, ani = make_token(as_("budi")), make_token(as_("ani"))
    mine = bearer(app_client, budi, "/api/v1/forms/uji_tinjau/submissions?status=all").json()
    assert {i["instance_id"] for i in mine["items"]} == {data["tenggarong"], data["pending"]}
    everything = bearer(app_client, ani, "/api/v1/forms/uji_tinjau/submissions").json()
    assert {i["instance_id"] for i in everything["items"]} == {data["tenggarong"], data["samboja"]}  # approved
    item = next(i for i in everything["items"] if i["instance_id"] == data["tenggarong"])
    assert item["answers"]["nama"] == "Siti Aminah" and item["answers"]["nik"] == "64**************"
    outside = bearer(app_client, budi, f"/api/v1/forms/uji_tinjau/submissions?area={SAMBOJA}")
    assert outside.status_code == 403 and outside.json()["code"] == "review.outside_area"
    citra = make_token(as_("citra"))
    own = bearer(app_client, citra, "/api/v1/forms/uji_tinjau/submissions?status=all").json()
    assert {i["instance_id"] for i in own["items"]} == {data["tenggarong"], data["pending"]}


def test_tokens_are_for_reading_the_api_only(as_, app_client, data) -> None:  # type: ignore[no-untyped-def]
    token = make_token(as_("ani"))
    write = bearer(app_client, token, "/api/v1/submissions", method="POST", json={})
    assert write.status_code in (401, 403)
    assert bearer(app_client, token, "/data").status_code in (302, 401)  # HTML pages need a session
    assert bearer(app_client, token, f"/data/{data['tenggarong']}").status_code in (302, 401)
    assert bearer(app_client, "pantau_tidak-ada", "/api/v1/forms").status_code == 401
    assert bearer(app_client, token[:-1], "/api/v1/forms").status_code == 401


def test_revoked_tokens_and_deactivated_owners_stop_working(as_, app_client, settings, people) -> None:  # type: ignore[no-untyped-def]
    budi = as_("budi")
    token = make_token(budi)
    token_id = query(settings, "SELECT id FROM api_token")[0]["id"]
    assert post_form(as_("ani"), f"/akun/token/{token_id}/cabut").status_code == 404  # not ani's token
    assert bearer(app_client, token, "/api/v1/forms").status_code == 200
    assert post_form(budi, f"/akun/token/{token_id}/cabut").status_code == 303
    assert bearer(app_client, token, "/api/v1/forms").status_code == 401
    second = make_token(budi, "kedua")
    assert post_form(as_("admin"), f"/pengguna/{people['budi']}/status", {"active": "0"}).status_code == 200
    assert bearer(app_client, second, "/api/v1/forms").status_code == 401


def test_token_names_are_required_and_limited(as_) -> None:  # type: ignore[no-untyped-def]
    ani = as_("ani")
    assert post_form(ani, "/akun/token", {"name": "  "}).status_code == 400
    for n in range(10):
        make_token(ani, f"skrip {n}")
    assert post_form(ani, "/akun/token", {"name": "satu lagi"}).status_code == 400


def test_pages_follow_the_cursor_and_refuse_a_tampered_one(as_, app_client, data) -> None:  # type: ignore[no-untyped-def]
    token = make_token(as_("ani"))
    first = bearer(app_client, token, "/api/v1/forms/uji_tinjau/submissions?status=all&limit=2").json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = bearer(app_client, token, f"/api/v1/forms/uji_tinjau/submissions?status=all&limit=2"
                                     f"&cursor={first['next_cursor']}").json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    seen = {i["instance_id"] for i in first["items"] + rest["items"]}
    assert seen == set(data.values())
    # Change a character that carries whole bits (the first): the last one of a base64 tag also
    # holds padding bits, so changing it there sometimes decodes to the same tag (1 run in ~256).
    cursor = first["next_cursor"]
    tampered = ("A" if cursor[0] != "A" else "B") + cursor[1:]
    response = bearer(app_client, token, f"/api/v1/forms/uji_tinjau/submissions?status=all&limit=2&cursor={tampered}")
    assert response.status_code == 400 and response.json()["code"] == "review.bad_cursor"
    for bad in ("limit=0", "limit=501", "limit=x", "since=kemarin", "colour=red", "form=lain"):
        response = bearer(app_client, token, f"/api/v1/forms/uji_tinjau/submissions?{bad}")
        assert response.status_code == 400 and response.json()["code"] == "review.bad_filter", bad
    assert bearer(app_client, token, "/api/v1/forms/lain/submissions").status_code == 404
    # ?version= takes the path's form (it was once refused as "a version without a form").
    by_version = bearer(app_client, token, "/api/v1/forms/uji_tinjau/submissions?status=all&version=1")
    assert by_version.status_code == 200 and len(by_version.json()["items"]) == 3
    assert bearer(app_client, token, "/api/v1/forms/uji_tinjau/submissions?version=9").json()["items"] == []


def test_forms_list_every_version_and_the_merged_fields(as_, app_client, data, settings) -> None:  # type: ignore[no-untyped-def]
    token = make_token(as_("citra"))
    forms = bearer(app_client, token, "/api/v1/forms").json()
    assert [(f["form_id"], f["versions"]) for f in forms] == [("uji_tinjau", ["1"])]
    detail = bearer(app_client, token, "/api/v1/forms/uji_tinjau").json()
    fields = {f["name"]: f for f in detail["fields"]}
    assert fields["nama_sekolah"]["table"] == "sekolah" and fields["jk"]["label_en"] == "Sex"
    assert fields["bantuan"]["choices"] == "bantuan" and fields["bantuan"]["removed"] is False


def test_the_openapi_document_describes_the_read_api(as_) -> None:  # type: ignore[no-untyped-def]
    schema = as_("ani").get("/schema/openapi.json").json()
    for path in ("/api/v1/forms", "/api/v1/forms/{form_id}", "/api/v1/forms/{form_id}/submissions",
                 "/api/v1/forms/{form_id}/export", "/api/v1/corrections"):
        assert "get" in schema["paths"][path], path
    listed = schema["paths"]["/api/v1/forms/{form_id}/submissions"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"status", "area", "since", "until", "cursor", "limit", "q"}
    assert listed["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("SubmissionPage")
    assert set(schema["components"]["schemas"]["SubmissionOut"]["properties"]) >= {"instance_id", "answers"}
    assert schema["components"]["securitySchemes"]["api_token"] == {
        "type": "http", "scheme": "bearer", "description": "Personal API token from /akun/token; read-only (GET)."}


def test_exports_work_with_a_token(as_, app_client, data) -> None:  # type: ignore[no-untyped-def]
    token = make_token(as_("budi"))
    response = bearer(app_client, token, "/api/v1/forms/uji_tinjau/export?format=jsonl")
    assert response.status_code == 200 and response.text.count("\n") == 1  # Tenggarong's approved record
    assert bearer(app_client, token, "/api/v1/forms/uji_tinjau/export?form=x").status_code == 400


def test_beneficiaries_are_read_with_a_token_within_the_owners_areas(as_, app_client, settings) -> None:  # type: ignore[no-untyped-def]
    earlier = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)  # older than the cursor's 2-minute overlap
    siti = str(insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001", updated_at=earlier))
    wati = str(insert_beneficiary(settings, "Wati", "64.02.13.1007", nik="6402134303800003", updated_at=earlier))
    budi, ani = make_token(as_("budi")), make_token(as_("ani"))
    mine = bearer(app_client, budi, "/api/v1/beneficiaries").json()
    assert [i["id"] for i in mine["items"]] == [siti] and mine["more"] is False
    item = mine["items"][0]
    assert item["nik_masked"] == "64**************" and item["desa"] == "Jahab" and item["status"] == "active"
    assert {i["id"] for i in bearer(app_client, ani, "/api/v1/beneficiaries").json()["items"]} == {siti, wati}
    later = bearer(app_client, ani, f"/api/v1/beneficiaries?since={mine['next_cursor']}").json()
    assert later["items"] == []
    assert bearer(app_client, ani, "/api/v1/beneficiaries?program=pkh").json()["items"] == []
    assert bearer(app_client, ani, "/api/v1/beneficiaries?nik=1").json()["code"] == "review.bad_filter"
    detail = bearer(app_client, budi, f"/api/v1/beneficiaries/{siti}").json()
    assert detail["beneficiary"]["name"] == "Siti Aminah" and detail["timeline"] == []
    assert bearer(app_client, budi, f"/api/v1/beneficiaries/{wati}").status_code == 404  # outside Tenggarong


def test_the_openapi_document_is_for_staff_and_admins_only(as_) -> None:  # type: ignore[no-untyped-def]
    assert as_("admin").get("/schema/openapi.json").status_code == 200
    assert as_("budi").get("/schema/openapi.json").status_code == 403
    assert as_("citra").get("/schema/openapi.json").status_code == 403
    anonymous = as_(None).get("/schema/openapi.json", headers={"accept": "application/json"}, follow_redirects=False)
    assert anonymous.status_code == 401 and "paths" not in anonymous.text


def test_the_openapi_document_describes_the_beneficiary_api(as_) -> None:  # type: ignore[no-untyped-def]
    schema = as_("ani").get("/schema/openapi.json").json()
    listed = schema["paths"]["/api/v1/beneficiaries"]["get"]
    assert {p["name"] for p in listed["parameters"]} >= {"since", "program"}
    assert listed["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("BeneficiaryPage")
    one = schema["paths"]["/api/v1/beneficiaries/{beneficiary_id}"]["get"]
    assert one["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith("BeneficiaryDetailOut")
    assert set(schema["components"]["schemas"]["BeneficiaryRecord"]["properties"]) >= {"id", "nik_masked", "flags"}
    assert "nik" not in schema["components"]["schemas"]["BeneficiaryRecord"]["properties"]
