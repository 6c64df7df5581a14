"""One counting basis, end to end: citra and dewi post intakes, visits and growth checks through the
API with the shipped forms, ani approves, sends back and rejects some of them (one intake as "Data
ganda"), and the quarterly report's figures, read back from the PDF with pypdf, equal the figures
this test computes from what it posted and decided, on the approved basis and on "semua data".
The dataset is built so that counting a rejected or sent-back record anywhere changes a number."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import time_machine

from server.settings import Settings
from tests.reports.test_report_pdf import Rendered, id_percent, key_figure, table_text, total_row
from tests.web.conftest import post_form
from tests.web.test_registry import growth_check, intake, publish_source, visit

REPO = Path(__file__).resolve().parents[2]
MARCH = dt.datetime(2026, 3, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 WITA, inside 2026-Q1
APRIL = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)  # after the quarter: the report is made then
Q1 = ("2026-01-01", "2026-03-31")
SURVIVING = ("berkembang", "stabil", "menurun")


@dataclass
class Posted:
    """One record the test sent, and the review status it ends with."""

    id: str
    kind: str  # intake, visit, growth
    petugas: str
    person: str  # the beneficiary it registers or is about
    day: str  # registration, visit or measuring day
    status: str = "received"
    sent_back_in_q1: bool = False
    female: bool = False
    status_usaha: str = ""
    child: str = ""


@dataclass
class Posts:
    records: list[Posted] = field(default_factory=list)

    def of(self, kind: str) -> list[Posted]:
        return [r for r in self.records if r.kind == kind]

    def by_id(self, record_id: str) -> Posted:
        return next(r for r in self.records if r.id == record_id)


def _created(response: Any) -> str:
    assert response.status_code == 201, response.text
    return str(response.json()["instance_id"])


def _intake(persona: Any, petugas: str, n: int, *, samboja: bool, female: bool, day: str) -> Posted:
    region, desa = ("640213", "64.02.13.1007") if samboja else ("640206", "64.02.06.1001")
    answers = {"tgl_daftar": day, "nik": f"{region}{41 if female else 1:02d}0190{n + 1:04d}",  # born 1 Jan 1990
               "no_kk": f"{region}1203150{n + 1:03d}", "nama": f"Penerima Uji {n:02d}",
               "jenis_kelamin": "P" if female else "L", "kecamatan": desa[:8], "desa": desa}
    if not female:  # PRSE is for women
        answers |= {"kelompok_rentan": "fakir_miskin", "prse_kondisi": None}
    record_id = str(uuid.uuid4())
    _created(intake(persona, record_id, **answers))
    return Posted(record_id, "intake", petugas, record_id, day, female=female)


def _visit(persona: Any, petugas: str, person: str, day: str, status_usaha: str) -> Posted:
    record_id = _created(visit(persona, person, tgl_kunjungan=day, status_usaha=status_usaha))
    return Posted(record_id, "visit", petugas, person, day, status_usaha=status_usaha)


def _growth(persona: Any, petugas: str, person: str, child: str, day: str) -> Posted:
    record_id = _created(growth_check(persona, person, nama_anak=child, tgl_ukur=day))
    return Posted(record_id, "growth", petugas, person, day, child=child)


def _decide(persona: Any, record: Posted, status: str, comment: str = "") -> None:
    response = post_form(persona, f"/data/{record.id}/tinjau", {"status": status, "comment": comment, "revision": "1"})
    assert response.status_code == 303, response.text
    record.status = status


def post_and_review(as_: Callable[[str], Any]) -> Posts:
    """Tenggarong: 12 intakes by citra (two registered in the quarter before), one of them rejected as
    a duplicate after a visit was recorded for it, one sent back; Samboja: 4 by dewi, one never
    reviewed. Visits: approved, sent back (and left, approved since, or only in April), rejected,
    unreviewed. Growth checks: one approved, one rejected."""
    posts = Posts()
    with time_machine.travel(MARCH, tick=True):
        citra, dewi, ani = as_("citra"), as_("dewi"), as_("ani")
        town = [_intake(citra, "Citra", n, samboja=False, female=n % 3 != 1,
                        day="2025-12-10" if n < 2 else f"2026-02-{10 + n:02d}") for n in range(12)]
        coast = [_intake(dewi, "Dewi", 20 + n, samboja=True, female=n != 2, day=f"2026-03-0{1 + n}")
                 for n in range(4)]
        posts.records += town + coast
        statuses = ["berkembang", "stabil", "menurun", "beralih", "berkembang", "stabil", "menurun", "beralih",
                    "berkembang", "stabil", "berkembang"]
        visited = [*town[:10], town[10], coast[0], coast[1], coast[2]]
        for n, person in enumerate(visited):
            who, petugas = (citra, "Citra") if person in town else (dewi, "Dewi")
            posts.records.append(_visit(who, petugas, person.id, f"2026-03-{5 + n % 10:02d}",
                                        statuses[n % len(statuses)]))
        # An earlier visit to T5 in the quarter whose status the later one replaces.
        posts.records.append(_visit(citra, "Citra", town[5].id, "2026-01-20", "beralih"))
        posts.records.append(_growth(citra, "Citra", town[0].id, "Ayu", "2026-03-10"))
        posts.records.append(_growth(dewi, "Dewi", coast[0].id, "Budi Kecil", "2026-03-11"))
        visits = {r.person: r for r in posts.of("visit") if r.day != "2026-01-20"}
        for record, comment in ((town[11], "Foto KTP buram"), (visits[town[2].id], "GPS"),
                                (visits[town[4].id], "Foto")):
            _decide(ani, record, "needs_correction", comment)
            record.sent_back_in_q1 = True
        _decide(ani, town[10], "rejected", "Data ganda")
        _decide(ani, visits[town[3].id], "rejected", "Kunjungan fiktif")
        _decide(ani, posts.of("growth")[1], "rejected", "Salah anak")
    with time_machine.travel(APRIL, tick=True):
        ani = as_("ani")
        _decide(ani, visits[town[7].id], "needs_correction", "Foto")  # sent back after the quarter
        for record in posts.records:
            if record.status == "received" and record not in (coast[3], visits[coast[1].id]):
                _decide(ani, record, "approved")
        _decide(ani, visits[town[4].id], "approved")  # sent back in March, approved since
        _decide(ani, visits[town[7].id], "approved")
    return posts


# --- the test's own arithmetic, from what it posted ----------------------------------------------------
COUNTED = {False: ("approved",), True: ("approved", "received", "needs_correction")}


def in_q1(day: str) -> bool:
    return Q1[0] <= day <= Q1[1]


def expected(posts: Posts, include_all: bool) -> dict[str, Any]:
    counted = COUNTED[include_all]
    people = {r.person: r for r in posts.of("intake") if r.status in counted}
    visits = [r for r in posts.of("visit") if r.status in counted and r.person in people and in_q1(r.day)]
    latest: dict[str, Posted] = {}
    for v in sorted(visits, key=lambda v: v.day):
        latest[v.person] = v
    growth = [r for r in posts.of("growth") if r.status in counted and r.person in people and in_q1(r.day)]
    intakes = [r for r in people.values() if in_q1(r.day)]
    sent_back = [r for r in posts.records if r.sent_back_in_q1]
    return {
        "active": len(people),
        "new": len(intakes),
        "women": sum(r.female for r in people.values()),
        "visits": len(visits),
        "visited": id_percent(len(latest) / len(people)),
        "surviving": id_percent(sum(v.status_usaha in SURVIVING for v in latest.values()) / len(latest)),
        "known": len(latest),
        "records": len(intakes) + len(visits) + len(growth),
        "sent_back": len(sent_back),
        "sent_back_citra": sum(r.petugas == "Citra" for r in sent_back),
        "children": len({(r.person, r.child) for r in growth}),
    }


def cells(row: list[str]) -> list[str]:
    """A table row's cells: a share on a small base reads "4 (40,0%)", one cell of two words."""
    return re.findall(r"\S+(?: \([^)]*\))?", " ".join(row))


