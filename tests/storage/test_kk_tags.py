"""The phone's KK tags (static/js/dupcheck.js) equal the server's (storage/pii.kk_tag): both read the
vectors in tests/kk_tag_vectors.json, which this test writes afresh when asked (PANTAU_WRITE_VECTORS=1)
and otherwise checks against the server's function."""

from __future__ import annotations

import base64
import json
import os
import random
from pathlib import Path

from server.storage import pii

VECTORS = Path(__file__).resolve().parents[1] / "kk_tag_vectors.json"


def _vectors() -> dict[str, object]:
    keys = pii.keys_from("a test key for the shared KK tag vectors")
    draw = random.Random(20261206)
    cases = []
    for programme in ("bansos", "lansia", "ppks-anak"):
        tag_key = pii.kk_tag_key(keys, programme)
        kks = ["6402061203150007", "6402060000000000", *(f"6402{draw.randrange(10**12):012d}" for _ in range(30))]
        cases.append({"key": base64.urlsafe_b64encode(tag_key).decode().rstrip("="),
                      "tags": [[kk, pii.kk_tag(tag_key, kk)] for kk in kks]})
    return {"cases": cases}


def test_the_vectors_are_the_servers_tags() -> None:
    if os.environ.get("PANTAU_WRITE_VECTORS"):
        VECTORS.write_text(json.dumps(_vectors(), indent=1) + "\n", encoding="utf-8")
    stored = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert stored == _vectors()
    tags = [tag for case in stored["cases"] for _, tag in case["tags"]]
    assert all(len(t) == pii.KK_TAG_HEX and int(t, 16) >= 0 for t in tags) and len(set(tags)) > 90


def test_a_tag_is_short_and_depends_on_the_programme_key() -> None:
    keys = pii.keys_from("another key")
    one, two = pii.kk_tag_key(keys, "bansos"), pii.kk_tag_key(keys, "lansia")
    assert one != two and len(one) == 32
    assert pii.kk_tag(one, "6402061203150007") == pii.kk_tag(one, "6402061203150007")
    assert len(pii.kk_tag(one, "6402061203150007")) * 4 == 20
