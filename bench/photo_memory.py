"""What storing one phone-camera photo costs a node in memory: a JPEG of about 5 MB (4000 x 3000,
the size of a 12-megapixel camera's picture, with texture so JPEG keeps it large) handed to
storage/attachments.save as the web layer hands it over (the request body spooled to a file), as
the API and ODK Collect store it (within the limits: kept as sent, its metadata taken out), as a
post without JavaScript stores it (scaled to the form's 1600 px), and the phone's own 1600 px photo.
Each is measured in a fresh process: the growth of its resident memory (the kernel's high-water
mark VmHWM, reset just before, and RSS sampled every half millisecond; it counts Pillow's pixel
buffers, allocated outside Python's allocator) from just before the photo is stored, and
tracemalloc's peak over the same span; and the stored size against the sent size.
With --http the same photo goes through a real `pantau serve` process (one worker) the way clients
send it, and the growth of that process's resident memory is read from /proc: the API's body,
a post without JavaScript (multipart, scaled to 1600 px) and ODK Collect's multipart submission
(full size, scaled to 1600 px).
`.venv/bin/python bench/photo_memory.py [--db URL] [--http]`; prints one BENCH line."""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def camera_photo(width: int = 4000, height: int = 3000, quality: int = 95) -> bytes:
    """Noise blurred a little, three channels differently arranged: a photo-like JPEG of about 5 MB."""
    from PIL import Image, ImageFilter

    noise = Image.effect_noise((width, height), 45).filter(ImageFilter.GaussianBlur(1.1))
    scene = Image.merge("RGB", (noise, noise.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
                                noise.transpose(Image.Transpose.FLIP_TOP_BOTTOM)))
    for x, (r, g, b) in enumerate(zip(*[iter(os.urandom(24))] * 3, strict=True)):  # effect_noise repeats per process
        scene.putpixel((x, 0), (r, g, b))
    out = io.BytesIO()
    scene.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _high_water() -> int:
    """VmHWM: the most resident memory since the last reset, counting Pillow's own allocations."""
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def _sample(into: list[int], done: threading.Event) -> None:
    """RSS every half millisecond: the kernel's high-water mark is not kept up to date for memory
    that malloc hands back to it (it keeps the arena of a worker thread), so both are read."""
    while not done.wait(0.0005):
        into.append(_rss_now())


def _reset_high_water() -> None:
    with open("/proc/self/clear_refs", "w") as refs:
        refs.write("5")  # the kernel's high-water mark (VmHWM) starts again at the present RSS


def _rss_now() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _as_kind(data: bytes, kind: str) -> bytes:
    """A small JPEG written as `kind`, to warm up that kind's plugin."""
    from PIL import Image

    if kind == "image/jpeg":
        return data
    out = io.BytesIO()
    Image.open(io.BytesIO(data)).save(out, {"image/png": "PNG", "image/webp": "WEBP"}[kind])
    return out.getvalue()


async def _measure(database_url: str, data_dir: str, photo: str, max_side: int | None,
                   kind: str = "image/jpeg") -> dict[str, int]:
    from PIL import Image

    from server.storage import attachments, users
    from server.storage.db import Database

    db = Database(database_url)
    await db.open()
    try:
        uploader = await users.create(db, f"foto-{Path(photo).stem}-{os.getpid()}", "enumerator", "-")
        # Warm up with a small photo first: Pillow's plugins, the worker thread and the database's
        # statements are loaded once per process, not per photo.
        for warm_kind in {"image/jpeg", kind}:
            await attachments.save(db, data_dir, io.BytesIO(_as_kind(camera_photo(64, 48), warm_kind)), warm_kind,
                                   uploader.id, max_side)
            await attachments.save(db, data_dir, io.BytesIO(_as_kind(camera_photo(96, 64), warm_kind)), warm_kind,
                                   uploader.id, 48)
        _reset_high_water()
        before = _rss_now()
        sampled, done = [before], threading.Event()
        sampler = threading.Thread(target=_sample, args=(sampled, done))
        sampler.start()
        tracemalloc.start()
        with open(photo, "rb") as spooled:  # noqa: ASYNC230 - as the web layer hands it over: a spooled file
            digest = await attachments.save(db, data_dir, spooled, kind, uploader.id, max_side)
            sent = attachments.size_of(spooled)
        _, traced_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        done.set()
        sampler.join()
        peak = max(_high_water(), max(sampled))
        stored = attachments.stored_bytes(data_dir, digest, database_url)
        with Image.open(io.BytesIO(stored)) as image:
            width, height, kind = image.width, image.height, image.format
        return {"rss_growth": peak - before, "traced_peak": traced_peak, "stored": len(stored),
                "sent": sent,
                "width": width, "height": height, "jpeg": int(kind == "JPEG")}
    finally:
        await db.close()


