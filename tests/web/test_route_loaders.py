"""Every route that takes an id reaches its data through storage/access.py's loaders (authorise by
loading), or through a storage operation that takes the same principal and applies the same domain
rule. Two walks over the app's own route table:

1. by reading the code: the handler, and the functions of server/web it calls, call the loader the
   table below names (a new parameterised route without an entry fails here);
2. by asking: every parameterised route, with the ids of real things of Tenggarong (Citra's record,
   photo, token and app key, Siti, a report run and its edition, a form assigned to Tenggarong),
   answers 403 or 404 to Dewi (enumerator in Samboja) and to Eka (coordinator of Samboja) (the
   form's read API answers Eka without Citra's record), while someone who may see each thing does
   not get a 403 or 404 for it: so the ids are real."""

from __future__ import annotations

import ast
import asyncio
import inspect
import textwrap
import uuid
from collections.abc import Callable
from typing import Any

from litestar.routes import HTTPRoute

from server import clock
from server.domain.users import hash_password
from server.settings import Settings
from server.storage import review as review_store
from server.storage import users
from server.storage.db import Database
from server.web.app import create_app
from tests.web.conftest import PASSWORD, SAMBOJA, csrf_of, post_form
from tests.web.test_api_submissions import JPEG, publish, send
from tests.web.test_api_submissions import body as submission_body

# path template -> what its handlers must reach: "access.<loader>" (storage/access.py) or
# "<module>.<function>" for a storage operation that takes the principal and applies the rule itself.
LOADERS: dict[str, set[str]] = {
    "/api/v1/submissions/{instance_id:uuid}": {"access.submission_for"},
    "/data/{instance_id:uuid}": {"access.submission_for"},
    "/data/{instance_id:uuid}/nik": {"access.submission_for"},
    # The decision locks the row and asks domain/access.may again inside the transaction.
    "/data/{instance_id:uuid}/tinjau": {"access.submission_for", "review.decide"},
    "/perbaiki/{instance_id:uuid}": {"access.submission_for"},
    "/api/v1/attachments/{sha256:str}": {"access.attachment_for"},
    "/penerima/{beneficiary_id:uuid}": {"access.beneficiary_for"},
    "/penerima/{beneficiary_id:uuid}/nik": {"access.beneficiary_for"},
    "/api/v1/penerima/{beneficiary_id:uuid}": {"access.beneficiary_for"},
    "/api/v1/beneficiaries/{beneficiary_id:uuid}": {"access.beneficiary_for"},
    "/f/{form_id:str}": {"access.form_version_for"},
    "/f/{form_id:str}/aturan": {"access.form_version_for"},
    # Staff who edit forms see the preview's media; everyone else only a form they may fill.
    "/f/{form_id:str}/media/{sha256:str}/{name:str}": {"access.form_for_edit", "access.form_version_for"},
    "/formXml/{form_id:str}/{version:str}": {"access.form_version_for"},
    "/xformsManifest/{form_id:str}/{version:str}": {"access.form_version_for"},
    "/xformsMedia/{form_id:str}/{version:str}/{filename:str}": {"access.form_version_for"},
    "/key/{app_key:str}/formXml/{form_id:str}/{version:str}": {"access.form_version_for"},
    "/key/{app_key:str}/xformsManifest/{form_id:str}/{version:str}": {"access.form_version_for"},
    "/key/{app_key:str}/xformsMedia/{form_id:str}/{version:str}/{filename:str}": {"access.form_version_for"},
    # The app key is the credential here (401 when unknown); the list and the submission load as fill.
    "/key/{app_key:str}/formList": {"access.open_to"},
    "/key/{app_key:str}/submission": {"access.form_version_for"},
    "/api/v1/forms/{form_id:str}": {"access.form_versions_for"},
    "/api/v1/forms/{form_id:str}/submissions": {"access.form_versions_for", "review.page"},
    # Reviewers read every form; the rows are scoped by the principal (review.where in exports.prepare).
    "/api/v1/forms/{form_id:str}/export": {"exports.prepare"},
    # The form editor (controllers/editor.py).
    "/formulir/{form_id:str}": {"access.form_for_edit"},
    "/formulir/{form_id:str}/draf/hapus": {"access.form_for_edit"},
    "/formulir/{form_id:str}/pratinjau": {"access.form_for_edit"},
    "/formulir/{form_id:str}/pratinjau/aturan": {"access.form_for_edit"},
    "/formulir/{form_id:str}/unduh": {"access.form_for_edit"},
    "/formulir/{form_id:str}/jawaban": {"access.form_for_edit"},
    # Saving a draft may create the form: editors are area-free, so the need is the whole rule.
    "/formulir/{form_id:str}/draf": {"access.require"},
    # Publishing, archiving and assignment (controllers/publishing.py), through the editor's loader.
    "/formulir/{form_id:str}/terbit": {"access.form_for_edit"},
    "/formulir/{form_id:str}/status": {"access.form_for_edit"},
    "/formulir/{form_id:str}/penugasan": {"access.form_for_edit"},
    # Form media (controllers/media.py).
    "/formulir/{form_id:str}/media": {"access.form_for_edit"},
    "/laporan/run/{run_id:int}": {"access.report_run_for"},
    "/laporan/edisi/{edition_id:int}/unduh": {"access.edition_for"},
    "/akun/token/{token_id:int}/cabut": {"access.token_for"},
    "/akun/kunci-aplikasi/{key_id:int}/cabut": {"access.app_key_for"},
    "/pengguna/{user_id:int}": {"access.load_user_for"},
    "/pengguna/{user_id:int}/peran": {"access.load_user_for"},
    "/pengguna/{user_id:int}/sandi": {"access.load_user_for"},
    "/pengguna/{user_id:int}/status": {"access.load_user_for"},
    "/pengguna/{user_id:int}/buka-kunci": {"access.load_user_for"},
    # A probable-duplicate pair is decided in the writer's transaction, which checks both records' areas.
    "/penerima/kemungkinan-sama/{candidate_id:int}": {"duplicates.decide"},
    # An import job is its uploader's only; web/import_jobs.find adds this process's progress.
    "/penerima/impor/{job_id:str}": {"access.import_job_for"},
    "/penerima/impor/{job_id:str}/status": {"access.import_job_for"},
    "/penerima/impor/{job_id:str}/peta": {"access.import_job_for"},
    "/penerima/impor/{job_id:str}/alasan": {"access.import_job_for"},
    "/penerima/impor/{job_id:str}/simpan": {"access.import_job_for"},
    "/penerima/impor/{job_id:str}/ulang": {"access.import_job_for"},
}
# Parameterised routes that name no record: public files, the icon, the API description.
NO_RECORD = {"/static/{file_path:path}", "/aset/{version:str}/{file_path:path}", "/ikon/{size:int}",
             "/schema/{path:str}"}
