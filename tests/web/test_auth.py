"""Sign-in, sessions, CSRF, rate limits, account and user management, and the audit trail they
leave, as people would meet them."""

from __future__ import annotations

import asyncio
import datetime as dt

import time_machine
from litestar.testing import TestClient

from server.settings import Settings
from server.storage import audit
from server.storage.db import Database
from server.web.app import create_app
from server.web.auth import SESSION_COOKIE
from tests.conftest import with_settings
from tests.web.conftest import PASSWORD, _create_extra, post_form, sign_in


def audit_entries(settings: Settings, **wanted: object) -> list[audit.Entry]:
    async def read() -> list[audit.Entry]:
        db = Database(settings.database_url)
        await db.open()
        try:
            return await audit.search(db, audit.AuditFilter(**wanted), limit=500)  # type: ignore[arg-type]
        finally:
            await db.close()

    return asyncio.run(read())


def test_sign_in_sets_a_safe_long_lived_cookie_and_returns_to_next(as_, settings) -> None:  # type: ignore[no-untyped-def]
    client = as_(None)
    client.get("/masuk?next=/akun")
    response = post_form(client, "/masuk", {"username": "Citra", "password": PASSWORD, "next": "/akun"})
    assert response.status_code == 302 and response.headers["location"] == "/akun"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    assert f"Max-Age={30 * 86400}" in cookie and "Secure" not in cookie
    assert client.get("/akun").status_code == 200
    [entry] = audit_entries(settings, action="auth.sign_in")
    assert entry.actor == "citra" and entry.address == "testclient"


def test_cookie_is_secure_behind_https(settings, people) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app=create_app(with_settings(settings, https=True)), base_url="https://testserver.local") as client:
        response = sign_in(client, "citra")
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "Secure" in cookie


def test_open_redirects_are_refused(as_) -> None:  # type: ignore[no-untyped-def]
    client = as_(None)
    response = post_form(client, "/masuk", {"username": "citra", "password": PASSWORD, "next": "//evil.example"})
    assert response.headers["location"] == "/"


def test_wrong_password_and_unknown_user_look_the_same(as_, settings) -> None:  # type: ignore[no-untyped-def]
    client = as_(None)
    wrong = post_form(client, "/masuk", {"username": "citra", "password": "salah-sekali-1"})
    unknown = post_form(client, "/masuk", {"username": "siapa", "password": "salah-sekali-1"})
    assert wrong.status_code == unknown.status_code == 401
    assert 'data-code="auth.bad_credentials"' in wrong.text and 'data-code="auth.bad_credentials"' in unknown.text
    assert SESSION_COOKIE not in wrong.headers.get("set-cookie", "")
    assert {e.actor for e in audit_entries(settings, action="auth.sign_in_failed")} == {"citra", "siapa"}


def test_failed_sign_ins_are_limited_per_user(as_) -> None:  # type: ignore[no-untyped-def]
    client = as_(None)
    for _ in range(5):
        assert post_form(client, "/masuk", {"username": "citra", "password": "tebak-tebak-1"}).status_code == 401
    blocked = post_form(client, "/masuk", {"username": "citra", "password": PASSWORD})
    assert blocked.status_code == 429 and 'data-code="auth.rate_limited"' in blocked.text
    assert post_form(client, "/masuk", {"username": "dewi", "password": PASSWORD}).status_code == 302
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=16)):
        assert post_form(client, "/masuk", {"username": "citra", "password": PASSWORD}).status_code == 302


def test_failed_sign_ins_are_limited_per_address(as_) -> None:  # type: ignore[no-untyped-def]
    client = as_(None)
    # Twenty names tried once each: no name reaches its own limit, so only the address's can stop the
    # 21st; each of the twenty is an ordinary wrong guess (were the limit lower, this would show it).
    answers = [post_form(client, "/masuk", {"username": f"tamu{i}", "password": "tebak-tebak-1"}) for i in range(20)]
    assert [a.status_code for a in answers] == [401] * 20
    assert all('data-code="auth.bad_credentials"' in a.text for a in answers)
    blocked = post_form(client, "/masuk", {"username": "ani", "password": PASSWORD})
    assert blocked.status_code == 429 and 'data-code="auth.rate_limited"' in blocked.text


