"""What the quarterly report says, read back from the rendered PDF (pypdf) and its HTML: a period
with no data gives a short report saying so; a kecamatan without beneficiaries is named under the
table, not printed as a row of zeros; every share on fewer than 10 people is written "n (x,x%)"
with the note; charts draw their bars in the table's order with text of at least 7 pt; BAB V's
sentences quote figures this test computes itself from the rows it wrote (seed.py, plus four
beneficiaries in Sebulu and Samboja visits taken out so one kecamatan is clearly furthest below)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable

import pypdf
import pytest

from server.reports import dataset, definitions, document, worker
from server.settings import Settings
from tests.conftest import ON_POSTGRES
from tests.reports import seed
from tests.reports.seed import pdf_copy

Q1, Q4 = ("2026-01-01", "2026-03-31"), ("2025-10-01", "2025-12-31")
KECAMATAN = {"64.02.06": "Tenggarong", "64.02.13": "Samboja", "64.02.07": "Sebulu"}
SEBULU_DESA = "64.02.07.2001"
SMALL = 10
MADE_ON = dt.date(2026, 4, 2)


def fixture() -> seed.Fixture:
    fx = seed.build()
    samboja_visited = [p.id for p in fx.people if p.area.startswith("64.02.13") and fx_visited(fx, p.id)]
    gone = set(samboja_visited[:5])  # five Samboja beneficiaries not visited after all
    fx.visits = [v for v in fx.visits if v.person not in gone]
    for n in range(4):  # a kecamatan of four: every share there rests on a small base
        person = seed.Person(
            str(uuid.UUID(int=5000 + n)),
            f"Penerima Sebulu {n}",
            f"640207410185{2000 + n:04d}",
            SEBULU_DESA,
            "2025-09-15",
            900_000,
            household=2,
            intake={"jml_art": 2, "no_hp": "081234567890", "foto_rumah": "rumah.jpg"},
        )
        fx.people.append(person)
        if n < 3:
            figures = {
                "bertemu": "ya",
                "status_usaha": ("berkembang", "stabil", "berhenti_permanen")[n],
                "kondisi_alat": "baik_dipakai",
                "pendapatan": 1_000_000,
                "penilaian": "mandiri",
            }
            answers = {"lokasi": "-0.41 116.98 12 10", "tgl_bantuan": "2025-08-20", "foto_alat": "alat.jpg"}
            fx.visits.append(seed.VisitRow(person.id, "2026-02-10", True, figures, answers, "uji_citra"))
    return fx


def fx_visited(fx: seed.Fixture, person: str) -> bool:
    return any(v.person == person for v in fx.visits)


@pytest.fixture(scope="module")
def content_settings(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Settings:
    template = None if ON_POSTGRES else request.getfixturevalue("sqlite_template")
    return seed.module_settings(tmp_path_factory.mktemp("content"), template)


@pytest.fixture(scope="module")
def fx(content_settings: Settings) -> seed.Fixture:
    return seed.seed(content_settings, fixture())


class Report:
    def __init__(self, settings: Settings, period: str) -> None:
        job = worker.Job(
            url=settings.database_url,
            data_dir=settings.data_dir,
            report="monev_triwulan",
            period=period,
            scope="64.02",
            include_all=False,
            made_on=MADE_ON,
        )
        made = worker.make_pdf(job)
        self.path = pdf_copy(settings, made.sha256)
        self.reader = pypdf.PdfReader(self.path)
        self.pages = [page.extract_text() for page in self.reader.pages]


@pytest.fixture(scope="module")
def q1(content_settings: Settings, fx: seed.Fixture) -> Report:
    return Report(content_settings, "2026-Q1")


# --- reading the PDF -------------------------------------------------------------------------------------
def is_list(page: str) -> bool:
    return "DAFTAR ISI" in page or "DAFTAR TABEL" in page


def body(pages: list[str]) -> str:
    """The pages' text without the running header and the page numbers, whitespace made single."""
    kept = [
        line
        for page in pages
        for line in page.splitlines()
        if not line.startswith("PEMERINTAH KABUPATEN KUTAI KARTANEGARA ·")
        and "· Kabupaten Kutai Kartanegara" not in line
        and not re.fullmatch(r"Halaman \d+ dari \d+", line.strip())
    ]
    return " ".join(" ".join(kept).split())


