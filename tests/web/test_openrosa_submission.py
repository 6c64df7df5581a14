"""ODK Collect's submissions (form-systems.md 2.3) through the one submission path: an instance made
from pyxform's XForm of each shipped form lands as the same row as the same answers posted by the
web page; a retry is 201 with the first receipt and one row, other content a 409, broken answers a
400 naming the fields, an unknown version a 404, a form split over two requests is stored once
after the last, photos are stored as the outbox stores them, and hostile bodies are 4xx."""

from __future__ import annotations

import base64
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from server.domain.compile import CompiledForm
from server.settings import Settings
from tests.domain.test_forms_shipped import CHILD, MONEV, REGISTRASI, SITI, TUMBUH, VISIT
from tests.openrosa_fill import instance_xml, xform_of
from tests.web.conftest import PASSWORD
from tests.web.test_api_submissions import JPEG, _jpeg, photo_size
from tests.web.test_registry import NOW, REPO, _run, fetch, photo, publish_source, registered, send

OR_NS = "{http://openrosa.org/http/response}"


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def shipped(settings: Settings) -> None:
    for name in ("registrasi_penerima", "monev_uep", "cek_tumbuh_anak"):
        publish_source(settings, (REPO / "forms" / f"{name}.yaml").read_bytes(), f"{name}.yaml")


def basic(name: str) -> dict[str, str]:
    token = base64.b64encode(f"{name}:{PASSWORD}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-OpenRosa-Version": "1.0"}


def post_instance(client: Any, who: str, xml: bytes, files: dict[str, bytes] | None = None,
                  incomplete: bool = False, path: str = "/submission") -> Any:
    parts: list[tuple[str, Any]] = [("xml_submission_file", ("submission.xml", xml, "text/xml"))]
    parts += [(name, (name, data, "image/jpeg")) for name, data in (files or {}).items()]
    if incomplete:
        parts.append(("*isIncomplete*", (None, b"yes")))
    return client.post(path, files=parts, headers=basic(who))


def message(response: Any) -> str:
    root = ET.fromstring(response.content)
    assert root.tag == f"{OR_NS}OpenRosaResponse", response.text
    return "".join(root.itertext())


def row(settings: Any, instance_id: uuid.UUID | str) -> dict[str, Any]:
    found = fetch(settings, "SELECT answers, content_hash, revision, enumerator, area_code FROM submission "
                            "WHERE id = {}", uuid.UUID(str(instance_id)))
    assert len(found) == 1
    return found[0]


def odk_answers(answers: dict[str, Any], files: dict[str, str]) -> dict[str, Any]:
    """The web answers with each photo's sha256 swapped for the file name Collect gives it."""
    return {k: files.get(v, v) if isinstance(v, str) else v for k, v in answers.items()}


def shipped_cases(persona: Any) -> list[tuple[str, CompiledForm, dict[str, Any]]]:
    household = registered(persona)  # Siti, registered from the web page
    picture = photo(persona)
    return [
        ("registrasi_penerima", REGISTRASI, {**SITI, "ttd_persetujuan": picture, "foto_penerima": picture}),
        ("monev_uep", MONEV, {**VISIT, "penerima": household, "tgl_kunjungan": "2026-04-10",
                              "foto_usaha": picture}),
        ("cek_tumbuh_anak", TUMBUH, {**CHILD, "keluarga": household}),
    ]


