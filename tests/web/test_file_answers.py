"""Audio, video and file questions end to end: the recording or file is uploaded by itself
(POST /api/v1/attachments?jenis=...), kept byte for byte under its sha256, checked by its first
bytes against the question's kind and by its size against the server's limit and the question's
max_size, cited by the submission, read back through the authorised attachment route, linked from
the review page and the exports, and sent by ODK Collect as a part of its multipart post. Refusals
are 4xx with nothing written; a resend under the same instance id is one row."""

from __future__ import annotations

import hashlib
import io
import os
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from server.domain.compile import compile_source
from server.settings import Settings
from tests.conftest import ON_POSTGRES
from tests.openrosa_fill import instance_xml, xform_of
from tests.web.conftest import csrf_of
from tests.web.test_api_submissions import JPEG, publish
from tests.web.test_export import csv_tables
from tests.web.test_openrosa_submission import basic, message, post_instance
from tests.web.test_registry import fetch

FORM = b"""
settings: {id: uji_api, version: "1", title: {id: Uji berkas, en: File test}}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}, required: yes}
  - {type: audio, name: suara, label: {id: Rekaman suara, en: Voice recording}}
  - {type: video, name: video, label: {id: Video rumah, en: House video}}
  - {type: file, name: dokumen, label: {id: Dokumen, en: Document}}
  - {type: audio, name: pendek, label: {id: Rekaman pendek, en: Short recording}, parameters: {max_size: "0.001"}}
  - {type: image, name: foto, label: {id: Foto, en: Photo}}
"""
LIMIT = 64 * 1024  # the server's PANTAU_MAX_FILE_BYTES in these tests


def noise(size: int = 3000) -> bytes:
    return os.urandom(size)


# What phones and ODK Collect record, by their first bytes (the rest is the recording).
AUDIO = {
    "mp3": b"ID3\x04\x00\x00\x00\x00\x00\x21" + noise(),
    "mp3-no-tag": b"\xff\xfb\x90\x64" + noise(),
    "ogg": b"OggS\x00\x02\x00\x00\x00\x00\x00\x00\x00\x00" + noise(),
    "m4a": b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42" + noise(),
    "aac": b"\xff\xf1\x50\x80\x02\x1f\xfc" + noise(),
    "wav": b"RIFF\x24\x08\x00\x00WAVEfmt \x10\x00\x00\x00" + noise(),
    "amr": b"#!AMR\n" + noise(),
    "3gp": b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x00\x00" + noise(),
}
VIDEO = {
    "mp4": b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2" + noise(),
    "3gp": b"\x00\x00\x00\x18ftyp3gp5\x00\x00\x00\x00" + noise(),
    "webm": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81" + noise(),
}
# Anything, including a page with script: kept, and only ever a download.
HOSTILE_PAGE = b"<!doctype html><html><script>alert(document.cookie)</script></html>" + noise(100)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, max_file_bytes=LIMIT)


@pytest.fixture
def published(settings: Settings) -> None:
    publish(settings, FORM)


def upload(persona: Any, kind: str, data: bytes | Iterator[bytes], content_type: str = "application/octet-stream"
           ) -> Any:
    headers = {"x-csrftoken": csrf_of(persona), "content-type": content_type}
    return persona.post(f"/api/v1/attachments?jenis={kind}", content=data, headers=headers)


def body(instance_id: str | None = None, **answers: object) -> dict[str, object]:
    return {"instance_id": instance_id or str(uuid.uuid4()), "form_id": "uji_api", "form_version": "1",
            "answers": {"nama": "Siti Aminah", **answers}}


def send(persona: Any, payload: dict[str, object]) -> Any:
    return persona.post("/api/v1/submissions", json=payload, headers={"x-csrftoken": csrf_of(persona)})


def count(settings: Settings, table: str) -> int:
    return int(fetch(settings, f"SELECT count(*) AS n FROM {table}")[0]["n"])


