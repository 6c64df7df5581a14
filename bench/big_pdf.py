"""What a photo-heavy report edition of about 50 MB costs the node that stores it and the node that
serves it, in memory. The PDF (one camera photo per page, as DCT images, about 4.7 MB each) is
written to a file in the data directory's tmp folder as the renderer worker leaves it, then archived
the way the worker archives it (storage/reports.store_pdf_file: a blob of 1 MiB rows on PostgreSQL,
a file renamed into place on SQLite) in a fresh process whose resident memory is measured (VmHWM
reset just before, RSS sampled every half millisecond), after a small edition warmed the path up.
The edition is then downloaded from a real `pantau serve` (one process, /laporan/edisi/ID/unduh,
streamed) and the growth of that process's resident memory read from /proc the same way.

The renderer's own WeasyPrint layout is held in memory by nature (bench/report.py measures the
worker's peak for the quarterly report); the target here is the node storing and serving the edition:
under 10 MB each, whatever the PDF's size.
`.venv/bin/python bench/big_pdf.py [sqlite|postgres] [--mb 50]`; prints one BENCH line."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import REPO, Server, run, serving
from photo_memory import _grown, _high_water, _reset_high_water, _rss_now, camera_photo

MB = 1024 * 1024
FORM = b"""
settings: {id: uji_lapor, version: "1", title: {id: Uji laporan}}
fields:
  - {type: text, name: nama, label: {id: Nama}, required: yes}
"""


def write_pdf(path: Path, size: int, photo: bytes) -> str:
    """A valid PDF of at least `size` bytes, one page per copy of the photo; returns its sha256."""
    pages = max(1, -(-size // len(photo)))
    offsets: list[int] = []
    digest = hashlib.sha256()
    with open(path, "wb") as out:
        def put(data: bytes) -> None:
            digest.update(data)
            out.write(data)

        def obj(number: int, body: bytes, stream: bytes | None = None) -> None:
            offsets.append(out.tell())
            put(f"{number} 0 obj\n".encode() + body)
            if stream is not None:
                put(b"\nstream\n")
                put(stream)
                put(b"\nendstream")
            put(b"\nendobj\n")

        put(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        kids = " ".join(f"{3 + 3 * i} 0 R" for i in range(pages))
        obj(1, b"<< /Type /Catalog /Pages 2 0 R >>")
        obj(2, f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode())
        for i in range(pages):
            page, content, image = 3 + 3 * i, 4 + 3 * i, 5 + 3 * i
            obj(page, (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents {content} 0 R "
                       f"/Resources << /XObject << /Im{i} {image} 0 R >> >> >>").encode())
            draw = f"q 555 0 0 416 20 400 cm /Im{i} Do Q".encode()
            obj(content, f"<< /Length {len(draw)} >>".encode(), draw)
            obj(image, (f"<< /Type /XObject /Subtype /Image /Width 4000 /Height 3000 /ColorSpace /DeviceRGB "
                        f"/BitsPerComponent 8 /Filter /DCTDecode /Length {len(photo)} >>").encode(), photo)
        start = out.tell()
        table = "".join(f"{o:010d} 00000 n \n" for o in offsets)
        put(f"xref\n0 {len(offsets) + 1}\n0000000000 65535 f \n{table}".encode())
        put(f"trailer\n<< /Size {len(offsets) + 1} /Root 1 0 R >>\nstartxref\n{start}\n%%EOF\n".encode())
    return digest.hexdigest()


def _store_child(data_dir: str, url: str, files: list[str]) -> dict[str, Any]:
    """In a fresh process, as the renderer worker archives an edition: each PDF file stored under its
    sha256; the last one measured. Then the run and its editions recorded for the server to serve."""
    from server.storage import reports as store

    def archive(name: str) -> tuple[str, int]:
        path = Path(name)
        digest = hashlib.sha256()
        with open(path, "rb") as fh:  # the worker has the digest from writing it; hashed here outside the count
            while piece := fh.read(MB):
                digest.update(piece)
        size = path.stat().st_size
        store.store_pdf_file(data_dir, path, digest.hexdigest(), url)
        path.unlink(missing_ok=True)
        return digest.hexdigest(), size

    stored = [archive(name) for name in files[:-1]]  # the warm-up: imports, the connection's first use
    last = files[-1]
    digest = hashlib.sha256()
    with open(last, "rb") as fh:
        while piece := fh.read(MB):
            digest.update(piece)
    sha, size = digest.hexdigest(), os.path.getsize(last)
    sampled, done = [_rss_now()], threading.Event()
    _reset_high_water()
    before = _rss_now()

    def sample() -> None:
        while not done.wait(0.0005):
            sampled.append(_rss_now())

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        store.store_pdf_file(data_dir, Path(last), sha, url)
    finally:
        done.set()
        sampler.join()
    growth = max(_high_water(), max(sampled)) - before
    Path(last).unlink(missing_ok=True)
    stored.append((sha, size))
    ids = asyncio.run(_record(url, stored))
    return {"store_rss_growth": growth, "editions": ids, "sha256": sha, "size": size}


async def _record(url: str, stored: list[tuple[str, int]]) -> list[int]:
    from server.storage.db import Database

    db = Database(url)
    await db.open()
    try:
        now = dt.datetime.now(dt.UTC)
        made = await db.fetch("INSERT INTO report_run (report, period, scope, status, include_all, scheduled, "
                              "requested_at) VALUES ('monev_triwulan', '2026-Q3', '64.02.06', 'ready', {}, {}, {}) "
                              "RETURNING id", False, False, now)
        run_id, ids = int(made[0]["id"]), []
        for number, (sha, size) in enumerate(stored, start=1):
            row = await db.fetch("INSERT INTO report_edition (run, edition, sha256, size, pages, include_all, "
                                 "created_at) VALUES ({}, {}, {}, {}, {}, {}, {}) RETURNING id",
                                 run_id, number, sha, size, 1, False, now)
            ids.append(int(row[0]["id"]))
        return ids
    finally:
        await db.close()


def _download(server: Server, edition: int) -> tuple[str, int]:
    """The edition read a megabyte at a time and hashed: (sha256, size)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(server.cookies))
    digest, size = hashlib.sha256(), 0
    with opener.open(server.url + f"/laporan/edisi/{edition}/unduh", timeout=300) as response:
        while piece := response.read(MB):
            digest.update(piece)
            size += len(piece)
    return digest.hexdigest(), size


