"""A photo made fit to keep, read and written a chunk at a time: a node's memory never holds the
photo whole, nor (for a camera photo) its pixels at full size.

Within the limits (the form's max_pixels for the no-JavaScript post and ODK Collect, MAX_PIXELS
always) the phone's bytes are kept as they are, with the metadata taken out segment by segment:
in a JPEG every APPn segment but JFIF (its thumbnail dropped), the ICC colour profile and Adobe's
colour transform, and every comment; in a PNG every ancillary chunk but the colour ones (tRNS, gAMA,
cHRM, sRGB, iCCP, sBIT, pHYs, bKGD, cICP); in a WebP its EXIF and XMP chunks. That removes the GPS
position, the camera's maker notes, the embedded thumbnail (which may show the picture before it
was cropped) and any text. A JPEG's orientation is kept as a new EXIF segment of that one tag
(32 bytes), because turning the picture would mean decoding it whole; browsers and WeasyPrint
turn it as shown. The structure is checked while it is copied (segment lengths, PNG CRCs, a JPEG
must end with EOI), never the pixels, and nothing after the image's end is kept.

Beyond the limits a JPEG is scaled with libjpeg's DCT scaling (Image.draft): the brightness decoded
at the nearest scale of 1/2, 1/4 or 1/8 no smaller than the target, one byte a pixel, the colour at
the scale that gives at least half the target (a 4:2:0 JPEG keeps colour at half size anyway),
and the result is encoded in strips of STRIP rows joined as one baseline JPEG by restart markers,
so the full-size raster of the result is never held either. A 12-megapixel photo scaled to
1600 px costs about 6 MB. When the brightness at that scale would exceed LUMA_PIXELS (a limit
between two scales: max_pixels 3000 for a 4000 x 3000 photo needs it at full size, 12 MB), the next
smaller scale whose brightness fits is taken instead and the photo is kept at that scale's size,
smaller than the limit (2000 x 1500 there). LUMA_PIXELS spares the photos the rule was not made for:
up to 5.1 megapixels of brightness (2400 x 1800 or a 5-megapixel camera's 2592 x 1944 at full scale,
a 20-megapixel camera's at half) a photo still comes out at the limit, the usual 1600 px. PNG and
WebP have no such scaling: they are decoded whole, then scaled, turned and encoded in the same
strips (a transparent picture shown on white), up to DECODE_PIXELS, as are a CMYK JPEG and a
progressive one (libjpeg holds all of a progressive JPEG's coefficients, 3 bytes a pixel at 4:2:0, 6
at 4:4:4, whatever the scale). Beyond that and up to KEEP_PIXELS such a photo is kept as it was sent
(metadata stripped, copied a chunk at a time), larger than the form's limit: a screenshot or a
signature sent through ODK Collect or without JavaScript is never lost for its format. Beyond
KEEP_PIXELS it is refused (attachment.too_many_pixels).
The phone's runtime always sends a baseline JPEG of at most 1600 px, so neither rule touches its
photos."""

from __future__ import annotations

import ctypes
import io
import math
import struct
import warnings
import zlib
from typing import Any, BinaryIO

from PIL import Image

from server.errors import PantauError

CHUNK = 1 << 16
# A phone photo is at most a few megapixels (the runtime scales to 1600 px); far more is a
# decompression bomb, refused before anything is decoded.
MAX_PIXELS = 40_000_000
# A PNG, WebP, CMYK or progressive JPEG beyond the limits is decoded whole (4 bytes a pixel; a
# progressive JPEG also keeps its coefficients, 3 to 6 bytes a pixel) to be scaled: at most this
# many, so that it costs a node less than 10 MB (tests/storage/test_photo_memory.py).
DECODE_PIXELS = 1_100_000
# Pillow's WebP decoder reads the whole file and holds the picture three times over (libwebp's
# canvas, the bytes it hands over and the image), 12 bytes a pixel: a third as many.
WEBP_DECODE_PIXELS = DECODE_PIXELS // 3
# Beyond the decoding limits such a photo is kept as sent up to this many pixels (a phone's 1080 x 2400
# screenshot is 2.6 MP): storing it costs a chunk, and a report's renderer decodes at most 16 MB of it.
KEEP_PIXELS = 4_000_000
# A baseline JPEG's brightness is decoded at one byte a pixel, its colour planes beside it (a quarter
# of that each at worst) and the strips: at most this many pixels of brightness (under 10 MB in all,
# measured), else the next smaller DCT scale is taken and the photo comes out smaller than the limit.
LUMA_PIXELS = 5_100_000
QUALITY = 85  # a scaled photo; the phone's runtime encodes at 0.8 (static/js/form.js)
STRIP = 64  # rows of the scaled photo encoded at a time: a multiple of the 16-row 4:2:0 MCU (128 cost
# 1.3 MB more for a limit of 2500 px)

