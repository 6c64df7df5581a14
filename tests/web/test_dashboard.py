"""The home page of coordinators and staff: citra and dewi post intakes, visits and growth checks with
the shipped forms, ani reviews them (test_report_basis.post_and_review), and each figure on the home
page equals the figure this test computes from what was posted and decided AND the same indicator in
the report (reports/dataset.build) for the same period, scope and basis. Then what the home page
refuses: another area (403), an unknown period or parameter (400)."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import time_machine

from server.domain.review import STATUSES
from server.reports import dataset, definitions
from server.settings import Settings
from server.web import dashboard_context as board
from tests.reports.test_report_pdf import id_share
from tests.web.conftest import post_form
from tests.web.test_registry import fetch, intake, visit
from tests.web.test_report_basis import (
    APRIL,
    SURVIVING,
    Posts,
    _intake,
    _publish,
    _visit,
    expected,
    in_q1,
    post_and_review,
)

TENGGARONG, KUKAR = "64.02.06", "64.02"
FORMS = ("registrasi_penerima", "monev_uep", "cek_tumbuh_anak")


def tile(page: str, key: str) -> tuple[str, dict[str, str]]:
    """A tile's main figure and its labelled details, as a person reads them."""
    found = re.search(rf'aria-labelledby="tile-{key}">(.*?)</section>', page, re.S)
    assert found, f"no tile {key}"
    body = found[1]
    figure = re.search(r'<p class="figure"><a href="[^"]*">([^<]*)</a>', body)
    details = dict(re.findall(r"<dt>([^<]*)</dt><dd>(?:<a [^>]*>)?([^<]*)", body))
    return html.unescape(figure[1]) if figure else "", {html.unescape(k): html.unescape(v) for k, v in details.items()}


def own_figures(posts: Posts, include_all: bool, petugas: str | None) -> dict[str, Any]:
    """The test's own arithmetic for one kecamatan (the petugas who work there) or the kabupaten."""
    if petugas is None:
        return expected(posts, include_all)
    mine = Posts([r for r in posts.records if r.petugas == petugas])
    counted = ("approved", "received", "needs_correction") if include_all else ("approved",)
    people = {r.person for r in mine.of("intake") if r.status in counted}
    latest: dict[str, Any] = {}
    for v in sorted((r for r in mine.of("visit") if r.status in counted and r.person in people and in_q1(r.day)),
                    key=lambda v: v.day):
        latest[v.person] = v
    surviving = sum(v.status_usaha in SURVIVING for v in latest.values())
    return {
        "active": len(people),
        "new": sum(in_q1(r.day) for r in mine.of("intake") if r.person in people),
        "visited": id_share(len(latest), len(people)),
        "surviving": id_share(surviving, len(latest)),
        "known": len(latest),
    }


def report_tables(settings: Settings, scope: str, include_all: bool) -> dict[str, Any]:
    definition = definitions.load("monev_triwulan")
    period = definitions.period_for(definition, "2026-Q1")
    built = dataset.build(settings.database_url, definition, period, scope, include_all, APRIL.date())
    return {t.key: t for t in built.tables}


def assert_same(page: str, mine: dict[str, Any], report: dict[str, Any]) -> None:
    people, coverage, surviving = tile(page, "penerima"), tile(page, "kunjungan"), tile(page, "usaha_bertahan")
    # The test's own figures ...
    assert people[0] == str(mine["active"]) == people[1]["Penerima aktif"]
    assert people[1]["Baru"] == str(mine["new"])
    assert coverage[0] == mine["visited"] == coverage[1]["Penerima dikunjungi"]
    assert surviving[0] == mine["surviving"]
    assert surviving[1]["Dari"] == str(mine["known"])
    # ... and the report's, cell for cell, for every tile it shows.
    for key in ("penerima", "kunjungan", "usaha_bertahan", "stunting", "terlambat", "mutu_data"):
        table = report[key]
        shown = tile(page, key)
        assert shown[0] == table.headline
        assert shown[1] == dict(zip(table.columns, table.total.cells, strict=False))


@pytest.fixture
def posted(as_, settings: Settings) -> Posts:  # type: ignore[no-untyped-def]
    for name in FORMS:
        _publish(settings, name)
    return post_and_review(as_)


def test_every_home_figure_is_the_reports_and_the_tests_own(as_, settings: Settings, posted: Posts) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(APRIL, tick=True):
        for persona, scope, petugas in (("ani", KUKAR, None), ("budi", TENGGARONG, "Citra")):
            for include_all in (False, True):
                query = f"/?periode=2026-Q1&wilayah={scope}" + ("&semua=1" if include_all else "")
                response = as_(persona).get(query)
                assert response.status_code == 200, response.text
                mine = own_figures(posted, include_all, petugas)
                assert_same(response.text, mine, report_tables(settings, scope, include_all))
        # The basis matters here: counting only approved records gives fewer people than all data.
        assert own_figures(posted, False, None)["active"] < own_figures(posted, True, None)["active"]


