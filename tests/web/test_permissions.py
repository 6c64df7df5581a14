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
    ("GET", "/schema"): EVERYONE_200,
    ("GET", "/schema/openapi.json"): EVERYONE_200,
    ("GET", "/schema/{path:str}"): EVERYONE_200,
    ("GET", "/static/{file_path:path}"): EVERYONE_200,
    ("GET", "/"): SIGNED_IN_200,
    ("GET", "/masuk"): row(200, 302, 302, 302, 302, 302),
    ("POST", "/masuk"): row(401, 401, 401, 401, 401, 401),
    ("GET", "/akun"): SIGNED_IN_200,
    ("POST", "/akun/sandi"): row(302, 400, 400, 400, 400, 400),
    ("GET", "/pengguna"): ADMIN_ONLY,
    ("POST", "/pengguna"): row(302, 400, 403, 403, 403, 403),
    ("GET", "/pengguna/{user_id:int}"): ADMIN_ONLY,
    ("POST", "/pengguna/{user_id:int}/peran"): row(302, 400, 403, 403, 403, 403),
    ("POST", "/pengguna/{user_id:int}/sandi"): ADMIN_ONLY,
    ("POST", "/pengguna/{user_id:int}/status"): ADMIN_ONLY,
    ("GET", "/audit"): row(302, 200, 200, 403, 403, 403),
    ("POST", "/api/v1/submissions"): row(401, 400, 400, 400, 400, 400),
    ("GET", "/api/v1/submissions"): row(401, 200, 200, 200, 200, 200),
    ("GET", "/api/v1/submissions/{instance_id:uuid}"): row(401, 404, 404, 404, 404, 404),
    ("POST", "/api/v1/attachments"): row(401, 415, 415, 403, 415, 415),
    ("GET", "/api/v1/attachments/{sha256:str}"): row(401, 404, 404, 404, 404, 404),
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
            .replace("{path:str}", "openapi.json").replace("{instance_id:uuid}", "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11")
            .replace("{sha256:str}", "0" * 64))


@pytest.mark.parametrize("who", WHO)
def test_route_matrix(who: str, as_, people: dict[str, int], settings) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import _create_extra

    ids = {**people, **_create_extra(settings, "eko")}  # a target user whose changes harm no persona
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