def stored_files(settings: Settings) -> list[Path]:
    """Every file under the data directory's attachments, temporary ones included."""
    folder = Path(settings.data_dir) / "attachments"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def nothing_stored(settings: Settings) -> None:
    assert count(settings, "attachment") == 0 and count(settings, "attachment_upload") == 0
    assert count(settings, "submission") == 0
    if ON_POSTGRES:
        assert count(settings, "blob") == 0 and count(settings, "blob_chunk") == 0
    else:
        assert stored_files(settings) == []


CASES = [("audio", name, data) for name, data in AUDIO.items()] + \
        [("video", name, data) for name, data in VIDEO.items()] + \
        [("file", "page", HOSTILE_PAGE), ("file", "mp3", AUDIO["mp3"])]


@pytest.mark.parametrize(("kind", "name", "data"), CASES, ids=[f"{k}-{n}" for k, n, _ in CASES])
def test_each_kind_is_kept_as_sent_and_read_back_byte_identical(as_, published, settings, kind, name, data
                                                                ) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    up = upload(citra, kind, data)
    assert up.status_code == 201, up.text
    digest = up.json()["sha256"]
    assert digest == hashlib.sha256(data).hexdigest() and up.json()["size"] == len(data)
    field = {"audio": "suara", "video": "video", "file": "dokumen"}[kind]
    assert send(citra, body(**{field: digest})).status_code == 201
    got = as_("budi").get(f"/api/v1/attachments/{digest}")  # the coordinator of the record's area
    assert got.status_code == 200 and got.content == data
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"].startswith("attachment;")
    if kind == "file":
        assert got.headers["content-type"] == "application/octet-stream"
    else:
        assert got.headers["content-type"].startswith(f"{kind}/") or got.headers["content-type"].endswith("/3gpp")