def test_head_answers_204_with_the_size_a_request_may_have(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    client = as_(None)
    response = client.request("HEAD", "/submission", headers=basic("citra"))
    assert response.status_code == 204 and response.content == b""
    # the larger of a photo's limit and a recording's: Collect sends one file per request past it
    assert response.headers["x-openrosa-accept-content-length"] == str(max(settings.max_attachment_bytes,
                                                                           settings.max_file_bytes))
    assert response.headers["x-openrosa-version"] == "1.0" and response.headers["date"]
    assert client.request("HEAD", "/submission").status_code == 401


def app_key(settings: Settings, who: str) -> str:
    """A personal app key (what the account page's QR code carries), made for `who`."""
    from server.domain.access import Principal
    from server.storage import app_keys, users

    async def make(db: Any) -> str:
        account = await users.get(db, who)
        principal = Principal(account.id, account.username, account.display_name, account.role, account.areas)
        return (await app_keys.create(db, principal, "HP uji"))[1]

    return str(_run(settings, make))


def test_an_app_key_is_a_whole_server_root_for_submissions(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    collect, odk_id, root = as_(None), uuid.uuid4(), f"/key/{app_key(settings, 'citra')}"
    head = collect.request("HEAD", f"{root}/submission", headers={"X-OpenRosa-Version": "1.0"})
    assert head.status_code == 204 and head.headers["x-openrosa-accept-content-length"]
    xml = instance_xml(xform_of(TUMBUH), {**CHILD, "keluarga": registered(as_("citra"))}, odk_id)
    parts = {"files": [("xml_submission_file", ("submission.xml", xml, "text/xml"))]}
    assert collect.post(f"{root}/submission", headers={"X-OpenRosa-Version": "1.0"}, **parts).status_code == 201
    assert row(settings, odk_id)["revision"] == 1
    assert collect.post("/key/" + "k" * 48 + "/submission", headers={"X-OpenRosa-Version": "1.0"},
                        **parts).status_code == 401
    without_header = collect.post(f"{root}/submission", **parts)
    assert without_header.status_code == 400 and "X-OpenRosa-Version" in message(without_header)


def test_each_shipped_form_lands_as_the_web_pages_row_and_once(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    citra, collect = as_("citra"), as_(None)
    for form_id, compiled, answers in shipped_cases(citra):
        web_id, odk_id = uuid.uuid4(), uuid.uuid4()
        assert send(citra, form_id, compiled.version, answers, str(web_id)).status_code == 201
        files = {v: f"{k}.jpg" for k, v in answers.items() if k.startswith(("foto", "ttd"))}
        xml = instance_xml(xform_of(compiled), odk_answers(answers, files), odk_id)
        sent = post_instance(collect, "citra", xml, {name: JPEG for name in files.values()})
        assert sent.status_code == 201, (form_id, sent.text)
        assert sent.headers["x-openrosa-version"] == "1.0"
        via_odk, via_web = row(settings, odk_id), row(settings, web_id)
        assert via_odk == via_web, form_id  # answers, content hash, revision, enumerator and area
        again = post_instance(collect, "citra", xml, {name: JPEG for name in files.values()})
        assert again.status_code == 201 and message(again) == message(sent)  # the first receipt
        assert len(fetch(settings, "SELECT id FROM submission WHERE id = {}", odk_id)) == 1


def test_same_id_with_other_answers_is_a_409_and_nothing_changes(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    collect, odk_id = as_(None), uuid.uuid4()
    answers = {**CHILD, "keluarga": registered(as_("citra"))}
    xml = instance_xml(xform_of(TUMBUH), answers, odk_id)
    assert post_instance(collect, "citra", xml).status_code == 201
    before = row(settings, odk_id)
    changed = post_instance(collect, "citra", instance_xml(xform_of(TUMBUH), {**answers, "berat": "9,8"}, odk_id))
    assert changed.status_code == 409 and str(odk_id) in message(changed)
    assert row(settings, odk_id) == before


def test_invalid_answers_are_a_400_naming_each_field_in_indonesian(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    collect, odk_id = as_(None), uuid.uuid4()
    answers = {**CHILD, "keluarga": registered(as_("citra")), "berat": "250", "nama_anak": ""}
    refused = post_instance(collect, "citra", instance_xml(xform_of(TUMBUH), answers, odk_id))
    assert refused.status_code == 400
    text = message(refused)
    assert text.startswith("Isian belum benar (2 masalah)") and "berat:" in text and "nama_anak:" in text
    assert fetch(settings, "SELECT id FROM submission WHERE id = {}", odk_id) == []


@pytest.mark.parametrize("root", ['id="monev_uep" version="1999"', 'id="tidak_ada" version="2026041501"'])
def test_an_unknown_form_or_version_is_a_404(as_, shipped, root: str) -> None:  # type: ignore[no-untyped-def]
    xml = instance_xml(xform_of(MONEV), dict(VISIT), uuid.uuid4()).replace(
        b'id="monev_uep" version="2026041501"', root.encode())
    refused = post_instance(as_(None), "citra", xml)
    assert refused.status_code == 404 and "tidak ada" in message(refused).lower()


def test_a_form_sent_in_two_parts_is_stored_once_after_the_last(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    collect, odk_id = as_(None), uuid.uuid4()
    household = registered(as_("citra"))
    answers = {**VISIT, "penerima": household, "tgl_kunjungan": "2026-04-10", "foto_usaha": "usaha.jpg",
               "foto_alat": "alat.jpg"}
    xml = instance_xml(xform_of(MONEV), answers, odk_id)
    first = post_instance(collect, "citra", xml, {"usaha.jpg": JPEG}, incomplete=True)
    assert first.status_code == 201
    assert fetch(settings, "SELECT id FROM submission WHERE id = {}", odk_id) == []  # nothing to review yet
    assert as_("budi").get(f"/data/{odk_id}").status_code == 404
    big = _jpeg((64, 40))
    last = post_instance(collect, "citra", xml, {"alat.jpg": big})
    assert last.status_code == 201, last.text
    stored = row(settings, odk_id)["answers"]
    stored = stored if isinstance(stored, dict) else __import__("json").loads(stored)
    held = {r["sha256"] for r in fetch(settings, "SELECT sha256 FROM submission_attachment WHERE submission = {}",
                                       odk_id)}
    assert held == {stored["foto_usaha"], stored["foto_alat"]} and len(held) == 2
    assert fetch(settings, "SELECT id FROM openrosa_part") == []
    shown = as_("citra").get(f"/api/v1/attachments/{stored['foto_alat']}")
    assert shown.status_code == 200 and photo_size(shown.content) == (64, 40)


def test_a_photo_the_xml_names_must_arrive(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    answers = {**VISIT, "penerima": registered(as_("citra")), "tgl_kunjungan": "2026-04-10", "foto_usaha": "u.jpg"}
    refused = post_instance(as_(None), "citra", instance_xml(xform_of(MONEV), answers, uuid.uuid4()))
    assert refused.status_code == 400 and "u.jpg" in message(refused)
    not_a_photo = post_instance(as_(None), "citra", instance_xml(xform_of(MONEV), answers, uuid.uuid4()),
                                {"u.jpg": b"<html>not a photo</html>"})
    assert not_a_photo.status_code == 415


HOSTILE = [
    b"""<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>
<data id="monev_uep" version="2026041501"><periode>&b;</periode></data>""",
    b"""<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><data id="x">&x;</data>""",
    b"just text", b"", b"<data id='monev_uep' version='2026041501'><meta><instanceID>1</instanceID></meta></data>",
    b"<data>" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</data>",
    b"<data id='monev_uep' version='2026041501'>\x00</data>",
]


def test_hostile_instances_are_a_400_and_store_nothing(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    collect = as_(None)
    for xml in HOSTILE:  # one test, not one each: the fixtures cost more than the calls
        refused = post_instance(collect, "citra", xml)
        assert refused.status_code == 400, (xml[:60], refused.text)
        assert message(refused)
    assert fetch(settings, "SELECT id FROM submission") == []


def test_bodies_that_are_no_submission_are_a_4xx(as_, shipped) -> None:  # type: ignore[no-untyped-def]
    collect = as_(None)
    assert collect.post("/submission", content=b"<data/>", headers={**basic("citra"),
                                                                     "content-type": "text/xml"}).status_code == 400
    no_xml = collect.post("/submission", files=[("foto.jpg", ("foto.jpg", JPEG, "image/jpeg"))], headers=basic("citra"))
    assert no_xml.status_code == 400 and "xml_submission_file" in message(no_xml)
    assert collect.post("/submission", files=[("xml_submission_file", ("s.xml", b"<a/>", "text/xml"))]
                        ).status_code == 401  # no credentials: Collect asks for them


def test_hostile_multipart_from_a_signed_in_app_is_never_a_5xx(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    """The route fuzz (test_route_fuzz.py) reaches /submission without credentials; this goes past the
    sign-in with hostile parts, names and values."""
    from tests.web.test_route_fuzz import TEXTS

    collect, failures = as_(None), []
    good = instance_xml(xform_of(MONEV), {**VISIT, "foto_usaha": "u.jpg"}, uuid.uuid4())
    attempts: list[dict[str, Any]] = []
    for value in TEXTS:
        raw = value.encode("utf-8", "surrogatepass")
        attempts += [
            {"files": [("xml_submission_file", ("s.xml", raw, "text/xml"))]},
            {"files": [("xml_submission_file", (None, raw))]},
            {"files": [("xml_submission_file", ("s.xml", good, "text/xml")),
                       (value or "x", (value, JPEG, "image/jpeg"))]},
            {"files": [("xml_submission_file", ("s.xml", good, "text/xml")), ("*isIncomplete*", (None, raw))]},
            {"files": [("xml_submission_file", ("s.xml", good.replace(b"u.jpg", raw[:200]), "text/xml"))]},
        ]
    attempts += [{"content": b"--x\r\n\r\n", "headers": {"content-type": "multipart/form-data; boundary=x"}},
                 {"content": b"junk", "headers": {"content-type": "multipart/form-data"}},
                 {"content": b"\xff\xfe", "headers": {"content-type": "multipart/form-data; boundary=%"}},
                 {"data": {"xml_submission_file": "<a/>"}}]
    for kw in attempts:
        headers = {**basic("citra"), **kw.pop("headers", {})}
        response = collect.post("/submission", headers=headers, **kw)
        if response.status_code >= 500 or response.status_code < 400:
            failures.append((str(kw)[:120], response.status_code, response.text[:120]))
    assert failures == []
    assert fetch(settings, "SELECT id FROM submission") == []


def test_a_nik_warning_is_kept_when_collect_ticks_its_confirmation_and_a_400_when_not(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    """The XForm's "checked against the documents" after the NIK (domain/xform.py) is the fill page's
    tick: unticked, the warning stops the form, named at its question; ticked, it is stored with the
    same confirmation the web page sends."""
    picture = "foto.jpg"
    answers = {**SITI, "tgl_lahir": "1990-01-02", "ttd_persetujuan": picture, "foto_penerima": picture}
    odk_id = uuid.uuid4()
    refused = post_instance(as_(None), "citra", instance_xml(xform_of(REGISTRASI), answers, odk_id), {picture: JPEG})
    assert refused.status_code == 400 and "nik:" in message(refused)
    assert fetch(settings, "SELECT id FROM submission WHERE id = {}", odk_id) == []
    ticked = instance_xml(xform_of(REGISTRASI), {**answers, "nik_cek_dokumen": "OK"}, odk_id)
    kept = post_instance(as_(None), "citra", ticked, {picture: JPEG})
    assert kept.status_code == 201, message(kept)
    stored = row(settings, odk_id)["answers"]
    stored = stored if isinstance(stored, dict) else __import__("json").loads(stored)
    assert stored["_konfirmasi"] == ["nik"] and stored["tgl_lahir"] == "1990-01-02"


def test_collects_photos_are_stored_as_the_phones_without_their_gps(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    """Collect sends the camera's picture (it scales only when the question has max-pixels): scaled
    to the phone runtime's 1600 px as the web page's photos are; one already within it is kept as
    sent. Either way its EXIF (GPS position, camera) is gone."""
    import io

    from tests.storage.test_photo_clean import _exif, _scene

    sent = {}
    for name, size in (("besar.jpg", (2400, 1800)), ("kecil.jpg", (1200, 900))):
        out = io.BytesIO()
        _scene(*size).save(out, "JPEG", quality=90, exif=_exif().tobytes())
        sent[name] = out.getvalue()
    odk_id = uuid.uuid4()
    answers = {**VISIT, "penerima": registered(as_("citra")), "tgl_kunjungan": "2026-04-10",
               "foto_usaha": "besar.jpg", "foto_alat": "kecil.jpg"}
    posted = post_instance(as_(None), "citra", instance_xml(xform_of(MONEV), answers, odk_id), sent)
    assert posted.status_code == 201, posted.text
    stored = row(settings, odk_id)["answers"]
    stored = stored if isinstance(stored, dict) else __import__("json").loads(stored)
    scaled = as_("citra").get(f"/api/v1/attachments/{stored['foto_usaha']}").content
    kept = as_("citra").get(f"/api/v1/attachments/{stored['foto_alat']}").content
    assert photo_size(scaled) == (1600, 1200) and photo_size(kept) == (1200, 900)
    assert b"KameraMerek" not in scaled and b"KameraMerek" not in kept
    assert len(sent["kecil.jpg"]) - len(kept) < 1024  # the same picture's bytes: only the EXIF segment is gone