def test_deactivating_a_user_ends_their_session_at_once(as_, settings) -> None:  # type: ignore[no-untyped-def]
    ids = _create_extra(settings, "eko")
    eko, admin = as_("eko"), as_("admin")
    assert eko.get("/akun").status_code == 200
    assert post_form(admin, f"/pengguna/{ids['eko']}/status", {"active": "0"}).status_code == 200
    assert eko.get("/akun", follow_redirects=False).status_code == 302
    again = sign_in(as_(None), "eko")
    assert again.status_code == 401 and 'data-code="user.inactive"' in again.text
    [entry] = audit_entries(settings, action="user.deactivate")
    assert (entry.actor, entry.target_id) == ("admin", str(ids["eko"]))


def test_admin_cannot_deactivate_themselves(as_, people) -> None:  # type: ignore[no-untyped-def]
    admin = as_("admin")
    response = post_form(admin, f"/pengguna/{people['admin']}/status", {"active": "0"})
    assert response.status_code == 400 and admin.get("/akun").status_code == 200


def test_sessions_expire_after_the_configured_days(as_) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=29)):
        assert citra.get("/akun").status_code == 200
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=31)):
        assert citra.get("/akun", follow_redirects=False).status_code == 302


def test_tampered_or_foreign_session_cookies_mean_signed_out(as_) -> None:  # type: ignore[no-untyped-def]
    client = as_(None)
    for value in ("x", "A" * 5000, "%00%ff", "' OR 1=1 --"):
        client.cookies.set(SESSION_COOKIE, value)
        response = client.get("/akun", follow_redirects=False)
        assert response.status_code == 302, value