def test_a_large_recording_streams_through_in_chunks_and_reads_back_whole(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    data = AUDIO["mp3"][:16] + noise(LIMIT - 16)  # exactly the limit, sent chunked without a length

    def pieces() -> Iterator[bytes]:
        for start in range(0, len(data), 7000):
            yield data[start:start + 7000]

    up = upload(citra, "audio", pieces())
    assert up.status_code == 201, up.text
    assert send(citra, body(suara=up.json()["sha256"])).status_code == 201
    assert citra.get(f"/api/v1/attachments/{up.json()['sha256']}").content == data


REFUSALS = [
    ("audio", b"just some text, not a recording at all", 415, "attachment.wrong_kind"),
    ("video", AUDIO["mp3"], 415, "attachment.wrong_kind"),
    ("video", AUDIO["m4a"], 415, "attachment.wrong_kind"),
    ("audio", JPEG, 415, "attachment.wrong_kind"),
    ("audio", b"", 400, "attachment.empty"),
    ("file", b"", 400, "attachment.empty"),
    ("audio", AUDIO["mp3"][:16] + noise(LIMIT), 413, "attachment.file_too_large"),
    ("file", noise(LIMIT + 1), 413, "attachment.file_too_large"),
    ("pdf", HOSTILE_PAGE, 400, "attachment.unknown_kind"),
    ("../../etc", HOSTILE_PAGE, 400, "attachment.unknown_kind"),
]


@pytest.mark.parametrize(("kind", "data", "status", "code"), REFUSALS)
def test_hostile_uploads_are_clear_4xx_and_leave_nothing(as_, published, settings, kind, data, status, code
                                                         ) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    refused = upload(citra, kind, data)
    assert refused.status_code == status and refused.json()["code"] == code, refused.text
    assert refused.json()["detail_id"]  # said in Indonesian
    if len(data) > 16:  # the same refused without a declared length: it is found out midway
        chunked = upload(citra, kind, iter([data[:9000], data[9000:]]))
        assert chunked.status_code == status and chunked.json()["code"] == code, chunked.text
    nothing_stored(settings)


def test_a_question_takes_only_its_kind_and_its_own_limit(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    page = upload(citra, "file", HOSTILE_PAGE).json()["sha256"]
    song = upload(citra, "audio", AUDIO["ogg"]).json()["sha256"]  # 3 KB, over `pendek`'s max_size of 1 KB
    photo = citra.post("/api/v1/attachments", content=JPEG,
                       headers={"x-csrftoken": csrf_of(citra), "content-type": "image/jpeg"}).json()["sha256"]
    for answers, code in (({"suara": page}, "attachment.not_for_question"),
                          ({"suara": photo}, "attachment.not_for_question"),
                          ({"video": song}, "attachment.not_for_question"),
                          ({"foto": song}, "attachment.not_for_question"),
                          ({"pendek": song}, "attachment.over_question_limit")):
        refused = send(citra, body(**answers))
        assert refused.status_code == 422 and refused.json()["code"] == code, (answers, refused.text)
    assert count(settings, "submission") == 0 and count(settings, "submission_attachment") == 0
    assert send(citra, body(suara=song, dokumen=page, foto=photo)).status_code == 201


def test_a_file_kept_as_octet_stream_cites_as_a_recording_once_proven_one(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    """The server remembers what it read of a photo or recording (its kind and size never change once
    known), but not a file question's octet-stream: the same bytes sent again as a recording upgrade it."""
    citra = as_("citra")
    song = upload(citra, "file", AUDIO["ogg"]).json()["sha256"]
    assert send(citra, body(dokumen=song)).status_code == 201
    refused = send(citra, body(suara=song))  # so far only a file
    assert refused.status_code == 422 and refused.json()["code"] == "attachment.not_for_question"
    assert upload(citra, "audio", AUDIO["ogg"]).json()["sha256"] == song
    assert send(citra, body(suara=song)).status_code == 201
    assert send(citra, body(suara=song)).status_code == 201  # read from the process's memory this time


def test_a_resend_with_the_same_instance_id_is_one_row(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    song = upload(citra, "audio", AUDIO["amr"]).json()["sha256"]
    again = upload(citra, "audio", AUDIO["amr"])  # the outbox retrying the upload too
    assert again.status_code == 201 and again.json()["sha256"] == song
    payload = body(suara=song)
    assert send(citra, payload).status_code == 201
    assert send(citra, payload).status_code == 200
    assert count(settings, "submission") == 1 and count(settings, "submission_attachment") == 1
    assert count(settings, "attachment") == 1


def test_another_area_can_neither_see_nor_cite_a_recording(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    citra, dewi = as_("citra"), as_("dewi")
    song = upload(citra, "audio", AUDIO["mp3"]).json()["sha256"]
    send(citra, body(suara=song))
    assert dewi.get(f"/api/v1/attachments/{song}").status_code == 404
    cited = send(dewi, body(suara=song))
    assert cited.status_code == 422 and cited.json()["code"] == "attachment.missing"


def test_review_page_plays_and_links_and_exports_link(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    song, film, page = (upload(citra, k, d).json()["sha256"]
                        for k, d in (("audio", AUDIO["m4a"]), ("video", VIDEO["mp4"]), ("file", HOSTILE_PAGE)))
    record = body(suara=song, video=film, dokumen=page)
    assert send(citra, record).status_code == 201
    text = as_("budi").get(f"/data/{record['instance_id']}").text
    assert f'<audio controls preload="none" src="/api/v1/attachments/{song}">' in text
    assert f'<video controls preload="none" class="thumb" src="/api/v1/attachments/{film}">' in text
    assert f'<a href="/api/v1/attachments/{page}" class="upload">Unduh berkas</a>' in text
    assert "<script>alert" not in text
    exported = as_("ani").get("/data/ekspor?form=uji_api&format=csv&status=all")
    assert exported.status_code == 200, exported.text
    row = csv_tables(exported.content)["uji_api.csv"][0]
    assert row["suara"].endswith(f"/api/v1/attachments/{song}") and row["suara"].startswith("http")
    assert row["dokumen"].endswith(f"/api/v1/attachments/{page}")
    assert as_("ani").get(f"/api/v1/submissions/{record['instance_id']}").json()["answers"]["video"] == film


def test_xlsx_export_links_the_file(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    song = upload(citra, "audio", AUDIO["wav"]).json()["sha256"]
    send(citra, body(suara=song))
    exported = as_("ani").get("/data/ekspor?form=uji_api&format=xlsx&status=all")
    assert exported.status_code == 200
    with zipfile.ZipFile(io.BytesIO(exported.content)) as book:
        texts = "".join(book.read(n).decode("utf-8", "replace") for n in book.namelist())
    assert f"/api/v1/attachments/{song}" in texts


# --- ODK Collect ------------------------------------------------------------------------------------------------
def compiled_form() -> Any:
    result = compile_source(FORM, "uji_api.yaml")
    assert result.compiled is not None
    return result.compiled


def test_collect_sends_each_kind_as_a_part_stored_as_sent(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    collect, odk_id = as_(None), uuid.uuid4()
    files = {"1712.m4a": AUDIO["m4a"], "1713.mp4": VIDEO["mp4"], "laporan.pdf": HOSTILE_PAGE}
    answers = {"nama": "Siti", "suara": "1712.m4a", "video": "1713.mp4", "dokumen": "laporan.pdf"}
    xml = instance_xml(xform_of(compiled_form()), answers, odk_id)
    sent = post_instance(collect, "citra", xml, files)
    assert sent.status_code == 201, message(sent)
    stored = fetch(settings, "SELECT answers FROM submission WHERE id = {}", odk_id)[0]["answers"]
    stored = msgspec.json.decode(stored) if isinstance(stored, (str, bytes)) else stored
    for field, name in (("suara", "1712.m4a"), ("video", "1713.mp4"), ("dokumen", "laporan.pdf")):
        assert stored[field] == hashlib.sha256(files[name]).hexdigest()
        assert as_("budi").get(f"/api/v1/attachments/{stored[field]}").content == files[name]
    assert post_instance(collect, "citra", xml, files).status_code == 201  # Collect's retry
    assert count(settings, "submission") == 1 and count(settings, "submission_attachment") == 3


def test_collect_parts_of_the_wrong_kind_or_too_large_are_refused_with_nothing_stored(as_, published, settings
                                                                                      ) -> None:  # type: ignore[no-untyped-def]
    collect = as_(None)
    form = xform_of(compiled_form())
    for files, code in (({"a.m4a": b"not audio at all, a text file"}, 415),
                        ({"a.m4a": b""}, 400),
                        ({"a.m4a": AUDIO["mp3"][:16] + noise(LIMIT)}, 413)):
        xml = instance_xml(form, {"nama": "Siti", "suara": "a.m4a"}, uuid.uuid4())
        refused = post_instance(collect, "citra", xml, files)
        assert refused.status_code == code, message(refused)
    xml = instance_xml(form, {"nama": "Siti", "dokumen": "../../etc/passwd"}, uuid.uuid4())
    hostile_name = collect.post("/submission", files=[
        ("xml_submission_file", ("submission.xml", xml, "text/xml")),
        ("../../etc/passwd", ("../../etc/passwd", HOSTILE_PAGE, "text/plain"))],
        headers=basic("citra"))
    assert 400 <= hostile_name.status_code < 500
    nothing_stored(settings)
    assert count(settings, "openrosa_part") == 0


def test_a_recording_in_an_imported_outbox_file_is_stored_as_sent(as_, published, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.web.test_offline import outbox_file, post_file

    song, film, page = AUDIO["m4a"], VIDEO["mp4"], HOSTILE_PAGE
    digests = {hashlib.sha256(d).hexdigest(): d for d in (song, film, page)}
    sha = list(digests)
    record = body(suara=sha[0], video=sha[1], dokumen=sha[2])
    imported = post_file(as_("ani"), outbox_file("citra", [record], digests))
    assert imported.status_code == 200 and imported.text.count('data-outcome="new"') == 1, imported.text
    for digest, data in digests.items():
        assert as_("budi").get(f"/api/v1/attachments/{digest}").content == data

