"""Weight of the fill page: a real `pantau serve` with forms/registrasi_penerima.yaml,
an enumerator signed in, and the page fetched over HTTP with Accept-Encoding: gzip, then every
stylesheet, script and JSON the page names (what a browser loads before the form is usable).

First load = HTML + CSS + JS + the rules JSON, compressed, target <= 30 KB. Repeat visit = the
HTML alone (everything else is cached under hashed URLs for a year), target <= 8 KB. No third-party
requests and no web fonts. Run: .venv/bin/python bench/page_weight.py"""

from __future__ import annotations

import gzip
import re
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import Server, serving

FORM_PATH = "/f/registrasi_penerima"
TARGET_KB, REPEAT_TARGET_KB = 30.0, 8.0


def fetch(server: Server, path: str) -> tuple[bytes, dict[str, str]]:
    """The body as it crossed the network (still gzipped) and the response headers."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(server.cookies))
    request = urllib.request.Request(server.url + path, headers={"accept-encoding": "gzip"})
    with opener.open(request, timeout=30) as response:
        return bytes(response.read()), {k.lower(): v for k, v in response.headers.items()}


def assets(html: str) -> list[str]:
    urls = re.findall(r'<(?:link|script)\b[^>]*?(?:href|src)="([^"]+)"', html)
    return [u.replace("&amp;", "&") for u in urls if not u.startswith("data:")]


def kind(url: str) -> str:
    return "css" if url.endswith(".css") else "js" if url.endswith(".js") else "json"


def main() -> None:
    with serving("sqlite") as server:
        server.sign_in("citra")
        html, headers = fetch(server, FORM_PATH)
        assert headers.get("content-encoding") == "gzip", headers
        page = gzip.decompress(html).decode()
        sizes = {"html": len(html), "css": 0, "js": 0, "json": 0}
        foreign, uncached, texts = [], [], [page]
        for url in assets(page):
            if not url.startswith("/"):
                foreign.append(url)
                continue
            body, asset_headers = fetch(server, url)
            sizes[kind(url)] += len(body)
            texts.append(gzip.decompress(body).decode() if asset_headers.get("content-encoding") == "gzip"
                         else body.decode())
            if "immutable" not in asset_headers.get("cache-control", ""):
                uncached.append(url)
            print(f"  {url}: {len(body) / 1024:.1f} KB ({asset_headers.get('content-encoding', 'identity')})")
        fonts = [f for text in texts for f in re.findall(r"@font-face|\.woff2?\b", text)]
        foreign += [u for text in texts[1:] for u in re.findall(r"url\((?:['\"])?(https?:)", text)]
        repeat, _ = fetch(server, FORM_PATH)  # a second visit: a new instance id, the same weight
    total = sum(sizes.values()) / 1024
    parts = " ".join(f"{k}_kb={v / 1024:.1f}" for k, v in sizes.items())
    print(f"  first load {total:.1f} KB (target {TARGET_KB:g}); repeat HTML {len(repeat) / 1024:.1f} KB "
          f"(target {REPEAT_TARGET_KB:g}); third-party {len(foreign)}; fonts {len(fonts)}; not cached {uncached}")
    print(f"BENCH page_weight {total:.1f} KB repeat_html_kb={len(repeat) / 1024:.1f} target_kb={TARGET_KB:g} "
          f"repeat_target_kb={REPEAT_TARGET_KB:g} bytes={sum(sizes.values())} {parts} requests={1 + len(assets(page))} "
          f"third_party={len(foreign)} web_fonts={len(fonts)} uncached={len(uncached)}")


if __name__ == "__main__":
    main()
