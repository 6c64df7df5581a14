"""Two real `pantau serve` processes on one database (the SQLite file of one machine, or the
PostgreSQL of several nodes) behave as one Pantau: a session opened on one is good on the other;
signing out, deactivating a user, archiving, restoring and publishing a form on one take effect on
the other within 5 s; failed sign-ins count across both."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from server.settings import Settings
from tests.web.live import Live, csrf, sign_in, started_nodes
from tests.web.test_api_submissions import FORM, JPEG, photo_size, publish

WITHIN_S = 5.0
WRONG = "tebak-tebak-1"


@contextmanager
def two_nodes(settings: Settings, tmp_path: Path) -> Iterator[tuple[Live, Live]]:
    """Nothing is shared but the database (tests/web/live.started_nodes)."""
    with started_nodes(settings, tmp_path) as (lives, _):
        yield lives[0], lives[1]


async def within(check: Callable[[], Awaitable[bool]], seconds: float = WITHIN_S) -> float:
    """How long until check() held; fails when it did not within `seconds`."""
    started = time.monotonic()
    while not await check():
        assert time.monotonic() - started < seconds, f"not within {seconds:g} s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


@pytest.fixture
def published(settings: Settings) -> None:
    publish(settings)


async def test_two_nodes_on_one_database_behave_as_one(settings: Settings, people: dict[str, int],
                                                      published: None, tmp_path: Path) -> None:
    """One pair of servers for every check: starting two costs more than all the checks together."""
    with two_nodes(settings, tmp_path) as (a, b):
        await _sessions_are_shared(a, b)
        await _a_photo_stored_by_one_node_is_served_by_the_other(a, b)
        await _deactivation_reaches_the_other_node(a, b, people["dewi"])
        await _form_changes_reach_the_other_node(a, b, settings)
        await _failed_sign_ins_count_across_nodes(a, b)


async def _sessions_are_shared(a: Live, b: Live) -> None:
    async with a.client() as on_a, b.client() as on_b:
        assert (await sign_in(on_a, "citra")).status_code == 302
        on_b.cookies.set("pantau_sesi", on_a.cookies["pantau_sesi"])
        assert (await on_b.get("/")).status_code == 200  # signed in on a, signed in on b
        answer = await on_a.post("/keluar", data={"_csrf_token": await csrf(on_a)})
        assert answer.status_code in (302, 303)
        await within(lambda: _refused(on_b, "/"))


async def _a_photo_stored_by_one_node_is_served_by_the_other(a: Live, b: Live) -> None:
    """On PostgreSQL the nodes share no disk: the photo is a blob in the database."""
    async with a.client() as on_a, b.client() as on_b:
        assert (await sign_in(on_a, "citra")).status_code == 302
        on_b.cookies.set("pantau_sesi", on_a.cookies["pantau_sesi"])
        sent = await on_a.post("/api/v1/attachments", content=JPEG,
                               headers={"content-type": "image/jpeg", "x-csrftoken": await csrf(on_a)})
        assert sent.status_code == 201, sent.text
        digest = sent.json()["sha256"]
        from_a = await on_a.get(f"/api/v1/attachments/{digest}")
        from_b = await on_b.get(f"/api/v1/attachments/{digest}")
        assert from_a.status_code == from_b.status_code == 200 and from_a.content == from_b.content
        assert photo_size(from_b.content) == photo_size(JPEG)


async def _refused(client, path: str) -> bool:  # type: ignore[no-untyped-def]
    return (await client.get(path)).status_code in (302, 303, 401)


async def _deactivation_reaches_the_other_node(a: Live, b: Live, dewi: int) -> None:
    async with a.client() as admin, b.client() as on_b:
        assert (await sign_in(admin, "admin")).status_code == 302
        assert (await sign_in(on_b, "dewi")).status_code == 302
        assert (await on_b.get("/")).status_code == 200
        answer = await admin.post(f"/pengguna/{dewi}/status", data={"active": "0", "_csrf_token": await csrf(admin)})
        assert answer.status_code == 200, answer.text
        await within(lambda: _refused(on_b, "/"))


async def _fill_status(client, path: str = "/f/uji_api") -> int:  # type: ignore[no-untyped-def]
    return (await client.get(path)).status_code


async def _form_changes_reach_the_other_node(a: Live, b: Live, settings: Settings) -> None:
    async with a.client() as ani, b.client() as citra:
        assert (await sign_in(ani, "ani")).status_code == 302
        assert (await sign_in(citra, "citra")).status_code == 302
        assert await _fill_status(citra) == 200  # node b has the form and its status in its cache
        await _set_status(ani, "archived")
        archived = await within(lambda: _is(citra, 404))
        await _set_status(ani, "published")
        restored = await within(lambda: _is(citra, 200))
        newer = FORM.replace(b'version: "1"', b'version: "2"').replace(b"Nama, en: Name",
                                                                           b"Nama lengkap, en: Full name")
        await asyncio.to_thread(publish, settings, newer)  # as `pantau forms load` would, from a third process
        published = await within(lambda: _shows(citra, "Nama lengkap"))
    # Within 5 s is the promise; the epochs make it about POLL_S (1 s), and the old 5 s cache would miss 3 s.
    assert max(archived, restored, published) < 3.0, (archived, restored, published)


async def _set_status(client, status: str) -> None:  # type: ignore[no-untyped-def]
    answer = await client.post("/formulir/uji_api/status", data={"status": status, "_csrf_token": await csrf(client)})
    assert answer.status_code == 303, answer.text


async def _is(client, status: int) -> bool:  # type: ignore[no-untyped-def]
    return await _fill_status(client) == status


async def _shows(client, text: str) -> bool:  # type: ignore[no-untyped-def]
    answer = await client.get("/f/uji_api")
    return answer.status_code == 200 and text in answer.text


async def _failed_sign_ins_count_across_nodes(a: Live, b: Live) -> None:
    statuses = []
    for n in range(6):
        async with (a if n % 2 else b).client("127.0.0.2") as guesser:
            statuses.append((await sign_in(guesser, "budi", WRONG)).status_code)
    assert statuses == [401] * 5 + [429]  # five on the pair, wherever they landed
