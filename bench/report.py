"""The quarterly report (reports/monev_triwulan.yaml) end to end on the embedded SQLite database: a
spawned worker process loads the definition, streams the period's rows into the indicators, lays the
PDF out with WeasyPrint and archives it, exactly as `buat PDF` does. Data: N submissions made the way
the registry stores them (N/5 intakes, one beneficiary each; 0.7 N monitoring visits with their
events, a follow-up on one visit in six; 0.1 N growth checks), over 2026-Q2 and 2026-Q3; the report
is 2026-Q3 for the kabupaten. Run for N = 10,000 and N = 100,000 (20,000 beneficiaries).

Targets: 100,000 submissions <= 20 s and <= 1 GB (the worker's peak RSS); t(100k)/t(10k) <= 3.
Last line: `BENCH report <s> s rss_mb=<MB> growth=<t100k/t10k> weasyprint_share=<0..1> pages=<n> pdf_kb=<KB>`."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.domain.compile import compile_source  # noqa: E402
from server.domain.regions import region_choices  # noqa: E402
from server.domain.registry import kecamatan_of, mask  # noqa: E402
from server.reports import worker  # noqa: E402
from server.storage import forms, migrate  # noqa: E402
from server.storage.db import Database  # noqa: E402

TARGET_S, TARGET_MB, TARGET_GROWTH = 20.0, 1024.0, 3.0
STATUSES = ("berkembang", "stabil", "stabil", "menurun", "berhenti_sementara", "berhenti_permanen", "belum_mulai")
CONDITIONS = ("baik_dipakai",) * 6 + ("rusak_ringan", "tidak_dipakai", "dijual_digadai", "hilang")
ASSESSMENTS = ("mandiri", "berkembang", "berkembang", "intensif", "gagal")
GROUPS = ("prse", "prse", "prse", "lansia", "disabilitas", "anak_terlantar", "fakir_miskin")
STAMP = "2026-10-02 01:00:00+00:00"
PETUGAS = 60  # field officers (TKSK/pendamping) across the 20 kecamatan


async def prepare(url: str) -> dict[str, int]:
    db = Database(url)
    await db.open()
    try:
        await migrate.migrate(db)
        versions = {}
        for name in ("registrasi_penerima", "monev_uep", "cek_tumbuh_anak"):
            source = (REPO / "forms" / f"{name}.yaml").read_bytes()
            compiled = compile_source(source, f"{name}.yaml").compiled
            assert compiled is not None
            await forms.publish(db, compiled, source, f"{name}.yaml")
            rows = await db.fetch(
                "SELECT v.id FROM form_version v JOIN form f ON f.id = v.form WHERE f.form_id = {}", name
            )
            versions[name] = int(rows[-1]["id"])
        return versions
    finally:
        await db.close()


def _day(rng: random.Random, start: dt.date, days: int) -> str:
    return (start + dt.timedelta(days=rng.randrange(days))).isoformat()


def generate(path: Path, versions: dict[str, int], total: int) -> None:
    """`total` submissions in one transaction with executemany (as bench/export.py does)."""
    rng = random.Random(10)
    desas = [c.name for c in region_choices("desa 64.02")]
    people_n, visits_n, growth_n = total // 5, total * 7 // 10, total // 10
    submissions, people, events, follow_ups = [], [], [], []
    ids = []
    q2 = dt.date(2026, 4, 1)
    for i in range(people_n):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        area = rng.choice(desas)
        nik = (
            f"{area.replace('.', '')[:6]}{rng.randint(41, 68):02d}{rng.randint(1, 12):02d}{rng.randint(60, 99):02d}"
            f"{rng.randint(1, 9999):04d}"
        )
        income = rng.randrange(500_000, 4_000_000, 50_000)
        registered = _day(rng, dt.date(2025, 6, 1), 450)
        home = (rng.uniform(-1.2, 0.8), rng.uniform(115.5, 117.5))
        household = rng.randint(1, 8)
        intake = {  # what the report reads of an intake: home GPS, household size, completeness
            "nama": f"Penerima {i}",
            "desa": area,
            "lokasi": f"{home[0]:.6f} {home[1]:.6f} 20 {rng.choice((5, 8, 12, 30, 70))}",
            "jml_art": household,
            "no_hp": "081234567890" if rng.random() < 0.8 else None,
            "foto_rumah": "rumah.jpg",
            "penghasilan_bln": income,
            **({"_konfirmasi": ["nik"]} if rng.random() < 0.03 else {}),
        }
        submissions.append(
            (sid, versions["registrasi_penerima"], "registrasi_penerima", area, json.dumps(intake), "approved", 1)
        )
        people.append(
            (
                sid,
                mask(nik),
                f"Penerima {i}",
                f"penerima {i}",
                "P" if rng.random() < 0.7 else "L",
                f"19{rng.randint(50, 99)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                area,
                kecamatan_of(area),
                rng.choice(GROUPS),
                json.dumps([{"key": "pendapatan", "value": income}]),
                registered,
            )
        )
        events.append((sid, sid, "registrasi_penerima", "intake", registered, "{}"))
        ids.append((sid, area, income, home))
    for _ in range(visits_n):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        person, area, income, home = rng.choice(ids)
        day = _day(rng, q2, 183)
        status = "approved" if rng.random() < 0.9 else "received"
        figures = [
            {"key": "bertemu", "value": "ya"},
            {"key": "status_usaha", "value": rng.choice(STATUSES)},
            {"key": "kondisi_alat", "value": rng.choice(CONDITIONS)},
            {"key": "pendapatan", "value": income + rng.randrange(-300_000, 600_000, 25_000)},
            {"key": "omzet", "value": rng.randrange(0, 8_000_000, 100_000)},
            {"key": "penilaian", "value": rng.choice(ASSESSMENTS)},
        ]
        # The visit's own answers the report reads: GPS (near home, or not), the aid date, a photo.
        near = rng.random() < 0.9
        spot = (home[0] + rng.uniform(-0.01, 0.01), home[1]) if near else (home[0] + 0.05, home[1] + 0.05)
        answers = json.dumps(
            {
                "penerima": person,
                "tgl_kunjungan": day,
                "tgl_bantuan": _day(rng, dt.date(2024, 1, 1), 800),
                "lokasi": f"{spot[0]:.6f} {spot[1]:.6f} 20 {rng.choice((5, 10, 20, 40, 80))}",
                "bertemu": "ya",
                "status_usaha": figures[1]["value"],
                "foto_usaha": "usaha.jpg",
                "foto_alat": "alat.jpg" if rng.random() < 0.7 else None,
                "tindak_lanjut": ["perbaikan_alat"],
                "catatan": "Usaha berjalan; penerima meminta pelatihan pemasaran daring.",
            }
        )
        submissions.append((sid, versions["monev_uep"], "monev_uep", area, answers, status, rng.randint(1, PETUGAS)))
        events.append((person, sid, "monev_uep", "visit", day, json.dumps({"figures": figures})))
        if rng.random() < 1 / 6:
            due = (dt.date.fromisoformat(day) + dt.timedelta(days=rng.randint(7, 60))).isoformat()
            actions = rng.choice(("perbaikan_alat", "rujukan_bansos", "rujukan_atensi", "tambahan_modal"))
            follow_ups.append((person, sid, actions, day, due))
    for n in range(growth_n):
        sid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        person, area, _, _ = rng.choice(ids)
        day = _day(rng, q2, 183)
        growth = {
            "age_days": rng.randint(30, 1800),
            "haz": round(rng.gauss(-1.2, 1.1), 2),
            "waz": round(rng.gauss(-0.8, 1.0), 2),
            "whz": round(rng.gauss(-0.3, 1.0), 2),
            "implausible": ["haz"] if rng.random() < 0.01 else [],
            "too_old": False,
        }
        submissions.append((sid, versions["cek_tumbuh_anak"], "cek_tumbuh_anak", area, "{}", "approved", 2))
        events.append(
            (
                person,
                sid,
                "cek_tumbuh_anak",
                "growth",
                day,
                json.dumps({"figures": [], "growth": growth, "child": f"Anak {n % 3}"}),
            )
        )
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO pantau_user (id, username, display_name, password_hash, role, created_at) "
            f"VALUES (?, ?, ?, 'x', 'enumerator', '{STAMP}')",
            [(n, f"petugas{n}", f"Petugas {n}") for n in range(1, PETUGAS + 1)],
        )
        conn.executemany(
            "INSERT INTO submission (id, form_version, form_id, area_code, content_hash, answers, "
            f"revision, review_status, received_at, enumerator) VALUES (?, ?, ?, ?, '{'0' * 64}', ?, 1, ?, "
            f"'{STAMP}', ?)",
            submissions,
        )
        conn.executemany(
            "INSERT INTO beneficiary (id, programme, nik_masked, name, name_key, sex, birth_date, "
            "area_code, kecamatan, target_group, baseline, registered_on, visit_months, created_at, "
            f"updated_at) VALUES (?, 'bansos', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 3, '{STAMP}', '{STAMP}')",
            people,
        )
        conn.executemany(
            "INSERT INTO beneficiary_event (beneficiary, submission, form_id, kind, happened_on, summary, "
            f"recorded_at) VALUES (?, ?, ?, ?, ?, ?, '{STAMP}')",
            events,
        )
        conn.executemany(
            "INSERT INTO follow_up (beneficiary, submission, form_id, actions, detail, opened_on, due_on) "
            "VALUES (?, ?, 'monev_uep', ?, '{}', ?, ?)",
            follow_ups,
        )
    conn.execute("ANALYZE")
    conn.close()


def measure(total: int, rounds: int) -> tuple[float, float, float, worker.Made]:
    workdir = Path(tempfile.mkdtemp(prefix="pantau-report-"))
    try:
        url = f"sqlite:///{workdir / 'b.sqlite3'}"
        versions = asyncio.run(prepare(url))
        began = time.perf_counter()
        generate(workdir / "b.sqlite3", versions, total)
        print(f"{total} submissions made in {time.perf_counter() - began:.1f} s", flush=True)
        job = worker.Job(
            url=url,
            data_dir=str(workdir / "data"),
            report="monev_triwulan",
            period="2026-Q3",
            scope="64.02",
            made_on=dt.date(2026, 10, 2),
        )
        times, layouts, made = [], [], None
        for n in range(rounds):
            began = time.perf_counter()
            made = worker.in_worker(job, 600)
            times.append(time.perf_counter() - began)
            layouts.append(made.layout_s)
            print(
                f"  N={total} round {n + 1}: {times[-1]:.2f} s end to end (worker {made.seconds:.2f} s, "
                f"WeasyPrint {made.layout_s:.2f} s), {made.pages} pages",
                flush=True,
            )
        assert made is not None
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        return statistics.median(times), statistics.median(layouts), rss, made
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    small, _, _, _ = measure(10_000, args.rounds)
    large, layout, rss, made = measure(100_000, args.rounds)  # rss: the largest worker so far, i.e. a 100k one
    growth = large / small
    share = layout / large  # of the end-to-end time (spawn, imports, data, layout, archive)
    print(
        f"median end to end: 10k {small:.2f} s, 100k {large:.2f} s (targets <= {TARGET_S:.0f} s, "
        f"<= {TARGET_MB:.0f} MB, growth <= {TARGET_GROWTH:.0f})"
    )
    ok = large <= TARGET_S and rss <= TARGET_MB and growth <= TARGET_GROWTH
    print(
        f"BENCH report {large:.2f} s rss_mb={rss:.0f} growth={growth:.2f} weasyprint_share={share:.2f} "
        f"pages={made.pages} pdf_kb={made.size / 1024:.0f}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
