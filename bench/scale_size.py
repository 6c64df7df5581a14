"""What one node and one PostgreSQL carry, for docs/scaling.md: submit_load's registrations
(registrasi_penerima, each a new person, 50 wrk connections) against `pantau serve` on PostgreSQL,
measuring the PostgreSQL backends' CPU per registration (utime+stime of the server's connections,
from /proc), the database bytes per registration (every table but the blobs), and the bytes a phone
photo costs as a blob (photos of 1600 x 1200 px, as the phone's runtime scales them, with texture
like a real scene so JPEG compresses them as it would a photo, uploaded through the API).
`make bench NAME=scale_size`; prints one BENCH line. Runs short: the per-registration figures are
extrapolated to 100,000 in docs/scaling.md (said so there)."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import serving, wrk
from submit_load import body_template, lua_script, stored_rows

TICKS = os.sysconf("SC_CLK_TCK")


def phone_photo(seed: int) -> bytes:
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((1600, 1200), 60 + seed % 20).filter(ImageFilter.GaussianBlur(1.2))
    mirrored = noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    scene = Image.merge("RGB", (noise, noise.rotate(90, expand=False), mirrored))
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=80)  # the runtime's canvas.toBlob quality
    return out.getvalue()


def backend_cpu_s(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICKS


async def _query(url: str, sql: str) -> list[dict[str, object]]:
    from server.storage.db import Database

    db = Database(url)
    await db.open()
    try:
        return [dict(r) for r in await db.fetch(sql)]
    finally:
        await db.close()


def measure(seconds: int, photos: int, workers: int) -> str:
    with serving("postgres", extra_env={"PANTAU_WORKERS": str(workers)}) as server:
        server.sign_in("citra")
        url = server.database_url
        blob_before = _blob_bytes(url)
        sizes = []
        for n in range(photos):
            data = phone_photo(n)
            sizes.append(len(data))
            server.open("/api/v1/attachments", data, {"content-type": "image/jpeg",
                                                      "x-csrftoken": server.cookie("csrftoken")})
        per_photo = (_blob_bytes(url) - blob_before) / photos
        template = body_template(server.upload_photo())
        rows_before = _table_bytes(url)
        pids = [int(r["pid"]) for r in asyncio.run(_query(url, f"SELECT pid FROM pg_stat_activity WHERE datname = "
                                                                f"'{url.rsplit('/', 1)[1]}'"))]
        cpu_before = backend_cpu_s(pids)
        result = wrk(server.url, lua_script(server, "/api/v1/submissions", template, 1), connections=50,
                     seconds=seconds)
        cpu = backend_cpu_s(pids) - cpu_before
        rows, _, people = asyncio.run(stored_rows(url))
        per_row = (_table_bytes(url) - rows_before) / max(rows, 1)
    return (f"BENCH scale_size {result.requests_per_s:.0f} sub/s db=postgres workers={workers} registrations={rows} "
            f"beneficiaries={people} pg_cpu_ms_per_registration={cpu * 1000 / max(rows, 1):.2f} "
            f"db_bytes_per_registration={per_row:.0f} blob_bytes_per_photo={per_photo:.0f} "
            f"photo_jpeg_bytes={sum(sizes) / len(sizes):.0f} p99_ms={result.p99_ms:.0f} seconds={seconds}")


def _blob_bytes(url: str) -> int:
    rows = asyncio.run(_query(url, "SELECT pg_total_relation_size('blob_chunk') + pg_total_relation_size('blob') AS n"))
    return int(str(rows[0]["n"]))


def _table_bytes(url: str) -> int:
    """Every table but the blobs, with indexes and TOAST, after a CHECKPOINT-free VACUUM-free read."""
    rows = asyncio.run(_query(url, "SELECT sum(pg_total_relation_size(c.oid))::bigint AS n FROM pg_class c "
                                   "JOIN pg_namespace s ON s.oid = c.relnamespace WHERE s.nspname = 'public' "
                                   "AND c.relkind = 'r' AND c.relname NOT IN ('blob', 'blob_chunk')"))
    return int(str(rows[0]["n"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--photos", type=int, default=10)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    print(json.dumps(vars(args)), file=sys.stderr)
    print(measure(args.seconds, args.photos, args.workers), flush=True)


if __name__ == "__main__":
    main()
