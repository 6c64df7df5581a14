"""The beneficiary registry over HTTP: the list and search, one beneficiary's page (staff may reveal
the NIK, audited), due visits and follow-ups, duplicates and the merge, and the JSON the phone uses
to choose a beneficiary offline (its areas' beneficiaries, incrementally) or online (search)."""

from __future__ import annotations

import base64
import datetime as dt
import uuid

import msgspec
from litestar import Response, Router, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect, Template

from server import clock
from server.domain import registry as rules
from server.domain.access import has
from server.errors import PantauError
from server.storage import access, audit, forms, id_search, offline, pii, registry, registry_read
from server.storage.registry_read import Event, FollowUp, Record, Row
from server.web.auth import SignedIn, client_address, signed_in
from server.web.deps import db_of, lang_of, settings_of, writer_of
from server.web.formdata import read_form, text
from server.web.http import Request
from server.web.registry_context import (
    beneficiary_context,
    duplicates_context,
    registry_context,
    schedule_context,
)
from server.web.schemas import CheckIn

# Merging needs the full NIKs to judge two records the same person: the people who may reveal them.
MERGE_NEED = "reveal_nik"
DUE_HORIZON_DAYS = 14
# A page or answer that shows a whole NIK/KK, or confirms one, must not stay in a shared phone's or
# a proxy's cache.
NO_STORE = {"Cache-Control": "no-store"}
MAX_QUERY = 80


def _query(request: Request, name: str, max_len: int = MAX_QUERY) -> str:
    value = request.query_params.get(name) or ""
    if len(value) > max_len:
        raise PantauError("registry.bad_query", detail=name)
    return value.strip()


@get("/penerima")
async def registry_page(request: Request, principal: SignedIn) -> Template:
    access.require(principal, "view_data")
    db, query = db_of(request), _query(request, "q")
    _refuse_whole_id_in_url(principal, query)
    found: list[Record] | list[Row] = (await registry_read.search((await db.heavy_reads()).db, principal, query,
                                                                  limit=50) if query
                                       else await registry_read.recent(db, principal))
    context = registry_context(principal, lang_of(request), query, found, clock.today())
    return Template(template_name="registry.html", context={"page": context})


def _refuse_whole_id_in_url(principal: SignedIn, query: str) -> None:
    """A whole NIK/KK is never a search term in a URL (browser history, proxies, shared links keep
    URLs): those who may reveal check it by POST (check_id_page, check_id); others may not at all."""
    if id_search.is_whole_id(query) is None:
        return
    if not has(principal, "reveal_nik"):
        raise PantauError("registry.id_search_forbidden")
    raise PantauError("registry.id_search_by_post")


async def _check_id(request: Request, principal: SignedIn, number: str) -> bool:
    """Whether one's areas have this whole NIK/KK (storage/id_search: the roles that may reveal
    only, audited, rate-limited)."""
    access.require(principal, "view_data")
    if not has(principal, "reveal_nik"):
        raise PantauError("registry.id_search_forbidden")
    digits = id_search.is_whole_id(number)
    if digits is None:
        raise PantauError("registry.bad_query", detail="nomor: 16 digit NIK/No. KK")
    return await id_search.found(db_of(request), principal, digits, pii.keys_of(settings_of(request)), clock.now(),
                                 client_address(request))


@post("/penerima/cek", guards=[signed_in], status_code=200)
async def check_id_page(request: Request, principal: SignedIn) -> Template:
    """The registry page answering "is this NIK/KK registered in your areas?", and nothing more."""
    registered = await _check_id(request, principal, text(await read_form(request), "nomor", max_len=40))
    context = registry_context(principal, lang_of(request), "", [], clock.today(), registered=registered)
    return Template(template_name="registry.html", context={"page": context}, headers=NO_STORE)


@post("/api/v1/penerima/cek", guards=[signed_in], status_code=200)
async def check_id(request: Request, principal: SignedIn, data: JSONBody[CheckIn]) -> Response[dict[str, bool]]:
    """{"found": true|false}: is this whole NIK/KK registered in your areas?"""
    if len(data.nomor) > 40:
        raise PantauError("registry.bad_query", detail="nomor")
    return Response({"found": await _check_id(request, principal, data.nomor)}, headers=NO_STORE)


