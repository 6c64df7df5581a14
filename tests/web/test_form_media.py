"""Form media (the XLSForm's image, audio and video columns): uploaded with the workbook or on the
publish page, checked by their bytes and names, shown on the fill page in the page's language to
whoever may fill the form (and nobody else), listed with their md5 in the OpenRosa manifest."""

from __future__ import annotations

import hashlib
import io
import os
import re
import tracemalloc
import wave
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from PIL import Image

from server.domain.form_media import sniff
from server.errors import PantauError
from server.storage import form_media
from tests.web.conftest import csrf_of, post_form
from tests.web.test_editor import publish, workbook
from tests.web.test_openrosa import MF, basic, form_list, path_of, shipped  # noqa: F401 - a fixture

FORM = "uji_media"


def png(colour: str | tuple[int, int, int] = "red", size: tuple[int, int] = (8, 6)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    return out.getvalue()


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
BOOK = workbook({
    "survey": [["type", "name", "label::Indonesian (id)", "label::English (en)", "media::image",
                "image::English (en)", "audio"],
               ["select_one warna", "warna", "Warna rumah", "House colour", "rumah.png", "house.png", "salam.wav"],
               ["text", "nama", "Nama", "Name", "", "", ""]],
    "choices": [["list_name", "name", "label::Indonesian (id)", "label::English (en)", "media::image"],
                ["warna", "merah", "Merah", "Red", "merah.png"], ["warna", "biru", "Biru", "Blue", ""]],
    "settings": [["form_id", "version", "default_language"], [FORM, "1", "Indonesian (id)"]],
})


def upload_media(persona: Any, *files: tuple[str, bytes]):  # type: ignore[no-untyped-def]
    return persona.post(f"/formulir/{FORM}/media", data={"_csrf_token": csrf_of(persona)},
                        files=[("media", f) for f in files], headers={"accept": "application/json"},
                        follow_redirects=False)


@pytest.fixture
def ani(as_):  # type: ignore[no-untyped-def]
    return as_("ani")


def drafted(ani: Any) -> None:
    answer = ani.post("/formulir/unggah", follow_redirects=False, data={"_csrf_token": csrf_of(ani)}, files=[
        ("berkas", ("media.xlsx", BOOK)), ("lampiran", ("rumah.png", png())), ("lampiran", ("merah.png", png("blue")))])
    assert answer.status_code == 303, answer.text[:2000]


def test_media_upload_lists_what_is_missing_and_refuses_hostile_files(ani, settings) -> None:  # type: ignore[no-untyped-def]
    drafted(ani)
    page = ani.get(f"/formulir/{FORM}/terbit").text
    assert re.search(r'data-name="salam.wav" data-present="tidak"', page)
    assert re.search(r'data-name="house.png" data-present="tidak"', page)
    assert re.search(r'data-name="rumah.png" data-present="ya"', page)
    assert 'data-code="form.missing_media"' in page and "belum diunggah" in page
    refused = {
        "../rumah.png": ("media.bad_name", png()), "..": ("media.bad_name", png()),
        "a\\b.png": ("media.bad_name", png()), "lain.png": ("media.not_named", png()),
        "house.png": ("media.bad_type", SVG),  # SVG can carry script: never accepted
        "salam.wav": ("media.bad_type", png()),  # an image where the audio column wants sound
    }
    for name, (code, data) in refused.items():
        answer = upload_media(ani, (name, data))
        assert 400 <= answer.status_code < 500 and answer.json()["code"] == code, (name, answer.text)
    # One bad file refuses the whole upload: the good one beside it is not stored either.
    assert upload_media(ani, ("house.png", png()), ("salam.wav", SVG)).status_code == 415
    assert 'data-name="house.png" data-present="tidak"' in ani.get(f"/formulir/{FORM}/terbit").text
    assert upload_media(ani, ("house.png", png("green")), ("salam.wav", wav())).status_code == 303
    page = ani.get(f"/formulir/{FORM}/terbit").text
    assert 'data-present="tidak"' not in page and "form.missing_media" not in page


def test_the_size_cap_and_the_sniffing_decide_by_the_bytes() -> None:
    named = {"a.png": "image", "b.mp3": "audio", "c.mp4": "video"}
    with pytest.raises(PantauError) as big:
        form_media.checked("a.png", png() + b"\0" * 2048, named, 1024)
    assert big.value.code == "media.too_large" and big.value.status == 413
    with pytest.raises(PantauError) as nul:
        form_media.checked("a\x00.png", png(), named, 1024)
    assert nul.value.code == "media.bad_name"
    assert sniff(b"ID3\x04" + b"\0" * 20) == "audio/mpeg" and sniff(b"OggS\0") == "audio/ogg"
    assert sniff(b"\0\0\0\x20ftypM4A \0") == "audio/mp4" and sniff(b"\0\0\0\x20ftypisom\0") == "video/mp4"
    assert sniff(b"\x1a\x45\xdf\xa3\x01") == "video/webm" and sniff(b"GIF89a..") == "image/gif"
    assert sniff(SVG) is None and sniff(b"<?xml version='1.0'?><svg/>") is None and sniff(b"") is None


def published(ani: Any) -> None:
    drafted(ani)
    assert upload_media(ani, ("house.png", png("green")), ("salam.wav", wav())).status_code == 303
    assert publish(ani, FORM).status_code == 303


def test_the_fill_page_shows_the_media_to_those_who_may_fill_it(ani, as_) -> None:  # type: ignore[no-untyped-def]
    published(ani)
    citra = as_("citra")
    page = citra.get(f"/f/{FORM}").text
    image = re.search(r'<img class="md" src="([^"]+)" alt="Warna rumah" loading="lazy">', page)
    assert image is not None and "/media/" in image.group(1) and image.group(1).endswith("/rumah.png")
    assert re.search(r'<audio class="md" controls preload="none" src="[^"]+/salam.wav" aria-label="Warna rumah">',
                     page)
    assert re.search(r'Merah<img class="md" src="[^"]+/merah.png" alt="Merah" loading="lazy">', page)
    assert "css/media.css" in page
    english = citra.get(f"/f/{FORM}?lang=en").text  # image::English (en) follows the language switch
    assert re.search(r'<img class="md" src="[^"]+/house.png" alt="House colour"', english)
    served = citra.get(image.group(1))
    assert served.status_code == 200 and served.content == png()
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "immutable" in served.headers["cache-control"]
    sha = hashlib.sha256(png()).hexdigest()
    assert f"/media/{sha}/" in image.group(1)  # the URL names the bytes
    assert citra.get(image.group(1).replace(sha, "0" * 64)).status_code == 404
    # A player seeking: the part asked for, 206; a range outside the file is a 416 with its code.
    part = citra.get(image.group(1), headers={"range": "bytes=2-9"})
    assert part.status_code == 206 and part.content == png()[2:10]
    assert part.headers["content-range"] == f"bytes 2-9/{len(png())}"
    assert citra.get(image.group(1), headers={"range": "bytes=-4"}).content == png()[-4:]
    for bad in ("bytes=999999-", "bytes=5-2", "items=0-1", "bytes=-"):
        refused = citra.get(image.group(1), headers={"range": bad, "accept": "application/json"})
        assert refused.status_code == 416 and refused.json()["code"] == "media.bad_range", bad
    # The offline copy names the media, so the form opens offline with its pictures.
    offline = citra.get("/api/v1/offline", headers={"accept": "application/json"}).json()
    assert image.group(1) in offline["media"]
    # Assigned to Samboja only: Citra (Tenggarong) may neither fill the form nor fetch its media.
    assert post_form(ani, f"/formulir/{FORM}/penugasan", {"wilayah": "64.02.13"}).status_code == 303
    assert citra.get(image.group(1)).status_code == 404
    assert as_("dewi").get(image.group(1)).status_code == 200
    assert as_(None).get(image.group(1), follow_redirects=False).status_code in (302, 303, 401)


def test_a_form_without_media_names_no_media_stylesheet(as_, shipped) -> None:  # type: ignore[no-untyped-def] # noqa: F811
    page = as_("citra").get("/f/registrasi_penerima").text
    assert "media.css" not in page and 'class="md"' not in page


def test_the_manifest_lists_the_media_with_their_md5(ani, app_client) -> None:  # type: ignore[no-untyped-def]
    published(ani)
    entry = form_list(app_client.get("/formList", headers=basic("citra")))[FORM]
    xform = app_client.get(path_of(entry["downloadUrl"]), headers=basic("citra")).text
    assert "jr://images/rumah.png" in xform and "jr://audio/salam.wav" in xform and "jr://images/merah.png" in xform
    manifest = app_client.get(path_of(entry["manifestUrl"]), headers=basic("citra"))
    files = {m.findtext(f"{MF}filename"): m for m in ET.fromstring(manifest.content)}
    assert set(files) == {"rumah.png", "house.png", "merah.png", "salam.wav"}
    for name, m in files.items():
        data = app_client.get(path_of(m.findtext(f"{MF}downloadUrl") or ""), headers=basic("citra"))
        assert data.status_code == 200, name
        assert m.findtext(f"{MF}hash") == f"md5:{hashlib.md5(data.content).hexdigest()}"
    assert files["salam.wav"].findtext(f"{MF}hash") == f"md5:{hashlib.md5(wav()).hexdigest()}"
    # Without a draft the editor page lists the media and takes a new file; the manifest's md5 follows.
    editor = ani.get(f"/formulir/{FORM}").text
    assert 'data-name="house.png" data-present="ya"' in editor and 'action="/formulir/uji_media/media"' in editor
    again = upload_media(ani, ("house.png", png("navy")))
    assert again.status_code == 303 and again.headers["location"] == f"/formulir/{FORM}"
    manifest = app_client.get(path_of(entry["manifestUrl"]), headers=basic("citra"))
    house = next(m for m in ET.fromstring(manifest.content) if m.findtext(f"{MF}filename") == "house.png")
    assert house.findtext(f"{MF}hash") == f"md5:{hashlib.md5(png('navy')).hexdigest()}"


def test_a_player_seeking_gets_its_part_streamed_never_the_file_whole(ani, as_) -> None:  # type: ignore[no-untyped-def]
    # Four seconds short of 5 MB of sound, its bytes random, so that a part from the wrong place shows.
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(os.urandom(2 * 8000 * 300))
    sound = out.getvalue()
    drafted(ani)
    assert upload_media(ani, ("house.png", png("green")), ("salam.wav", sound)).status_code == 303
    assert publish(ani, FORM).status_code == 303
    citra = as_("citra")
    url = re.search(r'<audio class="md" controls preload="none" src="([^"]+/salam.wav)"', citra.get(f"/f/{FORM}").text)
    assert url is not None
    mib = 1 << 20
    for first, last in ((0, 0), (mib - 5, mib + 4), (2 * mib - 1, 2 * mib), (len(sound) - 7, len(sound) - 1)):
        # as a browser's media player asks: the bytes as stored (Accept-Encoding: identity)
        part = citra.get(url.group(1), headers={"range": f"bytes={first}-{last}", "accept-encoding": "identity"})
        assert part.status_code == 206 and part.content == sound[first:last + 1], (first, last)
        assert part.headers["content-range"] == f"bytes {first}-{last}/{len(sound)}"
        assert part.headers["content-length"] == str(last - first + 1)
    tracemalloc.start()
    try:
        tail = citra.get(url.group(1), headers={"range": "bytes=-16"})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert tail.status_code == 206 and tail.content == sound[-16:]
    # A few chunks of 1 MiB in flight (PostgreSQL's driver copies each); the file read whole would
    # itself be the 4.8 MB this peak must stay under, besides its chunks.
    assert peak < len(sound), peak
