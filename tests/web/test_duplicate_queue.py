"""The probable-duplicates queue on the web: two registrations of one person, the second without a
NIK and with a title and a spelling variant, come up side by side for the coordinator of their
area, with what differs marked and the NIK masked; deciding through the page merges or forgets the
pair, and another area's coordinator neither sees nor decides it."""

from __future__ import annotations

import json
import re
from typing import Any

from server.storage import duplicates, pii
from server.storage.writer import Writer
from tests.web.conftest import post_form
from tests.web.test_registry import NOW, _run, fetch, insert_beneficiary, publish_source, send, shipped

__all__ = ["shipped"]  # the fixture


def _pass(settings: Any) -> int:
    async def work(db: Any) -> int:
        writer = Writer(db)
        await writer.start()
        try:
            return (await duplicates.full_pass(db, writer, pii.keys_of(settings), NOW))[1]
        finally:
            await writer.stop()
    return int(_run(settings, work))


def _decide(persona: Any, pair: str, decision: str, keep: str = "") -> Any:
    return post_form(persona, f"/penerima/kemungkinan-sama/{pair}", {"keputusan": decision, "simpan": keep})


def test_a_coordinator_sees_and_decides_the_pairs_of_their_area(as_, shipped, settings) -> None:  # type: ignore[no-untyped-def]
    siti = str(insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001"))
    again = str(insert_beneficiary(settings, "Hj. Sitti Aminah", "64.02.06.1001", nik="6402064101900010",
                                   kk="6402061203150099"))
    assert _pass(settings) == 1
    budi = as_("budi")
    page = budi.get("/penerima/kemungkinan-sama").text
    assert "1 pasangan belum diputuskan" in page and "Hj. Sitti Aminah" in page and "Siti Aminah" in page
    assert "6402064101900010" not in page and "64**************" in page
    assert re.search(r'<tr class="differs"><th scope="row">Nama', page)  # the names differ: marked
    assert "Nama: bunyinya sama" in page or "Nama: sama" in page
    [pair] = re.findall(r'action="/penerima/kemungkinan-sama/(\d+)"', page)[:1]

    assert 'href="/penerima/kemungkinan-sama"' in budi.get("/penerima").text
    dewi = as_("dewi")  # an enumerator: not hers to decide
    assert 'href="/penerima/kemungkinan-sama"' not in dewi.get("/penerima").text
    assert dewi.get("/penerima/kemungkinan-sama").status_code == 403
    assert _decide(dewi, pair, "same", siti).status_code == 403
    assert _decide(budi, pair, "maybe").status_code == 400
    assert _decide(budi, pair, "same", "00000000-0000-0000-0000-000000000000").status_code == 400
    assert _decide(budi, pair, "same", siti).status_code in (302, 303)
    assert "Tidak ada pasangan" in budi.get("/penerima/kemungkinan-sama").text
    record = budi.get(f"/api/v1/penerima/{again}").json()["beneficiary"]
    assert record["id"] == siti  # the merged id leads to the one kept
    twice = _decide(budi, pair, "different")
    assert twice.status_code == 409 and "registry.duplicate_decided" in twice.text


GUARDIAN_FORM = b"""settings:
  id: daftar_anak
  version: "1"
  title: {id: Pendaftaran anak terlantar, en: Neglected child intake}
  registry:
    programme: anak
    creates: {name: nama, sex: jk, birth_date: lahir, area: desa, guardian: ibu}
choices:
  jk: {L: Laki-laki, P: Perempuan}
  kecamatan: {wilayah: kecamatan 64.02}
  desa: {wilayah: desa 64.02}
fields:
  - {type: text, name: nama, label: Nama anak, required: yes}
  - {type: text, name: ibu, label: Nama ibu atau wali}
  - {type: select_one jk, name: jk, label: Jenis kelamin}
  - {type: date, name: lahir, label: Tanggal lahir}
  - {type: select_one kecamatan, name: kecamatan, label: Kecamatan}
  - {type: select_one desa, name: desa, label: Desa, choice_filter: "parent = ${kecamatan}"}
"""


def test_a_childs_guardian_is_stored_and_weighs_in_the_pass(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish_source(settings, GUARDIAN_FORM, "daftar_anak.yaml")
    citra = as_("citra")
    child = {"nama": "Ayu", "jk": "P", "lahir": "2021-06-01", "kecamatan": "64.02.06", "desa": "64.02.06.1001"}
    for mother in ("Hj. Siti Aminah", "Sitti Aminah"):
        sent = send(citra, "daftar_anak", "1", {**child, "ibu": mother})
        assert sent.status_code == 201, sent.text
    stored = fetch(settings, "SELECT guardian_name FROM beneficiary WHERE programme = 'anak' ORDER BY guardian_name")
    assert [r["guardian_name"] for r in stored] == ["Hj. Siti Aminah", "Sitti Aminah"]
    assert _pass(settings) == 1
    [pair] = fetch(settings, "SELECT levels FROM duplicate_candidate")
    levels = pair["levels"] if isinstance(pair["levels"], dict) else json.loads(pair["levels"])
    assert levels["guardian"] == "same" and levels["name"] == "same"