def test_the_data_quality_tile_counts_the_probable_duplicates_still_open(as_, settings: Settings,  # type: ignore[no-untyped-def]
                                                                       posted: Posts) -> None:
    people = sorted({r.person for r in posted.of("intake") if r.status == "approved" and r.petugas == "Citra"})
    assert len(people) >= 2
    with time_machine.travel(APRIL, tick=True):
        before = tile(as_("ani").get("/?periode=2026-Q1").text, "mutu_data")[1]["Kemungkinan ganda"]
        first, second = sorted(people[:2])
        areas = fetch(settings, "SELECT area_code FROM beneficiary WHERE id = {}", uuid.UUID(first))[0]["area_code"]
        fetch(settings, "INSERT INTO duplicate_candidate (programme, first_id, second_id, first_area, second_area, "
                        "score, levels, status, found_at) VALUES ('bansos', {}, {}, {}, {}, 11.0, {}, 'open', {})",
              uuid.UUID(first), uuid.UUID(second), areas, areas, '{"name": "same"}', APRIL)
        stale = tile(as_("ani").get("/?periode=2026-Q1").text, "mutu_data")[1]["Kemungkinan ganda"]
        assert board.CACHE.wait_idle(120)
        after = tile(as_("ani").get("/?periode=2026-Q1").text, "mutu_data")[1]["Kemungkinan ganda"]
    # The view right after the write shows the last figures (stamped); the pair moves the data stamp,
    # so a background job made them again for the next view.
    assert (before, stale, after) == ("0", "0", "1")


def test_after_a_write_the_last_figures_are_shown_stamped_then_the_reports_made_from_scratch(  # type: ignore[no-untyped-def]
        as_, settings: Settings, posted: Posts) -> None:
    query = f"/?periode=2026-Q1&wilayah={KUKAR}&semua=1"
    with time_machine.travel(APRIL, tick=True):
        ani = as_("ani")
        old_mine, old_report = own_figures(posted, True, None), report_tables(settings, KUKAR, True)
        first = ani.get(query).text
        assert_same(first, old_mine, old_report)
        assert "Angka per 15 April 2026 10." in first and "sedang dihitung" not in first
        # A write the figures count: citra registers one more person in the quarter (not yet reviewed,
        # so counted on the all-data basis) and visits them.
        citra = as_("citra")
        added = _intake(citra, "Citra", 40, samboja=False, female=True, day="2026-03-25")
        posted.records += [added, _visit(citra, "Citra", added.id, "2026-03-27", "berkembang")]
        right_after = ani.get(query).text
        # Not the scan's wait: the last complete figures, each still the report's for their data time,
        # and the page says newer data is being counted.
        assert_same(right_after, old_mine, old_report)
        assert 'class="as-of stale"' in right_after and "sedang dihitung" in right_after
        assert board.CACHE.wait_idle(120)
        later = ani.get(query).text
    mine = own_figures(posted, True, None)
    assert mine["active"] == old_mine["active"] + 1 and mine["new"] == old_mine["new"] + 1
    assert_same(later, mine, report_tables(settings, KUKAR, True))  # made from scratch by the report
    assert 'class="as-of"' in later and "sedang dihitung" not in later


def test_the_review_queue_and_the_petugas_rows_count_what_was_posted(as_, settings: Settings, posted: Posts) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(APRIL, tick=True):
        page = as_("budi").get("/?periode=2026-Q1").text
        report = report_tables(settings, TENGGARONG, False)
    queue = tile(page, "antrean")[1]
    citra = [r for r in posted.records if r.petugas == "Citra"]
    assert queue[STATUSES["received"][0]] == str(sum(r.status == "received" for r in citra))
    assert queue[STATUSES["needs_correction"][0]] == str(sum(r.status == "needs_correction" for r in citra)) != "0"
    row = re.search(r'<th scope="row"><a href="([^"]*)">Citra</a></th><td>([^<]*)</td>', page)
    assert row, page
    in_report = next(r for r in report["petugas"].rows if r.label == "Citra")
    assert row[2] == in_report.cells[0]
    assert "enumerator=citra" in html.unescape(row[1])
    # dewi works in Samboja: budi's home does not list her.
    assert ">Dewi</a>" not in page


