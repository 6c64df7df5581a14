"""Review pages: the submissions list for staff and coordinators (their areas), one submission with
its answers, warnings and history, and the reviewer's decision. Handlers parse, make one storage
call per step, and render. (The phone's list of records sent back is in read_api.py.)"""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlencode

import msgspec
from litestar import Router, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.domain import exports as layout_rules
from server.domain import review as rules
from server.domain.access import Principal, has
from server.domain.form import text_of
from server.errors import PantauError
from server.storage import access, audit, forms, review, review_flow
from server.web.auth import SignedIn, client_address
from server.web.deps import db_of, lang_of, settings_of, writer_of
from server.web.formdata import read_form, text
from server.web.http import Request
from server.web.review_context import data_context, default_columns, submission_context

PAGE = 50


def query_params(request: Request) -> dict[str, list[str]]:
    params = request.query_params
    return {name: [v for v in params.getall(name) if isinstance(v, str)] for name in params}


def parse(params: dict[str, list[str]], **kwargs: Any) -> rules.Filters:
    try:
        return rules.parse_filters(params, **kwargs)
    except rules.BadFilter as bad:
        raise PantauError(bad.code, detail=bad.detail) from None


def after_of(request: Request, filters: rules.Filters, params: dict[str, list[str]]) -> Any:
    cursor = (params.get("cursor") or [""])[0]
    if not cursor:
        return None
    try:
        return rules.decode_cursor(rules.cursor_key(settings_of(request).secret_key), filters, cursor)
    except rules.BadFilter as bad:
        raise PantauError(bad.code, detail=bad.detail) from None


def next_cursor(request: Request, filters: rules.Filters, last: Any) -> str | None:
    return rules.encode_cursor(rules.cursor_key(settings_of(request).secret_key), filters, *last) if last else None


def chosen_columns(params: dict[str, list[str]], versions: list[forms.Version]) -> list[str]:
    """The answers shown as columns: ?cols=a,b (any field of any version), else the first few."""
    wanted = [c for raw in params.get("cols", []) for c in raw.split(",") if c]
    if not wanted:
        return default_columns(versions)
    known = {c.name for c in layout_rules.merge([(v.version, v.compiled) for v in versions]).tables[0].columns} \
        if versions else set()
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise PantauError("review.bad_filter", detail=f"cols={unknown[0][:64]}")
    return wanted[:20]


REMEMBERED = "pantau_daftar"  # the list's last filters, so /data opens as the reviewer left it


@get("/data")
async def data_page(request: Request, principal: SignedIn) -> Template | Redirect:
    """Submissions newest first, filtered; 50 a page, continued by a signed cursor. Without any
    query, the filters last used on this browser (a cookie) are applied again."""
    access.require(principal, "review")
    remembered = _remembered(request)
    if not request.query_params and remembered:
        return Redirect(f"/data?{remembered}", status_code=303)
    params = query_params(request)
    filters = parse(params)
    after = after_of(request, filters, params)
    db = db_of(request)
    versions = await forms.versions_of(db, filters.form_id) if filters.form_id else []
    if filters.form_id and not versions:
        raise PantauError("review.bad_filter", detail="form")
    chosen = chosen_columns(params, versions) if versions else []
    found = await review.page(db, principal, filters, after=after, limit=PAGE, with_answers=bool(chosen))
    context = data_context(principal=principal, lang=lang_of(request), params=params,
                           forms=await forms.form_titles(db), versions=versions, filters=filters, rows=found.rows,
                           chosen=chosen, next_cursor=next_cursor(request, filters, found.last))
    listed = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "cursor"])
    context = msgspec.structs.replace(context, list_query=listed)
    # The name searched for is not remembered: it is a person's name, and the cookie outlives the page.
    kept = urlencode([(k, v) for k, v in request.query_params.multi_items() if k not in ("cursor", "q", "lang")])
    cookie = Cookie(key=REMEMBERED, value=kept, path="/data", httponly=True, samesite="lax", max_age=90 * 86400,
                    secure=request.url.scheme == "https")
    return Template(template_name="data.html", context={"page": context}, cookies=[cookie])


def _remembered(request: Request) -> str:
    """The remembered filters when they still parse (a stale or altered cookie is ignored)."""
    kept = request.cookies.get(REMEMBERED, "")
    if not kept or len(kept) > 2000:
        return ""
    try:
        rules.parse_filters(parse_qs(kept), allowed=rules.LIST_PARAMS)
    except rules.BadFilter:
        return ""
    return kept


