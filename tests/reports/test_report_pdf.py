"""The quarterly report rendered for real (WeasyPrint) from the fixture data in seed.py: the figures
read back from the PDF's text with pypdf equal the figures this test computes on its own from the
same fixture; only masked NIKs appear; the first page becomes a PNG for a person to look at; the
URL fetcher serves nothing outside Pantau's assets and photos."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import re
import shutil
import statistics
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest

from server.reports import render, worker
from server.settings import Settings
from tests.conftest import ON_POSTGRES
from tests.reports import seed
from tests.reports.seed import pdf_copy

Q1_START, Q1_END = "2026-01-01", "2026-03-31"


class Rendered:
    def __init__(self, settings: Settings, fx: seed.Fixture, include_all: bool) -> None:
        job = worker.Job(
            url=settings.database_url,
            data_dir=settings.data_dir,
            report="monev_triwulan",
            period="2026-Q1",
            scope="64.02",
            include_all=include_all,
            made_on=dt.date(2026, 4, 2),
        )
        self.made = worker.make_pdf(job)
        self.path = pdf_copy(settings, self.made.sha256)
        reader = pypdf.PdfReader(self.path)
        self.pages = [page.extract_text() for page in reader.pages]
        self.text = "\n".join(self.pages)
        self.fx = fx


@pytest.fixture(scope="module")
def report_settings(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Settings:
    template = None if ON_POSTGRES else request.getfixturevalue("sqlite_template")
    return seed.module_settings(tmp_path_factory.mktemp("report"), template)


@pytest.fixture(scope="module")
def fixture_data(report_settings: Settings) -> seed.Fixture:
    return seed.seed(report_settings)


@pytest.fixture(scope="module")
def approved(report_settings: Settings, fixture_data: seed.Fixture) -> Rendered:
    return Rendered(report_settings, fixture_data, include_all=False)


# --- the test's own arithmetic, from the fixture -------------------------------------------------------
def id_percent(share: float) -> str:
    return f"{share * 100:.1f}".replace(".", ",") + "%"


def id_share(count: int, total: int, small: int = 10) -> str:
    """A share as every table writes it: on fewer than `small` the count leads, '6 (66,7%)'."""
    return f"{count} ({id_percent(count / total)})" if total < small else id_percent(count / total)


def id_rupiah(amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {round(abs(amount)):,}".replace(",", ".")


def latest_visits(fx: seed.Fixture, include_all: bool) -> dict[str, dict[str, Any]]:
    latest: dict[str, tuple[str, dict[str, Any]]] = {}
    for v in fx.visits:
        counted = Q1_START <= v.day <= Q1_END and (v.approved or include_all)
        if counted and (v.person not in latest or v.day >= latest[v.person][0]):
            latest[v.person] = (v.day, v.figures)
    return {person: figures for person, (_, figures) in latest.items()}


def is_list(page: str) -> bool:
    """The table of contents and the lists of tables and figures name every table too."""
    return "DAFTAR ISI" in page or "DAFTAR TABEL" in page


def body_page(rendered: Rendered, marker: str) -> str:
    return next(p for p in rendered.pages if marker in p and not is_list(p))


def key_figure(rendered: Rendered, title: str) -> str:
    """The value next to an indicator's title in BAB II's key figures."""
    page = next(p for p in rendered.pages if "GAMBARAN UMUM PELAKSANAAN" in p and "Angka kunci" in p)
    found = re.search(re.escape(title) + r"\s+(\S+(?: \S+)?)\n", page + "\n")
    assert found, f"{title!r} not on the key figures page:\n{page}"
    return found[1]


def test_figures_in_the_pdf_match_the_fixture(approved: Rendered) -> None:
    fx = approved.fx
    latest = latest_visits(fx, include_all=False)
    baseline = {p.id: p.baseline for p in fx.people}
    assert key_figure(approved, "Penerima manfaat aktif menurut wilayah dan kelompok sasaran") == str(len(fx.people))
    assert key_figure(approved, "Cakupan kunjungan monitoring") == id_percent(len(latest) / len(fx.people))
    known = [f["status_usaha"] for f in latest.values() if f["status_usaha"] not in (None, "belum_mulai")]
    survived = sum(s in ("berkembang", "stabil", "menurun") for s in known)
    assert key_figure(approved, "Usaha bertahan (berkembang, stabil atau menurun)") == id_percent(survived / len(known))
    changes = [f["pendapatan"] - baseline[p] for p, f in latest.items()]
    assert key_figure(approved, "Perubahan pendapatan keluarga dibanding saat pendaftaran") == id_rupiah(
        statistics.median(changes)
    )
    lost = sum(f["kondisi_alat"] in ("dijual_digadai", "hilang") for f in latest.values())
    assert key_figure(approved, "Peralatan bantuan dijual, digadaikan atau hilang") == id_percent(lost / len(latest))
    stunted = sum(haz < -2 for _, _, haz in fx.children)
    assert key_figure(approved, "Anak balita pendek (TB/U < -2 SD), pengukuran terakhir per anak") == id_percent(
        stunted / len(fx.children)
    )
    overdue = [f for f in fx.follow_ups if f[1] < Q1_END and (not f[2] or f[2] > Q1_END)]
    assert key_figure(approved, "Tindak lanjut yang terlambat pada akhir periode") == str(len(overdue))
    flagged = sum(1 for p in fx.people if p.flags)
    assert key_figure(approved, "Ketepatan sasaran - data penerima yang perlu diperiksa") == id_percent(
        flagged / len(fx.people)
    )
    not_met = sum(f["bertemu"] != "ya" for f in latest.values())
    assert key_figure(approved, "Kunjungan terakhir yang tidak menemui penerima") == id_percent(not_met / len(latest))


def test_tables_have_a_row_per_kecamatan_a_kukar_total_and_the_change(approved: Rendered) -> None:
    table = table_text(approved, "Penerima manfaat aktif menurut wilayah")
    for kecamatan in ("Tenggarong", "Samboja"):  # the kecamatan with beneficiaries
        assert re.search(rf"^{kecamatan} ", table, re.M)
    for kecamatan in ("Tabang", "Muara Badak"):  # none there: named under the table, no row of zeros
        assert not re.search(rf"^{kecamatan} ", table, re.M)
        assert kecamatan in table.split("tanpa penerima manfaat aktif")[1]
    assert re.search(r"^Kukar 60 6 60 60 ", table, re.M)  # active, new, women, PRSE
    assert "Perubahan" in table and "Sumber: Data Pantau, diolah." in table


def test_the_per_petugas_recap_counts_gps_photos_distance_corrections_and_last_sync(approved: Rendered) -> None:
    fx = approved.fx
    table = table_text(approved, "Rekap kinerja petugas")
    home = {p.id: p.home for p in fx.people}
    in_q1 = [v for v in fx.visits if Q1_START <= v.day <= Q1_END and v.approved]
    for username, display in fx.enumerators.items():
        mine = [v for v in in_q1 if v.enumerator == username]
        accuracy = [float(v.answers["lokasi"].split()[3]) for v in mine]
        compared = [v for v in mine if home[v.person]]
        far = [v for v in compared if km(home[v.person], v.answers["lokasi"]) > 2]
        expected = [
            str(len(mine)),  # records: their visits (intakes and growth checks here have no petugas)
            str(len(mine)),
            str(len({v.person for v in mine})),
            id_percent(sum(a <= 50 for a in accuracy) / len(mine)),
            id_percent(sum(v.photo for v in mine) / len(mine)),
            id_percent(len(far) / len(compared)),
            # sent back in the quarter, approved since or not
            str(sum(v.corrected for v in fx.visits if v.enumerator == username and Q1_START <= v.day <= Q1_END)),
            "02-04-2026",
        ]
        assert re.search(rf"^{display} {' '.join(expected)}$", table, re.M), (expected, table)
        assert far and 0 < sum(a <= 50 for a in accuracy) < len(mine)  # the fixture exercises both sides
    people = len({v.person for v in in_q1})
    assert re.search(rf"^Jumlah \d+ {len(in_q1)} {people} ", table, re.M), table


def km(a: str, b: str) -> float:
    """Haversine distance between two 'lat lon alt accuracy' points, computed here on its own."""
    import math

    (lat1, lon1), (lat2, lon2) = ([math.radians(float(x)) for x in p.split()[:2]] for p in (a, b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371 * math.asin(math.sqrt(h))


def total_row(rendered: Rendered, title: str, label: str = "Kukar") -> list[str]:
    table = table_text(rendered, title)
    line = next((line for line in table.splitlines() if line.startswith(label + " ")), None)
    assert line is not None, table
    return line[len(label) + 1 :].split(" ")


def latest_rows(fx: seed.Fixture) -> dict[str, seed.VisitRow]:
    """The latest approved visit of the quarter per person."""
    latest: dict[str, seed.VisitRow] = {}
    for v in fx.visits:
        if Q1_START <= v.day <= Q1_END and v.approved and (v.person not in latest or v.day >= latest[v.person].day):
            latest[v.person] = v
    return latest


def test_median_days_since_the_last_visit(approved: Rendered) -> None:
    fx, end = approved.fx, dt.date(2026, 3, 31)
    last = {p.id: p.registered_on for p in fx.people}
    seen = [(v.person, v.day) for v in fx.visits if v.approved and "2025-10-01" <= v.day <= Q1_END]
    seen += [(person, "2025-12-20") for person, _, _ in fx.follow_ups]  # the visits that opened them
    for person, day in seen:
        last[person] = max(last[person], day)
    days = [(end - dt.date.fromisoformat(day)).days for day in last.values()]
    row = total_row(approved, "Cakupan kunjungan monitoring")
    assert row[4] == str(round(statistics.median(days))), row


def months_since(aid: str, end: dt.date) -> int:
    day = dt.date.fromisoformat(aid)
    months = (end.year - day.year) * 12 + (end.month - day.month)
    return months - 1 if end.day < day.day else months


def test_business_survival_by_months_since_aid_and_by_aid_year(approved: Rendered) -> None:
    end = dt.date(2026, 3, 31)
    survived = ("berkembang", "stabil", "menurun")
    latest = latest_rows(approved.fx).values()
    known = [v for v in latest if v.figures["bertemu"] == "ya" and v.figures["status_usaha"] != "belum_mulai"]
    not_met = sum(v.figures["bertemu"] != "ya" for v in latest)
    expected = [str(len(known))]
    for months in (3, 6, 12):
        aided = [v for v in known if months_since(v.answers["tgl_bantuan"], end) >= months]
        expected.append(id_share(sum(v.figures["status_usaha"] in survived for v in aided), len(aided)))
    row = " ".join(total_row(approved, "Usaha bertahan menurut lama sejak bantuan"))
    assert row.startswith(" ".join([*expected, str(not_met)]) + " "), row
    assert not_met > 0 and len(set(expected[1:])) > 1
    for year in ("2025", "2026"):
        cohort = [v for v in known if v.answers["tgl_bantuan"].startswith(year)]
        absent = sum(v.answers["tgl_bantuan"].startswith(year) and v.figures["bertemu"] != "ya" for v in latest)
        kept = sum(v.figures["status_usaha"] in survived for v in cohort)
        row = total_row(approved, "Usaha bertahan menurut tahun bantuan", label=year)
        wanted = [str(len(cohort)), str(kept), id_share(kept, len(cohort)), str(absent)]
        assert " ".join(row).startswith(" ".join(wanted) + " "), row


def test_per_capita_income_above_the_poverty_line_of_the_definition(approved: Rendered) -> None:
    household = {p.id: p.household for p in approved.fx.people}
    latest = latest_rows(approved.fx)
    above = sum(v.figures["pendapatan"] / household[p] > 800_000 for p, v in latest.items())
    row = total_row(approved, "Penerima dengan pendapatan per kapita")
    assert row[:3] == [str(len(latest)), str(above), id_percent(above / len(latest))], row
    assert 0 < above < len(latest)
    assert "Rp 800.000 per kapita" in table_text(approved, "Penerima dengan pendapatan per kapita")


def test_graduation_failure_and_referrals_to_other_aid(approved: Rendered) -> None:
    latest = latest_rows(approved.fx).values()
    assessed = [v.figures["penilaian"] for v in latest]
    referred = [(p, a.split()) for p, opened, a in approved.fx.referrals if Q1_START <= opened <= Q1_END]
    expected = [
        str(len(assessed)),
        id_percent(assessed.count("mandiri") / len(assessed)),
        id_percent(assessed.count("gagal") / len(assessed)),
        str(sum("rujukan_bansos" in a for _, a in referred)),
        str(sum("rujukan_atensi" in a for _, a in referred)),
    ]
    assert total_row(approved, "Penilaian akhir penerima dan rujukan ke bantuan lain")[:5] == expected


def test_data_quality_complete_confirmed_edited_and_returned(approved: Rendered) -> None:
    fx = approved.fx
    visits = [v for v in fx.visits if Q1_START <= v.day <= Q1_END and v.approved]
    intakes = [p for p in fx.people if Q1_START <= p.registered_on <= Q1_END]
    records = len(visits) + len(intakes) + len(fx.children)
    complete = (
        sum(bool(v.answers.get("lokasi") and v.answers.get("foto_alat")) for v in visits)
        + sum(all(p.intake.get(k) for k in ("no_hp", "lokasi", "foto_rumah")) for p in intakes)
        + len(fx.children)  # growth checks have no completeness list in the definition
    )
    confirmed = sum("nik" in p.intake.get("_konfirmasi", []) for p in intakes)
    expected = [
        str(records),
        id_percent(complete / records),
        id_percent(confirmed / records),
        id_percent(sum(v.revision > 1 for v in visits) / records),
        str(sum(v.corrected for v in fx.visits if Q1_START <= v.day <= Q1_END)),  # approved since or not
        str(sum(status == "open" for _, _, status in fx.candidates)),  # probable duplicates still undecided
    ]
    assert total_row(approved, "Mutu data")[:6] == expected
    assert confirmed == 1


def test_wide_tables_are_on_landscape_pages_and_lists_of_tables_and_figures(approved: Rendered) -> None:
    reader = pypdf.PdfReader(approved.path)
    landscape = {i for i, page in enumerate(reader.pages) if page.mediabox.width > page.mediabox.height}
    wide = [
        i
        for i, p in enumerate(approved.pages)
        if re.search(r"Tabel 3\.\d+ Penerima manfaat aktif menurut wilayah", p) and not is_list(p)
    ]
    narrow = [i for i, p in enumerate(approved.pages)
              if re.search(r"Tabel 3\.\d+ Tindak lanjut yang terlambat", p) and not is_list(p)]
    quality = [i for i, p in enumerate(approved.pages) if re.search(r"Tabel 3\.\d+ Mutu data", p) and not is_list(p)]
    assert wide and wide[0] in landscape  # 10 columns
    assert narrow and narrow[0] not in landscape  # 5 columns: portrait
    assert quality and quality[0] in landscape  # 7 columns since it counts probable duplicates
    assert approved.pages[0] and 0 not in landscape
    lists = next(p for p in approved.pages if "DAFTAR TABEL" in p and "DAFTAR ISI" not in p)
    assert re.search(r"DAFTAR TABEL\s*\.*\s*5\b", approved.pages[3])  # in the table of contents, with its page
    assert "DAFTAR GAMBAR" in lists and re.search(r"Gambar 3\.1 Jumlah penerima manfaat aktif menurut kecamatan", lists)
    numbered = re.findall(r"^Tabel (3\.\d+) ", approved.text, re.M)
    count = len(set(numbered))
    assert count >= 17 and {f"3.{n}" for n in range(1, count + 1)} == set(numbered)
    sources = sum(p.count("Sumber: Data Pantau, diolah") for p in approved.pages)
    assert sources >= count  # under each table (and the key figures)


def table_text(rendered: Rendered, title: str) -> str:
    """A table of BAB III from its caption to the next caption, across a page break."""
    pattern = re.compile(r"Tabel 3\.\d+ " + re.escape(title))
    at = next(i for i, p in enumerate(rendered.pages) if pattern.search(p) and not is_list(p))
    text = "\n".join(rendered.pages[at : at + 2])
    start = pattern.search(text)
    assert start is not None
    rest = text[start.end() :]
    following = re.search(r"Tabel 3\.\d+ ", rest)
    return rest[: following.start()] if following else rest


def test_percentages_on_fewer_than_30_children_lead_with_the_count(approved: Rendered) -> None:
    table = table_text(approved, "Anak balita pendek")
    samboja = next(line for line in table.splitlines() if line.startswith("Samboja"))
    assert samboja.split()[1:5] == ["10", "0", "0", "(0,0%)"], samboja  # 10 children: the count leads
    tenggarong = next(line for line in table.splitlines() if line.startswith("Tenggarong"))
    assert re.search(r" \d+,\d% ", tenggarong) and "(" not in tenggarong  # 35 children: a plain percentage
    assert "kurang dari 30 anak" in table  # the note that explains the brackets


def test_layout_cover_toc_page_numbers_and_signoff(approved: Rendered) -> None:
    cover = approved.pages[0]
    assert "TRIWULAN I TAHUN 2026" in cover and "disetujui koordinator" in cover
    total = len(approved.pages)
    assert 10 <= total <= 40
    assert f"Halaman 3 dari {total}" in approved.pages[2]
    toc = next(p for p in approved.pages if "DAFTAR ISI" in p)
    bab3 = next(
        i
        for i, p in enumerate(approved.pages, 1)
        if "HASIL MONITORING DAN EVALUASI" in p and "BAB III" in p and not is_list(p)
    )
    assert re.search(r"BAB III HASIL MONITORING DAN EVALUASI\s*\.*\s*" + str(bab3), toc), toc
    assert "Tenggarong, 2 April 2026" in approved.text  # signed on the day made, not the period's last day
    assert "NIP. 196801011990031001" in approved.text and "Pembina Utama Muda" in approved.text


def test_only_masked_niks_appear(approved: Rendered) -> None:
    fx = approved.fx
    for person in fx.people:
        assert person.nik not in approved.text
    masked = re.findall(r"(?<![0-9*])[0-9*]{16}(?![0-9*])", approved.text)
    assert masked, "the appendix lists people with their masked NIK"
    listed = {p.nik[:2] + "*" * 14 for p in fx.people}  # the province only: the one mask, domain/nik.mask
    assert set(masked) <= listed
    assert "Penerima 003" in approved.text  # equipment sold or pawned: listed for follow-up


def test_all_data_when_asked_and_the_cover_says_so(report_settings: Settings, approved: Rendered) -> None:
    everything = Rendered(report_settings, approved.fx, include_all=True)
    assert "SEMUA data" in everything.pages[0]
    latest = latest_visits(approved.fx, include_all=True)
    lost = sum(f["kondisi_alat"] in ("dijual_digadai", "hilang") for f in latest.values())
    assert key_figure(everything, "Peralatan bantuan dijual, digadaikan atau hilang") == id_percent(lost / len(latest))
    title = "Usaha bertahan (berkembang, stabil atau menurun)"
    assert key_figure(everything, title) != key_figure(approved, title)  # the unreviewed visits count now


def test_first_page_as_png_for_a_person_to_look_at(
    approved: Rendered, tmp_path_factory: pytest.TempPathFactory
) -> None:
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm (poppler-utils) is needed to draw the first page; .ci/run installs it")
    out = tmp_path_factory.mktemp("artifacts") / "laporan-halaman-1"
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "70", "-png", "-singlefile", str(approved.path), str(out)], check=True
    )
    png = out.with_suffix(".png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    print(f"\nfirst page of the report: {png}")


def test_the_photo_appendix_shows_stored_photos_through_the_fetcher(approved: Rendered) -> None:
    assert approved.fx.photo
    assert approved.made.refused == []
    reader = pypdf.PdfReader(approved.path)
    appendix = next(p for p in reader.pages if "DOKUMENTASI FOTO" in p.extract_text())
    assert len(appendix.images) == 1


# --- the locked fetcher ---------------------------------------------------------------------------------
@pytest.fixture
def internal_server() -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


SMALL_PNG = (
    "data:image/png;base64,"
    + base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8ffff3f"
            "0005fe02fea7d6a4c90000000049454e44ae426082"
        )
    ).decode()
)
BIG_DATA = "data:image/png;base64," + "A" * 100_000


def test_the_fetcher_refuses_files_and_internal_addresses(
    tmp_path: Path, internal_server: tuple[str, list[str]]
) -> None:
    base, hits = internal_server
    html = (
        f'<html><head><link rel="stylesheet" href="{base}/admin.css"></head><body>'
        '<p>Laporan</p><img src="file:///etc/passwd"><img src="../../../etc/passwd">'
        f'<img src="{base}/secret.png"><object data="file:///etc/hostname"></object>'
        '<img src="asset:../../../etc/passwd"><img src="photo:../../etc/passwd">'
        f'<img src="{SMALL_PNG}"><img src="{BIG_DATA}"><img src="data:text/html,<b>x</b>">'
        '<img src="asset:logo.svg"></body></html>'
    )
    done = render.render(html, str(tmp_path))
    assert hits == []  # WeasyPrint never reached the internal server
    refused = " ".join(done.refused)
    for wanted in (
        "file:///etc/passwd",
        f"{base}/admin.css",
        f"{base}/secret.png",
        "asset:../../../etc/passwd",
        "photo:../../etc/passwd",
        "data:image/png;base64,AAAA",  # a data: URL beyond a small image
        "data:text/html",
    ):
        assert wanted in refused
    assert SMALL_PNG[:60] not in refused and "asset:logo.svg" not in refused
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(_pdf(tmp_path, done.pdf)).pages)
    assert "root:" not in text and "Laporan" in text


def _pdf(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return path


def test_a_label_with_markup_is_text_not_a_fetch(report_settings: Settings, approved: Rendered) -> None:
    """An answer or name that holds markup is escaped by the template: printed, never fetched."""
    from server.reports import dataset, definitions, document

    definition = definitions.load("monev_triwulan")
    period = definitions.period_for(definition, "2026-Q1")
    data = dataset.build(report_settings.database_url, definition, period, "64.02", False, dt.date(2026, 4, 2))
    evil = '<img src="file:///etc/passwd"><a href="http://127.0.0.1/internal">x</a>'
    data = type(data)(
        **{
            **{f: getattr(data, f) for f in data.__struct_fields__},
            "attention": [dataset.Person(evil, "64**************", "Jahab", evil)],
        }
    )
    html = document.html(data)
    assert '<img src="file:///etc/passwd">' not in html and "&lt;img src=" in html
    done = render.render(html, report_settings.data_dir)
    assert not [u for u in done.refused if "passwd" in u or "127.0.0.1" in u]
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(_pdf(Path(report_settings.data_dir), done.pdf)).pages)
    assert "root:" not in text and 'src="file:///etc/passwd"' in text.replace("\n", "")


def test_a_sideways_photo_is_upright_in_the_report() -> None:
    """A photo is kept as the phone sent it, its EXIF orientation with it; the report's thumbnail
    has no EXIF, so it is turned before."""
    import io

    from PIL import Image

    from server.reports.render import THUMBNAIL_PX, _thumbnail

    picture = Image.new("RGB", (800, 600), (250, 250, 250))
    picture.paste((0, 0, 0), (0, 0, 400, 600))  # the left half dark: on top once turned clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    sent = io.BytesIO()
    picture.save(sent, "JPEG", exif=exif.tobytes())
    with Image.open(io.BytesIO(_thumbnail(sent.getvalue()))) as thumbnail:
        assert thumbnail.size == (THUMBNAIL_PX * 3 // 4, THUMBNAIL_PX) and not dict(thumbnail.getexif())
        top, bottom = thumbnail.getpixel((180, 10)), thumbnail.getpixel((180, THUMBNAIL_PX - 10))
        assert isinstance(top, tuple) and isinstance(bottom, tuple) and top[0] < 30 < 220 < bottom[0]
