"""Who the client is: the socket's address, unless it came through one of PANTAU_TRUSTED_PROXIES,
and then the right-most X-Forwarded-For address that is not a trusted proxy. The table tests the
rule; the live tests show the sign-in limit, the audit log and the access log all follow it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.settings import Settings, SettingsError, load_settings
from server.storage import audit
from server.storage.db import Database
from server.web.proxies import client_address_of
from tests.cli.test_cli_foundation import assert_clean_failure, pantau
from tests.web.conftest import PASSWORD
from tests.web.live import serving, sign_in

PROXY = ("10.0.0.5/32", "10.1.0.0/16", "fd00::/8")


def scope(peer: str, *forwarded: str) -> dict[str, object]:
    return {"client": (peer, 4321), "headers": [(b"x-forwarded-for", value.encode()) for value in forwarded]}


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", ["198.51.100.1"], (), "203.0.113.9"),  # no proxies trusted: the header means nothing
        ("203.0.113.9", ["198.51.100.1"], PROXY, "203.0.113.9"),  # not from a proxy: the client wrote it
        ("10.0.0.5", [], PROXY, "10.0.0.5"),
        ("10.0.0.5", ["198.51.100.1"], PROXY, "198.51.100.1"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], PROXY, "198.51.100.1"),  # the forged left entry is ignored
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], PROXY, "198.51.100.1"),  # two proxies in a row
        ("10.0.0.5", ["6.6.6.6", "198.51.100.1"], PROXY, "198.51.100.1"),  # two headers are one list
        ("10.0.0.5", ["6.6.6.6, <script>, 10.1.2.3"], PROXY, "10.1.2.3"),  # junk stops the walk at our proxy
        ("10.0.0.5", ["10.1.0.7, 10.1.2.3"], PROXY, "10.1.0.7"),  # all trusted: the left-most
        ("::ffff:10.0.0.5", ["198.51.100.1"], PROXY, "198.51.100.1"),  # a dual-stack socket's IPv4
        ("fd00::1", ["2001:db8::7"], PROXY, "2001:db8::7"),
        ("testclient", ["198.51.100.1"], PROXY, "testclient"),
    ],
)
def test_the_client_is_the_right_most_address_not_a_trusted_proxy(peer: str, forwarded: list[str],
                                                                   trusted: tuple[str, ...], expected: str) -> None:
    assert client_address_of(scope(peer, *forwarded), trusted) == expected


@pytest.mark.parametrize("value", ["10.0.0.300", "proxy.local", "10.0.0.1/8", "10.0.0.0/33", "127.0.0.1;10.0.0.1"])
def test_a_bad_trusted_proxy_is_refused_naming_the_setting(value: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({"PANTAU_TRUSTED_PROXIES": value})
    assert "PANTAU_TRUSTED_PROXIES" in caught.value.message("en")


def test_trusted_proxies_are_read_as_networks() -> None:
    assert load_settings({}).trusted_proxies == ()
    assert load_settings({"PANTAU_TRUSTED_PROXIES": " 127.0.0.1, 10.20.0.0/16,,::1 "}).trusted_proxies == (
        "127.0.0.1/32", "10.20.0.0/16", "::1/128")


async def _sign_in_addresses(settings: Settings) -> list[str]:
    db = Database(settings.database_url)
    await db.open()
    try:
        entries = await audit.search(db, audit.AuditFilter(), limit=100)
        return [e.address for e in reversed(entries) if e.action.startswith("auth.sign_in")]
    finally:
        await db.close()


async def test_forwarded_for_from_anyone_but_a_trusted_proxy_is_ignored(settings: Settings, people: dict[str, int],
                                                                       tmp_path: Path) -> None:
    forged = {"x-forwarded-for": "198.51.100.77"}
    with serving(settings, tmp_path, PANTAU_HTTPS="true") as live:  # https no longer means "believe the header"
        async with live.client("127.0.0.2") as browser:
            # The cookies are Secure now and this client speaks plain HTTP: carry the token by hand.
            token = (await browser.get("/masuk")).cookies["csrftoken"]
            browser.cookies.clear()
            form = {"username": "citra", "password": PASSWORD, "_csrf_token": token}
            answer = await browser.post("/masuk", data=form, headers={**forged, "cookie": f"csrftoken={token}"})
            assert answer.status_code == 302
    assert await _sign_in_addresses(settings) == ["127.0.0.2"]
    assert "198.51.100.77" not in live.log.read_text()


async def test_behind_a_trusted_proxy_the_limit_audit_and_access_log_see_the_real_client(
        settings: Settings, people: dict[str, int], tmp_path: Path) -> None:
    with serving(settings, tmp_path, PANTAU_TRUSTED_PROXIES="127.0.0.2") as live:
        async with live.client("127.0.0.2") as proxy:
            # One guesser behind the proxy, writing a new forged address in front each time.
            answers = [await sign_in(proxy, "citra", "tebak-tebak-1",
                                     headers={"x-forwarded-for": f"192.0.2.{i}, 198.51.100.7"}) for i in range(6)]
            other = await sign_in(proxy, "citra", headers={"x-forwarded-for": "198.51.100.8"})
        async with live.client("127.0.0.3") as direct:  # not the proxy: its header is the client's own words
            direct_answer = await sign_in(direct, "citra", headers={"x-forwarded-for": "127.0.0.2, 198.51.100.8"})
    assert [a.status_code for a in answers] == [401] * 5 + [429]
    assert other.status_code == direct_answer.status_code == 302
    assert await _sign_in_addresses(settings) == ["198.51.100.7"] * 5 + ["198.51.100.8", "127.0.0.3"]
    log = live.log.read_text()
    assert '198.51.100.7 "POST /masuk" 429' in log and '127.0.0.3 "POST /masuk" 302' in log
    assert "192.0.2." not in log


def test_one_function_decides_the_address_everywhere() -> None:
    """Nothing else reads the socket peer or the header: the limiter and the audit log ask through
    web/auth.client_address, the access log asks web/proxies directly."""
    server = Path(__file__).resolve().parents[2] / "server"
    patterns = re.compile(r'request\.client\b|\[.client.\]|get\(.client.\)|x-forwarded-for', re.IGNORECASE)
    readers = sorted(str(p.relative_to(server)) for p in server.rglob("*.py")
                     if patterns.search(p.read_text()) and p.name not in ("settings.py", "serve.py"))
    assert readers == ["web/proxies.py"]


def test_a_bad_trusted_proxy_stops_serve_with_one_line_and_exit_2(tmp_path: Path) -> None:
    result = pantau("serve", env={"PANTAU_TRUSTED_PROXIES": "127.0.0.1,proxy.kukar"}, cwd=tmp_path)
    assert_clean_failure(result, "settings.invalid")
    assert "PANTAU_TRUSTED_PROXIES" in result.stderr and "proxy.kukar" in result.stderr