def test_the_figures_link_to_the_records_behind_them(as_, posted: Posts) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(APRIL, tick=True):
        budi = as_("budi")
        page = budi.get("/?periode=2026-Q1").text
        link = html.unescape(re.search(r'aria-labelledby="tile-usaha_bertahan">.*?<a href="([^"]*)"', page, re.S)[1])
        assert "form=monev_uep" in link and f"area={TENGGARONG}" in link and "status=approved" in link
        listed = budi.get(link)
        assert listed.status_code == 200


def test_the_home_page_defaults_to_the_current_period_and_the_viewers_area(as_, posted: Posts) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(APRIL, tick=True):
        page = as_("budi").get("/").text
    assert "Triwulan II Tahun 2026" in page and "sementara" in page
    assert '<option value="64.02.06" selected>' in page and 'value="64.02.13"' not in page


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("/?wilayah=64.02.13", 403, "report.outside_area"),
        ("/?wilayah=64.02", 403, "report.outside_area"),
        ("/?periode=2026-Q5", 400, "report.bad_period"),
        ("/?periode=besok", 400, "report.bad_period"),
        ("/?periode=2026-07", 400, "report.wrong_period"),
        ("/?wilayah=99.99", 400, "report.bad_scope"),
        ("/?urut=1", 400, "review.bad_filter"),
    ],
)
def test_the_home_page_refuses_another_area_and_unknown_periods(as_, query: str, status: int, code: str) -> None:  # type: ignore[no-untyped-def]
    response = as_("budi").get(query, headers={"Accept": "application/json"})
    assert response.status_code == status, response.text
    assert response.json()["code"] == code


def test_an_enumerator_keeps_the_list_of_forms(as_) -> None:  # type: ignore[no-untyped-def]
    page = as_("citra").get("/")
    assert page.status_code == 200
    assert "tile-penerima" not in page.text and "Ringkasan program" not in page.text


def test_the_charts_are_the_reports_pygal_charts_without_inline_style_or_script(as_, posted: Posts) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(APRIL, tick=True):
        page = as_("ani").get("/?periode=2026-Q1").text
    svgs = [s for s in re.findall(r"<svg\b.*?</svg>", page, re.S) if 'class="visit-map"' not in s]
    assert svgs, "the kabupaten's tables with a chart draw one per kecamatan"
    for drawn in svgs:
        assert "<style" not in drawn and " style=" not in drawn and "<script" not in drawn
        assert 'class="pygal-chart pantau-chart"' in drawn
    # Behind each chart, its bars as a table a screen reader reads: one row per kecamatan.
    bars = re.search(r'aria-labelledby="tile-penerima">.*?<div class="sr-only"><table>(.*?)</table>', page, re.S)
    assert bars and re.findall(r'<th scope="row">(Tenggarong|Samboja)</th><td>(\d+)</td>', bars[1])


def test_the_chart_stylesheet_is_pygals_style_as_the_pdf_uses_it() -> None:
    from server.reports.charts import web_stylesheet

    shipped = (Path(__file__).resolve().parents[2] / "static" / "css" / "charts.css").read_text()
    assert shipped == web_stylesheet(), "run: python -c 'from server.reports.charts import web_stylesheet; ...'"


# --- the trends over the last 8 periods -------------------------------------------------------------
TREND_KEYS = ("penerima", "kunjungan", "usaha_bertahan", "stunting", "terlambat")
QUARTERS = {"2025-Q3": ("2025-07-01", "2025-09-30"), "2025-Q4": ("2025-10-01", "2025-12-31"),
            "2026-Q1": ("2026-01-01", "2026-03-31")}


def trend_points(page: str, key: str) -> list[tuple[str, str, str]]:
    """(link, period, figure) of each row of a trend chart's text table, oldest first."""
    found = re.search(rf'<figure class="chart trend" id="tren-{key}">(.*?)</figure>', page, re.S)
    assert found, f"no trend of {key}"
    rows = re.findall(r'<tr><th scope="row"><a href="([^"]*)">([^<]*)</a></th><td>([^<]*)</td></tr>', found[1])
    return [(html.unescape(a), html.unescape(b), html.unescape(c)) for a, b, c in rows]


def own_trend(posts: Posts, include_all: bool, start: str, end: str) -> dict[str, str]:
    """The test's own count of three trend figures for one quarter, from what was posted and decided."""
    counted = ("approved", "received", "needs_correction") if include_all else ("approved",)
    people = {r.person for r in posts.of("intake") if r.status in counted and r.day <= end}
    latest: dict[str, Any] = {}
    for v in sorted((r for r in posts.of("visit") if r.status in counted and r.person in people
                     and start <= r.day <= end), key=lambda v: v.day):
        latest[v.person] = v
    found = {"penerima": str(len(people))}
    if people:
        found["kunjungan"] = id_share(len(latest), len(people))
    if latest:
        found["usaha_bertahan"] = id_share(sum(v.status_usaha in SURVIVING for v in latest.values()), len(latest))
    return found


