"""The read API for scripts (JSON, described in /schema/openapi.json) and the page where people make
and revoke their personal API tokens. A token acts as its owner: staff read everything, coordinators
their areas, enumerators their own records; NIK and No. KK are always masked (whole numbers are
sealed at rest and revealed one record at a time, audited, on the submission page). Also here: the
list the phone polls of the enumerator's records sent back for correction."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Request, get, post
from litestar.params import FromPath, Parameter
from litestar.response import Redirect, Template

from server.domain import exports as layout_rules
from server.domain import review as rules
from server.errors import PantauError
from server.storage import access, audit, review, tokens
from server.web.auth import SignedIn, client_address, signed_in
from server.web.controllers.review import after_of, next_cursor, parse, query_params
from server.web.deps import db_of, lang_of
from server.web.formdata import read_form, text
from server.web.review_context import tokens_context


# --- wire Structs (the OpenAPI document is generated from these) --------------------------------------------
class FormOut(msgspec.Struct, frozen=True, kw_only=True):
    form_id: str
    title_id: str
    title_en: str
    status: str  # "published" or "archived"
    versions: list[str]  # oldest first


class FieldOut(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    type: str
    table: str  # "" for the record itself, else the repeat it sits in
    label_id: str
    label_en: str
    choices: str | None
    versions: list[str]  # the versions that have it
    removed: bool  # not in the newest version


class FormDetailOut(msgspec.Struct, frozen=True, kw_only=True):
    form: FormOut
    fields: list[FieldOut]  # every version merged by field name


class SubmissionOut(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    form_id: str
    form_version: str
    revision: int
    review_status: str
    area_code: str
    enumerator: str
    received_at: dt.datetime
    flags: list[str]
    answers: dict[str, Any]  # as stored (codes); repeats as lists of objects


class SubmissionPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[SubmissionOut]
    next_cursor: str | None  # pass as ?cursor= with the same filters for the next page


class CorrectionOut(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    form_id: str
    form_version: str
    revision: int  # resend with base_revision = this
    comment: str
    reviewer: str
    sent_back_at: dt.datetime


API_PARAMS = rules.LIST_PARAMS - {"form", "cols", "lang"}
TAGS = ["read API"]


# --- forms and submissions -----------------------------------------------------------------------------------
@get("/api/v1/forms", guards=[signed_in], tags=TAGS)
async def list_forms(request: Request, principal: SignedIn) -> list[FormOut]:  # type: ignore[type-arg]
    """Every form with its versions (archived forms too: their data stays readable)."""
    access.require(principal, "view_data")
    db = db_of(request)
    out = []
    for form in await review.form_titles(db):
        versions = await review.versions_of(db, form["form_id"])
        out.append(_form_out(form, versions))
    return out


def _form_out(form: dict[str, Any], versions: list[review.Version]) -> FormOut:
    return FormOut(form_id=form["form_id"], title_id=form["title_id"], title_en=form["title_en"],
                   status=form["status"], versions=[v.version for v in versions])


@get("/api/v1/forms/{form_id:str}", guards=[signed_in], tags=TAGS)
async def form_detail(request: Request, principal: SignedIn, form_id: FromPath[str]) -> FormDetailOut:  # type: ignore[type-arg]
    """A form's fields, all versions merged by name: the columns of its exports."""
    access.require(principal, "view_data")
    db = db_of(request)
    form = next((f for f in await review.form_titles(db) if f["form_id"] == form_id), None)
    versions = await review.versions_of(db, form_id) if form else []
    if form is None or not versions:
        raise PantauError("export.unknown_form", form_id=form_id[:64])
    layout = layout_rules.merge([(v.version, v.compiled) for v in versions])
    fields = [FieldOut(name=c.name, type=c.type, table=c.table, label_id=c.label.get("id", ""),
                       label_en=c.label.get("en", ""), choices=c.choices, versions=list(c.versions),
                       removed=c.removed) for t in layout.tables for c in t.columns]
    return FormDetailOut(form=_form_out(form, versions), fields=fields)


def _q(description: str) -> Any:
    return Parameter(description=description, required=False)


