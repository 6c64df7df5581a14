"""No page shows people a raw code: a report's name (monev_triwulan), a period code (2026-Q1), a
review state (approved), a period kind (quarterly) or any snake_case field name. Every page a
coordinator and staff open is read as text a person sees (tags, attributes, scripts and <code>
elements, which show an identifier on purpose, are left out), with the shipped forms' records posted
and reviewed, a report queued and an office list imported, so the tables and lists have rows: the
lists, the form editor's inner pages, the fill pages (/f/<id>) and the import pages, each in
Indonesian and in English."""

from __future__ import annotations

import datetime as dt
import html
import re
from pathlib import Path
from typing import Any

import pytest
import time_machine

from server.reports import definitions
from server.settings import Settings
from tests.conftest import REPO
from tests.web.conftest import post_form
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
    """What a person reads: no scripts, styles, <code>, tags or attribute values, and no <textarea>
    (the form editor's YAML source, which a designer edits as code on purpose)."""
    for element in ("script", "style", "code", "textarea"):
        page = re.sub(rf"<{element}\b.*?</{element}>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]*>", " ", page))


def raw_codes(text: str, en: bool = False) -> list[str]:
    """The codes in a page's text. In English, a state or period kind is also the word itself
    ("records approved by the coordinator"), so there only snake_case codes, report names and period
    codes count."""
    words = set(re.findall(r"[A-Za-z_]+", text))
    found = [w for w in (*(() if en else (*STATES, *KINDS)), *definitions.names()) if w in words]
    return sorted({*found, *PERIOD_CODE.findall(text), *SNAKE.findall(text)})


def group_names() -> set[str]:
    """The shipped forms' group and repeat names: a section heading showing one shows a code."""
    return {name for form in FORMS for name in re.findall(r"- type: (?:group|repeat)\n\s+name: (\w+)",
                                                           (REPO / "forms" / f"{form}.yaml").read_text())}


def headings_named(page: str) -> list[str]:
    headings = {html.unescape(h).strip() for h in re.findall(r'<dt class="section[^"]*">([^<]*)</dt>', page)}
    return sorted(headings & group_names())


@pytest.fixture
def posted(as_, settings: Settings) -> Posts:  # type: ignore[no-untyped-def]
    for name in FORMS:
        _publish(settings, name)
    return post_and_review(as_)


def imported(ani: Any, tmp_path: Path) -> str:
    """An office's list uploaded, checked and imported: its job page then has every part."""
    from tests.domain.test_registry_import import office_rows, office_xlsx
    from tests.web.test_registry_import_page import checked, upload

    rows = [*office_rows(), [4, "Salah", "6.40206E+15", "", "L", "", "TENGGARONG", "JAHAB", ""]]
    sent = upload(ani, "uep 2025.xlsx", office_xlsx(tmp_path / "u.xlsx", rows).read_bytes())
    assert sent.status_code == 303, sent.text
    job = str(sent.headers["location"])
    checked(ani, job)
    return job


def pages(settings: Settings, posts: Posts, job: str) -> list[tuple[str, str]]:
    record, person = posts.of("visit")[0], posts.of("intake")[0]
    fetch(settings, "INSERT INTO report_run (report, period, scope, status, requested_at) "
                    "VALUES ('monev_triwulan', '2026-Q1', '64.02', 'failed', {})", APRIL)
    run = fetch(settings, "SELECT id FROM report_run")[0]["id"]
    staff = ["/", "/?periode=2026-Q1", "/?periode=2026-Q1&semua=1", "/laporan", f"/laporan/run/{run}",
             "/laporan/pratinjau?laporan=monev_triwulan&periode=2026-Q1&wilayah=64.02",
             "/data", "/data?status=approved", f"/data/{record.id}", "/penerima", f"/penerima/{person.person}",
             "/penerima/jadwal", "/penerima/duplikat", "/formulir", "/akun", "/penerima/impor", job,
             *(f"/formulir/{form}{inner}" for form in FORMS for inner in ("", "/pratinjau", "/terbit"))]
    found = [*(("ani", p) for p in staff), ("budi", "/?periode=2026-Q1"), ("citra", "/"), ("citra", "/draf"),
             ("citra", "/terkirim"), *(("citra", f"/f/{form}") for form in FORMS), ("admin", "/pengguna"),
             ("admin", "/audit")]
    return [*found, *((who, f"{path}{'&' if '?' in path else '?'}lang=en") for who, path in found)]


def test_no_page_shows_people_a_raw_code(as_, settings: Settings, posted: Posts, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(APRIL + dt.timedelta(days=1), tick=True):
        shown, people = {}, {name: as_(name) for name in ("ani", "budi", "citra", "admin")}
        job = imported(people["ani"], tmp_path)
        for form in FORMS:  # a draft of each, so the publish page has a difference to show
            source = (REPO / "forms" / f"{form}.yaml").read_text().replace("title: ", "title: Baru ", 1)
            assert post_form(people["ani"], f"/formulir/{form}/draf", {"yaml": source}).status_code == 303
        for who, path in pages(settings, posted, job):
            response = people[who].get(path)
            assert response.status_code == 200, (who, path, response.text[:300])
            meant = MEANT.get(path.split("?")[0], set())
            found = set(raw_codes(seen_text(response.text), en="lang=en" in path)) - meant
            shown[f"{who} {path}"] = sorted(found | set(headings_named(response.text)))
    left = {path: codes for path, codes in shown.items() if codes}
    assert left == {}, "\n".join(f"{p}: {c}" for p, c in left.items())


def test_every_audit_action_has_its_label() -> None:
    from server.storage.audit import ACTIONS
    from server.web.contexts import ACTION_LABELS

    assert set(ACTION_LABELS) == set(ACTIONS)


def test_the_sweep_sees_a_raw_code() -> None:
    page = '<h1 title="monev_triwulan">Laporan Monev</h1><p>monev_triwulan · 2026-Q1 · approved</p><code>id_x</code>'
    assert raw_codes(seen_text(page)) == ["2026-Q1", "approved", "monev_triwulan"]
    assert raw_codes(seen_text(page + "<p>needs_correction</p>"), en=True) == ["2026-Q1", "monev_triwulan",
                                                                               "needs_correction"]
    assert "hasil" in group_names() and headings_named('<dt class="section depth-0">hasil</dt>') == ["hasil"]
