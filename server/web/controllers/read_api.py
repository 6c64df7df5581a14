"""The read API for scripts (JSON, described in /schema/openapi.json) and the page where people make
and revoke their personal API tokens. A token acts as its owner: staff read everything, coordinators
their areas, enumerators their own records; NIK and No. KK are always masked (whole numbers are
sealed at rest and revealed one record at a time, audited, on the submission page). Also here: the
list the phone polls of the enumerator's records sent back for correction."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Router, get, post
from litestar.params import FromPath, Parameter
from litestar.response import Redirect, Template

from server import clock
from server.domain import exports as layout_rules
from server.domain import registry as registry_rules
from server.domain import review as rules
from server.errors import PantauError
from server.storage import access, audit, forms, registry_read, review, tokens
from server.web.auth import SignedIn, client_address, signed_in
from server.web.controllers.review import after_of, next_cursor, parse, query_params
from server.web.deps import db_of, lang_of
from server.web.formdata import read_form, text
from server.web.http import Request
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
async def list_forms(request: Request, principal: SignedIn) -> list[FormOut]:
    """Every form with its versions (archived forms too: their data stays readable)."""
    access.require(principal, "view_data")
    db = db_of(request)
    out = []
    for form in await forms.form_titles(db):
        if not await access.may_read_form(db, principal, form.form_id):
            continue
        versions = await forms.versions_of(db, form.form_id)
        out.append(_form_out(form, versions))
    return out


def _form_out(form: forms.FormTitle, versions: list[forms.Version]) -> FormOut:
    return FormOut(form_id=form.form_id, title_id=form.title_id, title_en=form.title_en,
                   status=form.status, versions=[v.version for v in versions])


@get("/api/v1/forms/{form_id:str}", guards=[signed_in], tags=TAGS)
async def form_detail(request: Request, principal: SignedIn, form_id: FromPath[str]) -> FormDetailOut:
    """A form's fields, all versions merged by name: the columns of its exports."""
    db = db_of(request)
    versions = await access.form_versions_for(db, principal, form_id)
    form = next((f for f in await forms.form_titles(db) if f.form_id == form_id), None)
    if form is None:
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
        request: Request, principal: SignedIn, form_id: FromPath[str],
        version: Annotated[str | None, _q("a version label of the form")] = None,
        area: Annotated[str | None, _q("Kemendagri code of a kecamatan or desa within your areas")] = None,
        enumerator: Annotated[str | None, _q("username of the enumerator")] = None,
        since: Annotated[str | None, _q("received on or after this day (YYYY-MM-DD, WITA)")] = None,
        until: Annotated[str | None, _q("received on or before this day (YYYY-MM-DD, WITA)")] = None,
        status: Annotated[list[str] | None, _q("review states (received, approved, needs_correction, rejected) "
                                                 "or all; default approved")] = None,
        flag: Annotated[list[str] | None, _q("warning, nik_warning, edited, corrected; the beneficiary's "
                                              "registry flags: nik_ganda, kk_ganda, penerima_nik")] = None,
        q: Annotated[str | None, _q("part of the beneficiary's name")] = None,
        cursor: Annotated[str | None, _q("next_cursor of the previous page, with the same filters")] = None,
        limit: Annotated[str | None, _q("records per page, 1-500 (default 100)")] = None) -> SubmissionPage:
    """Submissions of a form, newest first; approved ones unless status=all. NIK/KK are masked."""
    access.require(principal, "view_data")
    params = query_params(request)
    per_page = _limit(params.pop("limit", []))
    if "form" in params:  # the form is the path's; a second one in the query would be ambiguous
        raise PantauError("review.bad_filter", detail="form")
    # The path's form goes in with the query, so that ?version= (which needs a form) is accepted.
    filters = parse({**params, "form": [form_id]}, default_statuses=(rules.APPROVED,),
                    allowed=API_PARAMS | {"form"})
    versions = await access.form_versions_for(db_of(request), principal, form_id)  # assigned, as the fill page
    found = await review.page(db_of(request), principal, filters, after=after_of(request, filters, params),
                              limit=per_page, with_answers=True)
    ids = set().union(*(rules.id_fields(v.compiled) for v in versions))
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


# --- beneficiaries (the registry through storage/registry_read.py: one's areas, NIK/KK masked) ----------
class BeneficiaryRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    programme: str
    status: str  # "active", "merged" (then merged_into names the record it became), or "rejected" (intake rejected)
    merged_into: str | None
    nik_masked: str  # 64**************: the whole number is never in this API
    kk_masked: str
    name: str
    sex: str  # L or P
    birth_date: str  # YYYY-MM-DD, "" when not given
    area_code: str  # Kemendagri code of the desa/kelurahan
    desa: str
    kecamatan: str
    target_group: str  # the code of the intake form's target-group choice
    flags: list[str]  # nik_ganda, kk_ganda, and confirmed NIK/KK warnings (nik.dob_mismatch, ...)
    registered_on: str
    last_visit_on: str
    next_due_on: str  # "" when the programme has no visit plan
    baseline: dict[str, Any]  # figure key -> value at intake (pendapatan, omzet, ...)


class BeneficiaryPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[BeneficiaryRecord]
    next_cursor: str  # pass as ?since= for the records changed after this page (or at once when more)
    more: bool  # true: this page was cut, ask again with next_cursor now


class EventOut(msgspec.Struct, frozen=True, kw_only=True):
    submission: str  # the instance_id of the intake, visit or growth check
    form_id: str
    kind: str  # intake, update, visit, growth
    happened_on: str
    summary: dict[str, Any]  # figures; growth: z-scores (haz, waz, whz) and Permenkes categories


