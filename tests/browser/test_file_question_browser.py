"""An audio question on a phone (360x740, Debian's chromium against a real `pantau serve`): the file
input is on, offers the recorder, and a recording picked with no signal waits in the outbox with
the form, then arrives byte for byte when the network returns; a file that is not a recording is
refused at the field while online, in Indonesian."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_offline_browser import READY, Restartable, outbox, pantau, phone, playwright, sign_in, stored

pytestmark = pytest.mark.browser
__all__ = ["pantau", "playwright"]  # the fixtures, shared with the offline drills

FORM = b"""
settings: {id: uji_rekam, version: "1", title: {id: Rekaman suara, en: Voice recording}}
fields:
  - {type: text, name: nama, label: {id: Nama penerima, en: Beneficiary}, required: yes}
  - {type: audio, name: suara, label: {id: Rekam jawaban penerima, en: Record the answer}, required: yes}
  - {type: file, name: surat, label: {id: Surat keterangan, en: Letter}}
"""
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x21" + os.urandom(40_000)


def test_a_recording_picked_offline_waits_in_the_outbox_and_arrives_whole(pantau: Restartable, playwright: Any,
                                                                        tmp_path: Path) -> None:
    pantau.publish(FORM)
    server = pantau.server
    context = phone(playwright, tmp_path / "hp")
    page = sign_in(context, server, "/f/uji_rekam")
    page.wait_for_selector(READY)
    audio = page.locator("#f-suara")
    assert audio.is_enabled() and audio.get_attribute("accept") == "audio/*"
    assert audio.get_attribute("capture") == "user"

    # Online, a text file is no recording: said at the field, nothing kept.
    page.set_input_files("#f-suara", files=[{"name": "catatan.mp3", "mimeType": "audio/mpeg",
                                             "buffer": b"bukan rekaman, hanya teks"}])
    page.wait_for_function("() => /bukan rekaman suara/.test(document.querySelector('.q.md output.st').textContent)",
                           timeout=60_000)  # the upload's first try, on a machine other tests load too
    assert page.input_value("input[type=hidden][name=suara]") == ""

    context.set_offline(True)
    page.fill("#f-nama", "Siti Aminah")
    page.set_input_files("#f-suara", files=[{"name": "jawaban.mp3", "mimeType": "audio/mpeg", "buffer": MP3}])
    page.wait_for_function("() => document.querySelector('input[type=hidden][name=suara]').value.length === 64",
                           timeout=60_000)
    assert page.input_value("input[type=hidden][name=suara]") == hashlib.sha256(MP3).hexdigest()
    page.click("#send")
    deadline = time.monotonic() + 120  # CI runs the SQLite and PostgreSQL suites side by side
    states = [i["state"] for i in outbox(page)]
    while states != ["saved"] and time.monotonic() < deadline:
        page.wait_for_timeout(200)  # into the outbox; its one try finds no network
        states = [i["state"] for i in outbox(page)]
    # The state as last seen: a second read could catch the outbox's next try ('sending') under way.
    assert states == ["saved"]
    assert stored(server) == []

    context.set_offline(False)  # the online event sends the recording, then the form
    deadline = time.monotonic() + 90
    while not stored(server) and time.monotonic() < deadline:
        page.wait_for_timeout(300)
    rows = stored(server)
    assert len(rows) == 1, outbox(page)
    sha = json.loads(rows[0][1])["suara"]
    assert sha == hashlib.sha256(MP3).hexdigest()
    assert (server.data_dir / "attachments" / sha[:2] / sha).read_bytes() == MP3
    context.close()
