"""Offline first: the service worker (/sw.js, scope /), the offline manifest it caches from,
the phone's "Draf" and "Terkirim" pages (the lists live in the phone's IndexedDB; these pages are
their shells plus what the server holds), the correction page that opens a record sent back, and the
staff import of an outbox exported to a file when a phone cannot reach the server at all."""

from __future__ import annotations

import uuid
from typing import Any, BinaryIO, cast

from litestar import Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Template

from server.domain.access import Principal, pickable_areas
from server.errors import PantauError
from server.storage import access, form_media, forms, offline, review, submissions
from server.web.auth import SignedIn, signed_in
from server.web.controllers.fill import NO_STORE, _clock
from server.web.deps import db_of, lang_of
from server.web.fill_context import fill_context
from server.web.fill_runtime import registration_checks
from server.web.http import Request
from server.web.media_urls import media_urls
from server.web.offline_context import SW_FILE, ImportContext, manifest, phone_page_context, release
from server.web.outbox_import import import_outbox


@get("/sw.js", include_in_schema=False)
async def service_worker(request: Request) -> Response[bytes]:
    """The service worker with the release baked in: a new release of the static files or a new form
    version changes these bytes, which is how the browser learns to install the new worker."""
    db = db_of(request)
    rel = release(await offline.published_versions(db), await form_media.every_hash(db))
    body = SW_FILE.read_text(encoding="utf-8").replace("__RELEASE__", rel).encode()
    return Response(
        body, media_type="text/javascript", headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"}
    )


@get("/api/v1/offline", guards=[signed_in])
async def offline_manifest(request: Request, principal: SignedIn) -> dict[str, Any]:
    """What the service worker caches for this person: the app shell, and for every form they may
    fill its page and rules, for every version they may still be filling."""
    access.require(principal, "fill")
    db = db_of(request)
    versions = [v for v in await offline.published_versions(db) if await access.open_to(db, principal, v.form_id)]
    urls = [url for form_id in sorted({v.form_id for v in versions if v.newest})
            for url in (await media_urls(db, form_id)).values()]
    return manifest(versions, principal.username, await _picked_programmes(db, versions),
                    media=await form_media.every_hash(db), media_urls=urls)


async def _picked_programmes(db: Any, versions: list[Any]) -> list[str]:
    """The programmes whose beneficiaries the person's forms pick from, or check a typed KK against:
    the phone keeps their slices from sign-in on, so a visit form opened offline for the first time
    still finds people and an intake still warns of a person already registered."""
    found = set()
    for v in versions:
        loaded = await forms.load_version(db, v.form_id, v.version) if v.newest else None
        registry = loaded.compiled.definition.settings.registry if loaded else None
        if loaded is None or registry is None:
            continue
        picks = any(info.type == "beneficiary" for info in loaded.compiled.fields.values())
        if picks or registration_checks(loaded.compiled):  # a picker, or dupcheck.js's copy
            found.add(registry.programme)
    return sorted(found)


@get("/draf")
async def drafts_page(request: Request, principal: SignedIn) -> Template:
    access.require(principal, "fill")
    context = phone_page_context(principal, lang_of(request), "draf")
    return Template(template_name="phone_drafts.html", context={"page": context})


@get("/terkirim")
async def sent_page(request: Request, principal: SignedIn) -> Template:
    """What the server holds from me beside what my phone still holds (filled in by offline.js)."""
    access.require(principal, "fill")
    db = db_of(request)
    context = phone_page_context(
        principal,
        lang_of(request),
        "terkirim",
        sent=await submissions.sent_by(db, principal),
        corrections=await review.corrections_for(db, principal),
        titles=await forms.form_titles(db),
    )
    return Template(template_name="phone_sent.html", context={"page": context}, headers=NO_STORE)


@get("/perbaiki/{instance_id:uuid}")
async def correction_page(request: Request, principal: SignedIn, instance_id: FromPath[uuid.UUID]) -> Template:
    """A record sent back for correction, opened with its answers; the phone submits the fix as a new
    revision (base_revision) of the same instance id."""
    access.require(principal, "fill")
    db = db_of(request)
    found = next((c for c in await review.corrections_for(db, principal) if c.instance_id == str(instance_id)), None)
    if found is None:
        raise PantauError("http.not_found")
    loaded = await forms.load_version(db, found.form_id, found.form_version)
    if loaded is None:
        raise PantauError("http.not_found")
    record = await access.submission_for(db, principal, instance_id, need="fill")
    context = fill_context(
        loaded.compiled,
        lang=lang_of(request),
        instance_id=str(instance_id),
        viewer=principal.display_name,
        clock=_clock(),
        answers=record.answers,
        base_revision=found.revision,
        comment=found.comment,
        areas=pickable_areas(principal),
        media=await media_urls(db, loaded.compiled.form_id),
    )
    return Template(template_name="fill.html", context={"page": context}, headers=NO_STORE)


# --- staff: import an outbox file --------------------------------------------------------------------
def _import_page(
    request: Request,
    principal: Principal,
    result: ImportContext | None = None,
    error: str = "",
    status: int = 200,
) -> Template:
    context = phone_page_context(principal, lang_of(request), "impor", imported=result, error=error)
    return Template(template_name="outbox_import.html", context={"page": context}, status_code=status, headers=NO_STORE)


@get("/impor")
async def import_page(request: Request, principal: SignedIn) -> Template:
    access.require(principal, "import_outbox")
    return _import_page(request, principal)


IMPORT_LIMIT = 64 * 1024 * 1024  # the largest outbox file taken, and the most its items may weigh as text


@post("/impor", guards=[signed_in], request_max_body_size=IMPORT_LIMIT)
async def import_upload(request: Request, principal: SignedIn) -> Template:
    """One exported outbox file: every item goes through the submission path as its enumerator, so
    importing the same file twice (or a file whose items already synced) creates nothing twice. The
    file is read from where litestar spooled it (on disk beyond 1 MB), a chunk at a time."""
    access.require(principal, "import_outbox")
    form = await request.form()
    try:
        upload = form.get("berkas")
        if not isinstance(upload, UploadFile):
            raise PantauError("outbox.bad_file", detail="berkas")
        result = await import_outbox(request, principal, cast(BinaryIO, upload.file), IMPORT_LIMIT)
    except PantauError as error:
        if not 400 <= error.status < 500:
            raise
        return _import_page(request, principal, error=error.message(lang_of(request)), status=error.status)
    finally:
        await form.close()
    return _import_page(request, principal, result)


router = Router(path="/", route_handlers=[
    service_worker, offline_manifest, drafts_page, sent_page, correction_page, import_page, import_upload,
])
