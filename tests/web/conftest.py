"""Named personas (STYLE.md 10): ani (staff), budi (coordinator of Tenggarong), citra (enumerator
in Tenggarong), dewi (enumerator in Samboja), plus an admin. Permission tests read as sentences:
`as_(dewi).get(...)`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from server.domain.users import hash_password
from server.settings import Settings
from server.storage import users
from server.storage.db import Database
from server.web.app import create_app

PASSWORD = "kata-sandi-uji-1"
_HASH = hash_password(PASSWORD)  # one argon2 hash for every persona keeps the suite fast
TENGGARONG, SAMBOJA = "64.02.06", "64.02.13"
PERSONAS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin", ()),
    "ani": ("staff", ()),
    "budi": ("coordinator", (TENGGARONG,)),
    "citra": ("enumerator", (TENGGARONG,)),
    "dewi": ("enumerator", (SAMBOJA,)),
}


async def _create_people(url: str) -> dict[str, int]:
    db = Database(url)
    await db.open()
    try:
        ids = {}
        for name, (role, areas) in PERSONAS.items():
            ids[name] = (await users.create(db, name, role, _HASH, name.title(), areas)).id
        return ids
    finally:
        await db.close()


@pytest.fixture
def people(settings: Settings) -> dict[str, int]:
    return asyncio.run(_create_people(settings.database_url))


def csrf_of(client: TestClient) -> str:  # type: ignore[type-arg]
    if "csrftoken" not in client.cookies:
        client.get("/masuk")
    return str(client.cookies["csrftoken"])


def post_form(client: TestClient, path: str, data: dict[str, str] | None = None, **kw):  # type: ignore[no-untyped-def,type-arg]
    return client.post(path, data={"_csrf_token": csrf_of(client), **(data or {})}, follow_redirects=False, **kw)


def sign_in(client: TestClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def,type-arg]
    return post_form(client, "/masuk", {"username": username, "password": password})


class Persona:
    """One person's browser: their own cookie jar, sharing the app (and its event loop and
    database connection) with everyone else in the test."""

    def __init__(self, client: TestClient) -> None:  # type: ignore[type-arg]
        self._client = client
        self.cookies = httpx.Cookies()

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        self._client.cookies = self.cookies
        try:
            return self._client.request(method, url, **kw)
        finally:
            self.cookies = self._client.cookies

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)


@pytest.fixture
def app_client(settings: Settings, people: dict[str, int]) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(app=create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def as_(app_client: TestClient) -> Callable[[str | None], Persona]:  # type: ignore[type-arg]
    """as_("dewi") -> a browser signed in as dewi; as_(None) -> an anonymous visitor."""

    def make(name: str | None) -> Persona:
        persona = Persona(app_client)
        if name is not None:
            response = sign_in(persona, name)  # type: ignore[arg-type]
            assert response.status_code == 302, response.text
        return persona

    return make


def _create_extra(settings: Settings, *names: str) -> dict[str, int]:
    """More enumerators in Tenggarong, for tests that change or deactivate someone."""

    async def create() -> dict[str, int]:
        db = Database(settings.database_url)
        await db.open()
        try:
            return {n: (await users.create(db, n, "enumerator", _HASH, n.title(), (TENGGARONG,))).id for n in names}
        finally:
            await db.close()

    return asyncio.run(create())


def gone_mid_body(client: TestClient, path: str, headers: list[tuple[bytes, bytes]],  # type: ignore[type-arg]
                  first_chunk: bytes) -> list[dict[str, Any]]:
    """A POST whose client goes away after the first chunk of its body (a phone losing signal),
    sent to the app directly; what the app sent back."""
    messages = iter([{"type": "http.request", "body": first_chunk, "more_body": True}, {"type": "http.disconnect"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "root_path": "", "query_string": b"",
             "headers": [(b"host", b"testserver"), *headers],
             "client": ("203.0.113.9", 5000), "server": ("testserver", 80), "state": {}}
    client.blocking_portal.call(client.app, scope, receive, send)
    return sent
