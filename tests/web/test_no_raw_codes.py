"""No page shows people a raw code: a report's name (monev_triwulan), a period code (2026-Q1), a
review state (approved), a period kind (quarterly) or any snake_case field name. Every page a
coordinator and staff open is read as text a person sees (tags, attributes, scripts and <code>
elements, which show an identifier on purpose, are left out), with the shipped forms' records posted
and reviewed and a report queued, so the tables and lists have rows."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine

from server.reports import definitions
from server.settings import Settings
from tests.web.test_dashboard import FORMS
from tests.web.test_registry import fetch
from tests.web.test_report_basis import APRIL, Posts, _publish, post_and_review

STATES = ("approved", "received", "needs_correction", "rejected", "queued", "rendering", "done", "failed")
KINDS = ("quarterly", "monthly", "semester", "yearly")
PERIOD_CODE = re.compile(r"\b\d{4}-(?:Q[1-4]|S[12])\b")
SNAKE = re.compile(r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b")
# Words people are meant to read as they are: the XLSForm column a form designer types.
MEANT = {"/formulir": {"select_one_from_file"}}


def seen_text(page: str) -> str:
    """What a person reads: no scripts, styles, <code>, tags or attribute values."""
    for element in ("script", "style", "code"):
        page = re.sub(rf"<{element}\b.*?</{element}>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


def raw_codes(text: str) -> list[str]:
    words = set(re.findall(r"[A-Za-z_]+", text))
    found = [w for w in (*STATES, *KINDS, *definitions.names()) if w in words]
    return sorted({*found, *PERIOD_CODE.findall(text), *SNAKE.findall(text)})


@pytest.fixture
def posted(as_, settings: Settings) -> Posts:  # type: ignore[no-untyped-def]
    for name in FORMS:
        _publish(settings, name)
    return post_and_review(as_)


def pages(settings: Settings, posts: Posts) -> list[tuple[str, str]]:
    record, person = posts.of("visit")[0], posts.of("intake")[0]
    fetch(settings, "INSERT INTO report_run (report, period, scope, status, requested_at) "
                    "VALUES ('monev_triwulan', '2026-Q1', '64.02', 'failed', {})", APRIL)
    run = fetch(settings, "SELECT id FROM report_run")[0]["id"]
    staff = ["/", "/?periode=2026-Q1", "/?periode=2026-Q1&semua=1", "/laporan", f"/laporan/run/{run}",
             "/laporan/pratinjau?laporan=monev_triwulan&periode=2026-Q1&wilayah=64.02",
             "/data", "/data?status=approved", f"/data/{record.id}", "/penerima", f"/penerima/{person.person}",
             "/penerima/jadwal", "/penerima/duplikat", "/formulir", "/akun"]
    return [*(("ani", p) for p in staff), ("budi", "/?periode=2026-Q1"), ("citra", "/"), ("citra", "/draf"),
            ("citra", "/terkirim"), ("admin", "/pengguna"), ("admin", "/audit")]


def test_no_page_shows_people_a_raw_code(as_, settings: Settings, posted: Posts) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(APRIL + dt.timedelta(days=1), tick=True):
        shown, people = {}, {name: as_(name) for name in ("ani", "budi", "citra", "admin")}
        for who, path in pages(settings, posted):
            response = people[who].get(path)
            assert response.status_code == 200, (who, path, response.text[:300])
            shown[f"{who} {path}"] = sorted(set(raw_codes(seen_text(response.text))) - MEANT.get(path, set()))
    left = {path: codes for path, codes in shown.items() if codes}
    assert left == {}, "\n".join(f"{p}: {c}" for p, c in left.items())


def test_every_audit_action_has_its_label() -> None:
    from server.storage.audit import ACTIONS
    from server.web.contexts import ACTION_LABELS

    assert set(ACTION_LABELS) == set(ACTIONS)


def test_the_sweep_sees_a_raw_code() -> None:
    page = '<h1 title="monev_triwulan">Laporan Monev</h1><p>monev_triwulan · 2026-Q1 · approved</p><code>id_x</code>'
    assert raw_codes(seen_text(page)) == ["2026-Q1", "approved", "monev_triwulan"]
