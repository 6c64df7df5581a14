"""What importing an outbox file holding a 5 MB camera photo costs a node in memory. A phone that
cannot reach the server saves its outbox to a file (JSON, the photo in base64: 6.3 MB of text for
a 4.7 MiB photo); staff upload it to /impor on a real `pantau serve` (one process), and the growth of
that process's resident memory is read from /proc (VmHWM reset through clear_refs just before, and
RSS sampled every half millisecond), after a warm-up import of a small photo. The file is read from
where the upload was spooled a chunk at a time, the photo decoded and stored a chunk at a time (held
whole, the file and its decoded photo alone come to over 11 MB).
`.venv/bin/python bench/outbox_memory.py [sqlite|postgres]`; prints one BENCH line."""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import Server, multipart, run, serving
from photo_memory import FORM, _grown, camera_photo


def outbox_file(photo: bytes) -> bytes:
    """The file offline.js's exportFile writes: one item citing the photo, the photo in base64."""
    sha = hashlib.sha256(photo).hexdigest()
    item = {"instance_id": str(uuid.uuid4()), "form_id": "uji_foto", "form_version": "1",
            "answers": {"nama": "Siti", "foto": sha}}
    return json.dumps({"format": "pantau-outbox", "version": 1, "user": "citra", "exported_at": "2026-12-06T00:00:00Z",
                       "items": [item], "photos": {sha: base64.b64encode(photo).decode()}}).encode()


def _import(server: Server, data: bytes) -> str:
    body, content_type = multipart([("berkas", "outbox.json", "application/json", data)])
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(server.cookies))
    request = urllib.request.Request(server.url + "/impor", data=body, headers={
        "content-type": content_type, "x-csrftoken": server.cookie("csrftoken")})
    with opener.open(request, timeout=120) as response:
        return bytes(response.read()).decode()


def measure(kind: str = "sqlite") -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as work:
        form = Path(work) / "uji_foto.yaml"
        form.write_bytes(FORM)
        with serving(kind, forms=(str(form),), extra_env={"PANTAU_WORKERS": "1"}) as server:
            run("users", "add", "ani", "--role", "staff", "--password-env", "BENCH_PW", env=server.env,
                cwd=server.workdir)
            server.sign_in("ani")
            server.open("/impor")  # the session's own CSRF token after signing in
            warm = _import(server, outbox_file(camera_photo(1200, 900)))
            assert 'data-outcome="new"' in warm, warm[-2000:]
            photo = camera_photo()
            data = outbox_file(photo)
            growth, page = _grown(server.pid, lambda: _import(server, data))
            assert 'data-outcome="new"' in page, page[-2000:]
            stored = server.open(f"/api/v1/attachments/{hashlib.sha256(photo).hexdigest()}")
            return {"photo": len(photo), "file": len(data), "rss_growth": growth, "stored": len(stored)}


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    figures = measure(kind)
    mb = 1024 * 1024
    print(f"BENCH outbox_memory {figures['rss_growth'] / mb:.1f} MB db={kind} photo_mb={figures['photo'] / mb:.1f} "
          f"file_mb={figures['file'] / mb:.1f} stored_mb={figures['stored'] / mb:.1f}")


if __name__ == "__main__":
    main()
