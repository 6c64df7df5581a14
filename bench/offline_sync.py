"""Offline first in Debian's chromium through Playwright, against a real `pantau
serve` with the three shipped forms:

1. cache_kb: after one online visit, the bytes the service worker holds in Cache Storage (the app
   shell, every form page and rules document of forms/*.yaml), target <= 150 KB. sw.js stores them
   gzipped; unpacked_kb is the same content as served.
2. An outbox of ITEMS registrasi_penerima submissions, each with its own photo, filled with no
   network, then synced over a 400 kbit/s, 400 ms RTT link (CDP Network.emulateNetworkConditions):
   the time from going online until the server holds every item.
3. duplicates: requests the phone sent more than once (a submission per instance id, a photo per
   sha256, counted from the browser's own request log), plus rows stored more than once; must be 0.

Run: .venv/bin/python bench/offline_sync.py [ITEMS] (prints `BENCH offline_sync <s> s cache_kb=<KB> duplicates=<n>`)."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import PASSWORD, serving
from playwright.sync_api import sync_playwright
from sample_answers import registrasi

ITEMS = int(sys.argv[1]) if len(sys.argv) > 1 else 100  # a smaller outbox to try the bench out
CACHE_TARGET_KB = 150.0
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SLOW = {
    "offline": False,
    "latency": 400,
    "downloadThroughput": 400_000 / 8,
    "uploadThroughput": 400_000 / 8,
    "connectionType": "cellular3g",
}
OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}

CACHE_BYTES = """async () => {
  await navigator.serviceWorker.ready;
  for (let i = 0; i < 300; i++) {  // the worker installs once every page of the manifest is in
    if (navigator.serviceWorker.controller) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const entries = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const url = new URL(request.url), cached = await cache.match(request);
      const body = await cached.clone().arrayBuffer();  // as stored: gzipped by sw.js
      const unpacked = cached.headers.get('x-pantau-gzip')
        ? await new Response(cached.body.pipeThrough(new DecompressionStream('gzip'))).arrayBuffer() : body;
      entries.push([url.pathname + url.search, body.byteLength, unpacked.byteLength]);
    }
  }
  return entries;
}"""

# ITEMS forms into the outbox with no network, each with its own photo (an 800x600 JPEG from a
# canvas, as the runtime makes them), through offline.js's own keepPhoto and queue.
FILL = """async ([n, answers, url]) => {
  const o = await import(url);
  const version = JSON.parse(document.getElementById('pantau-form').textContent).v;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const c = document.createElement('canvas'); c.width = 800; c.height = 600;
    const g = c.getContext('2d');
    g.fillStyle = 'hsl(' + (i * 37 % 360) + ',60%,50%)'; g.fillRect(0, 0, 800, 600);
    for (let k = 0; k < 40; k++) { g.fillStyle = 'hsl(' + ((i * 7 + k * 53) % 360) + ',70%,' + (30 + k % 40) + '%)';
      g.fillRect((k * 97 + i * 13) % 760, (k * 61 + i * 29) % 560, 40 + k % 90, 30 + (k * 3) % 70); }
    const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.8));
    bytes += blob.size;
    const sha = await o.keepPhoto(blob);
    const body = { instance_id: crypto.randomUUID(), form_id: 'registrasi_penerima', form_version: version,
                   answers: Object.assign({}, answers, { ttd_persetujuan: sha, foto_penerima: sha }) };
    await o.queue(body, { title: 'Registrasi ' + (i + 1) });
  }
  return bytes;
}"""


# offline.js beside the page's form.js (the hashed asset URL of this release).
OFFLINE_JS = "document.querySelector('script[src*=\"form.js\"]').src.replace('form.js', 'offline.js')"
STUCK = """async (url) => {
  const o = await import(url);
  const bad = (await o.items()).filter((i) => i.state === 'attention');
  return bad.length ? JSON.stringify(bad[0].answer) : '';
}"""


def key_of(request: Any) -> tuple[str, str]:
    """What a request sent: a submission by its instance id; a photo by the sha256 the server
    answered (a blob body is not in the browser's request log); a request without an answer by
    its own identity (it cannot be a duplicate of anything the server kept)."""
    if request.url.endswith("/api/v1/submissions"):
        return "submission", json.loads(request.post_data or "{}").get("instance_id", "")
    response = request.response()
    return "photo", response.json().get("sha256", "") if response is not None and response.ok else str(id(request))


def count_rows(database_url: str) -> tuple[int, int]:
    path = database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        total, distinct = db.execute("SELECT COUNT(*), COUNT(DISTINCT id) FROM submission").fetchone()
    return int(total), int(distinct)


def main() -> None:
    forms = tuple(f"forms/{p.name}" for p in sorted((Path(__file__).resolve().parents[1] / "forms").glob("*.yaml")))
    with serving("sqlite", forms=forms) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(
            viewport={"width": 360, "height": 740},
            is_mobile=True,
            has_touch=True,
            locale="id-ID",
            timezone_id="Asia/Makassar",
        )
        posts: list[Any] = []
        context.on("request", lambda r: posts.append(r) if r.method == "POST" and "/api/v1/" in r.url else None)
        page = context.new_page()
        page.goto(server.url + "/masuk?next=/f/registrasi_penerima")
        page.fill("#username", "citra")
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/f/registrasi_penerima")
        page.wait_for_selector("html[data-pantau=siap]")
        entries = sorted(page.evaluate(CACHE_BYTES), key=lambda e: -e[1])
        cache_bytes, unpacked = sum(e[1] for e in entries), sum(e[2] for e in entries)
        for url, size, plain in entries:
            print(f"  cached {size / 1024:6.1f} KB ({plain / 1024:5.1f} KB unpacked) {url}")

        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", OFFLINE)
        offline_js = page.evaluate(OFFLINE_JS)
        photo_bytes = page.evaluate(FILL, [ITEMS, registrasi("0" * 64), offline_js])
        before = len(posts)  # attempts while offline never leave the phone, but are logged: not counted
        cdp.send("Network.emulateNetworkConditions", SLOW)
        started = time.monotonic()
        page.evaluate("() => window.dispatchEvent(new Event('online'))")  # what the phone does when signal returns
        deadline = started + 1800
        while count_rows(server.database_url)[0] < ITEMS and time.monotonic() < deadline:
            page.wait_for_timeout(500)
            stuck = page.evaluate(STUCK, offline_js)
            if stuck:
                raise SystemExit(f"an item needs attention instead of syncing: {stuck}")
        elapsed = time.monotonic() - started
        page.wait_for_timeout(3000)  # anything sent twice would arrive now
        total, distinct = count_rows(server.database_url)
        sent = [key_of(r) for r in posts[before:]]
        requests = Counter(sent)
        duplicates = sum(n - 1 for n in requests.values()) + (total - distinct)
        kinds = Counter(kind for kind, _ in sent)
        browser.close()
    cache_kb = cache_bytes / 1024
    print(
        f"  cache: {len(entries)} entries, {cache_kb:.1f} KB (target {CACHE_TARGET_KB:g}); outbox {ITEMS} items, "
        f"photos {photo_bytes / 1024:.0f} KB in all; stored {total} ({distinct} distinct); requests "
        f"{kinds['submission']} submissions + {kinds['photo']} photos; sync {elapsed:.1f} s at 400 kbit/s"
    )
    print(
        f"BENCH offline_sync {elapsed:.1f} s cache_kb={cache_kb:.1f} duplicates={duplicates} items={ITEMS} "
        f"unpacked_kb={unpacked / 1024:.1f} "
        f"stored={distinct} photo_kb={photo_bytes / 1024:.0f} cache_target_kb={CACHE_TARGET_KB:g}"
    )


if __name__ == "__main__":
    main()
