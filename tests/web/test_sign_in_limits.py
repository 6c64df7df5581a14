"""The failed-sign-in limit against a real server: guesses sent at the same time are counted before
any password is checked, a lock falls on the pair (person, address) first, and locking someone out
does not lock them out of the places they work from, nor past an admin's unlock."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter
from pathlib import Path

from server.settings import Settings
from server.storage import audit
from server.storage.db import Database
from tests.web.live import Live, csrf, serving, sign_in

WRONG = "tebak-tebak-1"


async def audit_entries(settings: Settings, action: str) -> list[audit.Entry]:
    db = Database(settings.database_url)
    await db.open()
    try:
        return await audit.search(db, audit.AuditFilter(action=action), limit=500)
    finally:
        await db.close()


async def test_guesses_sent_at_once_are_still_limited_to_five(settings: Settings, people: dict[str, int],
                                                              tmp_path: Path) -> None:
    with serving(settings, tmp_path) as live:
        async with live.client("127.0.0.2") as attacker:
            answers = await asyncio.gather(*(sign_in(attacker, "citra", WRONG) for _ in range(12)))
        async with live.client("127.0.0.2") as same_place:
            after = await sign_in(same_place, "citra")
    assert Counter(a.status_code for a in answers) == {401: 5, 429: 7}
    assert after.status_code == 429  # the right password too, from the locked pair


async def guess(live: Live, username: str, addresses: list[str], times: int) -> list[int]:
    """`times` wrong passwords from each address, one after another."""
    statuses = []
    for address in addresses:
        async with live.client(address) as stranger:
            for _ in range(times):
                statuses.append((await sign_in(stranger, username, WRONG)).status_code)
    return statuses


async def sign_in_from(live: Live, address: str, username: str) -> int:
    async with live.client(address) as browser:
        return (await sign_in(browser, username)).status_code


STRANGERS = ["127.0.0.10", "127.0.0.11", "127.0.0.12", "127.0.0.13"]  # 4 x 5 guesses: the person limit


async def test_guesses_from_many_places_do_not_lock_a_person_out_where_they_signed_in_before(
        settings: Settings, people: dict[str, int], tmp_path: Path) -> None:
    with serving(settings, tmp_path) as live:
        assert await sign_in_from(live, "127.0.0.2", "citra") == 302  # citra's office
        assert await guess(live, "citra", STRANGERS, 5) == [401] * 20
        assert await guess(live, "citra", ["127.0.0.10"], 1) == [429]  # that pair is locked
        new_place = await sign_in_from(live, "127.0.0.3", "citra")
        office = await sign_in_from(live, "127.0.0.2", "citra")
        dewi = await sign_in_from(live, "127.0.0.3", "dewi")  # the lock is citra's, not the address's
    assert (new_place, office, dewi) == (429, 302, 302)
    failed = await audit_entries(settings, action="auth.sign_in_failed")
    assert {e.address for e in failed} == set(STRANGERS) and len(failed) == 20


async def test_a_sign_in_from_the_locked_pair_itself_waits_like_the_guesses(
        settings: Settings, people: dict[str, int], tmp_path: Path) -> None:
    with serving(settings, tmp_path) as live:
        assert await sign_in_from(live, "127.0.0.2", "citra") == 302
        assert await guess(live, "citra", ["127.0.0.2"], 5) == [401] * 5
        assert await sign_in_from(live, "127.0.0.2", "citra") == 429  # known, but the pair limit still holds
        assert await sign_in_from(live, "127.0.0.2", "budi") == 302


async def test_an_admin_lifts_a_lock_and_the_audit_log_keeps_it(settings: Settings, people: dict[str, int],
                                                                 tmp_path: Path) -> None:
    with serving(settings, tmp_path) as live:
        await guess(live, "citra", STRANGERS, 5)
        assert await sign_in_from(live, "127.0.0.3", "citra") == 429
        async with live.client("127.0.0.4") as admin:
            assert (await sign_in(admin, "admin")).status_code == 302
            page = (await admin.get(f"/pengguna/{people['citra']}")).text
            assert "20 percobaan masuk gagal" in page and "Terkunci" in page
            token = await csrf(admin)
            lifted = await admin.post(f"/pengguna/{people['citra']}/buka-kunci", data={"_csrf_token": token})
            assert lifted.status_code == 200 and "Tidak ada percobaan masuk gagal" in lifted.text
        assert await sign_in_from(live, "127.0.0.3", "citra") == 302
        async with live.client("127.0.0.5") as citra:  # not an admin: no unlocking for others or oneself
            await sign_in(citra, "citra")
            token = await csrf(citra)
            refused = await citra.post(f"/pengguna/{people['dewi']}/buka-kunci", data={"_csrf_token": token})
        assert refused.status_code == 403
    [entry] = await audit_entries(settings, action="user.unlock")
    assert (entry.actor, entry.target_id, entry.detail, entry.address) == (
        "admin", str(people["citra"]), "failures=20", "127.0.0.4")


async def pantau(live: Live, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI against the live server's database, off the event loop."""
    return await asyncio.to_thread(subprocess.run, [sys.executable, "-m", "server.cli.main", *args], env=live.env,
                                   cwd=cwd, capture_output=True, text=True, timeout=60, check=False)


async def test_pantau_users_unlock_lifts_a_lock_from_the_command_line(settings: Settings, people: dict[str, int],
                                                                      tmp_path: Path) -> None:
    with serving(settings, tmp_path) as live:
        await guess(live, "citra", ["127.0.0.10"], 5)
        assert await sign_in_from(live, "127.0.0.10", "citra") == 429
        done = await pantau(live, tmp_path, "users", "unlock", "citra")
        assert done.returncode == 0, done.stderr
        assert await sign_in_from(live, "127.0.0.10", "citra") == 302
        nobody = await pantau(live, tmp_path, "users", "unlock", "siapa")
    assert nobody.returncode == 2 and "user.not_found" in nobody.stderr and "Traceback" not in nobody.stderr
    [entry] = await audit_entries(settings, action="user.unlock")
    assert (entry.actor, entry.detail) == ("cli", "failures=5")
