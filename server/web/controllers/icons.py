"""The app's icon and web app manifest. Browsers ask for /favicon.ico on every site whatever a page
says, and an added-to-home-screen Pantau needs a manifest with an icon: without them each page visit
logged a 404. The icon is drawn here with Pillow (an eye in Pantau's teal: "pantau" is to watch
over), so no binary file needs keeping in step with the design."""

from __future__ import annotations

import functools
import io
from typing import Any

from litestar import Response, Router, get
from litestar.params import FromPath
from PIL import Image, ImageDraw

from server.errors import PantauError

TEAL, WHITE = (11, 110, 105, 255), (255, 255, 255, 255)
ICON_SIZES = (192, 512)
A_WEEK = {"Cache-Control": "public, max-age=604800"}


@functools.lru_cache(maxsize=8)
def icon(size: int) -> Image.Image:
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=TEAL)
    middle, width = size / 2, size * 0.36
    draw.ellipse((middle - width, middle - width * 0.62, middle + width, middle + width * 0.62), outline=WHITE,
                 width=max(1, size // 14))
    pupil = size * 0.13
    draw.ellipse((middle - pupil, middle - pupil, middle + pupil, middle + pupil), fill=WHITE)
    return image


@functools.lru_cache(maxsize=4)
def encoded(size: int, kind: str) -> bytes:
    out = io.BytesIO()
    if kind == "ICO":
        icon(48).save(out, format="ICO", sizes=[(16, 16), (32, 32), (48, 48)])
    else:
        icon(size).save(out, format="PNG", optimize=True)
    return out.getvalue()


@get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response[bytes]:
    return Response(encoded(48, "ICO"), media_type="image/x-icon", headers=A_WEEK)


@get("/ikon/{size:int}", include_in_schema=False)
async def app_icon(size: FromPath[int]) -> Response[bytes]:
    if size not in ICON_SIZES:
        raise PantauError("http.not_found")
    return Response(encoded(size, "PNG"), media_type="image/png", headers=A_WEEK)


@get("/manifest.webmanifest", include_in_schema=False)
async def web_manifest() -> Response[dict[str, Any]]:
    body = {
        "name": "Pantau", "short_name": "Pantau", "lang": "id", "start_url": "/", "scope": "/",
        "display": "standalone", "background_color": "#f6f7f9", "theme_color": "#0b6e69",
        "description": "Formulir monitoring dan evaluasi program sosial",
        "icons": [{"src": f"/ikon/{size}", "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"}
                  for size in ICON_SIZES],
    }
    return Response(body, media_type="application/manifest+json", headers=A_WEEK)


router = Router(path="/", route_handlers=[favicon, app_icon, web_manifest])