def tables(report: Report) -> dict[str, str]:
    """BAB III's tables by title: each from its caption to the next caption (or BAB IV)."""
    start = next(i for i, p in enumerate(report.pages) if "HASIL MONITORING DAN EVALUASI" in p and not is_list(p))
    end = next(i for i, p in enumerate(report.pages) if "PERMASALAHAN DAN TINDAK LANJUT" in p and not is_list(p))
    text = "\n".join(report.pages[start : end + 1])
    parts = re.split(r"^Tabel 3\.\d+ ", text, flags=re.M)[1:]
    return {part.splitlines()[0]: part.split("BAB IV")[0] for part in parts}


def bab5(report: Report) -> str:
    at = next(i for i, p in enumerate(report.pages) if "PENUTUP" in p and "Kesimpulan" in p and not is_list(p))
    end = next(i for i, p in enumerate(report.pages) if "LAMPIRAN A" in p and not is_list(p) and i > at)
    return body(report.pages[at:end])


def id_percent(value: float) -> str:
    return f"{value * 100:.1f}".replace(".", ",") + "%"


def id_points(value: float) -> str:
    return f"{value:.1f}".replace(".", ",") + " poin"


# --- the test's own arithmetic ------------------------------------------------------------------------
def visited_share(fx: seed.Fixture, within: tuple[str, str], extra: Callable[[str], bool] = lambda _p: False) -> dict[
    str, tuple[int, int]
]:
    """Per kecamatan: (people visited at least once in the period by an approved visit, active people)."""
    active = [p for p in fx.people if p.registered_on <= within[1]]
    seen = {v.person for v in fx.visits if within[0] <= v.day <= within[1] and v.approved}
    found: dict[str, tuple[int, int]] = {}
    for code, name in KECAMATAN.items():
        mine = [p for p in active if p.area.startswith(code)]
        found[name] = (sum(p.id in seen or extra(p.id) for p in mine), len(mine))
    return found


# --- 5: honest empty and small cases ------------------------------------------------------------------
def test_a_period_with_no_data_gives_a_short_report_that_says_so(content_settings: Settings, fx: seed.Fixture) -> None:
    empty = Report(content_settings, "2025-Q2")  # before anyone was registered
    assert len(empty.pages) <= 6
    assert "TIDAK ADA DATA PADA PERIODE INI" in empty.pages[0]
    bab2 = next(p for p in empty.pages if "GAMBARAN UMUM PELAKSANAAN" in p)
    assert "Tidak ada data untuk Triwulan II Tahun 2025" in body([bab2])
    text = "\n".join(empty.pages)
    assert not re.search(r"Tabel 3\.\d", text) and "Gambar 3." not in text and "LAMPIRAN" not in text
    assert "NIP. 196801011990031001" in text  # still signed: an official statement that there was nothing


def test_a_kecamatan_without_beneficiaries_has_no_row_and_is_named_below(q1: Report, fx: seed.Fixture) -> None:
    found = tables(q1)
    enrolment = found["Penerima manfaat aktif menurut wilayah dan kelompok sasaran"]
    rows = [line.split()[0] for line in enrolment.splitlines() if re.match(r"^[A-Z][a-z]+ \d+ \d+ ", line)]
    assert rows == ["Tenggarong", "Sebulu", "Samboja", "Kukar"]  # in the order of the kecamatan codes
    below = " ".join(enrolment.split("tanpa penerima manfaat aktif, tidak ditampilkan:")[1].split())
    for name in ("Tabang", "Muara Badak", "Samboja Barat", "Loa Kulu"):
        assert name in below and not re.search(rf"^{name} \d", enrolment, re.M)
    assert "Sebulu" not in below.split(".")[0]
    active = {name: sum(p.area.startswith(code) for p in fx.people) for code, name in KECAMATAN.items()}
    assert re.search(rf"^Sebulu {active['Sebulu']} ", enrolment, re.M)
    for title, table in found.items():  # every per-kecamatan table alike
        if re.search(r"^Tenggarong ", table, re.M):
            assert not re.search(r"^Tabang ", table, re.M), title


