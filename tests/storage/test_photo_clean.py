"""A photo is kept as the phone sent it minus its metadata (GPS, maker notes, thumbnail, text), or
scaled in strips and turned upright; a file that is not the image it claims to be is refused with
nothing written. storage/photo_clean and storage/attachments.save, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageOps, ImageStat, PngImagePlugin

from server.errors import PantauError
from server.storage import attachments, blobs, photo_clean, users
from server.storage.db import Database

GPS = {1: "S", 2: (0.0, 30.0, 12.5), 3: "E", 4: (117.0, 9.0, 3.2)}  # a house in Samarinda


def _scene(width: int, height: int) -> Image.Image:
    """Four quadrants of different colours and a gradient: a wrong turn or a seam shows."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    image.paste((220, 30, 30), (0, 0, width // 2, height // 2))
    image.paste((30, 30, 220), (width // 2, height // 2, width, height))
    return image


def _exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "KameraMerek", "Model X"
    if orientation != 1:
        exif[0x0112] = orientation
    exif.get_ifd(0x8825).update(GPS)
    return exif


def _jpeg(image: Image.Image, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, **options)
    return out.getvalue()


def _segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, whole segment) up to the first SOS."""
    found, at = [], 2
    while data[at + 1] != 0xDA:
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        found.append((data[at + 1], data[at:at + 2 + length]))
        at += 2 + length
    return found


def _cleaned(data: bytes, kind: str = "image/jpeg", max_side: int | None = None) -> bytes:
    out = io.BytesIO()
    photo_clean.clean(io.BytesIO(data), kind, out, max_side)
    return out.getvalue()


def test_a_jpeg_keeps_its_bytes_but_loses_gps_maker_notes_thumbnail_comments_and_trailers() -> None:
    picture = _scene(640, 480)
    sent = _jpeg(picture, exif=_exif().tobytes(), comment=b"dekat rumah Pak RT")
    app13 = b"\xff\xed\x00\x10Photoshop 3.0\x00"
    sent = sent[:2] + app13 + sent[2:] + b"%PDF-1.4 a page after the image"
    stored = _cleaned(sent)
    with Image.open(io.BytesIO(stored)) as kept:
        assert not dict(kept.getexif()) and "comment" not in kept.info and "photoshop" not in kept.info
        assert ImageChops.difference(kept.convert("RGB"), Image.open(io.BytesIO(sent)).convert("RGB")).getbbox() is None
    assert b"KameraMerek" not in stored and b"Pak RT" not in stored and b"%PDF" not in stored
    # The same bytes minus the metadata segments and the trailer: the picture's own bytes untouched.
    dropped = [segment for marker, segment in _segments(sent) if marker in (0xE1, 0xED, 0xFE)]
    expected = sent[:sent.rindex(b"\xff\xd9") + 2]
    for segment in dropped:
        expected = expected.replace(segment, b"", 1)
    assert stored == expected


def test_a_sideways_jpeg_keeps_only_its_orientation() -> None:
    stored = _cleaned(_jpeg(_scene(64, 48), exif=_exif(6).tobytes()))
    with Image.open(io.BytesIO(stored)) as kept:
        assert dict(kept.getexif()) == {0x0112: 6} and kept.getexif().get_ifd(0x8825) == {}


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_scaled_photo_is_turned_as_its_exif_says_without_seams(orientation: int) -> None:
    """Scaled in strips of STRIP rows: the result is the picture turned and scaled in one piece."""
    sent = _jpeg(_scene(1200, 900), exif=_exif(orientation).tobytes())
    with Image.open(io.BytesIO(sent)) as original:
        expected = ImageOps.exif_transpose(original).resize(
            (400, 300) if orientation < 5 else (300, 400), Image.Resampling.LANCZOS)
    with Image.open(io.BytesIO(_cleaned(sent, max_side=400))) as scaled:
        assert scaled.size == expected.size and not dict(scaled.getexif())
        difference = ImageStat.Stat(ImageChops.difference(scaled.convert("RGB"), expected)).mean
    assert max(difference) < 4, difference


def test_a_progressive_jpeg_is_kept_with_all_its_scans_or_scaled() -> None:
    """A progressive JPEG has a scan per pass, each followed by its tables: every one walked and kept."""
    sent = _jpeg(_scene(640, 480), progressive=True, exif=_exif().tobytes())
    stored = _cleaned(sent)
    assert b"KameraMerek" not in stored and stored.count(b"\xff\xda") == sent.count(b"\xff\xda") > 1
    with Image.open(io.BytesIO(stored)) as kept:
        assert kept.info.get("progressive") and ImageChops.difference(
            kept.convert("RGB"), Image.open(io.BytesIO(sent)).convert("RGB")).getbbox() is None
    with Image.open(io.BytesIO(_cleaned(sent, max_side=320))) as scaled:
        assert scaled.size == (320, 240) and not scaled.info.get("progressive")


def test_a_grey_jpeg_is_scaled_too() -> None:
    sent = _jpeg(_scene(1000, 800).convert("L"))
    with Image.open(io.BytesIO(_cleaned(sent, max_side=500))) as scaled:
        assert (scaled.size, scaled.mode) == ((500, 400), "L")


def _plain_jpeg(width: int, height: int) -> bytes:
    """A camera-sized JPEG made quickly: one colour (grey beyond 12 MP, to spare the test's memory)."""
    mode, colour = ("RGB", (40, 160, 90)) if width * height <= 12_000_000 else ("L", 128)
    return _jpeg(Image.new(mode, (width, height), colour))


@pytest.mark.parametrize(("size", "limit", "stored"), [
    ((2400, 1800), 1600, (1600, 1200)),  # between one and two times the limit: brightness at full size, 4.3 MP
    ((1800, 2400), 1600, (1200, 1600)),
    ((2592, 1944), 1600, (1600, 1200)),  # a 5 MP camera: 5.04 MP at full size, within LUMA_PIXELS
    ((5184, 3888), 1600, (1600, 1200)),  # a 20 MP camera: 5.04 MP at half scale
    ((4000, 3000), 2000, (2000, 1500)),  # exactly half scale
    ((4000, 3000), 3000, (2000, 1500)),  # 12 MP at full size: kept at half scale, below the limit
    ((2708, 2031), 2600, (1354, 1015)),  # 5.5 MP at full size
    ((6000, 4000), 1600, (1500, 1000)),  # 6 MP at half scale: kept at a quarter
])
def test_a_jpeg_is_scaled_to_its_limit_unless_its_brightness_would_exceed_the_threshold(
        size: tuple[int, int], limit: int, stored: tuple[int, int]) -> None:
    """The limit, when the brightness at the DCT scale that reaches it fits LUMA_PIXELS; else the
    next smaller scale's size, never more than the limit."""
    with Image.open(io.BytesIO(_cleaned(_plain_jpeg(*size), max_side=limit))) as scaled:
        assert scaled.size == stored and max(scaled.size) <= limit


def test_a_webp_beyond_the_limits_is_scaled_as_a_jpeg() -> None:
    sent = io.BytesIO()
    _scene(600, 400).save(sent, "WEBP", quality=90, exif=_exif(6).tobytes())
    with Image.open(io.BytesIO(_cleaned(sent.getvalue(), "image/webp", 300))) as scaled:
        assert (scaled.format, scaled.size) == ("JPEG", (200, 300)) and not dict(scaled.getexif())


@pytest.mark.parametrize("orientation", [1, 6])
def test_a_png_beyond_the_limits_is_turned_and_scaled_in_strips_without_seams(orientation: int) -> None:
    sent = io.BytesIO()
    _scene(1000, 700).convert("RGBA").save(sent, "PNG", exif=_exif(orientation))
    with Image.open(io.BytesIO(sent.getvalue())) as original:
        expected = ImageOps.exif_transpose(original).convert("RGB").resize(
            (500, 350) if orientation == 1 else (350, 500), Image.Resampling.LANCZOS)
    with Image.open(io.BytesIO(_cleaned(sent.getvalue(), "image/png", 500))) as scaled:
        assert scaled.format == "JPEG" and scaled.size == expected.size
        difference = ImageStat.Stat(ImageChops.difference(scaled.convert("RGB"), expected)).mean
    assert max(difference) < 4, difference


def test_a_transparent_png_is_scaled_onto_white() -> None:
    """A signature drawn on a transparent background: its background white, not black, in the JPEG."""
    signature = Image.new("RGBA", (900, 300), (0, 0, 0, 0))
    signature.paste((0, 0, 0, 255), (100, 140, 800, 160))
    sent = io.BytesIO()
    signature.save(sent, "PNG")
    with Image.open(io.BytesIO(_cleaned(sent.getvalue(), "image/png", 450))) as scaled:
        rgb = scaled.convert("RGB")
        assert min(rgb.getpixel((10, 10))) > 245 and max(rgb.getpixel((225, 75))) < 30


def test_a_png_keeps_its_pixels_and_colour_chunks_but_loses_its_text_and_exif() -> None:
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Lokasi", "-0.5035, 117.1509")
    text.add_itxt("Catatan", "rumah Pak RT", zip=True)
    sent = io.BytesIO()
    _scene(64, 48).save(sent, "PNG", pnginfo=text, exif=_exif(), dpi=(300, 300))
    stored = _cleaned(sent.getvalue(), "image/png")
    with Image.open(io.BytesIO(stored)) as kept:
        assert not dict(kept.getexif()) and "Lokasi" not in kept.info and "Catatan" not in kept.info
        assert round(kept.info["dpi"][0]) == 300  # pHYs, a chunk that is kept
        assert ImageChops.difference(kept, _scene(64, 48)).getbbox() is None
    assert b"117.15" not in stored and b"KameraMerek" not in stored


def test_a_webp_loses_its_exif_and_xmp() -> None:
    sent = io.BytesIO()
    _scene(64, 48).save(sent, "WEBP", lossless=True, exif=_exif().tobytes(), xmp=b"<x:xmpmeta>Samarinda</x:xmpmeta>")
    stored = _cleaned(sent.getvalue(), "image/webp")
    assert b"KameraMerek" not in stored and b"Samarinda" not in stored
    with Image.open(io.BytesIO(stored)) as kept:
        assert not dict(kept.getexif())
        assert ImageChops.difference(kept.convert("RGB"), _scene(64, 48)).getbbox() is None


def _png_claiming(width: int, height: int) -> bytes:
    def chunk(name: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + name + data + struct.pack(">I", zlib.crc32(name + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A small JPEG whose frame header says it is width x height."""
    data = bytearray(_jpeg(_scene(64, 48)))
    sof = data.index(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _webp(width: int, height: int) -> bytes:
    out = io.BytesIO()
    _scene(width, height).save(out, "WEBP", quality=80)
    return out.getvalue()


def _damaged_png() -> bytes:
    out = io.BytesIO()
    _scene(64, 48).save(out, "PNG")
    data = bytearray(out.getvalue())
    data[data.index(b"IDAT") + 10] ^= 0xFF  # a bit flipped in the picture: its CRC no longer matches
    return bytes(data)


HOSTILE = {
    "truncated jpeg": (lambda: _jpeg(_scene(640, 480))[:9000], "image/jpeg", None, "attachment.not_image"),
    "truncated jpeg, scaled": (lambda: _jpeg(_scene(640, 480))[:9000], "image/jpeg", 100, "attachment.not_image"),
    "jpeg bomb": (lambda: _jpeg_claiming(60000, 60000), "image/jpeg", 1600, "attachment.not_image"),
    "png 50000 x 50000": (lambda: _png_claiming(50000, 50000), "image/png", None, "attachment.not_image"),
    "png bomb to scale": (lambda: _png_claiming(5000, 5000), "image/png", 1600, "attachment.too_many_pixels"),
    "png over the keeping limit": (lambda: _png_claiming(2100, 2000), "image/png", 1600, "attachment.too_many_pixels"),
    "progressive jpeg over the keeping limit": (lambda: _jpeg(_scene(2100, 2000), progressive=True), "image/jpeg",
                                                1600, "attachment.too_many_pixels"),
    "cmyk jpeg over the keeping limit": (lambda: _jpeg(_scene(2100, 2000).convert("CMYK")), "image/jpeg", 1600,
                                         "attachment.too_many_pixels"),
    "damaged png": (_damaged_png, "image/png", None, "attachment.not_image"),
    "a jpeg without its picture": (lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
                                   b"\xff\xd9", "image/jpeg", None, "attachment.not_image"),
    "webp header only": (lambda: b"RIFF\x04\x00\x00\x00WEBP", "image/webp", None, "attachment.not_image"),
}


def _png_with_text(width: int, height: int) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "dekat rumah Pak RT")
    out = io.BytesIO()
    _scene(width, height).save(out, "PNG", pnginfo=info)
    return out.getvalue()


BETWEEN = {  # beyond the form's limit, too large to decode whole within the memory bound, under KEEP_PIXELS
    "png": (lambda: _png_with_text(1300, 900), "image/png", 1000, (1300, 900)),
    "webp": (lambda: _webp(700, 600), "image/webp", 500, (700, 600)),
    "progressive jpeg": (lambda: _jpeg(_scene(1300, 900), progressive=True, comment=b"dekat rumah Pak RT"),
                         "image/jpeg", 1000, (1300, 900)),
}


@pytest.mark.parametrize("name", sorted(BETWEEN))
def test_a_photo_too_costly_to_scale_is_kept_as_sent_not_refused(name: str) -> None:
    """A screenshot or signature sent through Collect or without JavaScript is not lost for its format:
    between DECODE_PIXELS and KEEP_PIXELS it is kept at its own size, its metadata taken out."""
    make, kind, max_side, size = BETWEEN[name]
    sent = make()
    width, height = size
    decodable = photo_clean.WEBP_DECODE_PIXELS if kind == "image/webp" else photo_clean.DECODE_PIXELS
    assert decodable < width * height <= photo_clean.KEEP_PIXELS and max(size) > max_side
    stored = _cleaned(sent, kind, max_side)
    assert (b"Pak RT" in sent) == (kind != "image/webp") and b"Pak RT" not in stored
    with Image.open(io.BytesIO(stored)) as kept:
        assert kept.size == size and Image.MIME[kept.format or ""] == kind


@pytest.mark.parametrize("name", sorted(HOSTILE))
async def test_a_hostile_file_is_refused_with_nothing_written(name: str, tmp_path: Path, db: Database) -> None:
    make, kind, max_side, code = HOSTILE[name]
    data = make()
    uploader = await users.create(db, "eko", "enumerator", "-")
    with pytest.raises(PantauError) as refused:
        await attachments.save(db, str(tmp_path), io.BytesIO(data), kind, uploader.id, max_side)
    assert refused.value.code == code and 400 <= refused.value.status < 500
    assert not await db.fetch("SELECT sha256 FROM attachment")
    if blobs.in_database(db.url):
        assert not await db.fetch("SELECT sha256 FROM blob") and not await db.fetch("SELECT sha256 FROM blob_chunk")
    else:
        assert [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("kind", ["image/jpeg", "image/png"])
def test_a_truncated_photo_to_scale_is_refused_also_where_weasyprint_allows_truncated_images(
        kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """WeasyPrint sets Pillow's LOAD_TRUNCATED_IMAGES on import, for the whole process: a node that
    has made a report would otherwise scale a cut photo, its missing part grey."""
    import weasyprint  # noqa: F401  (what a report-making node has imported)
    from PIL import ImageFile

    assert ImageFile.LOAD_TRUNCATED_IMAGES
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", True)
    out = io.BytesIO()
    _scene(640, 480).save(out, "JPEG" if kind == "image/jpeg" else "PNG")
    cut = out.getvalue()[: len(out.getvalue()) * 2 // 3]
    with pytest.raises(PantauError) as refused:
        photo_clean.clean(io.BytesIO(cut), kind, io.BytesIO(), 100)
    assert refused.value.code == "attachment.not_image"
