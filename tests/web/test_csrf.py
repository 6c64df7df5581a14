"""CSRF tokens belong to one session: a token made before signing in, or for someone else's session,
is refused; signing in and out hands out a new one. Personal API tokens stay what they were: GET on
/api/ only, so they need no CSRF token and cannot write."""

from __future__ import annotations

import re
from typing import Any

import httpx

from server.settings import Settings
from server.web import csrf
from tests.web.conftest import PASSWORD, csrf_of, post_form, sign_in
from tests.web.test_read_api import bearer, make_token


def made_tokens(persona: Any) -> list[str]:
    page = persona.get("/akun/token")
    return re.findall(r"<td>(skrip[^<]*)</td>", page.text)


def plant(persona: Any, token: str) -> None:
    """What an attacker who can set a cookie for the site (a sibling subdomain, a shared phone) does."""
    domains = {c.domain for c in persona.cookies.jar if c.name == "csrftoken"}
    persona.cookies.delete("csrftoken")
    persona.cookies.set("csrftoken", token, domain=domains.pop() if domains else "", path="/")
    assert [c.value for c in persona.cookies.jar if c.name == "csrftoken"] == [token]


def test_a_token_from_before_sign_in_is_refused_after_it(as_) -> None:  # type: ignore[no-untyped-def]
    citra = as_(None)
    anonymous = csrf_of(citra)
    assert sign_in(citra, "citra").status_code == 302
    fresh = csrf_of(citra)
    assert fresh != anonymous  # the sign-in answer replaced it
    plant(citra, anonymous)
    refused = citra.post("/akun/token", data={"name": "skrip lama", "_csrf_token": anonymous})
    assert refused.status_code == 403 and "http.csrf" in refused.text
    plant(citra, fresh)
    made = citra.post("/akun/token", data={"name": "skrip baru", "_csrf_token": fresh})
    assert made.status_code == 200
    assert made_tokens(citra) == ["skrip baru"]


def test_a_token_made_for_one_session_is_refused_with_another(as_) -> None:  # type: ignore[no-untyped-def]
    dewi, citra = as_("dewi"), as_("citra")
    hers = csrf_of(dewi)
    plant(citra, hers)
    refused = citra.post("/akun/token", data={"name": "skrip dewi", "_csrf_token": hers},
                         headers={"x-csrftoken": hers})
    assert refused.status_code == 403
    json_refused = citra.post("/api/v1/submissions", json={}, headers={"x-csrftoken": hers})
    assert json_refused.status_code == 403 and json_refused.json()["code"] == "http.csrf"
    assert made_tokens(citra) == []


def test_a_page_after_sign_in_carries_the_new_token(as_) -> None:  # type: ignore[no-untyped-def]
    citra = as_(None)
    anonymous = csrf_of(citra)
    sign_in(citra, "citra")
    plant(citra, anonymous)  # e.g. a cookie that outlived the sign-in answer
    page = citra.get("/akun/token")
    [field] = re.findall(r'name="_csrf_token" value="([^"]+)"', page.text)[-1:]
    assert field != anonymous and citra.cookies["csrftoken"] == field
    assert post_form(citra, "/akun/token", {"name": "skrip"}).status_code == 200


def test_signing_out_hands_out_a_new_anonymous_token(as_) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    signed_in = csrf_of(citra)
    out = post_form(citra, "/keluar")
    assert out.status_code == 302
    anonymous = csrf_of(citra)
    assert anonymous != signed_in
    plant(citra, signed_in)
    stale = citra.post("/masuk", data={"username": "citra", "password": PASSWORD, "_csrf_token": signed_in},
                       follow_redirects=False)
    assert stale.status_code == 403
    plant(citra, anonymous)
    assert post_form(citra, "/masuk", {"username": "citra", "password": PASSWORD}).status_code == 302


def test_api_tokens_read_without_csrf_and_still_cannot_write(as_, app_client) -> None:  # type: ignore[no-untyped-def]
    token = make_token(as_("ani"))
    assert bearer(app_client, token, "/api/v1/forms").status_code == 200
    write = bearer(app_client, token, "/api/v1/submissions", method="POST", json={})
    assert write.status_code == 403  # no session, no CSRF token: the write never reaches a handler
    app_client.cookies = httpx.Cookies()


def test_tokens_are_bound_and_hold_no_surprises(settings: Settings) -> None:
    secret = settings.secret_key
    anonymous, mine = csrf.mint(secret, ""), csrf.mint(secret, "sesi-citra")
    assert csrf.valid(secret, anonymous, "") and csrf.valid(secret, mine, "sesi-citra")
    assert not csrf.valid(secret, anonymous, "sesi-citra") and not csrf.valid(secret, mine, "sesi-dewi")
    assert not csrf.valid("x" * 48, mine, "sesi-citra")
    for hostile in ("", "palsu", "é" * 128, mine[:-1], mine + "0"):
        assert not csrf.valid(secret, hostile, "sesi-citra")