def test_shares_on_fewer_than_10_people_are_counts_with_the_percentage_in_brackets_everywhere(
    q1: Report, fx: seed.Fixture
) -> None:
    found = tables(q1)
    coverage = found["Cakupan kunjungan monitoring"]
    seen, active = visited_share(fx, Q1)["Sebulu"]
    assert active < SMALL
    sebulu = next(line for line in coverage.splitlines() if line.startswith("Sebulu "))
    assert f" {seen} ({id_percent(seen / active)}) " in sebulu + " "
    checked = 0
    for title, table in found.items():
        row = next((line for line in table.splitlines() if line.startswith("Sebulu ")), None)
        if row is None or "%" not in row:
            continue
        checked += 1
        assert "%" not in re.sub(r"\d \(\d+,\d%\)", "", row), (title, row)  # no percentage without its count
        assert re.findall(r"\d \(\d+,\d%\)", row), (title, row)
        assert re.search(r"kurang dari 10 (penerima|data)", " ".join(table.split())), title  # the note, each time
    assert checked >= 8
    tenggarong = next(line for line in coverage.splitlines() if line.startswith("Tenggarong "))
    assert "(" not in tenggarong  # 40 people: plain percentages


def test_footnotes_compare_with_the_previous_period_only_under_a_change_column(q1: Report) -> None:
    found = tables(q1)
    with_change = [t for t in found.values() if "Perubahan" in t.split("Sumber:")[0]]
    without = [t for t in found.values() if "Perubahan" not in t.split("Sumber:")[0]]
    assert with_change and without
    assert all("Perubahan dibanding Triwulan IV Tahun 2025" in t for t in with_change)
    assert not any("dibanding Triwulan IV" in t for t in without)
    assert "dibanding" not in found["Penerima manfaat aktif menurut jenis kelamin dan kelompok umur"]


# --- 6: charts that read like the tables ------------------------------------------------------------------
@pytest.fixture(scope="module")
def q1_html(content_settings: Settings, fx: seed.Fixture) -> str:
    definition = definitions.load("monev_triwulan")
    period = definitions.period_for(definition, "2026-Q1")
    data = dataset.build(content_settings.database_url, definition, period, "64.02", False, MADE_ON)
    return document.html(data)


def charts(html: str) -> dict[str, str]:
    return dict(re.findall(r'<figure class="chart" id="gambar-([a-z_]+)">(<svg.*?</svg>)', html, re.S))


def by_y(svg: str, pattern: str) -> list[str]:
    return [text for _, text in sorted((float(y), text) for y, text in re.findall(pattern, svg))]


def test_chart_bars_follow_the_table_rows_with_the_same_figures(q1: Report, q1_html: str) -> None:
    found = charts(q1_html)
    assert set(found) == {"penerima", "kunjungan", "usaha_bertahan"}
    coverage = tables(q1)["Cakupan kunjungan monitoring"]
    rows = [line for line in coverage.splitlines() if re.match(r"^(Tenggarong|Sebulu|Samboja) \d", line)]
    svg = found["kunjungan"]
    labels = by_y(svg, r'<text x="-?[\d.]+" y="([\d.]+)" class="">([A-Z][a-z]+)</text>')
    assert labels == [r.split()[0] for r in rows] == ["Tenggarong", "Sebulu", "Samboja"]
    values = by_y(svg, r'<text text-anchor="start" x="[\d.]+" y="([\d.]+)" class="value">([^<]+)</text>')
    visited = [re.search(r"(\d+ \(\d+,\d%\)|\d+,\d%) \d+ [+-]", r) for r in rows]  # "Penerima dikunjungi"
    assert values == [m[1] for m in visited if m], (values, rows)
    # The gridlines are drawn before the bars (behind them), and the bars are opaque.
    assert svg.index('class="guide line"') < svg.index('class="rect reactive')
    assert "fill-opacity:1;" in svg and "stroke-dasharray:none" in svg


def test_chart_text_is_at_least_7_pt_on_paper(q1: Report, q1_html: str) -> None:
    for key, svg in charts(q1_html).items():
        width = float(re.search(r'<svg[^>]* width="([\d.]+)"', svg)[1])  # type: ignore[index]
        assert width * 0.75 <= 170 / 25.4 * 72  # printed unscaled inside the text width (170 mm)
        sizes = re.findall(r"\.(?:axis text|axis text\.major|text-overlay text\.value)\{[^}]*font-size:([\d.]+)px", svg)
        assert len(sizes) == 3 and min(float(s) for s in sizes) * 0.75 >= 7, (key, sizes)
    # And in the PDF: the bars' value labels as drawn on the page (font size times the page's scale).
    drawn: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if re.fullmatch(r"\d+(,\d%)?( \(\d+,\d%\))?", text.strip()) and cm[4]:  # inside a figure
            drawn.append(size * abs(cm[0]) * abs(tm[0]))

    for page, text in zip(q1.reader.pages, q1.pages, strict=True):
        if re.search(r"^Gambar 3\.\d", text, re.M) and not is_list(text):
            page.extract_text(visitor_text=visit)
    assert len(drawn) >= 9 and min(drawn) >= 7, drawn