# Loaders that do not check: only storage/access.py may call them.
UNCHECKED = {"review.detail_of", "registry_read.record", "attachments.holders", "reports.run_by_id",
             "reports.edition_by_id"}


def _calls(fn: Callable[..., Any]) -> set[str]:
    """"module.function" for every call the function makes to a module of server/ (the module's own
    name, whatever it is imported as), following the functions of server/web it calls."""
    found: set[str] = set()
    todo, seen = [inspect.unwrap(fn)], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        tree = ast.parse(textwrap.dedent(inspect.getsource(current)))
        names = current.__globals__
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            target: Any = None
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                module = names.get(node.func.value.id)
                if inspect.ismodule(module) and module.__name__.startswith("server."):
                    found.add(f"{module.__name__.rsplit('.', 1)[-1]}.{node.func.attr}")
                    target = getattr(module, node.func.attr, None)
            elif isinstance(node.func, ast.Name):
                target = names.get(node.func.id)
            if inspect.isfunction(target) and target.__module__.startswith("server.web"):
                todo.append(target)
    return found


def _parameterised(settings: Settings) -> dict[str, list[Any]]:
    routes: dict[str, list[Any]] = {}
    for route in create_app(settings).routes:
        if isinstance(route, HTTPRoute) and "{" in route.path:
            routes.setdefault(route.path, []).extend(
                h for h in route.route_handlers if h.http_methods - {"HEAD", "OPTIONS"})  # not Litestar's own
    return routes