class FollowUpOut(msgspec.Struct, frozen=True, kw_only=True):
    submission: str  # the visit that asked for it
    actions: list[str]
    opened_on: str
    due_on: str
    closed_on: str  # "" while open


class BeneficiaryDetailOut(msgspec.Struct, frozen=True, kw_only=True):
    beneficiary: BeneficiaryRecord
    timeline: list[EventOut]  # oldest first
    follow_ups: list[FollowUpOut]


def _beneficiary_out(r: registry_read.Record) -> BeneficiaryRecord:
    return BeneficiaryRecord(
        id=r.id, programme=r.programme, status=r.status, merged_into=r.merged_into, nik_masked=r.nik_masked,
        kk_masked=r.kk_masked, name=r.name, sex=r.sex, birth_date=r.birth_date, area_code=r.area_code,
        desa=registry_rules.area_name(r.area_code), kecamatan=registry_rules.area_name(r.kecamatan),
        target_group=r.target_group, flags=r.flags, registered_on=r.registered_on, last_visit_on=r.last_visit_on,
        next_due_on=r.next_due_on, baseline={f.key: f.value for f in r.baseline})


@get("/api/v1/beneficiaries", guards=[signed_in], tags=TAGS)
async def list_beneficiaries(
        request: Request, principal: SignedIn,
        since: Annotated[str | None, _q("next_cursor of an earlier call: only records changed since")] = None,
        program: Annotated[str | None, _q("only this programme's beneficiaries")] = None) -> BeneficiaryPage:
    """The beneficiaries of your areas, oldest change first, 500 a page; merged records come with
    status merged and the id they became."""
    access.require(principal, "view_data")
    params = query_params(request)
    unknown = sorted(set(params) - {"since", "program"})
    if unknown or any(len(v) > 1 or len(v[0]) > 200 for v in params.values()):
        raise PantauError("review.bad_filter", detail=", ".join(unknown) or "since, program")
    found = await registry_read.records_since(db_of(request), principal, since or "", clock.now(),
                                              programme=program or "")
    return BeneficiaryPage(items=[_beneficiary_out(r) for r in found.records], next_cursor=found.cursor,
                           more=found.more)


@get("/api/v1/beneficiaries/{beneficiary_id:uuid}", guards=[signed_in], tags=TAGS)
async def beneficiary_detail(request: Request, principal: SignedIn,
                             beneficiary_id: FromPath[uuid.UUID]) -> BeneficiaryDetailOut:
    """One beneficiary of your areas (a merged id gives the record it became), with the timeline of
    intake, visits and growth checks and the follow-ups."""
    db = db_of(request)
    record = await access.beneficiary_for(db, principal, beneficiary_id)
    events, follow_ups = await registry_read.timeline(db, record.id), await registry_read.follow_ups_of(db, record.id)
    return BeneficiaryDetailOut(
        beneficiary=_beneficiary_out(record),
        timeline=[EventOut(submission=e.submission, form_id=e.form_id, kind=e.kind, happened_on=e.happened_on,
                           summary=e.summary) for e in events],
        follow_ups=[FollowUpOut(submission=f.submission, actions=f.actions, opened_on=f.opened_on, due_on=f.due_on,
                                closed_on=f.closed_on) for f in follow_ups])


@get("/api/v1/corrections", guards=[signed_in], tags=TAGS)
async def corrections(request: Request, principal: SignedIn) -> list[CorrectionOut]:
    """My records a reviewer sent back, with what to fix, newest first (the phone polls this). Send the
    corrected answers to POST /api/v1/submissions with the same instance_id and base_revision."""
    found = await review.corrections_for(db_of(request), principal)
    return [CorrectionOut(instance_id=c.instance_id, form_id=c.form_id, form_version=c.form_version,
                          revision=c.revision, comment=c.comment, reviewer=c.reviewer, sent_back_at=c.sent_back_at)
            for c in found]


# --- the tokens page --------------------------------------------------------------------------------------------
async def _tokens_page(request: Request, principal: Any, *, new_token: str = "",
                       error: PantauError | None = None, status: int = 200) -> Template:
    lang = lang_of(request)
    context = tokens_context(principal=principal, lang=lang, tokens=await tokens.list_for(db_of(request), principal),
                             new_token=new_token, error=error.message(lang) if error else "")
    # The new token is on this page once: no cache may keep it.
    return Template(template_name="tokens.html", context={"page": context}, status_code=status,
                    headers={"Cache-Control": "no-store"})


@get("/akun/token")
async def tokens_page(request: Request, principal: SignedIn) -> Template:
    return await _tokens_page(request, principal)


@post("/akun/token")
async def create_token(request: Request, principal: SignedIn) -> Template:
    name = text(await read_form(request), "name", max_len=tokens.MAX_NAME)
    try:
        token, secret = await tokens.create(db_of(request), principal, name)
    except PantauError as exc:
        return await _tokens_page(request, principal, error=exc, status=exc.status)
    await audit.record(db_of(request), principal, "token.create", target_type="token", target_id=str(token.id),
                       address=client_address(request))
    return await _tokens_page(request, principal, new_token=secret)


@post("/akun/token/{token_id:int}/cabut")
async def revoke_token(request: Request, principal: SignedIn, token_id: FromPath[int]) -> Redirect:
    token = await access.token_for(db_of(request), principal, token_id)
    await tokens.revoke(db_of(request), principal, token)
    await audit.record(db_of(request), principal, "token.revoke", target_type="token", target_id=str(token_id),
                       address=client_address(request))
    return Redirect("/akun/token", status_code=303)


router = Router(path="/", route_handlers=[
    list_forms, form_detail, form_submissions, corrections, list_beneficiaries, beneficiary_detail,
    tokens_page, create_token, revoke_token,
])
