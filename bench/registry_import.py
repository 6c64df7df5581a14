"""Benchmark of importing a beneficiary list: a 100,000-row XLSX written as an
office writes it (a title above the header, kecamatan in capitals with "KEC.", NIKs as text and as
numbers, mixed date formats, a few bad rows) is read streaming, checked row by row, compared with the
registry and committed in one transaction on the embedded SQLite database, as `pantau registry
import --commit` does. Target: <= 60 s and <= 300 MB peak RSS. The file is written by a child process
first (not timed, not in the RSS). Run: .venv/bin/python bench/registry_import.py"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from server import clock  # noqa: E402
from server.domain.access import Principal  # noqa: E402
from server.domain.compile import compile_source  # noqa: E402
from server.domain.regions import region_choices  # noqa: E402
from server.settings import Settings  # noqa: E402
from server.storage import forms, migrate  # noqa: E402
from server.storage import registry_import as store  # noqa: E402
from server.storage.db import Database  # noqa: E402
from server.storage.writer import Writer  # noqa: E402

ROWS = 100_000
SECONDS_TARGET, RSS_TARGET_MB = 60.0, 300.0
MONTHS = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
          "November", "Desember")
GROUPS = ("PRSE", "Lanjut Usia", "Fakir Miskin", "Penyandang Disabilitas")


def generate(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    rng = random.Random(28)
    kecamatan = {c.name: c.label["id"] for c in region_choices("kecamatan 64.02")}
    desas = [(c.name, c.label["id"]) for c in region_choices("desa 64.02")]
    # A normal workbook. openpyxl 3.1 writes its strings inline (<is><t>), where Excel writes a
    # shared-string table; domain/xlsx_read reads both (tests/domain/test_xlsx_read.py).
    book = Workbook()
    sheet = book.active
    sheet.title = "Penerima"
    sheet.append(["DAFTAR PENERIMA BANTUAN UEP KABUPATEN KUTAI KARTANEGARA TAHUN 2025"])
    sheet.append([])
    sheet.append(["NO", "NAMA LENGKAP", "NIK", "NO. KK", "L/P", "TGL LAHIR", "KECAMATAN", "DESA/KEL", "KELOMPOK"])
    for n in range(1, rows + 1):
        code, desa = rng.choice(desas)
        woman = rng.random() < 0.6
        born = dt.date(rng.randint(1945, 2000), rng.randint(1, 12), rng.randint(1, 28))
        region = code.replace(".", "")[:6]
        nik = f"{region}{born.day + (40 if woman else 0):02}{born.month:02}{born.year % 100:02}{n % 9999 + 1:04}"
        kk = f"{region}{rng.randint(1, 28):02}{rng.randint(1, 12):02}{rng.randint(10, 24):02}{n % 9999 + 1:04}"
        shown = nik if n % 3 else f"{nik[:6]} {nik[6:12]} {nik[12:]}"
        date = (f"{born.day:02}/{born.month:02}/{born.year}" if n % 2 else f"{born.day} {MONTHS[born.month - 1]} "
                f"{born.year}")
        if n % 50 == 0:
            shown = "6.40206E+15"  # a damaged NIK: an error row
        sheet.append([n, f"PENERIMA {n}", int(nik) if n % 7 == 0 else shown, kk, "P" if woman else "L", date,
                      f"KEC. {kecamatan[code[:8]].upper()}", desa.upper(), rng.choice(GROUPS)])
    book.save(path)


def _cpu() -> float:
    """CPU seconds of this process, all threads (the check's thread and the writer's included): on a
    machine shared with other jobs the wall time says more about them than about the import."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(path: Path, url: str) -> tuple[float, float, int, int]:
    db = Database(url)
    await db.open()
    try:
        await migrate.migrate(db)
        source = (REPO / "forms" / "registrasi_penerima.yaml").read_bytes()
        compiled = compile_source(source, "registrasi_penerima.yaml").compiled
        assert compiled is not None
        await forms.publish(db, compiled, source, "registrasi_penerima.yaml")
        await db.fetch("INSERT INTO pantau_user (id, username, display_name, password_hash, role, created_at) "
                       "VALUES (1, 'ani', 'Ani', 'x', 'staff', {})", clock.now())
        settings = Settings(database_url=url, secret_key="bench-" + "k" * 40)
        principal = Principal(id=1, username="ani", display_name="Ani", role="staff")
        started, cpu = time.perf_counter(), _cpu()
        intake = await store.intake_for(db, "bansos")
        checked = await store.dry_run(db, settings, intake, path)
        upload = store.Upload(file_name=path.name, sha256=store.sha256_of(path), mapping=checked.mapping,
                              with_warnings=True)
        writer = Writer(db)
        await writer.start()
        try:
            outcome = await store.commit(db, writer, settings, intake, checked, upload, principal)
        finally:
            await writer.stop()
        seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu
        stored = int((await db.fetch("SELECT COUNT(*) AS n FROM beneficiary"))[0]["n"])
        assert stored == outcome.created, (stored, outcome)
        return seconds, cpu_seconds, checked.summary.rows, stored
    finally:
        await db.close()


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--generate":
        generate(Path(sys.argv[2]), ROWS)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "penerima_uep_2025.xlsx"
        subprocess.run([sys.executable, __file__, "--generate", str(path)], check=True)
        seconds, cpu_seconds, rows, stored = asyncio.run(run(path, f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ok = seconds <= SECONDS_TARGET and rss_mb <= RSS_TARGET_MB
    print(f"{rows} rows read, checked and {stored} imported; target <= {SECONDS_TARGET:.0f} s and "
          f"<= {RSS_TARGET_MB:.0f} MB: {'met' if ok else 'MISSED'}")
    print(f"BENCH registry_import {seconds:.1f} s rows={rows} rss_mb={rss_mb:.0f} cpu_s={cpu_seconds:.1f} "
          f"load={os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