_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}
_ORIENTATION = 0x0112


class _Bad(Exception):
    """The bytes are not the image they claim to be."""


def clean(source: BinaryIO, kind: str, out: BinaryIO, max_side: int | None = None) -> str:
    """Write the photo in `source` (kind as sniffed from its bytes) to `out` as it is to be kept;
    returns the stored content type. attachment.not_image when it is not that image,
    attachment.too_many_pixels when a PNG, WebP, CMYK or progressive JPEG beyond the limits has more
    than KEEP_PIXELS (between DECODE_PIXELS and that it is kept as sent)."""
    try:
        source.seek(0)
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(source, formats=[_FORMATS[kind]]) as opened:  # reads the header only
                width, height, mode = opened.width, opened.height, opened.mode
                args = opened.tile[0][3] if opened.tile else None
                jpeg_colour = kind == "image/jpeg" and isinstance(args, tuple) and args[0] in ("RGB", "L")
                orientation = int(opened.getexif().get(_ORIENTATION, 1)) if kind == "image/jpeg" else 1
                whole = not jpeg_colour or bool(opened.info.get("progressive"))
        if width < 1 or height < 1 or width * height > MAX_PIXELS:
            raise _Bad
        source.seek(0)
        if max_side is None or max(width, height) <= max_side:
            _KEEP[kind](source, out, orientation if orientation in _TRANSPOSE else 1)
            return kind
        decodable = WEBP_DECODE_PIXELS if kind == "image/webp" else DECODE_PIXELS
        if whole and width * height > decodable:
            if width * height > KEEP_PIXELS:
                raise PantauError("attachment.too_many_pixels", megapixels=round(width * height / 1e6, 1),
                                  limit=round(KEEP_PIXELS / 1e6, 1), side=max_side)
            _KEEP[kind](source, out, orientation if orientation in _TRANSPOSE else 1)  # too costly to scale
            return kind
        # The structure is walked as for a kept photo first: Pillow pads a truncated picture with grey
        # when ImageFile.LOAD_TRUNCATED_IMAGES is on, which importing WeasyPrint turns on process-wide.
        _KEEP[kind](source, _Discard(), 1)  # type: ignore[arg-type]
        source.seek(0)
        if jpeg_colour:  # progressive too: libjpeg keeps its coefficients, but the pixels come in strips
            _scale_jpeg(source, (width, height), mode, orientation, max_side, out)
        else:
            _scale_whole(source, kind, (width, height), max_side, out)
        return "image/jpeg"
    except (_Bad, OSError, ValueError, SyntaxError, struct.error, KeyError, IndexError, EOFError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PantauError("attachment.not_image") from None


class _Input:
    """A file read a chunk at a time, with exact reads of small things (a segment, a chunk header)."""

    def __init__(self, source: BinaryIO) -> None:
        self.source, self.buffer, self.at = source, b"", 0

    def more(self) -> bool:
        piece = self.source.read(CHUNK)
        if not piece:
            return False
        self.buffer, self.at = self.buffer[self.at:] + piece, 0
        return True

    def take(self, n: int) -> bytes:
        while len(self.buffer) - self.at < n:
            if not self.more():
                raise _Bad  # truncated
        found = self.buffer[self.at:self.at + n]
        self.at += n
        return found

    def copy(self, n: int, out: BinaryIO, crc: int = 0) -> int:
        """n bytes from here to out (a chunk at a time); returns their CRC-32 continued from crc."""
        while n:
            if self.at >= len(self.buffer) and not self.more():
                raise _Bad
            piece = self.buffer[self.at:self.at + n]
            self.at += len(piece)
            n -= len(piece)
            crc = zlib.crc32(piece, crc)
            out.write(piece)
        return crc

    def entropy(self, out: BinaryIO) -> int:
        """Copy a JPEG scan's coded data up to the next marker that is not a stuffed 0xFF or a
        restart marker; returns that marker's byte (both bytes taken: the segment's length follows)."""
        while True:
            found = self.buffer.find(b"\xff", self.at)
            if found < 0 or found + 1 >= len(self.buffer):
                end = len(self.buffer) if found < 0 else found
                out.write(self.buffer[self.at:end])
                self.at = end
                if not self.more():
                    raise _Bad  # a scan without an end: the file was cut off
                continue
            following = self.buffer[found + 1]
            if following == 0 or 0xD0 <= following <= 0xD7:
                out.write(self.buffer[self.at:found + 2])
                self.at = found + 2
                continue
            out.write(self.buffer[self.at:found])
            self.at = found + 2
            return following


def _keep_jpeg(source: BinaryIO, out: BinaryIO, orientation: int) -> None:
    data = _Input(source)
    if data.take(2) != b"\xff\xd8":
        raise _Bad
    out.write(b"\xff\xd8")
    frame = scanned = False
    marker = -1
    while True:
        if marker < 0:
            if data.take(1) != b"\xff":
                raise _Bad
            marker = data.take(1)[0]
        while marker == 0xFF:  # fill bytes before a marker
            marker = data.take(1)[0]
        if marker == 0xD9:
            if not scanned:
                raise _Bad
            out.write(b"\xff\xd9")
            return  # whatever follows the image's end is not kept
        if marker in (0xD8, 0x00) or 0xD0 <= marker <= 0xD7 or marker == 0x01:
            raise _Bad
        length = struct.unpack(">H", data.take(2))[0]
        if length < 2:
            raise _Bad
        payload = data.take(length - 2)
        kept: bytes | None = payload
        if marker == 0xE0:  # JFIF, its thumbnail (if any) dropped; JFXX (only a thumbnail) dropped
            kept = payload[:12] + b"\x00\x00" if payload.startswith(b"JFIF\x00") and len(payload) >= 14 else None
        elif marker == 0xE1:
            kept = None
            if orientation != 1 and not frame:
                exif = Image.Exif()
                exif[_ORIENTATION] = orientation
                kept, orientation = exif.tobytes(), 1
                marker = 0xE1
        elif marker == 0xE2:
            kept = payload if payload.startswith(b"ICC_PROFILE\x00") else None
        elif marker == 0xEE:
            kept = payload if payload.startswith(b"Adobe") else None
        elif 0xE3 <= marker <= 0xEF or marker == 0xFE:
            kept = None
        elif 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            frame = True
        if kept is not None:
            out.write(b"\xff" + bytes([marker]) + struct.pack(">H", len(kept) + 2) + kept)
        if marker == 0xDA:
            if not frame:
                raise _Bad
            scanned = True
            marker = data.entropy(out)
        else:
            marker = -1


_PNG_KEPT = {b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"pHYs",
             b"bKGD", b"cICP"}


class _Discard:
    """An output that keeps nothing, for walking a photo's structure; it counts its position, as
    the WebP walk seeks back to write the RIFF size."""

    def __init__(self) -> None:
        self.at = 0

    def write(self, data: bytes) -> int:
        self.at += len(data)
        return len(data)

    def tell(self) -> int:
        return self.at

    def seek(self, at: int) -> int:
        self.at = at
        return at


def _keep_png(source: BinaryIO, out: BinaryIO, _orientation: int) -> None:
    data = _Input(source)
    signature = data.take(8)
    out.write(signature)
    first = True
    while True:
        length, name = struct.unpack(">I4s", data.take(8))
        if first != (name == b"IHDR") or length > 0x7FFFFFFF:
            raise _Bad
        first = False
        keep = name in _PNG_KEPT
        target: BinaryIO = out if keep else _Discard()  # type: ignore[assignment]
        if keep:
            out.write(struct.pack(">I4s", length, name))
        crc = data.copy(length, target, zlib.crc32(name))
        stated = data.take(4)
        if struct.unpack(">I", stated)[0] != crc:
            raise _Bad  # a damaged chunk, as Image.verify() would find
        if keep:
            out.write(stated)
        if name == b"IEND":
            return


def _keep_webp(source: BinaryIO, out: BinaryIO, _orientation: int) -> None:
    data = _Input(source)
    riff, declared, webp = struct.unpack("<4sI4s", data.take(12))
    if riff != b"RIFF" or webp != b"WEBP":
        raise _Bad
    start = out.tell()
    out.write(b"RIFF\x00\x00\x00\x00WEBP")
    left, images = declared - 4, 0
    while left > 0:
        name, size = struct.unpack("<4sI", data.take(8))
        padded = size + (size & 1)
        left -= 8 + padded
        if left < 0:
            raise _Bad
        if name in (b"EXIF", b"XMP "):
            data.copy(padded, _Discard())  # type: ignore[arg-type]
            continue
        out.write(struct.pack("<4sI", name, size))
        if name == b"VP8X":
            flags = data.take(padded)
            out.write(bytes([flags[0] & ~0x0C]) + flags[1:])  # no EXIF, no XMP any more
        else:
            data.copy(padded, out)
        images += name in (b"VP8 ", b"VP8L", b"ANMF")
    if not images:
        raise _Bad
    end = out.tell()
    out.seek(start + 4)
    out.write(struct.pack("<I", end - start - 8))
    out.seek(end)


_KEEP = {"image/jpeg": _keep_jpeg, "image/png": _keep_png, "image/webp": _keep_webp}


def _target(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    ratio = max_side / max(size)
    return max(1, round(size[0] * ratio)), max(1, round(size[1] * ratio))


def _decoded(source: BinaryIO, mode: str, wanted: tuple[int, int]) -> Image.Image:
    """The JPEG decoded in `mode` at the smallest DCT scale not below `wanted`."""
    source.seek(0)
    opened = Image.open(source, formats=["JPEG"])  # a file of ours: Pillow leaves it open
    opened.draft(mode, wanted)
    opened.load()
    if opened.mode != mode:
        raise _Bad
    return opened


def _dct_scale(size: tuple[int, int], wanted: tuple[int, int]) -> int:
    """The DCT scale's denominator Image.draft takes for `wanted`: the largest of 1, 2, 4, 8 within
    the ratio of the sizes."""
    ratio = min(size[0] // wanted[0], size[1] // wanted[1])
    return next(scale for scale in (8, 4, 2, 1) if ratio >= scale or scale == 1)


def _bounded_target(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """The size to scale a JPEG to: max_side on its longer side, unless its brightness at that DCT
    scale would exceed LUMA_PIXELS; then the size of the next smaller scale whose brightness fits
    (1/8 always does: MAX_PIXELS / 64), rounded down so that draft takes that scale."""
    target = _target(size, max_side)
    scale = first = _dct_scale(size, target)
    while scale < 8 and math.ceil(size[0] / scale) * math.ceil(size[1] / scale) > LUMA_PIXELS:
        scale *= 2
    if scale == first:
        return target
    side = min(max_side, max(size) // scale)
    return max(1, size[0] * side // max(size)), max(1, size[1] * side // max(size))


def _scale_jpeg(source: BinaryIO, size: tuple[int, int], mode: str, orientation: int, max_side: int,
                out: BinaryIO) -> None:
    target = _bounded_target(size, max_side)
    planes: list[Image.Image] = []
    if mode != "L":
        colour = _decoded(source, "YCbCr", (math.ceil(target[0] / 2), math.ceil(target[1] / 2)))
        planes = [colour.getchannel(1), colour.getchannel(2)]
        del colour
        _give_back()
    planes.insert(0, _decoded(source, "L", target))
    _strips(planes, target, orientation, out)
    del planes
    _give_back()  # the planes, before the caller writes the result (on PostgreSQL, through asyncpg)


M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 128 * 1024  # glibc's default, held there


def _malloc_trim() -> Any:
    """glibc's malloc_trim, with its mmap threshold held at 128 KiB (None when the C library is not
    glibc). By default glibc raises the threshold to the size of each large block freed, up to 32 MB:
    after the colour raster is freed, the rasters and strips that follow come from a malloc arena
    instead of their own mappings, and a worker thread's arena does not hand the top of its heap
    back to the kernel on malloc_trim. Whether it did depended on which thread's arena took them, so
    the same photo cost a node 8.8 MB or 10.8 MB by the machine's load. Held at 128 KiB, every raster
    is a mapping of its own, handed back the moment it is freed. The whole process is affected: a
    block over 128 KiB (a request body, a 1 MiB blob chunk) costs an mmap and munmap."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    trim.argtypes = [ctypes.c_size_t]
    return trim


_TRIM = _malloc_trim()


def _give_back() -> None:
    """Hand freed memory back to the kernel (glibc): the colour raster just freed would otherwise stay
    resident in a worker thread's malloc arena beside the brightness raster decoded next."""
    if _TRIM is not None:
        _TRIM(0)


# How a row band of the picture as shown maps to the picture as stored, for each EXIF orientation:
# (the band is a band of columns there, counted from the other end)
_BANDS = {1: (False, False), 2: (False, False), 3: (False, True), 4: (False, True),
          5: (True, False), 6: (True, False), 7: (True, True), 8: (True, True)}


def _strips(planes: list[Image.Image], target: tuple[int, int], orientation: int, out: BinaryIO) -> None:
    """The picture scaled to `target` (as stored), turned as `orientation` says, and encoded STRIP
    rows at a time, joined into one baseline JPEG: each strip's scan is one restart interval (the DC
    predictions start afresh at each, as in a new file), so the scans follow each other with RSTn
    markers between them under one frame of the full height. Each strip is resampled from the
    decoded planes with a box, so the filter sees across the strips' edges: no seams."""
    columns, backwards = _BANDS.get(orientation, (False, False))
    width, height = (target[1], target[0]) if columns else target
    along = target[0] if columns else target[1]  # the stored picture's extent the bands cut
    grey = len(planes) == 1 and planes[0].mode in ("L", "LA")
    mcu = 8 if grey else 16
    header = b""
    for n, top in enumerate(range(0, height, STRIP)):
        bottom = min(top + STRIP, height)
        start, end = (along - bottom, along - top) if backwards else (top, bottom)
        pieces = []
        for plane in planes:
            scale_x, scale_y = plane.width / target[0], plane.height / target[1]
            if columns:
                box, rows = (start * scale_x, 0.0, end * scale_x, float(plane.height)), (end - start, target[1])
            else:
                box, rows = (0.0, start * scale_y, float(plane.width), end * scale_y), (target[0], end - start)
            if plane.mode in ("RGBA", "LA"):
                piece = _on_white(*_band(plane, box, columns, scale_x if columns else scale_y), rows)
            else:
                piece = plane.resize(rows, Image.Resampling.LANCZOS, box=box)
            pieces.append(piece.transpose(_TRANSPOSE[orientation]) if orientation in _TRANSPOSE else piece)
        strip = Image.merge("YCbCr", pieces) if len(pieces) == 3 else pieces[0]
        if strip.mode == "CMYK":  # converted a strip at a time
            strip = strip.convert("RGB")
        head, scan = _split_scan(_encoded(strip))
        if n == 0:
            header = head
            out.write(_full_height(head, height, math.ceil(width / mcu) * (STRIP // mcu)))
        else:
            if _tables(head) != _tables(header):
                raise _Bad
            out.write(b"\xff" + bytes([0xD0 + (n - 1) % 8]))
        out.write(scan)
        del strip, pieces, head, scan
        _give_back()
    out.write(b"\xff\xd9")


def _band(plane: Image.Image, box: tuple[float, float, float, float], columns: bool,
          scale: float) -> tuple[Image.Image, tuple[float, float, float, float]]:
    """The band of `plane` that a strip is resampled from, with the filter's reach beyond it (the
    same pixels as from the whole), and the box within it: Pillow resizes a picture with alpha
    through a premultiplied copy of the whole of it, which a band keeps to the band."""
    reach = math.ceil(3 * max(scale, 1.0)) + 2  # LANCZOS reaches 3 source pixels a scaled pixel
    if columns:
        left = max(0, math.floor(box[0]) - reach)
        right = min(plane.width, math.ceil(box[2]) + reach)
        return plane.crop((left, 0, right, plane.height)), (box[0] - left, box[1], box[2] - left, box[3])
    top = max(0, math.floor(box[1]) - reach)
    bottom = min(plane.height, math.ceil(box[3]) + reach)
    return plane.crop((0, top, plane.width, bottom)), (box[0], box[1] - top, box[2], box[3] - top)


def _on_white(band: Image.Image, box: tuple[float, float, float, float], rows: tuple[int, int]) -> Image.Image:
    """The band resampled, its transparent parts shown on white (a JPEG has no alpha: a signature
    drawn on a transparent background would otherwise turn black on black)."""
    piece = band.resize(rows, Image.Resampling.LANCZOS, box=box).convert("RGBA")
    flat = Image.alpha_composite(Image.new("RGBA", piece.size, "white"), piece)
    return flat.convert("L" if band.mode == "LA" else "RGB")


def _encoded(strip: Image.Image) -> bytes:
    buffer = io.BytesIO()
    strip.save(buffer, "JPEG", quality=QUALITY, **({"subsampling": "4:2:0"} if strip.mode != "L" else {}))
    return buffer.getvalue()


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment of a JPEG up to and including its SOS."""
    found, at = [], 2
    while True:
        marker = data[at + 1]
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        found.append((marker, at, at + 2 + length))
        at += 2 + length
        if marker == 0xDA:
            return found


def _split_scan(data: bytes) -> tuple[bytes, bytes]:
    """(the headers up to and including SOS, the coded data before EOI) of a JPEG Pillow wrote."""
    end = _segments(data)[-1][2]
    if not data.endswith(b"\xff\xd9"):
        raise _Bad
    return data[:end], data[end:-2]


def _tables(head: bytes) -> list[bytes]:
    return [head[s:e] for m, s, e in _segments(head) if m in (0xDB, 0xC4)]


def _full_height(head: bytes, height: int, interval: int) -> bytes:
    """The first strip's headers with the frame's height made the whole picture's and a restart
    interval (DRI) of one strip before the scan."""
    parts = [b"\xff\xd8"]
    for marker, start, end in _segments(head):
        segment = head[start:end]
        if marker == 0xC0:
            segment = segment[:5] + struct.pack(">H", height) + segment[7:]
        elif marker == 0xDA:
            parts.append(b"\xff\xdd\x00\x04" + struct.pack(">H", interval))
        elif marker == 0xE0:
            continue  # JFIF is optional; the strips carry no metadata at all
        parts.append(segment)
    return b"".join(parts)


# Modes a whole-decoded picture is scaled in, a strip converted to RGB (or L) at a time; any other
# (a palette, 16-bit grey, ...) is converted whole first, as it would be to be encoded as JPEG.
_STRIP_MODES = ("RGB", "L", "RGBA", "LA", "CMYK")


def _scale_whole(source: BinaryIO, kind: str, size: tuple[int, int], max_side: int, out: BinaryIO) -> None:
    """A PNG or WebP (or a CMYK JPEG) beyond the limits: decoded whole (a CMYK JPEG at its DCT
    scale), then scaled, turned and encoded in strips like a JPEG's planes, so the decoded picture
    is the only full-size raster held (never a turned copy or a converted one of RGBA)."""
    source.seek(0)
    with Image.open(source, formats=[_FORMATS[kind]]) as opened:
        orientation = int(opened.getexif().get(_ORIENTATION, 1))
        target = _target(size, max_side)
        opened.draft("RGB", target)
        opened.load()
        image = opened if opened.mode in _STRIP_MODES else opened.convert("RGB")
        _strips([image], target, orientation, out)
    del image, opened
    _give_back()