async def _submission(request: Request, principal: Principal, instance_id: uuid.UUID, *,
                      message: str = "", error: PantauError | None = None, status: int = 200,
                      revealed: bool = False, listed: str = "") -> Template:
    db, lang = db_of(request), lang_of(request)
    detail = await access.submission_for(db, principal, instance_id)
    if revealed:
        # Whole NIK/KK only for those who may reveal them, and every reveal is in the audit log.
        access.require(principal, "reveal_nik")
        await audit.record(db, principal, "nik.reveal", target_type="submission", target_id=str(instance_id),
                           area_code=detail.area_code, address=client_address(request))
    versions = {v.pk: v.compiled for v in await forms.versions_of(db, detail.form_id)}
    title = text_of(versions[detail.form_version_pk].title, lang, detail.form_id)
    sealed = await review.sealed_values(db, settings_of(request), instance_id)
    context = submission_context(principal=principal, lang=lang, detail=detail, versions=versions, title=title,
                                 revealed=revealed, sealed=sealed, message=message,
                                 error=error.message(lang) if error else "", error_code=error.code if error else "")
    context = await _with_next(request, principal, context, detail, listed)
    # A page with a whole NIK must not stay in a shared phone's or a proxy's cache.
    return Template(template_name="submission.html", context={"page": context}, status_code=status,
                    headers={"Cache-Control": "no-store"} if revealed else {})


@get("/data/{instance_id:uuid}")
async def submission_page(request: Request, principal: SignedIn,
                          instance_id: FromPath[uuid.UUID]) -> Template:
    done, en = request.query_params.get("ok", ""), lang_of(request) == "en"
    message = {"1": "Saved." if en else "Tersimpan.",
               "next": "Decision saved; this is the next record of the list." if en
               else "Keputusan tersimpan; ini data berikutnya pada daftar."}.get(done, "")
    listed = urlencode([(k, v) for k, v in request.query_params.multi_items()
                        if k in rules.LIST_PARAMS and k != "cursor"])
    return await _submission(request, principal, instance_id, message=message, listed=listed)


async def _with_next(request: Request, principal: Principal, context: Any, detail: Any,
                     listed: str) -> Any:
    """The list the record was opened from, and the record after it there (its "next"). A link with
    a list that does not parse still opens the record, only without a "next"."""
    if not has(principal, "review"):
        return context
    try:
        filters = _list_filters(listed)
    except PantauError:
        return context
    found = await review_flow.next_after(db_of(request), principal, filters, detail.received_at, detail.instance_id)
    return msgspec.structs.replace(context, list_query=listed,
                                   next_href=f"/data/{found}?{listed}" if found else "")


def _list_filters(listed: str) -> rules.Filters:
    return parse(parse_qs(listed, keep_blank_values=False), allowed=rules.LIST_PARAMS)


@post("/data/{instance_id:uuid}/nik", status_code=200)
async def reveal_submission_nik(request: Request, principal: SignedIn,
                                instance_id: FromPath[uuid.UUID]) -> Template:
    """The page with its whole NIK/KK, on this response only: a POST (with its CSRF token), so no
    link, prefetch or history entry reveals a number, and no GET ever does."""
    return await _submission(request, principal, instance_id, revealed=True)


@post("/data/{instance_id:uuid}/tinjau")
async def review_submission(request: Request, principal: SignedIn,
                            instance_id: FromPath[uuid.UUID]) -> Template | Redirect:
    """A reviewer's decision on the revision they saw; every decision is audited."""
    access.require(principal, "review")
    form = await read_form(request)
    wanted = text(form, "status", max_len=20)
    comment = text(form, "comment", max_len=rules.MAX_COMMENT)
    seen = text(form, "revision", max_len=9)
    listed = text(form, "daftar", max_len=2000)
    filters = _list_filters(listed)  # a malformed list is refused before anything is decided
    if not seen.isdigit():
        raise PantauError("http.bad_request", detail="revision")
    try:
        await review.decide(writer_of(request), principal, instance_id, wanted, comment, int(seen),
                            client_address(request))
    except PantauError as exc:
        if exc.status == 404:
            raise
        return await _submission(request, principal, instance_id, error=exc, status=exc.status, listed=listed)
    decided = await access.submission_for(db_of(request), principal, instance_id)
    found = await review_flow.next_after(db_of(request), principal, filters, decided.received_at, str(instance_id))
    # The queue goes on: the next record of the same list opens, saying the decision was saved.
    ok = "ok=next" if found else "ok=1"
    return Redirect(f"/data/{found or instance_id}?{listed}&{ok}" if listed else f"/data/{found or instance_id}?{ok}",
                    status_code=303)


router = Router(path="/", route_handlers=[data_page, submission_page, review_submission, reveal_submission_nik])
