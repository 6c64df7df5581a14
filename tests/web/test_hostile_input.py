"""Hostile input answered as bad input, on SQLite and PostgreSQL alike: a NUL character (which
PostgreSQL cannot store in text) is a 400 naming the field wherever it arrives, an id beyond the
database's integer range is a 404, and a body the route would refuse anyway is not read."""

from __future__ import annotations

import uuid

import pytest

from tests.web.conftest import csrf_of, post_form
from tests.web.test_api_submissions import JPEG, body, publish, send


@pytest.fixture
def published(settings) -> None:  # type: ignore[no-untyped-def]
    publish(settings)


def test_a_nul_in_an_answer_is_a_400_naming_the_answer(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = send(citra, body(nama="Siti\x00Aminah"))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "http.nul_character"
    assert "answers.nama" in response.json()["detail"]
    assert citra.get("/api/v1/submissions").json() == []  # nothing half-written


def test_a_nul_in_the_sign_in_form_is_a_400_naming_the_field(as_) -> None:  # type: ignore[no-untyped-def]
    visitor = as_(None)
    response = post_form(visitor, "/masuk", {"username": "ani\x00", "password": "x"},
                         headers={"accept": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "http.nul_character" and "username" in response.json()["detail"]


def test_a_nul_in_a_query_parameter_is_a_400_naming_it(as_) -> None:  # type: ignore[no-untyped-def]
    ani = as_("ani")
    response = ani.get("/api/v1/penerima/cari?q=Siti%00")
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "http.nul_character" and "q" in response.json()["detail"]
    page = ani.get("/data?form=uji%00")
    assert page.status_code == 400 and "http.nul_character" in page.text


def test_a_nul_in_a_path_parameter_is_a_400(as_) -> None:  # type: ignore[no-untyped-def]
    response = as_("ani").get("/api/v1/forms/uji%00api")
    assert response.status_code == 400 and response.json()["code"] == "http.nul_character"


def test_a_nul_in_a_multipart_text_field_is_refused_but_a_file_may_hold_one(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    fields = {"_csrf_token": csrf_of(citra), "_id": str(uuid.uuid4()), "_versi": "1", "nama": "Siti\x00"}
    response = citra.post("/f/uji_api", data=fields, files=[("foto", ("", b"", "application/octet-stream"))],
                          headers={"accept": "application/json"})
    assert response.status_code == 400 and response.json()["code"] == "http.nul_character"
    assert "nama" in response.json()["detail"]  # the message names the field
    fields["nama"] = "Siti Aminah"
    with_photo = citra.post("/f/uji_api", data=fields, files=[("foto", ("a.jpg", JPEG, "image/jpeg"))],
                            headers={"accept": "application/json"})
    assert b"\x00" in JPEG and "http.nul_character" not in with_photo.text


@pytest.mark.parametrize("path", [
    "/pengguna/{id}", "/laporan/run/{id}", "/laporan/edisi/{id}/unduh",
])
@pytest.mark.parametrize("value", [2**31, 2**63, 10**30, -1, 0])
def test_an_id_beyond_the_integer_range_is_a_404(as_, path: str, value: int) -> None:  # type: ignore[no-untyped-def]
    response = as_("admin").get(path.format(id=value), headers={"accept": "application/json"})
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("path", ["/pengguna/{id}/status", "/akun/token/{id}/cabut"])
def test_a_post_to_an_id_beyond_the_range_is_a_404(as_, path: str) -> None:  # type: ignore[no-untyped-def]
    response = post_form(as_("admin"), path.format(id=2**40), {"active": "0"}, headers={"accept": "application/json"})
    assert response.status_code == 404, response.text


def test_an_anonymous_upload_is_refused_before_its_body_is_read(as_) -> None:  # type: ignore[no-untyped-def]
    visitor = as_(None)
    read: list[int] = []

    def body_chunks():  # type: ignore[no-untyped-def]
        for _ in range(8):
            read.append(1)
            yield b"x" * 65536

    response = visitor.post("/impor", content=body_chunks(), headers={
        "content-type": "multipart/form-data; boundary=zz", "accept": "application/json",
        "x-csrftoken": csrf_of(visitor)})
    assert response.status_code == 401
    assert len(read) <= 1  # the client offered the first chunk at most; the server read none of it


def test_an_upload_declared_over_the_route_limit_is_refused_before_it_is_read(as_) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    response = citra.post("/api/v1/attachments", content=b"x" * 1024, headers={
        "content-type": "multipart/form-data; boundary=zz", "content-length": str(11 * 1024 * 1024),
        "x-csrftoken": csrf_of(citra)})
    assert response.status_code == 413