def test_chart_titles_say_what_is_drawn(q1: Report) -> None:
    captions = re.findall(r"^Gambar 3\.\d+ (.+)$", "\n".join(p for p in q1.pages if not is_list(p)), re.M)
    assert "Jumlah penerima manfaat aktif menurut kecamatan" in captions
    assert "Persentase penerima aktif yang dikunjungi paling sedikit sekali menurut kecamatan" in captions
    assert not any("kelompok sasaran" in c for c in captions)  # the chart draws totals, not the groups


# --- 7: BAB V from the numbers --------------------------------------------------------------------------
def test_bab5_names_the_kecamatan_furthest_below_the_target_with_the_numbers(q1: Report, fx: seed.Fixture) -> None:
    target = next(s.target for s in definitions.load("monev_triwulan").indicators if s.key == "kunjungan")
    assert target is not None
    text = bab5(q1)
    per = visited_share(fx, Q1)
    judged = {name: seen / active for name, (seen, active) in per.items() if active >= SMALL}
    furthest = min(judged, key=lambda name: judged[name])
    seen, active = per[furthest]
    gap = target - 100 * seen / active
    assert furthest == "Samboja" and gap > 0  # the fixture made it so; the figures below are computed
    expected = (
        f"yang paling jauh di bawah target adalah Kecamatan {furthest} dengan {id_percent(seen / active)} "
        f"({seen} dari {active} penerima), selisih {id_points(gap)}."
    )
    assert expected in text, text
    small_seen, small_active = per["Sebulu"]
    assert small_active < SMALL and small_seen / small_active * 100 < target
    assert "kurang dari 10 penerima yang juga di bawah target: Sebulu." in text


def test_bab5_compares_with_the_target_and_the_previous_period_in_sentences(q1: Report, fx: seed.Fixture) -> None:
    target = 90
    text = bab5(q1)
    now = visited_share(fx, Q1)
    seen, active = (sum(v[i] for v in now.values()) for i in (0, 1))
    # Q4 2025: approved visits in the quarter, and the visits that opened the follow-ups (20 December).
    opened = {person for person, _, _ in fx.follow_ups}
    before = visited_share(fx, Q4, lambda p: p in opened)
    old_seen, old_active = (sum(v[i] for v in before.values()) for i in (0, 1))
    delta = 100 * (seen / active - old_seen / old_active)
    sentence = (
        f"Persentase penerima aktif yang dikunjungi paling sedikit sekali (Tabel 3.4) pada Triwulan I Tahun 2026 "
        f"adalah {id_percent(seen / active)} ({seen} dari {active} penerima), di bawah target paling sedikit "
        f"{target}% (selisih {id_points(target - 100 * seen / active)}). Angka ini "
        f"{'naik' if delta > 0 else 'turun'} {id_points(abs(delta))} ({'membaik' if delta > 0 else 'memburuk'}) "
        f"dibanding Triwulan IV Tahun 2025, yaitu {id_percent(old_seen / old_active)} "
        f"({old_seen} dari {old_active} penerima)."
    )
    assert sentence in text, text
    recommendation = " ".join(
        next(s.recommendation for s in definitions.load("monev_triwulan").indicators if s.key == "kunjungan").split()
    )
    saran = text.split("B. Saran")[1]
    assert recommendation in saran and "terutama di Kecamatan Samboja" in saran
    kesimpulan = text.split("A. Kesimpulan")[1].split("B. Saran")[0]
    assert re.search(r"Dari \d+ indikator bertarget yang dapat dinilai, \d+ memenuhi targetnya", kesimpulan)
    assert not re.search(r": \d+(,\d)?%\.", kesimpulan)  # no "Title: 80,0%." list items


def test_the_previous_title_only_list_is_gone_from_bab5(q1: Report) -> None:
    text = bab5(q1)
    assert "Cakupan kunjungan monitoring: " not in text and "Mutu data: " not in text
