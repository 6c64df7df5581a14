"""Offline first, the server's side: the service worker and its release, the manifest of
what a phone caches (every version still fillable), older versions accepted against themselves, the
Draf and Terkirim pages, the correction page of a record sent back, and the staff import of an outbox
file (twice = nothing twice; bad files are a 400 with a code)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.web.conftest import csrf_of
from tests.web.test_review import FORM, JPEG, answers, decide, publish, query, submit, upload

REPO = Path(__file__).resolve().parents[2]
FORM_V2 = FORM.replace(b'version: "1"', b'version: "2"').replace(
    b"  - {type: image, name: foto",
    b"  - {type: text, name: catatan, label: {id: Catatan, en: Note}}\n  - {type: image, name: foto",
)


@pytest.fixture
def published(settings) -> None:  # type: ignore[no-untyped-def]
    publish(settings)


def test_the_vendored_idb_is_the_npm_package_build() -> None:
    # make run needs only Python: the ESM build of `idb` ships in static/vendor, equal to npm's.
    assert json.loads((REPO / "package.json").read_text())["dependencies"]["idb"]
    shipped = (REPO / "static" / "vendor" / "idb.js").read_bytes()
    assert shipped == (REPO / "node_modules" / "idb" / "build" / "index.js").read_bytes()


def test_service_worker_carries_the_release_and_changes_with_a_new_form_version(as_, settings, published) -> None:  # type: ignore[no-untyped-def]
    anon = as_(None)
    first = anon.get("/sw.js")
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/javascript")
    assert first.headers["service-worker-allowed"] == "/" and "no-cache" in first.headers["cache-control"]
    release = re.search(r"const RELEASE = '([0-9a-f]{12})'", first.text)
    assert release and "__RELEASE__" not in first.text
    publish(settings, FORM_V2)
    again = anon.get("/sw.js").text
    assert release.group(1) not in again  # a new version to cache: the browser installs the new worker


def test_manifest_lists_every_version_still_fillable_and_the_shell(as_, settings, published) -> None:  # type: ignore[no-untyped-def]
    publish(settings, FORM_V2)
    found = as_("citra").get("/api/v1/offline").json()
    assert found["user"] == "citra"
    [form] = [f for f in found["forms"] if f["form_id"] == "uji_tinjau"]
    assert form["versions"] == ["2", "1"]
    assert "/f/uji_tinjau" in found["pages"] and "/f/uji_tinjau?v=1" in found["pages"]
    rules = [r for r in found["rules"] if r.startswith("/f/uji_tinjau/aturan")]
    assert len(rules) == 2 and all("lang=id" in r for r in rules)
    assert any(u.endswith("/js/offline.js") for u in found["shell"]) and "/draf" in found["shell"]
    assert any(u.endswith("/vendor/idb.js") for u in found["shell"])
    # A growth check opened offline computes its z-scores: its module and the WHO tables are cached.
    assert any(u.endswith("/js/growth.js") for u in found["shell"])
    assert any(u.endswith("/js/expr-more.js") for u in found["shell"])  # the ODK functions, for forms that call them
    assert any(u.endswith("/data/who-growth.json") for u in found["shell"])
    citra = as_("citra")
    for url in [*found["shell"], *rules, "/f/uji_tinjau?v=1"]:
        assert citra.get(url).status_code == 200, url  # everything it names can be cached
    older = citra.get("/f/uji_tinjau?v=1").text
    assert '"v":"1"' in older and "catatan" not in older
    assert as_("budi").get("/api/v1/offline").status_code == 403  # coordinators do not fill


def test_an_item_filled_on_an_older_version_is_accepted_against_that_version(as_, settings, published) -> None:  # type: ignore[no-untyped-def]
    publish(settings, FORM_V2)
    citra = as_("citra")
    # Version 1 has no `catatan`; filled offline on version 1 and sent after version 2 appeared.
    old = submit(citra, version="1")
    assert old["form_version"] == "1"
    [row] = query(
        settings,
        "SELECT v.version AS version FROM submission s JOIN form_version v ON v.id = s.form_version WHERE s.id = {}",
        uuid.UUID(old["instance_id"]),
    )
    assert row["version"] == "1"
    assert submit(citra, version="2", catatan="baru")["form_version"] == "2"


def test_sent_page_lists_the_server_side_and_corrections_with_their_comment(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    kept = submit(citra, nama="Siti Aminah")
    back = submit(citra, nama="Sari Dewi")
    assert decide(as_("budi"), back["instance_id"], "needs_correction", "Foto rumah buram, ulangi.").status_code in (
        200,
        302,
        303,
    )
    page = citra.get("/terkirim")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert kept["instance_id"] in page.text and back["instance_id"] in page.text
    assert "Foto rumah buram, ulangi." in page.text
    assert f'href="/perbaiki/{back["instance_id"]}"' in page.text
    assert 'id="outbox"' in page.text and "offline.js" in page.text
    assert as_("dewi").get("/terkirim").text.count(kept["instance_id"]) == 0  # only mine
    drafts = citra.get("/draf")
    assert drafts.status_code == 200 and 'id="drafts"' in drafts.text


def test_the_correction_page_opens_the_answers_and_submits_a_revision(as_, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    back = submit(citra, nama="Sari Dewi")
    decide(as_("budi"), back["instance_id"], "needs_correction", "Nama salah eja.")
    page = citra.get(f"/perbaiki/{back['instance_id']}")
    assert page.status_code == 200
    assert 'value="Sari Dewi"' in page.text and "Nama salah eja." in page.text
    config = json.loads(re.search(r'id="pantau-form">(.*?)</script>', page.text).group(1))  # type: ignore[union-attr]
    assert config["i"] == back["instance_id"] and config["b"] == 1
    fixed = submit(citra, instance_id=back["instance_id"], base_revision=1, nama="Sari Dewi Lestari")
    assert fixed["revision"] == 2
    assert citra.get(f"/perbaiki/{back['instance_id']}").status_code == 404  # no longer sent back
    assert as_("dewi").get(f"/perbaiki/{back['instance_id']}").status_code == 404  # not hers


# --- import of an outbox file -------------------------------------------------------------------------------------
def outbox_file(user: str, items: list[dict[str, Any]], photos: dict[str, bytes]) -> bytes:
    return json.dumps(
        {
            "format": "pantau-outbox",
            "version": 1,
            "user": user,
            "exported_at": "2026-11-28T00:00:00Z",
            "items": items,
            "photos": {k: base64.b64encode(v).decode() for k, v in photos.items()},
        }
    ).encode()


def item(**changes: Any) -> dict[str, Any]:
    return {
        "instance_id": str(uuid.uuid4()),
        "form_id": "uji_tinjau",
        "form_version": "1",
        "answers": answers(**changes),
    }


def post_file(persona: Any, data: bytes) -> Any:
    return persona.post(
        "/impor", files={"berkas": ("outbox.json", data, "application/json")}, data={"_csrf_token": csrf_of(persona)}
    )


def count(settings: Any) -> int:
    return int(query(settings, "SELECT COUNT(*) AS n FROM submission")[0]["n"])


def test_importing_the_same_outbox_file_twice_creates_nothing_twice(as_, settings, published) -> None:  # type: ignore[no-untyped-def]
    photo = JPEG + b"outbox"
    sha = hashlib.sha256(photo).hexdigest()
    items = [item(nama="Siti", foto=sha), item(nama="Rina"), item(nama="Budi")]
    data = outbox_file("citra", items, {sha: photo})
    ani = as_("ani")
    first = post_file(ani, data)
    assert first.status_code == 200, first.text
    assert first.text.count('data-outcome="new"') == 3 and count(settings) == 3
    second = post_file(ani, data)
    assert second.status_code == 200 and second.text.count('data-outcome="identical"') == 3
    assert count(settings) == 3
    rows = query(
        settings,
        "SELECT s.enumerator AS e, u.username AS u FROM submission s JOIN pantau_user u ON u.id = s.enumerator",
    )
    assert {r["u"] for r in rows} == {"citra"}  # filed under who filled them, not who imported
    stored = query(settings, "SELECT action, target_id FROM audit_log WHERE action = 'outbox.import'")
    assert len(stored) == 2 and stored[0]["target_id"] == "citra"


def test_an_item_the_phone_already_synced_imports_as_identical(as_, settings, published) -> None:  # type: ignore[no-untyped-def]
    citra = as_("citra")
    sha = upload(citra)
    synced = submit(citra, foto=sha)
    again = {
        "instance_id": synced["instance_id"],
        "form_id": "uji_tinjau",
        "form_version": "1",
        "answers": answers(foto=sha),
    }
    changed = {**item(), "instance_id": synced["instance_id"]}
    changed["answers"]["nama"] = "Lain"
    page = post_file(as_("ani"), outbox_file("citra", [again, changed], {}))
    assert page.status_code == 200
    assert 'data-outcome="identical"' in page.text and 'data-outcome="submission.conflict"' in page.text
    assert count(settings) == 1


def test_bad_outbox_files_are_a_clear_400(as_, settings, published) -> None:  # type: ignore[no-untyped-def]
    ani = as_("ani")
    photo = JPEG + b"x"
    cases = [
        b"not json",
        b'{"format": "pantau-outbox"}',
        outbox_file("citra", [{"instance_id": "x"}], {}),
        outbox_file("citra", [item()], {"0" * 64: photo}),  # the bytes are not what the hash says
        outbox_file("citra", [item()], {hashlib.sha256(photo).hexdigest(): photo})[:-40],  # truncated
        outbox_file("citra", [item()], {}) + b"{}",  # data after the end
        outbox_file("tidak_ada", [item()], {}),
    ]
    for data in cases:
        answer = post_file(ani, data)
        assert answer.status_code == 400, (data[:60], answer.status_code)
        assert "Traceback" not in answer.text
    assert "tidak_ada" in post_file(ani, cases[-1]).text
    assert "terpotong" in post_file(ani, cases[-3]).text
    assert count(settings) == 0
    assert query(settings, "SELECT COUNT(*) AS n FROM attachment")[0]["n"] == 0  # nothing of a bad file kept
    assert post_file(as_("citra"), outbox_file("citra", [item()], {})).status_code == 403
    assert ani.get("/impor").status_code == 200


def test_manifest_leaves_out_forms_not_assigned_to_me(as_, settings, published) -> None:  # type: ignore[no-untyped-def]
    query(settings, "INSERT INTO form_assignment (form_id, role, area_code) VALUES ('uji_tinjau', 'staff', '')")
    mine = as_("citra").get("/api/v1/offline").json()
    assert "uji_tinjau" not in {f["form_id"] for f in mine["forms"]} and "/f/uji_tinjau" not in mine["pages"]
    assert "uji_tinjau" in {f["form_id"] for f in as_("ani").get("/api/v1/offline").json()["forms"]}


def test_a_correction_without_javascript_posts_the_revision_it_replaces(as_, settings, published) -> None:  # type: ignore[no-untyped-def]
    from tests.web.conftest import post_form
    from tests.web.test_review import TENGGARONG

    citra = as_("citra")
    back = submit(citra, nama="Sari Dewi")
    decide(as_("budi"), back["instance_id"], "needs_correction", "Nama salah eja.")
    page = citra.get(f"/perbaiki/{back['instance_id']}").text
    assert 'name="_revisi" value="1"' in page
    fixed = {
        "_id": back["instance_id"],
        "_versi": "1",
        "_revisi": "1",
        "nama": "Sari Dewi Lestari",
        "kecamatan": TENGGARONG,
    }
    answer = post_form(citra, "/f/uji_tinjau", fixed)
    assert answer.status_code == 200, answer.text  # a new revision of the same record
    [row] = query(settings, "SELECT revision, answers FROM submission")
    assert row["revision"] == 2 and "Sari Dewi Lestari" in str(row["answers"])
    assert post_form(citra, "/f/uji_tinjau", {**fixed, "_revisi": "x"}).status_code == 400