@get("/penerima/jadwal")
async def schedule_page(request: Request, principal: SignedIn) -> Template:
    """Overdue and due visits (next 14 days) and open follow-ups, for one's areas."""
    access.require(principal, "view_data")
    db, today = db_of(request), clock.today()
    due = await registry_read.due_visits(db, principal, today + dt.timedelta(days=DUE_HORIZON_DAYS))
    follow_ups = await registry_read.open_follow_ups(db, principal)
    context = schedule_context(principal, lang_of(request), due, follow_ups, today)
    return Template(template_name="registry_schedule.html", context={"page": context})


@get("/penerima/{beneficiary_id:uuid}")
async def beneficiary_page(request: Request, principal: SignedIn,
                           beneficiary_id: FromPath[uuid.UUID]) -> Template | Redirect:
    record = await access.beneficiary_for(db_of(request), principal, beneficiary_id)
    if record.id != str(beneficiary_id):  # a merged record's id: show the record it became
        return Redirect(f"/penerima/{record.id}")
    return await _beneficiary(request, principal, record)


async def _beneficiary(request: Request, principal: SignedIn, record: Record,
                       revealed: tuple[str, str] | None = None) -> Template:
    db = db_of(request)
    events, follow_ups = await registry_read.timeline(db, record.id), await registry_read.follow_ups_of(db, record.id)
    context = beneficiary_context(principal, lang_of(request), record, events, follow_ups, clock.today(), revealed,
                                  group_label=await _group_label(request, record, events),
                                  duplicates=await registry_read.duplicates_of(db, principal, record),
                                  visit_forms=await _visit_forms(request, principal, record))
    headers = NO_STORE if revealed else {}
    return Template(template_name="beneficiary.html", context={"page": context}, headers=headers)


async def _visit_forms(request: Request, principal: SignedIn, record: Record) -> list[tuple[str, str]]:
    """The published forms about a person of this programme (visits, growth checks) the reader may
    fill: the page links each with ?penerima=<id>, and its picker starts on this person."""
    if not has(principal, "fill"):
        return []
    db, lang, found = db_of(request), lang_of(request), []
    for v in await offline.published_versions(db):
        loaded = await forms.load_version(db, v.form_id, v.version) if v.newest else None
        registry = loaded.compiled.definition.settings.registry if loaded else None
        if registry and registry.refers and registry.programme == record.programme \
                and await access.open_to(db, principal, v.form_id):
            found.append((v.form_id, (v.title_en if lang == "en" else v.title_id) or v.form_id))
    return found


async def _group_label(request: Request, record: Record, events: list[Event]) -> dict[str, str]:
    """The target group's label from the (newest version of the) form that registered the person."""
    intake = next((e for e in reversed(events) if e.kind in ("intake", "update")), None)
    loaded = await forms.load_version(db_of(request), intake.form_id) if intake else None
    return rules.group_label(loaded.compiled.definition, record.target_group) if loaded else {}


@post("/penerima/{beneficiary_id:uuid}/nik", guards=[signed_in], status_code=200)
async def reveal_nik(request: Request, principal: SignedIn,
                     beneficiary_id: FromPath[uuid.UUID]) -> Template:
    """Staff see the full NIK and KK once, on this response only; the audit log records it."""
    db = db_of(request)
    record = await access.beneficiary_for(db, principal, beneficiary_id, need="reveal_nik")
    nik_sealed, kk_sealed = await registry_read.sealed_ids(db, record.id)
    keys = pii.keys_of(settings_of(request))
    revealed = (pii.open_sealed(keys, "nik", nik_sealed) if nik_sealed else "",
                pii.open_sealed(keys, "kk", kk_sealed) if kk_sealed else "")
    await audit.record(db, principal, "nik.reveal", target_type="beneficiary", target_id=record.id,
                       area_code=record.area_code, address=client_address(request))
    return await _beneficiary(request, principal, record, revealed)


@get("/penerima/duplikat")
async def duplicates_page(request: Request, principal: SignedIn) -> Template:
    access.require(principal, MERGE_NEED)
    groups = await registry_read.duplicates(db_of(request))
    context = duplicates_context(principal, lang_of(request), groups)
    return Template(template_name="registry_duplicates.html", context={"page": context})


