"""What storing a camera photo costs a node in memory, measured in a fresh process by
bench/photo_memory.py (the kernel's resident high-water mark, which counts Pillow's pixel buffers),
and the photo stored upright at the size the rules give it."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from bench.photo_memory import camera_photo, measure
from server.storage import attachments, users
from server.storage.db import Database

WIDTH, HEIGHT = 4000, 3000
FULL_RASTER = WIDTH * HEIGHT * 4  # the photo decoded at full size: Pillow keeps RGB in 4 bytes a pixel, 48 MB


def test_a_5_mb_camera_photo_scaled_for_a_form_is_never_decoded_at_full_size(tmp_path: Path,
                                                                               database_url: str) -> None:
    photo = tmp_path / "scaled.jpg"
    photo.write_bytes(camera_photo(WIDTH, HEIGHT))
    assert 4 * 2**20 < photo.stat().st_size <= 5 * 2**20  # a 5 MB photo, within max_attachment_bytes
    figures = measure(database_url, str(tmp_path / "data"), photo, attachments.PHONE_SIDE)
    assert (figures["width"], figures["height"], figures["jpeg"]) == (1600, 1200, 1)
    # Decoded at half scale from the JPEG's coefficients (12 MB of pixels): the whole process grew by
    # less than the full-size raster alone would take (33 MB here). Storing it before took 123 MB.
    assert figures["rss_growth"] < FULL_RASTER, figures


def test_a_5_mb_camera_photo_kept_at_full_size_is_decoded_once_and_not_copied(tmp_path: Path,
                                                                             database_url: str) -> None:
    photo = tmp_path / "full.jpg"
    photo.write_bytes(camera_photo(WIDTH, HEIGHT))
    figures = measure(database_url, str(tmp_path / "data"), photo, None)
    assert (figures["width"], figures["height"], figures["jpeg"]) == (WIDTH, HEIGHT, 1)
    # One full-size raster must exist to encode it afresh (55 MB in all here, with the photo's bytes and
    # the new JPEG); a second copy (the upright copy of an upright photo, as before: 101 MB) would not fit.
    assert figures["rss_growth"] < 1.5 * FULL_RASTER, figures


def _turned(width: int, height: int) -> bytes:
    """A JPEG stored sideways, with EXIF orientation 6 (shown turned 90 degrees clockwise), its left
    half dark."""
    image = Image.new("RGB", (width, height), (250, 250, 250))
    image.paste((0, 0, 0), (0, 0, width // 2, height))
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif.tobytes())
    return out.getvalue()


async def test_a_sideways_photo_is_stored_upright_without_its_exif_scaled_or_not(tmp_path: Path,
                                                                                 db: Database) -> None:
    uploader = await users.create(db, "dewi", "enumerator", "-")
    data = _turned(3200, 2400)
    for max_side, size in ((None, (2400, 3200)), (1600, (1200, 1600))):
        digest = await attachments.save(db, str(tmp_path), data, "image/jpeg", uploader.id, max_side)
        stored = attachments.stored_bytes(str(tmp_path), digest, db.url)
        with Image.open(io.BytesIO(stored)) as image:
            assert image.size == size
            assert 0x0112 not in image.getexif()
            top, bottom = image.getpixel((size[0] // 2, 10)), image.getpixel((size[0] // 2, size[1] - 10))
        assert isinstance(top, tuple) and isinstance(bottom, tuple)
        assert top[0] < 30 and bottom[0] > 220  # turned as shown: the dark half on top
        data = data + b"\x00"  # the same photo sent again differently: a new digest, encoded afresh