def test_sign_out_ends_the_session(as_, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    token = citra.cookies[SESSION_COOKIE]
    assert post_form(citra, "/keluar").status_code == 302
    other = as_(None)
    other.cookies.set(SESSION_COOKIE, token)
    assert other.get("/akun", follow_redirects=False).status_code == 302
    assert [e.actor for e in audit_entries(settings, action="auth.sign_out")] == ["citra"]


def test_forms_without_or_with_forged_csrf_are_refused(as_, settings) -> None:  # type: ignore[no-untyped-def]
    admin = as_("admin")
    data = {"username": "maling", "role": "admin", "password": "kata-sandi-maling"}
    missing = admin.post("/pengguna", data=data, follow_redirects=False)
    forged = admin.post("/pengguna", data={**data, "_csrf_token": "palsu"}, follow_redirects=False)
    assert missing.status_code == forged.status_code == 403
    assert "http.csrf" in missing.text
    assert audit_entries(settings, action="user.create") == []


def test_over_long_fields_are_a_clear_400(as_) -> None:  # type: ignore[no-untyped-def]
    client = as_(None)
    response = post_form(client, "/masuk", {"username": "a" * 500, "password": "x"})
    assert response.status_code == 400 and "http.field_too_long" in response.text


def test_changing_my_password_keeps_this_session_and_ends_the_others(as_, settings) -> None:  # type: ignore[no-untyped-def]
    phone, laptop = as_("citra"), as_("citra")
    new = "kata-sandi-baru-2"
    mismatch = post_form(phone, "/akun/sandi", {"current": PASSWORD, "new": new, "repeat": new + "x"})
    assert mismatch.status_code == 400
    wrong = post_form(phone, "/akun/sandi", {"current": "bukan-ini-1", "new": new, "repeat": new})
    assert wrong.status_code == 400
    short = post_form(phone, "/akun/sandi", {"current": PASSWORD, "new": "pendek", "repeat": "pendek"})
    assert short.status_code == 400
    assert post_form(phone, "/akun/sandi", {"current": PASSWORD, "new": new, "repeat": new}).status_code == 200
    assert phone.get("/akun").status_code == 200
    assert laptop.get("/akun", follow_redirects=False).status_code == 302
    assert sign_in(as_(None), "citra", new).status_code == 302
    assert [e.action for e in audit_entries(settings, action="auth.password_change")] == ["auth.password_change"]


def test_admin_creates_a_user_with_role_and_areas(as_, settings) -> None:  # type: ignore[no-untyped-def]
    admin = as_("admin")
    created = post_form(admin, "/pengguna", {"username": "fitri", "display_name": "Fitri", "role": "coordinator",
                                             "areas": "64.02.13, 6402201001", "password": "kata-sandi-fitri"})
    assert created.status_code == 302
    page = admin.get(created.headers["location"])
    assert "64.02.13 64.02.20.1001" in page.text  # the compact code was normalised
    # Roles read in Indonesian on the users pages; the codes stay in the form's values.
    assert '<option value="coordinator" selected>Koordinator</option>' in page.text
    listed = admin.get("/pengguna").text
    assert "<td>Koordinator</td>" in listed and "<td>Petugas lapangan</td>" in listed
    assert "<td>coordinator</td>" not in listed
    bad_area = post_form(admin, "/pengguna", {"username": "gina", "role": "staff", "areas": "99.99.99",
                                              "password": "kata-sandi-gina"})
    assert bad_area.status_code == 400 and 'data-code="user.bad_area"' in bad_area.text
    assert [e.target_type for e in audit_entries(settings, action="user.create")] == ["user"]


def test_admin_changes_role_and_resets_password(as_, settings) -> None:  # type: ignore[no-untyped-def]
    ids = _create_extra(settings, "eko")
    eko, admin = as_("eko"), as_("admin")
    moved = post_form(admin, f"/pengguna/{ids['eko']}/peran", {"role": "coordinator", "areas": "64.02.13"})
    assert moved.status_code == 200
    assert "64.02.13" in eko.get("/akun").text  # the next request already sees the new areas
    reset = post_form(admin, f"/pengguna/{ids['eko']}/sandi")
    new_password = reset.text.split('class="secret">')[1].split("<")[0]
    assert eko.get("/akun", follow_redirects=False).status_code == 302  # old sessions ended
    assert sign_in(as_(None), "eko", new_password).status_code == 302
    assert {e.action for e in audit_entries(settings, target=str(ids["eko"]))} >= {"user.role", "user.password_reset"}


def test_the_last_admin_cannot_be_demoted(as_, people) -> None:  # type: ignore[no-untyped-def]
    admin = as_("admin")
    response = post_form(admin, f"/pengguna/{people['admin']}/peran", {"role": "staff", "areas": ""})
    assert response.status_code == 400 and 'data-code="user.last_admin"' in response.text


def test_audit_page_filters_and_rejects_bad_filters(as_, settings) -> None:  # type: ignore[no-untyped-def]
    as_("citra")
    as_("dewi")
    ani = as_("ani")
    page = ani.get("/audit?action=auth.sign_in&actor=dewi")
    assert page.status_code == 200 and "dewi" in page.text and "citra" not in page.text.split("<tbody>")[1]
    for bad in ("action=drop.table", "since=kemarin", "since=2026-02-01&until=2026-01-01", "cursor=!!!",
                "actor=" + "x" * 200):
        response = ani.get(f"/audit?{bad}")
        assert response.status_code == 400 and "audit.bad_filter" in response.text, bad


def test_audit_log_cannot_be_changed_even_by_sql(settings, people) -> None:  # type: ignore[no-untyped-def]
    async def tamper() -> list[str]:
        db = Database(settings.database_url)
        await db.open()
        errors = []
        try:
            await audit.record(db, None, "auth.sign_in", actor_name="citra")
            for sql in ("UPDATE audit_log SET actor = 'x'", "DELETE FROM audit_log"):
                try:
                    await db.fetch(sql)
                except Exception as exc:
                    errors.append(str(exc))
            return errors
        finally:
            await db.close()

    errors = asyncio.run(tamper())
    assert len(errors) == 2 and all("append-only" in e for e in errors)
    assert [e.actor for e in audit_entries(settings)] == ["citra"]
