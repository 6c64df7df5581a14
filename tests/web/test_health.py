"""Health, readiness, error pages and the access log, through the real app on a real database."""

from __future__ import annotations

import logging

import pytest
from litestar.testing import TestClient

from server.errors import PantauError
from server.settings import Settings
from server.storage import migrate
from server.storage.db import Database
from server.web.app import create_app
from tests.conftest import with_settings
from tests.web.conftest import gone_mid_body


def test_healthz_and_readyz(client: TestClient) -> None:  # type: ignore[type-arg]
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["migrations"] == "current"


def test_home_page_speaks_indonesian_first(as_) -> None:  # type: ignore[no-untyped-def]
    ani = as_("ani")
    page = ani.get("/")
    assert page.status_code == 200
    assert 'lang="id"' in page.text and "Formulir" in page.text
    assert "Published forms" in ani.get("/?lang=en").text


def test_home_page_sends_visitors_to_sign_in(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/masuk?next=/"


def test_unknown_page_is_a_catalogue_404(client: TestClient) -> None:  # type: ignore[type-arg]
    html = client.get("/tidak-ada", headers={"accept": "text/html"})
    assert html.status_code == 404
    assert "http.not_found" in html.text and "tidak ditemukan" in html.text
    api = client.get("/api/v1/nothing")
    assert api.status_code == 404
    assert api.json()["code"] == "http.not_found"


def test_wrong_method_is_405_not_500(client: TestClient) -> None:  # type: ignore[type-arg]
    response = client.post("/healthz", content=b"x")
    assert response.status_code == 405
    assert response.json()["code"] == "http.method_not_allowed"


def test_readyz_reports_pending_migrations(client: TestClient, settings: Settings) -> None:  # type: ignore[type-arg]
    client.app.state.db  # noqa: B018 - the app's own database
    ledger = migrate.LEDGER
    with client.portal() as portal:  # type: ignore[attr-defined]
        portal.call(client.app.state.db.fetch, f"DELETE FROM {ledger}")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["pending_migrations"] == migrate.available()


def test_app_refuses_to_serve_an_unmigrated_database(settings: Settings, empty_database_url: str) -> None:
    app = create_app(with_settings(settings, database_url=empty_database_url))
    with pytest.raises(BaseException) as caught, TestClient(app=app):
        pass
    errors = caught.value.exceptions if isinstance(caught.value, BaseExceptionGroup) else [caught.value]
    assert [e.code for e in errors if isinstance(e, PantauError)] == ["db.not_migrated"]


def test_access_log_has_one_line_per_request_without_query(
    client: TestClient, caplog: pytest.LogCaptureFixture  # type: ignore[type-arg]
) -> None:
    with caplog.at_level(logging.INFO, logger="pantau.access"):
        client.get("/masuk?lang=en&token=rahasia")
        client.get("/missing?nik=6402064101900001")
    lines = [r.getMessage() for r in caplog.records if r.name == "pantau.access"]
    assert len(lines) == 2
    assert '"GET /masuk" 200' in lines[0] and '"GET /missing" 404' in lines[1]
    assert not any("rahasia" in line or "6402064101900001" in line for line in lines)


def test_templates_autoescape() -> None:
    from server.web.app import template_environment

    rendered = template_environment().from_string("{{ x }}").render(x="<script>alert(1)</script>")
    assert "<script>" not in rendered and "&lt;script&gt;" in rendered


async def test_database_closed_after_shutdown(settings: Settings) -> None:
    db = Database(settings.database_url)
    app = create_app(settings, database=db)
    with TestClient(app=app) as c:
        assert c.get("/readyz").status_code == 200
    if db.kind == "sqlite":
        assert db.engine._conn is None  # type: ignore[union-attr]
    else:
        assert db.engine.pool is None  # type: ignore[union-attr]


def test_a_form_post_that_is_not_utf8_is_a_400(client: TestClient) -> None:  # type: ignore[type-arg]
    client.get("/masuk")
    response = client.post("/masuk", content=b"username=\xff\xfe&password=x",
                           headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"})
    assert response.status_code in (400, 403) and response.status_code != 500
    assert "http.bad_request" in response.text or "http.csrf" in response.text


def test_the_favicon_and_the_web_app_manifest_answer_everyone(client: TestClient) -> None:  # type: ignore[type-arg]
    """Browsers ask for /favicon.ico on every site; the manifest's icons must load for a phone that adds
    Pantau to its home screen. None of them may be a 404, signed in or not."""
    import io

    from PIL import Image

    ico = client.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert Image.open(io.BytesIO(ico.content)).format == "ICO"
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest.headers["content-type"].startswith("application/manifest+json")
    body = manifest.json()
    assert body["lang"] == "id" and body["start_url"] == "/" and body["icons"]
    for entry in body["icons"]:
        png = client.get(entry["src"])
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        side = int(entry["sizes"].split("x")[0])
        assert Image.open(io.BytesIO(png.content)).size == (side, side)
    assert client.get("/ikon/64").status_code == 404  # only the sizes the manifest names
    home = client.get("/masuk").text
    assert 'rel="manifest" href="/manifest.webmanifest"' in home and 'rel="icon" href="/favicon.ico"' in home


def test_a_client_that_went_away_mid_upload_is_logged_as_499_not_as_a_server_error(
    client: TestClient, caplog: pytest.LogCaptureFixture  # type: ignore[type-arg]
) -> None:
    """The phone sends half a sign-in form and loses signal: the log says the client closed (499)
    and no error with a traceback is logged for someone to chase."""
    with caplog.at_level(logging.INFO, logger="pantau.access"):
        gone_mid_body(client, "/masuk", [(b"content-type", b"application/x-www-form-urlencoded"),
                                         (b"content-length", b"40")], b"username=citra&pass")
    lines = [r.getMessage() for r in caplog.records if r.name == "pantau.access"]
    assert lines and '"POST /masuk" 499' in lines[-1] and lines[-1].endswith("client closed")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