def test_every_route_that_takes_an_id_reaches_its_data_through_a_loader(settings: Settings) -> None:
    routes = _parameterised(settings)
    assert sorted(set(routes) - set(LOADERS) - NO_RECORD) == [], "name these routes' loaders in LOADERS"
    assert sorted(set(LOADERS) - set(routes)) == [], "LOADERS names routes the app no longer has"
    missing = []
    for path, handlers in routes.items():
        for handler in handlers:
            calls = _calls(handler.fn)
            if path in LOADERS and not LOADERS[path] <= calls:
                missing.append(f"{path} ({handler.fn.__name__}): {sorted(LOADERS[path] - calls)}")
            if calls & UNCHECKED:
                missing.append(f"{path} ({handler.fn.__name__}) loads unchecked: {sorted(calls & UNCHECKED)}")
    assert missing == []


async def _loads_by_itself(db: Any, instance_id: Any) -> Any:
    return await review_store.detail_of(db, instance_id)


def test_the_walk_follows_helpers_and_sees_a_handler_that_loads_by_itself() -> None:
    """The walk itself can fail: it follows the helpers of server/web, and it names an unchecked
    load made without a loader."""
    from server.web.controllers import fill, publishing, review

    assert "access.form_version_for" in _calls(fill.fill_post.fn)  # through _version
    assert "access.form_for_edit" in _calls(publishing.set_status.fn)  # through the editor module's load_for_edit
    assert "access.submission_for" in _calls(review.submission_page.fn)  # through _submission
    assert _calls(_loads_by_itself) & UNCHECKED == {"review.detail_of"}


# --- asking: a stranger to each real thing gets 403 or 404 -------------------------------------------------
FORM_ID = "uji_api"


async def _seed(settings: Settings, citra_id: int) -> dict[str, str]:
    db = Database(settings.database_url)
    await db.open()
    try:
        await users.create(db, "eka", "coordinator", hash_password(PASSWORD), "Eka", (SAMBOJA,))
        now = clock.now()
        rows = await db.fetch(
            "INSERT INTO report_run (report, period, scope, status, include_all, scheduled, requested_by, "
            "requested_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
            "bulanan", "2026-01", "64.02.06", "done", False, False, citra_id, now)
        run = int(rows[0]["id"])
        rows = await db.fetch(
            "INSERT INTO report_edition (run, edition, sha256, size, pages, include_all, created_by, created_at, "
            "fingerprint, provisional) VALUES ({}, 1, {}, 1, 1, {}, {}, {}, '', {}) RETURNING id",
            run, "0" * 64, False, citra_id, now, False)
        edition = int(rows[0]["id"])
        token = (await db.fetch("SELECT id FROM api_token WHERE user_id = {}", citra_id))[0]["id"]
        key = (await db.fetch("SELECT id FROM app_key WHERE user_id = {}", citra_id))[0]["id"]
        return {"run_id": str(run), "edition_id": str(edition), "token_id": str(token), "key_id": str(key)}
    finally:
        await db.close()


def _things(as_: Any, settings: Settings, people: dict[str, int]) -> dict[str, str]:
    """Real things of Tenggarong, made the way people make them."""
    from tests.web.test_registry import insert_beneficiary

    publish(settings)
    ani, citra = as_("ani"), as_("citra")
    assert post_form(ani, f"/formulir/{FORM_ID}/penugasan", {"wilayah": "64.02.06"}).status_code == 303
    uploaded = citra.post("/api/v1/attachments", content=JPEG,
                          headers={"content-type": "image/jpeg", "x-csrftoken": csrf_of(citra)})
    assert uploaded.status_code == 201, uploaded.text
    record = submission_body(foto=uploaded.json()["sha256"])
    assert send(citra, record).status_code == 201
    sent_back = post_form(as_("budi"), f"/data/{record['instance_id']}/tinjau",
                          {"status": "needs_correction", "comment": "umur?", "revision": "1"})
    assert sent_back.status_code == 303, sent_back.text  # so that /perbaiki/<id> is real too
    assert post_form(citra, "/akun/token", {"name": "skrip"}).status_code == 200
    assert post_form(citra, "/akun/kunci-aplikasi", {"name": "hp"}).status_code == 200
    ids = asyncio.run(_seed(settings, people["citra"]))
    return {**ids, "instance_id": str(record["instance_id"]), "sha256": uploaded.json()["sha256"],
            "beneficiary_id": str(insert_beneficiary(settings, "Siti Aminah", "64.02.06.1001")),
            "form_id": FORM_ID, "version": "1", "filename": "penerima.csv", "user_id": str(people["citra"]),
            "candidate_id": "999999", "job_id": "j" * 22, "app_key": "k" * 48}


