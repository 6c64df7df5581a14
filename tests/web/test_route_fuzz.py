"""Every route in the app's route table, called with hostile values as an anonymous visitor, an
enumerator (citra) and staff (ani): NUL characters, ids beyond any integer column, negative ids,
overlong text, bad UTF-8, JSON of the wrong shape and type, path traversal. A 5xx anywhere fails.
The routes, their path parameters and the names they read come from the app itself (its route
table, handler signatures and the field names the server's code reads), so a new route or a new
query parameter is fuzzed without touching this file."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests.web.conftest import csrf_of
from tests.web.test_api_submissions import body, publish, send

SERVER = Path(__file__).resolve().parents[2] / "server"
NOT_NAMES = {"request", "principal", "data", "scope", "state", "headers", "cookies", "socket"}

INTS = ["2147483648", "9223372036854775808", "1" + "0" * 30, "-1", "0", "-9223372036854775809"]
TEXTS = ["a\x00b", "x" * 4000, "../../../../etc/passwd", "%ff%fe", "1" + "0" * 30, "-1", "[]", "",
         "<script>alert(1)</script>", "2026-99-99"]
QUERY_TEXTS = ["a%00b", "x" * 2000, "..%2F..%2F..%2Fetc%2Fpasswd", "%ff%fe%c3", "1" + "0" * 30, "-1",
               "2026-13-45", "%5B%5D"]
PATH_TEXTS = ["a%00b", "x" * 3000, "..%2F..%2Fetc%2Fpasswd", "%ff%fe", "-1", "1" + "0" * 30]
JSON_VALUES: list[Any] = ["a\x00b", {"\x00": "\x00"}, 10**30, "x" * 20000, -1, None, [], 1.5e308]
SLOW = 0.1  # seconds


def _names(pattern: str) -> list[str]:
    found = set()
    for source in SERVER.rglob("*.py"):
        found.update(re.findall(pattern, source.read_text(encoding="utf-8")))
    return sorted(found)


# The names the server reads from query strings and posted forms, found in its own source.
QUERY_NAMES = _names(r'(?:query_params|params|\bq)\.get(?:all)?\(\s*"([a-z_]+)"')
FORM_NAMES = [*_names(r'(?:text\(form|text\(posted|form\.get|posted\.get|form\.getall)\(?,?\s*"([a-z_]+)"'),
              # the fill page's own fields, and the answers of the seeded form
              "_id", "_versi", "_revisi", "_aksi", "nama", "umur", "kecamatan", "desa"]


def handlers(app: Litestar) -> Iterator[tuple[HTTPRoute, Any, str]]:
    """(route, handler, method) for every HTTP route the app serves, OPTIONS/HEAD aside."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                yield route, handler, method


def fill_path(route: HTTPRoute, defaults: dict[str, str], **hostile: str) -> str:
    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        return hostile.get(name, defaults.get(kind, "x"))

    return re.sub(r"\{(\w+):(\w+)\}", value, route.path)


def path_variants(route: HTTPRoute) -> Iterator[dict[str, str]]:
    for match in re.finditer(r"\{(\w+):(\w+)\}", route.path):
        name, kind = match.groups()
        values = {"int": INTS, "str": PATH_TEXTS, "path": [*PATH_TEXTS, "..%2F..%2F..%2Fpyproject.toml"],
                  "uuid": [str(uuid.uuid4()), "00000000-0000-0000-0000-000000000000"]}.get(kind, PATH_TEXTS)
        for v in values:
            yield {name: v}


def query_names(handler: Any, route: HTTPRoute) -> list[str]:
    signature = [n for n in handler.parsed_fn_signature.parameters if n not in NOT_NAMES]
    path_names = re.findall(r"\{(\w+):", route.path)
    return sorted({*QUERY_NAMES, *signature} - set(path_names))


def json_bodies() -> Iterator[Any]:
    """Bodies of the shapes the server decodes (a submission, an editor draft) with each field hostile,
    and bodies of the wrong shape altogether."""
    for value in JSON_VALUES:
        base = body()  # a new instance each time: an accepted one must not turn the next into a retry
        yield {**base, "answers": {**base["answers"], "nama": value}}
        yield {**base, "answers": {**base["answers"], "umur": value, value if isinstance(value, str) else "x": 1}}
        yield {**base, "instance_id": value}
        yield {**base, "form_id": value, "form_version": value, "base_revision": value}
        yield {"yaml": value}
        yield {"document": {"settings": {"id": value}, "fields": [{"type": "text", "name": value}]}}
        yield value


