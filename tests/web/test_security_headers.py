"""Every HTML page carries a Content-Security-Policy that allows no inline script, and says so
truthfully: no page has an inline <script> (JSON data islands aside, which are never executed), an
on*= handler or a style attribute the policy would block. Every response also carries nosniff and
Referrer-Policy: same-origin, and no page may be framed by another site."""

from __future__ import annotations

import re

import pytest

from tests.web.test_api_submissions import body, publish, send
from tests.web.test_route_fuzz import fill_path, handlers

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER_ATTRIBUTE = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)


def directives(header: str) -> dict[str, str]:
    return {part.split()[0]: " ".join(part.split()[1:]) for part in header.split(";") if part.strip()}


@pytest.fixture
def seeded(settings, as_) -> dict[str, str]:  # type: ignore[no-untyped-def]
    publish(settings)
    payload = body()
    assert send(as_("citra"), payload).status_code == 201
    return {"int": "1", "str": "uji_api", "uuid": str(payload["instance_id"]), "path": "js/form.js"}


def test_every_html_page_has_a_strict_policy_and_nothing_inline_it_would_block(app_client, as_, seeded) -> None:  # type: ignore[no-untyped-def]
    ani, pages = as_("ani"), 0
    for route, _, method in handlers(app_client.app):
        if method != "GET":
            continue
        response = ani.get(fill_path(route, seeded), follow_redirects=False)
        assert response.headers["x-content-type-options"] == "nosniff", route.path
        assert response.headers["referrer-policy"] == "same-origin", route.path
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        pages += 1
        policy = directives(response.headers["content-security-policy"])
        assert policy["script-src"] == "'self'" and policy["object-src"] == "'none'", route.path
        assert "unsafe" not in policy["default-src"] + policy["script-src"], route.path
        assert INLINE_SCRIPT.search(response.text) is None, route.path
        assert HANDLER_ATTRIBUTE.search(response.text) is None, route.path
        framed_by_us = route.path == "/formulir/{form_id:str}/pratinjau"
        assert policy["frame-ancestors"] == ("'self'" if framed_by_us else "'none'"), route.path
        assert response.headers["x-frame-options"] == ("SAMEORIGIN" if framed_by_us else "DENY"), route.path
        if "'unsafe-inline'" not in policy["style-src"]:
            assert STYLE_ATTRIBUTE.search(response.text) is None, route.path
            assert "<style" not in response.text, route.path
    assert pages > 15  # the walk really reached the pages


def test_error_pages_and_the_sign_in_page_carry_the_headers_too(as_) -> None:  # type: ignore[no-untyped-def]
    visitor = as_(None)
    for path in ("/masuk", "/tidak-ada", "/static/tidak-ada.css"):
        response = visitor.get(path)
        assert directives(response.headers["content-security-policy"])["frame-ancestors"] == "'none'", path
        assert response.headers["x-content-type-options"] == "nosniff", path


def test_the_report_preview_may_style_inline_but_never_script(as_) -> None:  # type: ignore[no-untyped-def]
    response = as_("ani").get("/laporan/pratinjau?laporan=monev_triwulan&periode=2026-Q1&wilayah=64.02")
    assert response.status_code == 200, response.text[:300]
    policy = directives(response.headers["content-security-policy"])
    assert policy["style-src"] == "'self' 'unsafe-inline'" and policy["script-src"] == "'self'"
    assert policy["frame-ancestors"] == "'none'"