def figures_in(rendered: Rendered) -> dict[str, Any]:
    enrolment = cells(total_row(rendered, "Penerima manfaat aktif menurut wilayah dan kelompok sasaran"))
    coverage = cells(total_row(rendered, "Cakupan kunjungan monitoring"))
    surviving = cells(total_row(rendered, "Usaha bertahan (berkembang, stabil atau menurun)"))
    quality = cells(total_row(rendered, "Mutu data"))
    petugas = table_text(rendered, "Rekap kinerja petugas")
    citra = cells(next(line for line in petugas.splitlines() if line.startswith("Citra ")).split(" "))
    growth = cells(total_row(rendered, "Anak balita pendek (TB/U < -2 SD), pengukuran terakhir per anak"))
    return {
        "active": int(enrolment[0]),
        "new": int(enrolment[1]),
        "women": int(enrolment[2]),
        "visits": int(coverage[0]),
        "visited": coverage[3],
        "surviving": surviving[2],
        "known": int(surviving[1]),
        "records": int(quality[0]),
        "sent_back": int(quality[4]),
        "sent_back_citra": int(citra[7]),
        "children": int(growth[0]),
    }


def test_every_figure_counts_the_same_basis_and_rejected_records_never(as_, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    for name in ("registrasi_penerima", "monev_uep", "cek_tumbuh_anak"):
        _publish(settings, name)
    posts = post_and_review(as_)
    with time_machine.travel(APRIL, tick=True):
        approved = Rendered(settings, None, include_all=False)  # type: ignore[arg-type]
        everything = Rendered(settings, None, include_all=True)  # type: ignore[arg-type]
    mine, theirs = expected(posts, include_all=False), figures_in(approved)
    assert theirs == mine
    assert figures_in(everything) == expected(posts, include_all=True)
    # The dataset makes the rule matter: counting every registration, the rejected visit or the
    # sent-back records only while approved would each give other numbers.
    everyone = len(posts.of("intake"))
    assert mine["active"] < expected(posts, include_all=True)["active"] < everyone
    assert key_figure(approved, "Penerima manfaat aktif menurut wilayah dan kelompok sasaran") == str(mine["active"])
    approved_sent_back = sum(r.sent_back_in_q1 and r.status == "approved" for r in posts.records)
    assert 0 < approved_sent_back < mine["sent_back"]
    # The basis is named on the cover and under every table.
    assert "disetujui koordinator" in approved.pages[0]
    assert "SEMUA data" in everything.pages[0] and "ditolak tidak dihitung" in everything.pages[0]
    tables = len(set(re.findall(r"^Tabel (3\.\d+) ", approved.text, re.M)))
    assert tables >= 10  # tables with no data at all are left out of a small report
    assert _flat(approved).count("Basis penghitungan: data yang disetujui koordinator.") >= tables + 1
    assert _flat(everything).count("Basis penghitungan: semua data yang diterima") >= tables + 1


def _flat(rendered: Rendered) -> str:
    return " ".join(rendered.text.split())


def _publish(settings: Settings, name: str) -> None:
    publish_source(settings, (REPO / "forms" / f"{name}.yaml").read_bytes(), f"{name}.yaml")
