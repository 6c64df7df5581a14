"""ODK Collect and KoboCollect: the OpenRosa form list, each published form version as an
XForm (domain/xform.py), its manifest and media files. Every route is served at the root (HTTP Basic
or the session) and under /key/<app key>/ (web/openrosa.py). Paths follow ODK Aggregate's names:

    GET|HEAD /formList                                 the xformsList of the forms the person may fill
    GET /formXml/<form_id>/<version>                   the XForm (its md5 is the list's hash)
    GET /xformsManifest/<form_id>/<version>            the media files with their md5
    GET /xformsMedia/<form_id>/<version>/<file name>   one media file

A form's region lists and CSV attachments are the same for everyone; `penerima_<programme>.csv` is
the person's own slice of the registry (the same as the phone pages' copy: their areas, masked NIK),
so its md5 changes when the registry does and Collect fetches it again."""

from __future__ import annotations

import logging
from urllib.parse import quote
from xml.sax.saxutils import escape

import anyio
from litestar import Response, Router, get, route
from litestar.params import FromPath
from litestar.response import Stream

from server import clock
from server.domain import registry as regions
from server.domain.access import Principal, has
from server.domain.attachments import file_format
from server.domain.form_media import named_files
from server.domain.xform import Beneficiary, XForm, XFormError, beneficiary_csv, build_xform, md5_hex
from server.errors import PantauError
from server.storage import access, form_media, forms, registry_read
from server.storage.db import Database
from server.web.deps import db_of, settings_of
from server.web.http import Request
from server.web.openrosa import VERSION_HEADER, OpenRosaUser, openrosa_routers, root_url, xml_response

log = logging.getLogger("pantau.openrosa")
NS_LIST = "http://openrosa.org/xforms/xformsList"
NS_MANIFEST = "http://openrosa.org/xforms/xformsManifest"
SLICE_PAGE = 5000
MAX_SLICE = 100_000  # beneficiaries in one phone's file: far above a kecamatan's


def require_openrosa_version(request: Request) -> None:
    """The form list and submissions are for OpenRosa clients, which send `X-OpenRosa-Version: 1.0`
    (ODK Central refuses a request without it); a cross-site form cannot set the header."""
    if request.headers.get(VERSION_HEADER, "").strip() != "1.0":
        raise PantauError("openrosa.version")


# --- the XForm of a version, kept for the life of the process -----------------------------------
async def xform_of(db: Database, loaded: forms.LoadedVersion) -> XForm:
    """The XForm of a published version, built once per process and database (a version never changes)."""
    cache: dict[tuple[str, str], XForm] = db.memo.setdefault("xforms", {})
    key = (loaded.form_id, loaded.version)
    if key not in cache:
        try:
            cache[key] = await anyio.to_thread.run_sync(build_xform, loaded.compiled.definition)
        except XFormError as exc:
            log.warning("form %s version %s has no XForm: %s", loaded.form_id, loaded.version, exc)
            raise PantauError("openrosa.form_refused", form_id=loaded.form_id, version=loaded.version,
                              reason=str(exc)[:300]) from exc
    return cache[key]


async def fillable_version(db: Database, principal: Principal, form_id: str, version: str | None = None
                           ) -> forms.LoadedVersion:
    """Authorise by loading: the need, then a published version of a form assigned to the person;
    404 for anything else (an archived form, a version never published, someone else's form)."""
    return await access.form_version_for(db, principal, form_id, version, need="fill", missing="openrosa.not_found")


# --- the form list -------------------------------------------------------------------------------
@route("/formList", http_method=["GET", "HEAD"])
async def form_list(request: Request, principal: OpenRosaUser) -> Response[bytes]:
    """The OpenRosa xformsList: the newest published version of every form the person may fill."""
    require_openrosa_version(request)
    access.require(principal, "fill")
    db, root = db_of(request), root_url(request)
    wanted = request.query_params.get("formID")
    entries = []
    for summary in await forms.list_forms(db):
        if (wanted and summary.form_id != wanted) or not await access.open_to(db, principal, summary.form_id):
            continue
        loaded = await forms.load_version(db, summary.form_id)
        if loaded is None:
            continue
        try:
            xform = await xform_of(db, loaded)
        except PantauError:
            continue  # a form ODK cannot take is left out: the list says nothing false
        entries.append(_list_entry(xform, root, bool(xform.media_names) or bool(await uploaded_media(db, loaded))))
    body = f"<?xml version='1.0' encoding='UTF-8' ?>\n<xforms xmlns=\"{NS_LIST}\">{''.join(entries)}</xforms>"
    return xml_response(body)


def _list_entry(xform: XForm, root: str, has_media: bool) -> str:
    path = f"{xform.form_id}/{xform.version}"
    manifest = f"<manifestUrl>{escape(root)}xformsManifest/{path}</manifestUrl>" if has_media else ""
    name = xform.title.get("id") or next(iter(xform.title.values()), xform.form_id)
    return (f"<xform><formID>{escape(xform.form_id)}</formID><name>{escape(name)}</name>"
            f"<version>{escape(xform.version)}</version><hash>md5:{xform.md5}</hash>"
            f"<downloadUrl>{escape(root)}formXml/{escape(path)}</downloadUrl>{manifest}</xform>")