def measure(database_url: str, data_dir: str, photo: Path, max_side: int | None,
            kind: str = "image/jpeg") -> dict[str, int]:
    """The figures of one store, from a fresh process (ru_maxrss is a high-water mark for life)."""
    code = ("import asyncio, json, sys; sys.path.insert(0, sys.argv[1]); from bench.photo_memory import _measure; "
            "print(json.dumps(asyncio.run(_measure(sys.argv[2], sys.argv[3], sys.argv[4], "
            "int(sys.argv[5]) or None, sys.argv[6]))))")
    root = str(Path(__file__).resolve().parents[1])
    out = subprocess.run([sys.executable, "-c", code, root, database_url, data_dir, str(photo), str(max_side or 0),
                          kind], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _process_rss(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()


def _process_high_water(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))


def _grown(pid: int, send: Any) -> tuple[int, Any]:
    """(growth of the server process's resident memory while `send()` runs, its response)."""
    for _ in range(3):  # let the last request's memory settle first
        time.sleep(0.2)
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")
    before = _process_rss(pid)
    sampled, done = [before], threading.Event()

    def sample() -> None:
        while not done.wait(0.0005):
            sampled.append(_process_rss(pid))

    sampler = threading.Thread(target=sample)
    sampler.start()
    try:
        response = send()
    finally:
        done.set()
        sampler.join()
    return max(_process_high_water(pid), max(sampled)) - before, response


FORM = b"""
settings: {id: uji_foto, version: "1", title: {id: Uji foto, en: Photo test}}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}, required: yes}
  - {type: image, name: foto, label: {id: Foto, en: Photo}}
"""


def http_paths(database_url: str, work: Path) -> dict[str, int]:
    """Each path's growth of a live `pantau serve` process, storing a fresh 5 MB camera photo."""
    import httpx

    from server.domain.compile import compile_source
    from server.domain.users import hash_password
    from server.settings import Settings
    from server.storage import forms, users
    from server.storage.db import Database
    from tests.openrosa_fill import instance_xml, xform_of
    from tests.serving import serve
    from tests.web.live import node

    password = "kata-sandi-bench-1"
    compiled = compile_source(FORM, "uji_foto.yaml").compiled
    assert compiled is not None
    user = f"foto{os.getpid()}"

    async def prepared() -> None:
        db = Database(database_url)
        await db.open()
        try:
            await users.create(db, user, "enumerator", hash_password(password), "Foto", ("64.02.06",))
            if not await db.fetch("SELECT 1 AS yes FROM form WHERE form_id = 'uji_foto'"):
                await forms.publish(db, compiled, FORM, "uji_foto.yaml")
        finally:
            await db.close()

    asyncio.run(prepared())
    settings = Settings(database_url=database_url, data_dir=str(work / "data"), secret_key="b" * 48)
    live = node(settings, work, PANTAU_WORKERS="1", PANTAU_LOG_LEVEL="WARNING")
    figures: dict[str, int] = {}
    with serve([sys.executable, "-m", "server.cli.main", "serve"], live.env, live.url, live.log, cwd=work) as server, \
            httpx.Client(base_url=live.url, timeout=120) as client:
        client.get("/masuk")
        token = client.cookies["csrftoken"]
        client.post("/masuk", data={"username": user, "password": password, "_csrf_token": token})
        client.get("/")
        token = client.cookies["csrftoken"]  # a session's own token after signing in
        basic = httpx.BasicAuth(user, password)

        def photo(name: str) -> Path:
            path = work / f"{name}.jpg"
            path.write_bytes(camera_photo())
            return path

        def chunks(path: Path) -> Any:
            with open(path, "rb") as fh:
                while piece := fh.read(64 * 1024):
                    yield piece

        def api(path: Path) -> Any:
            return client.post("/api/v1/attachments", content=chunks(path), headers={
                "x-csrftoken": token, "content-type": "image/jpeg", "content-length": str(path.stat().st_size)})

        def page(path: Path) -> Any:
            with open(path, "rb") as fh:
                return client.post("/f/uji_foto", data={"_csrf_token": token, "_id": str(uuid.uuid4()), "_versi": "1"},
                                   files={"foto": ("kamera.jpg", fh, "image/jpeg")})

        def collect(path: Path) -> Any:
            xml = instance_xml(xform_of(compiled), {"nama": "Foto", "foto": "kamera.jpg"}, uuid.uuid4())
            with open(path, "rb") as fh:
                return client.post("/submission", auth=basic, headers={"X-OpenRosa-Version": "1.0"},
                                   files=[("xml_submission_file", ("submission.xml", xml, "text/xml")),
                                          ("kamera.jpg", ("kamera.jpg", fh, "image/jpeg"))])

        for name, send, status in (("api", api, 201), ("page", page, 422), ("collect", collect, 201)):
            warm = work / f"warm-{name}.jpg"  # the path's first request loads templates, the XForm, ...
            warm.write_bytes(camera_photo(1800, 1200))  # scaled too, in far smaller buffers than the photo's
            warmed = send(warm)
            assert warmed.status_code == status, warmed.text[-500:]
            big = photo(name)
            figures[name], response = _grown(server.pid, lambda send=send, big=big: send(big))
            assert response.status_code == status, response.text[-500:]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="", help="database URL (default: a fresh SQLite file)")
    parser.add_argument("--http", action="store_true", help="through a live `pantau serve` process")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        database_url = args.db or f"sqlite:///{work}/pantau.sqlite3"
        if True:  # migrate() is idempotent: a fresh SQLite file, or a PostgreSQL database as it is
            from server.storage import migrate
            from server.storage.db import Database

            async def migrated() -> None:
                db = Database(database_url)
                await db.open()
                try:
                    await migrate.migrate(db)
                finally:
                    await db.close()
            asyncio.run(migrated())
        if args.http:
            grown = http_paths(database_url, Path(work))
            engine = "sqlite" if database_url.startswith("sqlite") else "postgres"
            mb = 1024 * 1024
            print(f"BENCH photo_memory_http {max(grown.values()) / mb:.1f} MB db={engine} "
                  + " ".join(f"{name}_rss_mb={value / mb:.1f}" for name, value in grown.items()))
            return
        figures = {}
        for name, side, size, quality in (("full", None, (4000, 3000), 95), ("scaled", 1600, (4000, 3000), 95),
                                          ("phone", None, (1600, 1200), 80)):
            photo = Path(work) / f"{name}.jpg"
            photo.write_bytes(camera_photo(*size, quality))  # a different photo each time: a digest is stored once
            figures[name] = measure(database_url, f"{work}/data", photo, side)
            print(name, figures[name], flush=True)
    mb = 1024 * 1024
    full, scaled, phone = figures["full"], figures["scaled"], figures["phone"]
    engine = "sqlite" if database_url.startswith("sqlite") else "postgres"
    worst = max(f["rss_growth"] for f in figures.values())
    print(f"BENCH photo_memory {worst / mb:.1f} MB db={engine} photo_mb={full['sent'] / mb:.2f} "
          f"full_rss_mb={full['rss_growth'] / mb:.1f} full_traced_mb={full['traced_peak'] / mb:.1f} "
          f"full_stored_mb={full['stored'] / mb:.2f} "
          f"scaled_rss_mb={scaled['rss_growth'] / mb:.1f} scaled_traced_mb={scaled['traced_peak'] / mb:.1f} "
          f"scaled_stored_mb={scaled['stored'] / mb:.2f} "
          f"phone_mb={phone['sent'] / mb:.2f} phone_rss_mb={phone['rss_growth'] / mb:.1f} "
          f"phone_stored_mb={phone['stored'] / mb:.2f}")


if __name__ == "__main__":
    main()