# The filters below are declared for the OpenAPI document; the handler reads them from the query
# itself, so an unknown name or a repeated single value is a review.bad_filter naming it.
@get("/api/v1/forms/{form_id:str}/submissions", guards=[signed_in], tags=TAGS)
async def form_submissions(
        request: Request, principal: SignedIn, form_id: FromPath[str],  # type: ignore[type-arg]
        version: Annotated[str | None, _q("a version label of the form")] = None,
        area: Annotated[str | None, _q("Kemendagri code of a kecamatan or desa within your areas")] = None,
        enumerator: Annotated[str | None, _q("username of the enumerator")] = None,
        since: Annotated[str | None, _q("received on or after this day (YYYY-MM-DD, WITA)")] = None,
        until: Annotated[str | None, _q("received on or before this day (YYYY-MM-DD, WITA)")] = None,
        status: Annotated[list[str] | None, _q("review states (received, approved, needs_correction, rejected) "
                                                 "or all; default approved")] = None,
        flag: Annotated[list[str] | None, _q("warning, nik_warning, edited, corrected")] = None,
        q: Annotated[str | None, _q("part of the beneficiary's name")] = None,
        cursor: Annotated[str | None, _q("next_cursor of the previous page, with the same filters")] = None,
        limit: Annotated[str | None, _q("records per page, 1-500 (default 100)")] = None) -> SubmissionPage:
    """Submissions of a form, newest first; approved ones unless status=all. NIK/KK are masked."""
    access.require(principal, "view_data")
    params = query_params(request)
    limit = _limit(params.pop("limit", []))
    filters = msgspec.structs.replace(parse(params, default_statuses=(rules.APPROVED,), allowed=API_PARAMS),
                                      form_id=form_id)
    if not await review.versions_of(db_of(request), form_id):
        raise PantauError("export.unknown_form", form_id=form_id[:64])
    found = await review.page(db_of(request), principal, filters, after=after_of(request, filters, params),
                              limit=limit, with_answers=True)
    ids = set().union(*(rules.id_fields(v.compiled) for v in await review.versions_of(db_of(request), form_id)))
    items = [SubmissionOut(instance_id=r.instance_id, form_id=r.form_id, form_version=r.form_version,
                           revision=r.revision, review_status=r.review_status, area_code=r.area_code,
                           enumerator=r.enumerator, received_at=r.received_at, flags=list(r.flags),
                           answers=rules.mask_answers(r.answers, ids))
             for r in found.rows]
    return SubmissionPage(items=items, next_cursor=next_cursor(request, filters, found.last))


def _limit(raw: list[str]) -> int:
    if not raw:
        return 100
    if len(raw) > 1 or not raw[0].isdigit() or not 1 <= int(raw[0]) <= 500:
        raise PantauError("review.bad_filter", detail="limit (1-500)")
    return int(raw[0])


# Beneficiaries: GET /api/v1/beneficiaries joins this API when the registry (issue 7) lands. It should
# read through the registry's own query module (storage/registry_read.py), scoped by area like the
# submissions above, NIK/KK as the registry's masked columns, with a Struct here and a MATRIX row.


@get("/api/v1/corrections", guards=[signed_in], tags=TAGS)
async def corrections(request: Request, principal: SignedIn) -> list[CorrectionOut]:  # type: ignore[type-arg]
    """My records a reviewer sent back, with what to fix, newest first (the phone polls this). Send the
    corrected answers to POST /api/v1/submissions with the same instance_id and base_revision."""
    found = await review.corrections_for(db_of(request), principal)
    return [CorrectionOut(instance_id=c.instance_id, form_id=c.form_id, form_version=c.form_version,
                          revision=c.revision, comment=c.comment, reviewer=c.reviewer, sent_back_at=c.sent_back_at)
            for c in found]


# --- the tokens page --------------------------------------------------------------------------------------------
async def _tokens_page(request: Request, principal: Any, *, new_token: str = "",  # type: ignore[type-arg]
                       error: PantauError | None = None, status: int = 200) -> Template:
    lang = lang_of(request)
    context = tokens_context(principal=principal, lang=lang, tokens=await tokens.list_for(db_of(request), principal),
                             new_token=new_token, error=error.message(lang) if error else "")
    # The new token is on this page once: no cache may keep it.
    return Template(template_name="tokens.html", context={"page": context}, status_code=status,
                    headers={"Cache-Control": "no-store"})


@get("/akun/token")
async def tokens_page(request: Request, principal: SignedIn) -> Template:  # type: ignore[type-arg]
    return await _tokens_page(request, principal)


@post("/akun/token")
async def create_token(request: Request, principal: SignedIn) -> Template:  # type: ignore[type-arg]
    name = text(await read_form(request), "name", max_len=tokens.MAX_NAME)
    try:
        token, secret = await tokens.create(db_of(request), principal, name)
    except PantauError as exc:
        return await _tokens_page(request, principal, error=exc, status=exc.status)
    await audit.record(db_of(request), principal, "token.create", target_type="token", target_id=str(token.id),
                       address=client_address(request))
    return await _tokens_page(request, principal, new_token=secret)


@post("/akun/token/{token_id:int}/cabut")
async def revoke_token(request: Request, principal: SignedIn, token_id: FromPath[int]) -> Redirect:  # type: ignore[type-arg]
    await tokens.revoke(db_of(request), principal, token_id)
    await audit.record(db_of(request), principal, "token.revoke", target_type="token", target_id=str(token_id),
                       address=client_address(request))
    return Redirect("/akun/token", status_code=303)