# --- one form: the XForm, its manifest, its media ------------------------------------------------
@get("/formXml/{form_id:str}/{version:str}")
async def form_xml(request: Request, principal: OpenRosaUser, form_id: FromPath[str],
                   version: FromPath[str]) -> Response[bytes]:
    db = db_of(request)
    xform = await xform_of(db, await fillable_version(db, principal, form_id, version))
    return xml_response(xform.xml, headers={"Content-Disposition": f'attachment; filename="{form_id}.xml"'})


@get("/xformsManifest/{form_id:str}/{version:str}")
async def manifest(request: Request, principal: OpenRosaUser, form_id: FromPath[str],
                   version: FromPath[str]) -> Response[bytes]:
    db = db_of(request)
    loaded = await fillable_version(db, principal, form_id, version)
    xform = await xform_of(db, loaded)
    base = f"{root_url(request)}xformsMedia/{form_id}/{version}/"
    files = []
    for name in xform.media_names:
        data = await media_bytes(db, principal, xform, name)
        files.append(f"<mediaFile><filename>{escape(name)}</filename><hash>md5:{md5_hex(data)}</hash>"
                     f"<downloadUrl>{escape(base + quote(name))}</downloadUrl></mediaFile>")
    for name, entry in (await uploaded_media(db, loaded)).items():
        files.append(f"<mediaFile><filename>{escape(name)}</filename><hash>md5:{entry.md5}</hash>"
                     f"<downloadUrl>{escape(base + quote(name))}</downloadUrl></mediaFile>")
    body = f"<?xml version='1.0' encoding='UTF-8' ?>\n<manifest xmlns=\"{NS_MANIFEST}\">{''.join(files)}</manifest>"
    return xml_response(body)


@get("/xformsMedia/{form_id:str}/{version:str}/{filename:str}")
async def media_file(request: Request, principal: OpenRosaUser, form_id: FromPath[str],
                     version: FromPath[str], filename: FromPath[str]) -> Response[bytes] | Stream:
    db = db_of(request)
    loaded = await fillable_version(db, principal, form_id, version)
    xform = await xform_of(db, loaded)
    uploaded = (await uploaded_media(db, loaded)).get(filename)
    if uploaded is not None:
        return Stream(form_media.chunks(db, settings_of(request).data_dir, uploaded), media_type=uploaded.content_type,
                      headers={"Cache-Control": "private, no-store", VERSION_HEADER: "1.0",
                               "Content-Length": str(uploaded.size),
                               "Content-Disposition": f'attachment; filename="{quote(filename)}"'})
    if filename not in xform.media_names:
        raise PantauError("openrosa.not_found", what=f"berkas {filename[:80]}")
    data = await media_bytes(db, principal, xform, filename)
    kind = {"XML": "application/xml", "GeoJSON": "application/geo+json"}.get(file_format(filename) or "", "text/csv")
    return Response(data, media_type=kind,
                    headers={"Cache-Control": "private, no-store", VERSION_HEADER: "1.0",
                             "Content-Disposition": f'attachment; filename="{filename}"'})


async def uploaded_media(db: Database, loaded: forms.LoadedVersion) -> dict[str, form_media.MediaFile]:
    """The image, audio and video files this version names that were uploaded (a missing one is left
    out: Collect shows the question without it)."""
    named = named_files(loaded.compiled.definition)
    if not named:
        return {}
    return {name: entry for name, entry in (await form_media.listed(db, loaded.form_id)).items() if name in named}


async def media_bytes(db: Database, principal: Principal, xform: XForm, name: str) -> bytes:
    if name in xform.media:
        return xform.media[name]
    return beneficiary_csv(await beneficiaries_of(db, principal, xform.programme or ""))


async def beneficiaries_of(db: Database, principal: Principal, programme: str) -> list[Beneficiary]:
    """The person's slice of the registry, as the phone pages get it (registry_read.slice_for: their
    areas, active people, masked NIK); nobody's for a person who may not see the registry."""
    if not has(principal, "view_data"):
        return []
    out: list[Beneficiary] = []
    cursor = ""
    while len(out) < MAX_SLICE:
        found = await registry_read.slice_for(db, principal, cursor, clock.now(), limit=SLICE_PAGE,
                                              programme=programme)
        out += [Beneficiary(id=row.id, nik_masked=row.nik, name=row.name, desa=row.area_code,
                            desa_name=regions.area_name(row.area_code)) for row in found.rows]
        if not found.more:
            break
        cursor = found.cursor
    return _latest(out)


def _latest(people: list[Beneficiary]) -> list[Beneficiary]:
    """One row per person: a person changed while the pages were read comes twice; the later wins."""
    return list({p.id: p for p in people}.values())


router = Router(path="/", route_handlers=openrosa_routers([form_list, form_xml, manifest, media_file]))
