"""POST /api/v1/submissions is answered ahead of litestar (web/fast_route.py) when the request is
ordinary, and by litestar otherwise. Each test sends the same kind of request down both ways (the
fast path switched off by emptying its table) and wants the same answer: status, headers and body.
It also counts the requests the fast path handed to litestar, so a check dropped from the fast path
shows twice: as an answer that differs, and as a refusal litestar never saw."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from server.settings import Settings
from server.web.app import create_app
from server.web.fast_route import FastRoutes
from tests.conftest import with_settings
from tests.web.conftest import _create_extra, csrf_of, gone_mid_body, post_form, sign_in
from tests.web.test_api_submissions import body, publish

PATH = "/api/v1/submissions"
VARYING = {"date", "content-length"}  # the clock, and a body that names its own instance id and time


class Counted:
    """The litestar side of the fast path, counting the requests handed to it."""

    def __init__(self, fast: FastRoutes) -> None:
        self.fast, self.inner, self.routes, self.calls = fast, fast.inner, fast.routes, 0
        fast.inner = self

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.calls += 1
        await self.inner(scope, receive, send)

    def litestar_only(self, on: bool) -> None:
        self.fast.routes = {} if on else self.routes


def fast_routes_of(app: Any) -> FastRoutes:
    handler = app.asgi_handler
    while not isinstance(handler, FastRoutes):
        handler = handler.app
    return handler


@pytest.fixture
def counted(app_client: TestClient, published: None) -> Counted:  # type: ignore[type-arg]
    return Counted(fast_routes_of(app_client.app))


@pytest.fixture
def published(settings: Settings) -> None:
    publish(settings)


def comparable(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    """Status, headers (but the clock's) and the body, with a receipt's own id and time left out."""
    headers = {k: v for k, v in response.headers.items() if k not in VARYING}
    try:
        content: Any = response.json()
    except ValueError:
        content = response.content
    if isinstance(content, dict):
        content = {k: v for k, v in content.items() if k not in ("instance_id", "received_at")}
    return response.status_code, headers, content


def both_ways(counted: Counted, send: Callable[[], httpx.Response]) -> tuple[httpx.Response, int]:
    """The request sent with the fast path, then without it; and how many of the first litestar answered."""
    before = counted.calls
    fast = send()
    handed = counted.calls - before
    counted.litestar_only(True)
    try:
        slow = send()
    finally:
        counted.litestar_only(False)
    assert comparable(fast) == comparable(slow)
    return fast, handed


def post(persona: Any, payload: Any = None, *, content: bytes | None = None, path: str = PATH,
         **headers: str) -> Callable[[], httpx.Response]:
    """A POST built afresh each time it is sent: a new instance id unless the payload is given."""
    sent = {"content-type": "application/json", "x-csrftoken": csrf_of(persona)}
    sent.update({k.replace("_", "-"): v for k, v in headers.items()})

    def send() -> httpx.Response:
        data = content if content is not None else json.dumps(payload if payload is not None else body()).encode()
        return persona.post(path, content=data, headers={k: v for k, v in sent.items() if v != "-"})

    return send


def test_an_ordinary_submission_skips_litestar_and_answers_as_it_would(as_, counted) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    fast, handed = both_ways(counted, post(citra))
    assert handed == 0 and fast.status_code == 201 and fast.json()["outcome"] == "new"
    assert fast.headers["content-type"] == "application/json"
    for header in ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy", "date"):
        assert header in fast.headers
    payload = body()
    assert post(citra, payload)().status_code == 201
    retry, handed = both_ways(counted, post(citra, payload))  # idempotent by instance id, both ways
    assert handed == 0 and retry.status_code == 200 and retry.json()["outcome"] == "identical"
    changed = {**payload, "answers": {**payload["answers"], "nama": "Lain"}}
    conflict, handed = both_ways(counted, post(citra, changed))
    assert handed == 0 and conflict.status_code == 409 and conflict.json()["code"] == "submission.conflict"
    assert conflict.json()["detail_id"] and conflict.json()["detail"] != conflict.json()["detail_id"]


def test_answers_the_form_refuses_are_the_same_422(as_, counted) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    fast, handed = both_ways(counted, post(citra, body(umur=130, nama="")))
    assert handed == 0 and fast.status_code == 422 and {e["path"] for e in fast.json()["errors"]} == {"umur", "nama"}
    unknown, handed = both_ways(counted, post(citra, {**body(), "form_id": "lain"}))
    assert handed == 0 and unknown.status_code == 404 and unknown.json()["code"] == "submission.unknown_form"


def test_a_large_answer_is_compressed_as_litestar_compresses_it(as_, counted) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    many = post(citra, body(**{f"palsu_{i}": "x" for i in range(40)}), accept_encoding="gzip")
    fast, handed = both_ways(counted, many)
    assert handed == 0 and fast.status_code == 422
    assert fast.headers["content-encoding"] == "gzip" and fast.headers["vary"] == "Accept-Encoding"
    assert len(fast.json()["errors"]) == 40
    small, _ = both_ways(counted, post(citra, accept_encoding="gzip"))
    assert small.status_code == 201 and "content-encoding" not in small.headers


@pytest.mark.parametrize(("case", "status", "code"), [
    ("no CSRF header", 403, "http.csrf"),
    ("another session's CSRF token", 403, "http.csrf"),
    ("signed out", 401, "http.unauthorized"),
    ("deactivated", 401, "http.unauthorized"),
    ("over the body limit", 413, "http.too_large"),
    ("NUL in an answer", 400, "http.nul_character"),
    ("NUL in the query", 400, "http.nul_character"),
    ("not JSON", 400, "http.bad_request"),
    ("an unknown field", 400, "http.bad_request"),
    ("an empty body", 400, "http.bad_request"),
])
def test_every_refusal_is_litestars_own(as_, counted, settings, case: str, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    send = {
        "no CSRF header": lambda: post(citra, x_csrftoken="-"),
        "another session's CSRF token": lambda: post(citra, x_csrftoken=csrf_of(as_("dewi"))),
        "signed out": lambda: post(as_(None)),
        "deactivated": lambda: deactivated(as_, settings),
        "over the body limit": lambda: post(citra, content=padded(json.dumps(body()).encode(), 10 * 1024 * 1024 + 1)),
        "NUL in an answer": lambda: post(citra, body(nama="Siti\x00")),
        "NUL in the query": lambda: post(citra, path=PATH + "?x=%00"),
        "not JSON": lambda: post(citra, content=b"{not json"),
        "an unknown field": lambda: post(citra, {**body(), "extra": 1}),
        "an empty body": lambda: post(citra, content=b""),
    }[case]()
    fast, handed = both_ways(counted, send)
    assert handed == 1, f"{case}: answered without litestar"
    assert fast.status_code == status and fast.json()["code"] == code, fast.text
    assert fast.json()["detail"] and fast.json()["detail_id"]  # the catalogue's shape, English and Indonesian
    assert "content-security-policy" in fast.headers and "date" in fast.headers


def padded(payload: bytes, size: int) -> bytes:
    """A valid submission made `size` bytes long with trailing white space: only its size is wrong."""
    return payload + b" " * (size - len(payload))


def deactivated(as_: Any, settings: Settings) -> Callable[[], httpx.Response]:
    """Eko's session, after the admin deactivated him in this process (the session cache's epoch moves)."""
    ids = _create_extra(settings, "eko")
    eko, admin = as_("eko"), as_("admin")
    token = csrf_of(eko)
    assert post(eko)().status_code == 201  # his session is in the cache now
    assert post_form(admin, f"/pengguna/{ids['eko']}/status", {"active": "0"}).status_code == 200
    return post(eko, x_csrftoken=token)


def test_the_access_log_has_one_line_per_fast_answer(as_, counted, caplog) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    with caplog.at_level(logging.INFO, logger="pantau.access"):
        assert post(citra)().status_code == 201
        assert post(citra, x_csrftoken="-")().status_code == 403
    lines = [r.getMessage() for r in caplog.records if r.name == "pantau.access"]
    assert len(lines) == 2 and f'"POST {PATH}" 201' in lines[0] and f'"POST {PATH}" 403' in lines[1]


def test_a_client_gone_mid_body_is_logged_as_closed_and_nothing_is_stored(as_, counted, app_client,  # type: ignore[no-untyped-def]
                                                                          caplog) -> None:
    citra = as_("citra")
    token = csrf_of(citra)
    payload = json.dumps(body()).encode()
    cookies = "; ".join(f"{c.name}={c.value}" for c in citra.cookies.jar)
    before = counted.calls
    with caplog.at_level(logging.INFO, logger="pantau.access"):
        gone_mid_body(app_client, PATH, [(b"content-type", b"application/json"),
                                         (b"content-length", str(len(payload)).encode()),
                                         (b"cookie", cookies.encode()), (b"x-csrftoken", token.encode())], payload[:20])
    lines = [r.getMessage() for r in caplog.records if r.name == "pantau.access"]
    assert lines and f'"POST {PATH}" 499' in lines[-1] and lines[-1].endswith("client closed")
    assert counted.calls == before + 1  # litestar read the rest of the body and met the disconnect
    assert citra.get(PATH).json() == []


@pytest.fixture
def bench_client(settings: Settings, people: dict[str, int], published: None) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(app=create_app(with_settings(settings, bench_routes=True)), raise_server_exceptions=False) as c:
        yield c


def test_the_bench_stages_take_the_same_path(bench_client) -> None:  # type: ignore[no-untyped-def]
    counted = Counted(fast_routes_of(bench_client.app))
    assert sign_in(bench_client, "citra").status_code == 302
    for stage, outcome in (("noop", "noop"), ("signed_in", "bench"), ("validated", "bench")):
        fast, handed = both_ways(counted, post(bench_client, path=f"/api/v1/bench/{stage}"))
        assert handed == 0 and fast.status_code == 201 and fast.json()["outcome"] == outcome
    invalid, handed = both_ways(counted, post(bench_client, body(umur=130), path="/api/v1/bench/validated"))
    assert handed == 0 and invalid.status_code == 422
    for stage in ("signed_in", "validated"):  # the noop needs no session, the other two do
        bench_client.cookies.delete("pantau_sesi")
        bench_client.cookies.delete("csrftoken")  # an anonymous visitor's own token: the CSRF check passes
        _, handed = both_ways(counted, post(bench_client, path=f"/api/v1/bench/{stage}"))
        assert handed == 1