def _url(path: str, ids: dict[str, str]) -> str:
    out = path
    for name, value in ids.items():
        for kind in ("uuid", "str", "int"):
            out = out.replace(f"{{{name}:{kind}}}", value)
    if out.endswith("/aturan"):
        return out + "?v=1"
    return out + ("?status=all" if out.endswith(("/submissions", "/export")) else "")


# Who may see each thing (the control: its id is real, so a stranger's 404 means something).
OWNER = {"/pengguna/": "admin", "/formulir/": "ani", "/laporan/": "budi", "/data/": "budi",
         "/api/v1/forms/{form_id:str}/export": "budi"}
# No control: the edition's PDF was never rendered, the form has no draft to publish, the form no
# media file (nor one named {name}); the app key routes sign in by the key itself, and import jobs
# and pairs are not seeded.
NO_CONTROL = ("/laporan/edisi/", "/formulir/{form_id:str}/terbit", "{filename:str}", "{name:str}", "/key/",
              "/penerima/impor/", "{candidate_id:int}")
# A reviewer reads every form's definition and data of their areas: for him the form exists, and
# its lists and export hold none of Tenggarong's records.
FORM_LEVEL = {"/api/v1/forms/{form_id:str}", "/api/v1/forms/{form_id:str}/submissions",
              "/api/v1/forms/{form_id:str}/export"}
# A body that passes parsing, so that the answer is about the record (empty, some posts are a 400 first).
POSTED = {"/data/{instance_id:uuid}/tinjau": {"status": "approved", "revision": "1"},
          "/f/{form_id:str}": {"_id": str(uuid.uuid4()), "_versi": "1"},
          "/penerima/kemungkinan-sama/{candidate_id:int}": {"keputusan": "same"}}


def _owner(path: str) -> str:
    return next((who for prefix, who in OWNER.items() if path.startswith(prefix)), "citra")


def test_a_stranger_from_another_area_gets_nothing_from_any_route_that_takes_an_id(
        as_: Any, settings: Settings, people: dict[str, int]) -> None:
    ids = _things(as_, settings, people)
    strangers = {"dewi": as_("dewi"), "eka": as_("eka")}
    owners: dict[str, Any] = {}
    failures = []
    for path, handlers in sorted(_parameterised(settings).items()):
        if path in NO_RECORD:
            continue
        url = _url(path, ids)
        methods = sorted({m for h in handlers for m in h.http_methods} - {"HEAD", "OPTIONS"})
        for method in methods:
            for name, stranger in strangers.items():
                answer = stranger.get(url, follow_redirects=False) if method == "GET" \
                    else post_form(stranger, url, POSTED.get(path))
                allowed = {401} if path.startswith("/key/") else {403, 404}
                if name == "eka" and path in FORM_LEVEL and answer.status_code == 200:
                    if ids["instance_id"] in answer.text or "Siti" in answer.text:
                        failures.append(f"{name} {method} {url}: shows Citra's record")
                elif answer.status_code not in allowed:
                    failures.append(f"{name} {method} {url}: {answer.status_code}")
            if method == "GET" and not any(part in path for part in NO_CONTROL):
                owner_name = _owner(path)
                owner = owners.setdefault(owner_name, as_(owner_name))
                if owner.get(url, follow_redirects=False).status_code in (403, 404):
                    failures.append(f"control: {owner_name} GET {url} is not found either")
    assert failures == []


def test_the_read_api_lists_a_forms_submissions_only_to_whom_the_form_exists(as_: Any, settings: Settings) -> None:
    """The one copy that differed: /api/v1/forms/<id> said "no such form" to an enumerator the form
    is not assigned to, while /api/v1/forms/<id>/submissions answered her 200. Both now ask
    storage/access.form_versions_for, as the fill page asks form_version_for."""
    publish(settings)
    assert post_form(as_("ani"), f"/formulir/{FORM_ID}/penugasan", {"wilayah": "64.02.06"}).status_code == 303
    for path in (f"/api/v1/forms/{FORM_ID}", f"/api/v1/forms/{FORM_ID}/submissions"):
        refused = as_("dewi").get(path)
        assert (refused.status_code, refused.json()["code"]) == (404, "export.unknown_form"), path
        assert as_("citra").get(path).status_code == 200, path