class Fuzzer:
    def __init__(self, persona: Any, defaults: dict[str, str]) -> None:
        self.persona, self.defaults = persona, defaults
        self.failures: list[str] = []
        self.calls = 0

    def call(self, method: str, url: str, **kw: Any) -> float:
        started = time.perf_counter()
        headers = {"x-csrftoken": csrf_of(self.persona), **kw.pop("headers", {})}
        response = self.persona.request(method, url, headers=headers, follow_redirects=False, **kw)
        self.calls += 1
        if response.status_code >= 500:
            self.failures.append(f"{method} {url[:120]!r} -> {response.status_code} {response.text[:160]!r}")
        return time.perf_counter() - started

    def route(self, route: HTTPRoute, handler: Any, method: str) -> None:
        plain = fill_path(route, self.defaults)
        for hostile in path_variants(route):
            self.call(method, fill_path(route, self.defaults, **hostile))
        if method == "GET":
            names = query_names(handler, route)
            for value in QUERY_TEXTS:
                self.call(method, plain + "?" + "&".join(f"{n}={value}" for n in names))
            return
        csrf = csrf_of(self.persona)
        # A route that checks a password (argon2, ~0.3 s a call) gets the sharpest values only.
        slow = self.call(method, plain, data={n: "a\x00b" for n in FORM_NAMES} | {"_csrf_token": csrf}) > SLOW
        for index, value in enumerate(TEXTS[:3] if slow else TEXTS):
            form = {n: value for n in FORM_NAMES} | {"_csrf_token": csrf}
            self.call(method, plain, data=form)
            if index < 4:  # as multipart too, with a file part under a hostile name
                hostile_file = ("berkas", ("../..\x00.json", value.encode(), "text/plain"))
                self.call(method, plain, data=form, files=[hostile_file])
        self.call(method, plain, content=b"a=%ff%fe&_csrf_token=" + csrf.encode(),
                  headers={"content-type": "application/x-www-form-urlencoded"})
        for payload in JSON_VALUES[:3] if slow else json_bodies():
            self.call(method, plain, content=msgspec.json.encode(payload), headers={"content-type": "application/json"})
        for raw in (b"\xff\xfe{", b"[" * 5000, b'{"a":' * 3000, b"{"):
            self.call(method, plain, content=raw, headers={"content-type": "application/json"})
        outbox = {"user": "citra", "items": [{**body(nama="\x00"), "form_id": "uji_api"}], "photos": {}}
        self.call(method, plain, data={"_csrf_token": csrf},
                  files=[("berkas", ("outbox.json", msgspec.json.encode(outbox), "application/json"))])


@pytest.fixture
def seeded(settings, as_) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A published form and one stored submission, so valid ids lead the fuzz deep into handlers."""
    publish(settings)
    payload = body()
    assert send(as_("citra"), payload).status_code == 201
    return {"int": "1", "str": "uji_api", "uuid": str(payload["instance_id"]), "path": "js/form.js"}


@pytest.mark.parametrize("who", [None, "citra", "ani"])
def test_no_route_answers_hostile_input_with_a_5xx(app_client, as_, seeded, who: str | None) -> None:  # type: ignore[no-untyped-def]
    persona = as_(who)
    fuzzer = Fuzzer(persona, seeded)
    routes = list(handlers(app_client.app))
    # Signing out last, so the persona stays signed in for every other route.
    for route, handler, method in sorted(routes, key=lambda r: r[0].path == "/keluar"):
        fuzzer.route(route, handler, method)
    assert not fuzzer.failures, f"{len(fuzzer.failures)} of {fuzzer.calls} calls failed:\n" + "\n".join(
        fuzzer.failures[:40])
    assert len(routes) > 60 and fuzzer.calls > 2000  # the table was really walked
    assert {"/api/v1/submissions", "/f/{form_id:str}", "/pengguna/{user_id:int}"} <= {r.path for r, _, _ in routes}
