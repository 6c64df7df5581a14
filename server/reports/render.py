"""HTML -> PDF with WeasyPrint, the only module that imports it. WeasyPrint's default fetcher reads
file:// URLs and makes HTTP requests, so a crafted label or template could pull /etc/passwd or an
internal address into a PDF; LockedFetcher serves exactly two kinds of URL: `asset:NAME` (a file of
reports/assets) and `photo:SHA256` (a stored photo, shrunk to a thumbnail), plus small data: images.
Everything else is refused and remembered in `refused`. Rendering is CPU-bound and slow (about
0.25 s per dense page): it runs in a worker process (reports/worker.py), never on the event loop."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path
from typing import BinaryIO

import msgspec
from weasyprint import HTML, Attachment
from weasyprint.css import ColorProfile
from weasyprint.urls import URLFetcher, URLFetcherResponse

from server.reports.definitions import ASSETS
from server.reports.edition import Archive

THUMBNAIL_PX = 480
# PDF/A-3: an archival PDF (fonts embedded, colour profile, XMP identification) that may carry the
# indicator data as an embedded file, so the archive holds both what was signed and what it counts.
PDF_VARIANT = "pdf/a-3b"
# PDF/A needs an output intent. WeasyPrint 70's own ("srgb") opens its ICC file and never closes it
# (a ResourceWarning, fatal in the tests and a leaked descriptor per report): the same sRGB profile
# is handed over from memory under this name instead.
OUTPUT_INTENT = "pantau-srgb"
MAX_DATA_URL = 64 * 1024  # a data: image bigger than this is not a chart or an icon
_SHA = re.compile(r"^[0-9a-f]{64}$")
_ASSET = re.compile(r"^[a-z0-9_-]+\.(svg|png|jpg|css)$")
_DATA_IMAGE = re.compile(r"^data:image/(png|jpeg|svg\+xml|webp)[;,]")
_TYPES = {"svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "css": "text/css"}


class Refused(Exception):
    """A URL the report may not fetch (WeasyPrint logs it and leaves the image out)."""


class LockedFetcher(URLFetcher):  # type: ignore[misc]
    def __init__(self, photos: str | Callable[[str], bytes | None]) -> None:
        """photos: the data directory (SQLite: photos are files), or what reads a photo by its
        sha256 (PostgreSQL: photos are blobs in the database)."""
        super().__init__(allowed_protocols=("asset", "photo", "data"), allow_redirects=False, fail_on_errors=False)
        self.photos = photos
        self.refused: list[str] = []
        self.served: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        try:
            response = self._serve(url)
        except Refused:
            self.refused.append(url)
            raise
        self.served.append(url[:80])
        return response

    def _serve(self, url: str) -> URLFetcherResponse:
        scheme, _, rest = url.partition(":")
        if scheme == "asset" and _ASSET.match(rest) and (ASSETS / rest).is_file():
            return URLFetcherResponse(url, (ASSETS / rest).read_bytes(), {"Content-Type": _TYPES[rest.rsplit(".")[-1]]})
        if scheme == "photo" and _SHA.match(rest) and (found := self._photo(rest)) is not None:
            return URLFetcherResponse(url, _thumbnail(found), {"Content-Type": "image/jpeg"})
        if scheme == "data" and len(url) <= MAX_DATA_URL and _DATA_IMAGE.match(url):
            return super().fetch(url)  # urllib's DataHandler: decodes in memory, touches nothing else
        raise Refused(url[:200])


    def _photo(self, sha256: str) -> bytes | None:
        if callable(self.photos):
            return self.photos(sha256)
        path = Path(self.photos) / "attachments" / sha256[:2] / sha256
        return path.read_bytes() if path.is_file() else None


def _colour_profiles() -> dict[str, ColorProfile]:
    icc = (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
    channels = (["r"], ["g"], ["b"])
    return {OUTPUT_INTENT: ColorProfile(io.BytesIO(icc), "sRGB2014.icc", "relative-colorimetric", channels)}


def _thumbnail(data: bytes) -> bytes:
    """A small JPEG of a stored photo: a 5 MB camera photo per thumbnail would make the PDF huge.
    Turned as its EXIF orientation says (a photo is kept as the phone sent it, with that one tag),
    since the thumbnail has no EXIF of its own."""
    from PIL import Image, ImageOps

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))  # decoded at a DCT scale near the thumbnail's
            upright = ImageOps.exif_transpose(image) or image
            out = io.BytesIO()
            upright.convert("RGB").save(out, "JPEG", quality=75)
            return out.getvalue()
    except (OSError, ValueError):
        raise Refused("photo: not an image") from None


class Rendered(msgspec.Struct, frozen=True, kw_only=True):
    pdf: bytes  # empty when written to a target
    pages: int
    layout_s: float  # WeasyPrint's share: layout and writing the PDF
    refused: list[str] = []


def render(html: str, photos: str | Callable[[str], bytes | None], archive: Archive | None = None,
           target: BinaryIO | None = None) -> Rendered:
    """The PDF/A-3b of the HTML. With an archive, its dates, /ID and attachment come from the data,
    so the same data and day give the same bytes (WeasyPrint otherwise dates attachments now()).
    With a target (a file), WeasyPrint writes the PDF there object by object and `pdf` is empty:
    the whole file is never one bytes object beside the laid-out document."""
    fetcher = LockedFetcher(photos)
    began = time.perf_counter()
    # base_url: relative URLs resolve to a scheme the fetcher refuses, never to the working directory.
    options: dict[str, object] = {"pdf_variant": PDF_VARIANT, "output_intent": OUTPUT_INTENT}
    page = HTML(string=html, base_url="pantau-report:/", url_fetcher=fetcher)
    document = page.render(color_profiles=_colour_profiles(), **options)
    if archive is not None:
        made = archive.made_at.astimezone(dt.UTC).replace(tzinfo=None)  # WeasyPrint writes these as UTC
        attached = Attachment(
            string=archive.attachment,
            name=archive.attachment_name,
            description=archive.attachment_description,
            created=made,
            modified=made,
            relationship="Data",
            url_fetcher=fetcher,
        )
        options |= {"pdf_identifier": archive.identifier.encode(), "attachments": [attached]}
    pdf = b""
    if target is None:
        pdf = document.write_pdf(**options)
    else:
        document.write_pdf(target=target, **options)
    return Rendered(
        pdf=pdf, pages=len(document.pages), layout_s=time.perf_counter() - began, refused=list(fetcher.refused)
    )
