"""Benchmark of the beneficiary registry on the embedded SQLite database: 200,000
beneficiaries over the 237 desa of Kutai Kartanegara, then (1) name-prefix search within one
kecamatan through the server's own query (storage/registry_read.search): target p95 <= 50 ms; and
(2) one enumerator's offline copy of 2,000 beneficiaries, encoded as GET /api/v1/penerima sends it
and gzipped at the app's level 6: target <= 200 KB. Run: .venv/bin/python bench/registry.py"""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import msgspec

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server.domain import registry as rules  # noqa: E402
from server.domain.access import Principal  # noqa: E402
from server.domain.regions import region_choices  # noqa: E402
from server.storage import migrate, pii, registry_read  # noqa: E402
from server.storage.db import Database  # noqa: E402
from server.web.controllers.registry import COLUMNS, SliceOut  # noqa: E402

TOTAL, SLICE = 200_000, 2_000
SEARCHES = 500
P95_TARGET_MS, SLICE_TARGET_KB = 50.0, 200.0
NOW = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)
SEARCH_AREA = "64.02.06"  # Tenggarong, the largest kecamatan here
SLICE_AREA = "64.02.18"  # Muara Wis: the enumerator's kecamatan, exactly SLICE beneficiaries
FIRST = ("Siti", "Nur", "Sri", "Dewi", "Rina", "Ani", "Wati", "Yuli", "Ahmad", "Muhammad", "Budi", "Rahmat", "Hasan",
         "Agus", "Eko", "Dian", "Putri", "Indah", "Fitri", "Lestari", "Rusdi", "Aisyah", "Fatimah", "Kartini",
         "Hendra", "Joko", "Wahyu", "Yusuf", "Zainab", "Maria", "Ratna", "Sumarni", "Ismail", "Nurhayati")
LAST = ("Aminah", "Rahayu", "Hidayat", "Saputra", "Wijaya", "Lestari", "Kurniawan", "Susanti", "Pratama", "Handayani",
        "Setiawan", "Ningsih", "Syahrani", "Hamid", "Yusuf", "Maulana", "Sari", "Utami", "Nugroho", "Fauzi")


def _nik(rng: random.Random, area: str, woman: bool) -> str:
    day = rng.randint(1, 28) + (40 if woman else 0)
    born = f"{day:02}{rng.randint(1, 12):02}{rng.randint(50, 99):02}"
    return f"{area.replace('.', '')[:6]}{born}{rng.randint(1, 9999):04}"


def generate(path: Path) -> None:
    """200,000 rows with one executemany in one transaction (sealing is most of the time)."""
    rng = random.Random(7)
    keys = pii.keys_from("bench-" + "k" * 40)
    desas = [c.name for c in region_choices("desa 64.02")]
    slice_desas = [d for d in desas if d.startswith(SLICE_AREA + ".")]
    others = [d for d in desas if not d.startswith(SLICE_AREA + ".")]
    stamp = str(NOW - dt.timedelta(days=1))
    rows = []
    for i in range(TOTAL):
        area = rng.choice(slice_desas) if i < SLICE else rng.choice(others)
        woman = rng.random() < 0.7
        nik, kk = _nik(rng, area, woman), _nik(rng, area, False)
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        visit = f"2026-0{rng.randint(1, 3)}-{rng.randint(10, 28)}" if rng.random() < 0.6 else ""
        rows.append((str(uuid.UUID(int=rng.getrandbits(128), version=4)), "bansos", pii.blind_index(keys, "nik", nik),
                     pii.seal(keys, "nik", nik), rules.mask(nik), pii.blind_index(keys, "kk", kk),
                     pii.seal(keys, "kk", kk), rules.mask(kk), name, rules.name_key(name), "P" if woman else "L",
                     area, rules.kecamatan_of(area), "[]", "2025-12-01", visit, 3, stamp, stamp))
    conn = sqlite3.connect(path)
    with conn:
        conn.executemany(
            "INSERT INTO beneficiary (id, programme, nik_index, nik_sealed, nik_masked, kk_index, kk_sealed, "
            "kk_masked, name, name_key, sex, area_code, kecamatan, baseline, registered_on, last_visit_on, "
            "visit_months, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows)
    conn.execute("ANALYZE")
    conn.close()


async def measure(url: str) -> tuple[float, float, float]:
    db = Database(url)
    await db.open()
    try:
        coordinator = Principal(id=1, username="budi", display_name="Budi", role="coordinator", areas=(SEARCH_AREA,))
        rng = random.Random(11)
        prefixes = [rng.choice(FIRST + LAST)[: rng.randint(1, 5)] for _ in range(SEARCHES)]
        await registry_read.search(db, coordinator, "siti")  # warm the page cache once
        times, hits = [], 0
        for prefix in prefixes:
            start = time.perf_counter()
            found = await registry_read.search(db, coordinator, prefix, limit=20)
            times.append((time.perf_counter() - start) * 1000)
            hits += len(found)
        assert hits >= SEARCHES * 10, f"searches found too little ({hits} rows): the timing would mean nothing"
        enumerator = Principal(id=2, username="citra", display_name="Citra", role="enumerator", areas=(SLICE_AREA,))
        found = await registry_read.slice_for(db, enumerator, "", NOW)
        assert len(found.rows) == SLICE and not found.more, len(found.rows)
        body = msgspec.json.encode(SliceOut(columns=COLUMNS, rows=found.rows, removed=found.removed,
                                            desa={r.area_code: rules.area_name(r.area_code) for r in found.rows},
                                            cursor=found.cursor, more=found.more))
        return statistics.quantiles(times, n=100)[94], statistics.median(times), len(gzip.compress(body, 6)) / 1024
    finally:
        await db.close()


async def prepare(url: str) -> None:
    db = Database(url)
    await db.open()
    try:
        await migrate.migrate(db)
    finally:
        await db.close()


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.sqlite3"
        url = f"sqlite:///{path}"
        asyncio.run(prepare(url))
        start = time.perf_counter()
        generate(path)
        print(f"generated {TOTAL} beneficiaries in {time.perf_counter() - start:.1f} s")
        p95, median, slice_kb = asyncio.run(measure(url))
    print(f"search by name prefix in {SEARCH_AREA}: median {median:.2f} ms, p95 {p95:.2f} ms "
          f"(target <= {P95_TARGET_MS:.0f} ms)")
    print(f"offline copy of {SLICE} beneficiaries: {slice_kb:.1f} KB gzip (target <= {SLICE_TARGET_KB:.0f} KB)")
    ok = p95 <= P95_TARGET_MS and slice_kb <= SLICE_TARGET_KB
    print(f"BENCH registry {p95:.2f} ms slice_kb={slice_kb:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