def test_each_trend_point_is_that_periods_report_figure_and_the_tests_own(as_, settings: Settings,  # type: ignore[no-untyped-def]
                                                                           posted: Posts) -> None:
    with time_machine.travel(APRIL, tick=True):
        ani = as_("ani")
        # A visit in the quarter before, so three quarters have different figures: 2025-Q3 (nobody yet),
        # 2025-Q4 (the two registered in December, one visited) and 2026-Q1.
        december = next(r for r in posted.of("intake") if r.day == "2025-12-10" and r.status == "approved")
        earlier = _visit(ani, "Ani", december.id, "2025-12-20", "stabil")
        post_form(ani, f"/data/{earlier.id}/tinjau", {"status": "approved", "comment": "", "revision": "1"})
        earlier.status = "approved"
        posted.records.append(earlier)
        definition = definitions.load("monev_triwulan")
        for include_all in (False, True):
            query = f"/?periode=2026-Q1&wilayah={KUKAR}" + ("&semua=1" if include_all else "")
            page = ani.get(query).text
            assert board.TREND_PERIODS == 8 and "Tren 8 triwulan terakhir" in page
            reports = {code: {t.key: t for t in dataset.build(settings.database_url, definition,
                                                              definitions.period_for(definition, code), KUKAR,
                                                              include_all, APRIL.date()).tables}
                       for code in QUARTERS}
            for key in TREND_KEYS:
                points = trend_points(page, key)
                assert [p[1] for p in points] == ["Tw II 2024", "Tw III 2024", "Tw IV 2024", "Tw I 2025",
                                                  "Tw II 2025", "Tw III 2025", "Tw IV 2025", "Tw I 2026"]
                for (link, _, text), code in zip(points[-3:], QUARTERS, strict=True):
                    assert text == reports[code][key].headline, (key, code)  # the report's figure
                    assert f"periode={code}" in link and f"wilayah={KUKAR}" in link
                    assert ("semua=1" in link) == include_all
            for code, (start, end) in QUARTERS.items():
                mine = own_trend(posted, include_all, start, end)
                shown = {key: dict((p[1], p[2]) for p in trend_points(page, key)) for key in mine}
                label = {"2025-Q3": "Tw III 2025", "2025-Q4": "Tw IV 2025", "2026-Q1": "Tw I 2026"}[code]
                assert {key: shown[key][label] for key in mine} == mine, code
        # The test's own figures differ from one quarter to the next, so a point in the wrong quarter fails.
        assert own_trend(posted, False, *QUARTERS["2025-Q4"]) == {"penerima": "2", "kunjungan": "1 (50,0%)",
                                                                  "usaha_bertahan": "1 (100,0%)"}
        assert own_trend(posted, False, *QUARTERS["2025-Q3"]) == {"penerima": "0"}


def test_a_started_server_makes_each_viewers_default_home_page_before_anyone_asks(  # type: ignore[no-untyped-def]
        settings: Settings, posted: Posts) -> None:
    from litestar.testing import TestClient

    from server.web.app import create_app
    from tests.web.conftest import Persona, sign_in

    with time_machine.travel(APRIL, tick=True), \
            TestClient(app=create_app(settings), raise_server_exceptions=False) as client:
        assert client.app.state.warmed_up.wait(120)
        made = dict(board.CACHE._made)
        by_viewer: dict[tuple[str, tuple[str, ...]], set[tuple[str, ...]]] = {}
        for key in made:
            by_viewer.setdefault((key[5], tuple(key[6:])), set()).add(tuple(key[2:5]))
        # ani (staff) lands on the kabupaten, budi (coordinator) on Tenggarong: the current quarter,
        # approved data, and the previous quarter the switch offers; enumerators have no figures to make.
        assert by_viewer[("staff", ())] == {("2026-Q2", KUKAR, "False"), ("2026-Q1", KUKAR, "False")}
        assert by_viewer[("coordinator", (TENGGARONG,))] == {("2026-Q2", TENGGARONG, "False"),
                                                           ("2026-Q1", TENGGARONG, "False")}
        assert not any(role == "enumerator" for role, _ in by_viewer)
        current = {viewer: next(key for key in made if (key[5], tuple(key[6:])) == viewer and key[2] == "2026-Q2")
                   for viewer in by_viewer}
        for persona, viewer in (("ani", ("staff", ())), ("budi", ("coordinator", (TENGGARONG,)))):
            person = Persona(client)
            assert sign_in(person, persona).status_code == 302  # type: ignore[arg-type]
            page = person.get("/").text
            key = current[viewer]
            assert board.CACHE._made[key] is made[key], "the first view read the figures made at start"
            assert 'class="as-of"' in page and "tile-penerima" in page
            before = next(k for k in made if (k[5], tuple(k[6:])) == viewer and k[2] == "2026-Q1")
            assert "tile-penerima" in person.get("/?periode=2026-Q1").text
            assert board.CACHE._made[before] is made[before], "the previous quarter was made at start too"


