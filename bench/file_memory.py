"""What receiving a 5 MB recording costs a node in memory: a real `pantau serve` (one process) takes
an audio file of 5 MB through the phone's upload (POST /api/v1/attachments?jenis=audio) and through
ODK Collect's multipart post (POST /submission), and the growth of the server process's resident
memory is read from the kernel (VmHWM of /proc/<pid>/status, reset through /proc/<pid>/clear_refs
just before each request, after a small warm-up request of the same kind). The recording is kept
byte for byte, streamed a chunk at a time to its file (SQLite) or blob rows (PostgreSQL).
`.venv/bin/python bench/file_memory.py [sqlite|postgres]`; prints one BENCH line."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys
import tempfile
import urllib.request
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from harness import PASSWORD, Server, multipart, serving

FORM = b"""
settings: {id: uji_rekam, version: "1", title: {id: Uji rekaman}}
fields:
  - {type: text, name: nama, label: {id: Nama}, required: yes}
  - {type: audio, name: suara, label: {id: Rekaman}}
"""
SIZE = 5 * 1024 * 1024


def recording(size: int) -> bytes:
    """An M4A's first bytes, then noise: what the server checks, then what it streams."""
    return b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42" + os.urandom(size - 24)


def _status(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field + ":"))


def _reset(pid: int) -> None:
    with open(f"/proc/{pid}/clear_refs", "w") as refs:
        refs.write("5")  # the high-water mark starts again at the present resident size


def _upload(server: Server, data: bytes) -> str:
    body = server.open("/api/v1/attachments?jenis=audio", data, {
        "content-type": "audio/mp4", "x-csrftoken": server.cookie("csrftoken")})
    return str(json.loads(body)["sha256"])


def _collect(server: Server, data: bytes) -> int:
    """Collect's post: the instance XML and the recording as parts of one multipart body."""
    instance = (f'<data id="uji_rekam" version="1"><nama>Siti</nama><suara>r.m4a</suara>'
                f'<meta><instanceID>uuid:{uuid.uuid4()}</instanceID></meta></data>').encode()
    body, content_type = multipart([("xml_submission_file", "s.xml", "text/xml", instance),
                                    ("r.m4a", "r.m4a", "audio/mp4", data)])
    token = base64.b64encode(f"citra:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(server.url + "/submission", data=body, headers={
        "content-type": content_type, "authorization": f"Basic {token}",
        "x-openrosa-version": "1.0"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return int(response.status)


def _growth(server: Server, send: object, data: bytes) -> int:
    _reset(server.pid)
    before = _status(server.pid, "VmRSS")
    send(server, data)  # type: ignore[operator]
    return _status(server.pid, "VmHWM") - before


def measure(kind: str = "sqlite") -> dict[str, int]:
    with tempfile.TemporaryDirectory() as work:
        form = Path(work) / "uji_rekam.yaml"
        form.write_bytes(FORM)
        with serving(kind, forms=(str(form),), extra_env={"PANTAU_WORKERS": "1"}) as server:
            server.sign_in("citra")
            big = recording(SIZE)
            _upload(server, recording(64 * 1024))  # warm-up: the route, the database's statements
            api = _growth(server, _upload, big)
            assert _upload(server, big) == hashlib.sha256(big).hexdigest()
            _collect(server, recording(64 * 1024))
            collect = _growth(server, _collect, recording(SIZE))
            return {"sent": SIZE, "api_rss_growth": api, "collect_rss_growth": collect}


def main() -> None:
    kind = sys.argv[1] if len(sys.argv) > 1 else "sqlite"
    figures = measure(kind)
    mb = 1024 * 1024
    print(f"BENCH file_memory {figures['api_rss_growth'] / mb:.1f} MB db={kind} file_mb={figures['sent'] / mb:.1f} "
          f"api_rss_mb={figures['api_rss_growth'] / mb:.1f} collect_rss_mb={figures['collect_rss_growth'] / mb:.1f}")


if __name__ == "__main__":
    main()
