"""The outbox file read a chunk at a time (web/outbox_stream, offline_context.check_outbox): the same
photos and items as a whole-file decode, whatever the chunk boundaries and JSON escapes, and a
clear outbox.bad_file for a file cut short, padded, or holding base64 that is not."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os

import pytest

from server.errors import PantauError
from server.web import outbox_stream
from server.web.offline_context import OutboxLimits, check_outbox

LIMITS = OutboxLimits(image=5 << 20, file=20 << 20, text=1 << 20)


def outbox(photos: dict[str, bytes], **fields: object) -> dict[str, object]:
    return {"format": "pantau-outbox", "version": 1, "user": "citra", "items": [], **fields,
            "photos": {hashlib.sha256(p).hexdigest(): base64.b64encode(p).decode() for p in photos.values()}}


def test_photos_across_many_chunks_and_escaped_slashes_decode_to_their_bytes() -> None:
    data = {name: os.urandom(size) for name, size in (("a", 200_001), ("b", 3), ("c", 1))}
    text = json.dumps(outbox(data, exported_at='a "quoted" é \\ text')).encode()
    for variant in (text, text.replace(b"/", b"\\/"), json.dumps(json.loads(text), indent=2).encode()):
        parsed, photos = check_outbox(io.BytesIO(variant), LIMITS)
        assert parsed.exported_at == 'a "quoted" é \\ text'
        assert {p.sha256: p.size for p in photos.values()} == {hashlib.sha256(d).hexdigest(): len(d)
                                                                 for d in data.values()}
        decoded = b""
        for event in outbox_stream.events(io.BytesIO(variant), LIMITS.text):
            if isinstance(event, outbox_stream.PhotoStart):
                decoder = outbox_stream.Base64(event.sha256)
            elif isinstance(event, outbox_stream.PhotoPiece):
                decoded += decoder.feed(event.data)
            elif isinstance(event, outbox_stream.PhotoEnd):
                assert hashlib.sha256(decoded + decoder.end()).hexdigest() == event.sha256
                decoded = b""


@pytest.mark.parametrize("cut", [1, 2, 5, 70_000, 150_000])
def test_a_file_cut_short_anywhere_is_bad(cut: int) -> None:
    text = json.dumps(outbox({"a": os.urandom(150_000)})).encode()
    with pytest.raises(PantauError) as refused:
        check_outbox(io.BytesIO(text[:len(text) - cut]), LIMITS)
    assert refused.value.code == "outbox.bad_file"


@pytest.mark.parametrize("base64_text", ["QQ==QUJD", "QUJD\\nRA==", "QUJ", "QU=D", "Q\\u0000JD"])
def test_base64_that_is_not_strict_is_bad(base64_text: str) -> None:
    text = b'{"format": "pantau-outbox", "version": 1, "user": "citra", "items": [], "photos": {"%s": "%s"}}' % (
        ("0" * 64).encode(), base64_text.encode())
    with pytest.raises(PantauError) as refused:
        check_outbox(io.BytesIO(text), LIMITS)
    assert refused.value.code == "outbox.bad_file" and "base64" in refused.value.message("en")


def test_a_photo_over_its_limit_is_refused_while_it_is_read() -> None:
    big = b"\xff\xd8\xff" + os.urandom(LIMITS.image)  # a JPEG's first bytes: the photo limit holds
    with pytest.raises(PantauError) as refused:
        check_outbox(io.BytesIO(json.dumps(outbox({"a": big})).encode()), LIMITS)
    assert refused.value.status == 413