# --- the enumerator's home ------------------------------------------------------------------------
MARCH = dt.datetime(2026, 3, 18, 2, 0, tzinfo=dt.UTC)  # a Wednesday, 10:00 WITA
HOMES = {"Jauh Sekali": "-0.9000 117.5000 20 8", "Dekat Sekali": "-0.4200 116.9900 20 8",
         "Agak Jauh": "-0.5000 117.0500 20 8"}


def _register(citra: Any, n: int, name: str, home: str) -> str:
    record_id = str(uuid.uuid4())
    answers = {"tgl_daftar": "2025-12-01", "nik": f"640206410190{n + 1:04d}", "no_kk": f"6402061203150{n + 1:03d}",
               "nama": name, "lokasi": home, "kecamatan": "64.02.06", "desa": "64.02.06.1001"}
    response = intake(citra, record_id, **answers)
    assert response.status_code == 201, response.text
    return record_id


def test_the_enumerators_home_puts_corrections_first_and_the_nearest_visit_on_top(as_, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    for name in FORMS:
        _publish(settings, name)
    with time_machine.travel(MARCH, tick=True):
        citra, ani = as_("citra"), as_("ani")
        ids = {name: _register(citra, n, name, home) for n, (name, home) in enumerate(HOMES.items())}
        extra = _register(citra, 9, "Dikunjungi Tadi", "-0.4300 116.9900 20 8")
        # Her last record was made standing near "Dekat Sekali"'s house.
        done = visit(citra, extra, tgl_kunjungan="2026-03-17", lokasi="-0.4210 116.9890 10 5")
        assert done.status_code == 201, done.text
        sent_back = post_form(ani, f"/data/{ids['Agak Jauh']}/tinjau",
                              {"status": "needs_correction", "comment": "Foto KTP buram", "revision": "1"})
        assert sent_back.status_code == 303
        page = citra.get("/").text
    assert page.index('id="perbaiki"') < page.index("Formulir yang terbit") < page.index('id="jadwal"')
    assert "Foto KTP buram" in page and f'href="/perbaiki/{ids["Agak Jauh"]}"' in page
    due = page[page.index('id="jadwal"'):page.index('id="angka"')]
    order = [name for name in re.findall(r'class="title" href="/penerima/[^"]+">([^<]+)</a>', due)]
    assert order == ["Dekat Sekali", "Agak Jauh", "Jauh Sekali"], order  # nearest first; the visited one is not due
    assert "km" in due and "terlambat sejak" in due
    counts = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", page[page.index('id="angka"'):]))
    assert counts["Terkirim"] == "5" and counts[STATUSES["needs_correction"][0]] == "1"
    assert counts[STATUSES["received"][0]] == "4"


def test_the_map_draws_every_registered_point_with_no_request_elsewhere(as_, posted: Posts) -> None:  # type: ignore[no-untyped-def]
    with time_machine.travel(APRIL, tick=True):
        page = as_("ani").get("/?periode=2026-Q1").text
    drawn = re.search(r'<svg xmlns="http://www.w3.org/2000/svg" class="visit-map".*?</svg>', page, re.S)
    assert drawn, "the intakes carry a GPS point: the map is drawn"
    svg = drawn[0]
    people = {r.id for r in posted.of("intake") if r.status != "rejected"}  # a rejected intake is nobody
    linked = re.findall(r'<a href="/penerima/([0-9a-f-]{36})"><title>[^<]+</title><circle [^>]*class="m-(\w+)"', svg)
    assert {pid for pid, _ in linked} == people and len(linked) == len(people)
    assert "Tenggarong</text>" in svg and "Samboja</text>" in svg
    assert svg.count("http") == 1  # the SVG namespace, nothing fetched from elsewhere
    legend = re.findall(r'<span class="key m-\w+" aria-hidden="true"></span>[^:<]+: (\d+)</li>', page)
    assert sum(int(n) for n in legend) == len(people)
    assert "Batas kecamatan tidak digambar" in page