@post("/penerima/gabung", guards=[signed_in])
async def merge(request: Request, principal: SignedIn) -> Redirect:
    """Merge `drop` into `keep` (both ids from the duplicates page)."""
    access.require(principal, MERGE_NEED)
    form = await read_form(request)
    try:
        keep, drop = uuid.UUID(text(form, "keep", max_len=36)), uuid.UUID(text(form, "drop", max_len=36))
    except ValueError:
        raise PantauError("registry.bad_query", detail="keep, drop") from None
    address, now = client_address(request), clock.now()
    await writer_of(request).run(lambda tx: registry.merge(tx, keep, drop, principal, address, now))
    return Redirect(f"/penerima/{keep}")


# --- JSON for the phone -------------------------------------------------------------------------
COLUMNS = ["id", "nik", "name", "desa", "last_visit", "kk_tag", "birth_date"]


class SliceOut(msgspec.Struct, frozen=True, kw_only=True):
    columns: list[str]
    rows: list[Row]  # each row an array in `columns` order: compact for 2G
    desa: dict[str, str]  # the desa codes in rows -> their names, once
    removed: list[tuple[str, str]]  # [merged id, the id it became] or [rejected id, ""]: drop it on the phone
    cursor: str  # send back as ?sejak= for the changes since this call
    more: bool  # true: call again with the cursor at once, this page was cut
    user: str = ""  # whose copy this is: a phone that changes hands starts its copy again
    # A programme's copy: the key its rows' KK tags are made with (base64url), for static/js/dupcheck.js.
    kk_key: str = ""


@get("/api/v1/penerima")
async def beneficiaries_for_phone(request: Request, principal: SignedIn) -> SliceOut:
    """The beneficiaries of one's areas for the phone's offline copy, changed since `sejak`; only
    those of one programme with `program` (the picker of a visit form asks for its programme's)."""
    access.require(principal, "view_data")
    programme, keys = _query(request, "program", 64), pii.keys_of(settings_of(request))
    found = await registry_read.slice_for(db_of(request), principal, _query(request, "sejak", 200), clock.now(),
                                          programme=programme, keys=keys)
    names = {row.area_code: rules.area_name(row.area_code) for row in found.rows}
    kk_key = base64.urlsafe_b64encode(pii.kk_tag_key(keys, programme)).decode().rstrip("=") if programme else ""
    return SliceOut(columns=COLUMNS, rows=found.rows, desa=names, removed=found.removed, cursor=found.cursor,
                    more=found.more, user=principal.username, kk_key=kk_key)


@get("/api/v1/penerima/cari")
async def search_beneficiaries(request: Request, principal: SignedIn) -> dict[str, object]:
    """Names or desas starting with `q` (a whole NIK or KK is checked by POST /api/v1/penerima/cek)."""
    access.require(principal, "view_data")
    query = _query(request, "q")
    _refuse_whole_id_in_url(principal, query)
    rows = await registry_read.search((await db_of(request).heavy_reads()).db, principal, query,
                                      programme=_query(request, "program", 64))
    return {"columns": COLUMNS, "rows": msgspec.to_builtins(rows),
            "desa": {row.area_code: rules.area_name(row.area_code) for row in rows}}


class BeneficiaryOut(msgspec.Struct, frozen=True, kw_only=True):
    beneficiary: Record
    timeline: list[Event]
    follow_ups: list[FollowUp]


@get("/api/v1/penerima/{beneficiary_id:uuid}")
async def beneficiary_detail(request: Request, principal: SignedIn,
                             beneficiary_id: FromPath[uuid.UUID]) -> Response[BeneficiaryOut]:
    """One beneficiary with the timeline (growth results included) and follow-ups; NIK masked."""
    db = db_of(request)
    record = await access.beneficiary_for(db, principal, beneficiary_id)
    out = BeneficiaryOut(beneficiary=record, timeline=await registry_read.timeline(db, record.id),
                         follow_ups=await registry_read.follow_ups_of(db, record.id))
    return Response(out, headers={"Cache-Control": "private, no-store"})


router = Router(path="/", route_handlers=[
    registry_page, schedule_page, beneficiary_page, reveal_nik, check_id_page, check_id, duplicates_page,
    merge, beneficiaries_for_phone, search_beneficiaries, beneficiary_detail,
])