def measure(kind: str = "sqlite", size: int = 50 * MB) -> dict[str, Any]:
    photo = camera_photo()
    with tempfile.TemporaryDirectory() as work:
        form = Path(work) / "uji_lapor.yaml"
        form.write_bytes(FORM)
        with serving(kind, forms=(str(form),), extra_env={"PANTAU_WORKERS": "1"}) as server:
            run("users", "add", "ani", "--role", "staff", "--areas", "64.02.06", "--password-env", "BENCH_PW",
                env=server.env, cwd=server.workdir)
            tmp = Path(server.env["PANTAU_DATA_DIR"]) / "tmp"
            tmp.mkdir(parents=True, exist_ok=True, mode=0o700)
            small, big = tmp / "report-warm.pdf", tmp / "report-big.pdf"
            write_pdf(small, 1, camera_photo(800, 600))
            sha = write_pdf(big, size, photo)
            child = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--store-child", server.env["PANTAU_DATA_DIR"],
                 server.database_url, str(small), str(big)],
                env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True, timeout=600, check=False)
            if child.returncode != 0:
                raise SystemExit(f"storing failed: {child.stderr[-2000:]}")
            stored = json.loads(child.stdout.strip().splitlines()[-1])
            assert stored["sha256"] == sha
            server.sign_in("ani")
            warm, edition = stored["editions"]
            _download(server, warm)  # the route, the template of its headers, the database's statements
            growth, (got, got_size) = _grown(server.pid, lambda: _download(server, edition))
            assert (got, got_size) == (sha, stored["size"]), (got, got_size, stored)
            return {"size": stored["size"], "store_rss_growth": stored["store_rss_growth"], "serve_rss_growth": growth}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--store-child":
        data_dir, url, *files = sys.argv[2:]
        print(json.dumps(_store_child(data_dir, url, files)))
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("db", nargs="?", default="sqlite", choices=("sqlite", "postgres"))
    parser.add_argument("--mb", type=float, default=50, help="the edition's size in MB (default 50)")
    args = parser.parse_args()
    figures = measure(args.db, int(args.mb * MB))
    peak = max(figures["store_rss_growth"], figures["serve_rss_growth"])
    print(f"BENCH big_pdf {peak / MB:.1f} MB db={args.db} pdf_mb={figures['size'] / MB:.1f} "
          f"store_rss_mb={figures['store_rss_growth'] / MB:.1f} serve_rss_mb={figures['serve_rss_growth'] / MB:.1f}")


if __name__ == "__main__":
    main()
