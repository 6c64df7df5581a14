"""The form editor under /formulir: staff and admins list forms, edit a draft in the
browser (static/js/editor.js holds the structure; the server turns it into YAML and validates every
save: compile, check and the evolution rules, so a hand-made request cannot store a broken
definition), preview it with the real phone runtime (test submissions go to the draft's own table),
upload and download. Publishing, archiving and assignment are controllers/publishing.py."""

from __future__ import annotations

import re
import uuid
from typing import Any

import msgspec
from litestar import Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server import clock
from server.domain import evolution
from server.domain.access import Principal
from server.domain.answers import validate
from server.domain.attachments import file_format
from server.domain.compile import CompiledForm, load_source
from server.domain.form import MAX_NAME_LENGTH, NAME_RE
from server.domain.form_media import ACCEPT, named_files
from server.domain.load import encode_yaml, form_document
from server.domain.xlsform_export import export_xlsform
from server.domain.xlsform_view import marked_sheets
from server.errors import PantauError
from server.storage import access, form_drafts, form_media
from server.storage.forms import versions_of
from server.web.auth import SignedIn
from server.web.deps import db_of, lang_of, settings_of, writer_of
from server.web.editor_context import (
    UploadContext,
    editor_context,
    list_context,
    problem_rows,
    saved_answer,
)
from server.web.fill_assets import asset_version, safe_json
from server.web.fill_context import fill_context
from server.web.fill_runtime import runtime_rules
from server.web.formdata import read_form, text
from server.web.http import Request
from server.web.media_urls import media_urls
from server.web.schemas import SubmissionIn
from server.web.submitting import Invalid, problems_of

NEED = "edit_forms"
MAX_UPLOAD = 8 * 1024 * 1024  # read at most this much: bigger is refused; the loaders' own limit is 1 MB
NO_STORE = {"Cache-Control": "no-store"}


class SaveIn(msgspec.Struct, forbid_unknown_fields=True):
    yaml: str | None = None
    document: dict[str, Any] | None = None


def _name(form_id: str) -> str:
    if not NAME_RE.match(form_id) or len(form_id) > MAX_NAME_LENGTH:
        raise PantauError("editor.bad_name", form_id=form_id[:80])
    return form_id


async def _state(request: Request, form_id: str) -> tuple[form_drafts.Draft | None, list[Any], str | None]:
    """(draft, published versions oldest first, status or None): what the editor knows of a form."""
    found = await form_drafts.edited(db_of(request), form_id)
    return (found.draft, found.versions, found.status) if found else (None, [], None)


Loaded = tuple[form_drafts.Draft | None, list[Any], str]


async def load_for_edit(request: Request, principal: Principal, form_id: str) -> Loaded:
    """Authorise by loading (storage/access.form_for_edit): the need (403), then the form (404 when
    there is neither draft nor version)."""
    found = await access.form_for_edit(db_of(request), principal, form_id)
    return found.draft, found.versions, found.status


_DRAFTS: dict[str, CompiledForm] = {}  # content hash -> compiled draft (a draft's source never changes in place)


def compiled_draft(draft: form_drafts.Draft) -> CompiledForm:
    found = _DRAFTS.get(draft.content_hash)
    if found is None:
        checked = evolution.check_draft(draft.source.encode(), "draf.yaml", draft.form_id, [])
        if checked.compiled is None:  # stored drafts were valid when saved; the language may have changed since
            raise PantauError("editor.invalid", count=len(checked.problems))
        if len(_DRAFTS) > 64:
            _DRAFTS.clear()
        found = _DRAFTS[draft.content_hash] = checked.compiled
    return found


async def media_rows(request: Request, compiled: CompiledForm | None) -> list[tuple[str, str, bool]]:
    """(file name, kind, uploaded) of every media file the form names, for the editor and the publish page."""
    if compiled is None:
        return []
    stored = await form_media.listed(db_of(request), compiled.form_id)
    return [(name, kind, name in stored) for name, kind in named_files(compiled.definition).items()]


# ?ok=... after a redirect: fixed texts only, so a crafted link cannot put its own words on the page.
NOTICES = {"disimpan": ("Tersimpan.", "Saved."), "terbit": ("Terbit sebagai versi {v}.", "Published as version {v}.")}


def _notice(request: Request) -> str:
    notice = NOTICES.get(request.query_params.get("ok", ""))
    if notice is None:
        return ""
    version = request.query_params.get("v", "")
    shown = version if re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", version) else "?"
    return notice[1 if lang_of(request) == "en" else 0].format(v=shown)


def _views(draft: form_drafts.Draft | None, versions: list[Any]) -> tuple[str, Any]:
    """(YAML, document) the editor opens with: the draft, else the newest published version."""
    if draft is not None:
        loaded = load_source(draft.source.encode(), "draf.yaml")
        return draft.source, form_document(loaded.form) if loaded.form else {}
    definition = versions[-1].compiled.definition
    return encode_yaml(definition).decode(), form_document(definition)


# --- the list, a new form, an upload ------------------------------------------------------------------
@get("/formulir")
async def forms_page(request: Request, principal: SignedIn) -> Template:
    access.require(principal, NEED)
    rows = await form_drafts.overview(db_of(request))
    context = list_context(rows, lang_of(request), principal, message=_notice(request))
    return Template(template_name="editor_list.html", context={"page": context, "media_accept": ACCEPT})


@post("/formulir")
async def create_form(request: Request, principal: SignedIn) -> Redirect:
    """A new form starts as a draft with one note, so that it compiles from the first save."""
    access.require(principal, NEED)
    posted = await read_form(request)
    form_id, title = _name(text(posted, "form_id", max_len=80)), text(posted, "title") or text(posted, "form_id")
    draft, versions, _ = await _state(request, form_id)
    if draft is not None or versions:
        raise PantauError("editor.exists", form_id=form_id)
    document = {
        "settings": {"id": form_id, "version": "1", "title": {"id": title}},
        "fields": [{"type": "note", "name": "pengantar", "label": {"id": title}}],
    }
    checked = evolution.check_draft(evolution.document_yaml(document), "draf.yaml", form_id, [])
    if checked.compiled is None:
        raise PantauError("editor.invalid", count=len(checked.problems))
    source, _ = evolution.canonical(checked.compiled)
    await form_drafts.save(writer_of(request), principal, form_id, source.decode(), checked.compiled.content_hash)
    return Redirect(f"/formulir/{form_id}", status_code=303)


@post("/formulir/unggah", status_code=303)
async def upload(request: Request, principal: SignedIn) -> Response[Any]:
    """An XLSForm or YAML file becomes the draft of the form it names (settings.id / form_id)."""
    access.require(principal, NEED)
    posted = await request.form()
    try:
        part = posted.get("berkas")
        if not isinstance(part, UploadFile) or not part.filename:
            raise PantauError("editor.bad_upload")
        data = await part.read(MAX_UPLOAD + 1)
        filename = _base_name(part.filename)
        attachments = await _attachments(posted.getall("lampiran", []), MAX_UPLOAD - len(data))
    finally:
        await posted.close()
    if len(data) > MAX_UPLOAD:
        raise PantauError("editor.upload_too_large", limit=MAX_UPLOAD)
    media = {name: body for name, body in attachments.items() if file_format(name) is None}  # not CSV, XML, GeoJSON
    attachments = {name: body for name, body in attachments.items() if name not in media}
    loaded = load_source(data, filename, attachments)
    form_id = loaded.form.settings.id if loaded.form is not None else ""
    history = [v.compiled for v in await versions_of(db_of(request), form_id)] if form_id else []
    checked = evolution.check_draft(data, filename, form_id, history, attachments)
    if checked.compiled is None or not checked.ok:
        context = UploadContext(
            lang=lang_of(request),
            viewer=_viewer(principal),
            filename=filename,
            problems=problem_rows(checked.problems, checked.fields),
            error=PantauError("editor.invalid", count=len(checked.problems)).message(lang_of(request)),
            sheets=marked_sheets(data, filename, checked.problems),
        )
        return Template(template_name="editor_upload.html", context={"page": context}, status_code=422)
    settings = settings_of(request)
    named = named_files(checked.compiled.definition)
    for name, body in media.items():  # every file checked before anything is stored
        form_media.checked(name, body, named, settings.max_form_media_bytes)
    source, _ = evolution.canonical(checked.compiled)
    await form_drafts.save(writer_of(request), principal, form_id, source.decode(), checked.compiled.content_hash)
    for name, body in media.items():
        kind = form_media.checked(name, body, named, settings.max_form_media_bytes)
        await form_media.save(db_of(request), settings.data_dir, principal, form_id, name, body, kind)
    return Redirect(f"/formulir/{form_id}", status_code=303)


def _base_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1][:200]


async def _attachments(parts: list[Any], room: int) -> dict[str, bytes]:
    """The files uploaded beside an XLSForm, by file name: CSV files (select_one_from_file,
    csv-external) and media files (its image, audio and video columns); together with the workbook
    within the upload limit."""
    files: dict[str, bytes] = {}
    for part in parts:
        if not isinstance(part, UploadFile) or not part.filename:
            continue  # the empty file input a browser sends when nothing was chosen
        data = await part.read(room + 1)
        room -= len(data)
        if room < 0:
            raise PantauError("editor.upload_too_large", limit=MAX_UPLOAD)
        files[_base_name(part.filename)] = data
    return files


def _viewer(principal: Principal) -> Any:
    from server.web.viewer import viewer_of

    return viewer_of(principal)


# --- the editor and its saves ---------------------------------------------------------------------------
@get("/formulir/{form_id:str}")
async def editor_page(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Template:
    draft, versions, status = await load_for_edit(request, principal, form_id)
    return await _editor(request, principal, form_id, draft, versions, status, message=_notice(request))


async def _editor(
    request: Request,
    principal: Principal,
    form_id: str,
    draft: form_drafts.Draft | None,
    versions: list[Any],
    status: str,
    *,
    yaml_text: str | None = None,
    problems: Any = None,
    message: str = "",
    error: str = "",
    status_code: int = 200,
) -> Template:
    db = db_of(request)
    shown_yaml, document = _views(draft, versions)
    context = editor_context(
        form_id=form_id,
        lang=lang_of(request),
        principal=principal,
        status=status,
        versions=[v.version for v in versions],
        has_draft=draft is not None,
        saved_at=draft.updated_at if draft is not None else None,
        yaml_text=yaml_text if yaml_text is not None else shown_yaml,
        document=document,
        assignment=await form_drafts.assignment(db, form_id),
        tests=await form_drafts.test_submissions(db, form_id),
        problems=problems,
        message=message,
        error=error,
    )
    shown = compiled_draft(draft) if draft is not None else versions[-1].compiled if versions else None
    return Template(template_name="editor.html", context={"page": context, "media": await media_rows(request, shown),
                                                          "media_accept": ACCEPT},
                    status_code=status_code, headers=NO_STORE)


@post("/formulir/{form_id:str}/draf", status_code=200)
async def save_draft(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Response[Any]:
    """JSON {"document": {...}} (the structure) or {"yaml": "..."} (the text view) -> both views and
    the problems; stored only when it compiles, checks and keeps the evolution rules (else 422).
    A plain form post of `yaml` (the editor without JavaScript) answers with the editor page."""
    access.require(principal, NEED)
    form_id = _name(form_id)
    as_page = not request.headers.get("content-type", "").startswith("application/json")
    wanted = await _save_input(request, as_page)
    db = db_of(request)
    history = [v.compiled for v in await versions_of(db, form_id)]
    source = wanted.yaml.encode() if wanted.yaml is not None else evolution.document_yaml(wanted.document or {})
    checked = evolution.check_draft(source, "draf.yaml", form_id, history)
    if checked.compiled is not None and checked.ok:
        yaml_bytes, document = evolution.canonical(checked.compiled)
        await form_drafts.save(
            writer_of(request), principal, form_id, yaml_bytes.decode(), checked.compiled.content_hash
        )
        if as_page:
            return Redirect(f"/formulir/{form_id}?ok=disimpan", status_code=303)
        return Response(saved_answer(checked, yaml_bytes.decode(), document, True), headers=NO_STORE)
    if as_page:
        draft, versions, status = await _state(request, form_id)
        error = PantauError("editor.invalid", count=len(checked.problems)).message(lang_of(request))
        return await _editor(
            request,
            principal,
            form_id,
            draft,
            versions,
            status or "draft",
            yaml_text=source.decode("utf-8", errors="replace"),
            problems=problem_rows(checked.problems, checked.fields),
            error=error,
            status_code=422,
        )
    return Response(
        saved_answer(checked, source.decode("utf-8", errors="replace"), wanted.document, False),
        status_code=422,
        headers=NO_STORE,
    )


async def _save_input(request: Request, as_page: bool) -> SaveIn:
    if as_page:
        posted = await read_form(request)
        if "yaml" not in posted:
            raise PantauError("http.bad_request", detail="yaml")
        return SaveIn(yaml=text(posted, "yaml", max_len=2 * 1024 * 1024, strip=False))
    try:
        wanted = msgspec.json.decode(await request.body(), type=SaveIn)
    except msgspec.DecodeError as exc:
        raise PantauError("http.bad_request", detail=str(exc)[:200]) from None
    if (wanted.yaml is None) == (wanted.document is None):
        raise PantauError("http.bad_request", detail="yaml | document")
    return wanted


@post("/formulir/{form_id:str}/draf/hapus")
async def delete_draft(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Redirect:
    """The draft and its test submissions go; the published versions and their data stay."""
    draft, versions, _ = await load_for_edit(request, principal, form_id)
    if draft is None:
        raise PantauError("editor.no_draft", form_id=form_id)
    await form_drafts.delete(writer_of(request), principal, form_id)
    return Redirect(f"/formulir/{form_id}" if versions else "/formulir", status_code=303)


# --- the preview: the real fill page and runtime on the draft ---------------------------------------------
class Previewed(msgspec.Struct, frozen=True, kw_only=True):
    compiled: CompiledForm
    draft: form_drafts.Draft | None  # None: the newest published version, shown read-only


async def _for_preview(request: Request, principal: Principal, form_id: str) -> Previewed:
    """The draft, or when there is none yet the newest published version (its test submissions are refused:
    a draft is where tests are kept, and a published form's data must never receive them)."""
    draft, versions, _ = await load_for_edit(request, principal, form_id)
    if draft is not None:
        return Previewed(compiled=compiled_draft(draft), draft=draft)
    return Previewed(compiled=versions[-1].compiled, draft=None)


# Shown above a preview of the published version (fixed texts, Indonesian first).
READ_ONLY = (
    "Ini versi terbit {v}, hanya untuk dilihat: kiriman uji coba perlu draf. Ubah dan simpan formulir dulu.",
    "This is published version {v}, for viewing only: test submissions need a draft. Change and save the form first.",
)


# The editor shows this page in an iframe of its own page: framing by our own origin only.
@get("/formulir/{form_id:str}/pratinjau", opt={"csp": {"frame-ancestors": "'self'"}})
async def preview_page(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Template:
    previewed = await _for_preview(request, principal, form_id)
    compiled = previewed.compiled
    lang, now = lang_of(request), clock.now()
    from server.web.fill_context import Clock

    context = fill_context(
        compiled,
        lang=lang,
        instance_id=str(uuid.uuid4()),
        viewer=principal.display_name,
        clock=Clock(today=now.astimezone(clock.WITA).date(), now=now),
        media=await media_urls(db_of(request), compiled.form_id),
    )
    base = f"/formulir/{form_id}/pratinjau"
    rules = f"{base}/aturan?lang={lang}&h={compiled.content_hash[:12]}&r={asset_version()}"
    # "post" always names the preview's own endpoint, so the runtime never queues these answers for the
    # real submission API, whatever is previewed.
    config = {
        "id": compiled.form_id,
        "v": compiled.version,
        "i": context.instance_id,
        "lang": lang,
        "rules": rules,
        "post": base,
    }
    en = lang == "en"
    context = msgspec.structs.replace(
        context,
        action=base,
        rules_url=rules,
        config=safe_json(config),
        switch_url=f"{base}?lang={'id' if en else 'en'}",
        title=("[Preview] " if en else "[Pratinjau] ") + context.title,
        message=READ_ONLY[1 if en else 0].format(v=compiled.version) if previewed.draft is None else context.message,
    )
    return Template(template_name="fill.html", context={"page": context}, headers=NO_STORE)


@get("/formulir/{form_id:str}/pratinjau/aturan")
async def preview_rules(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Response[bytes]:
    compiled = (await _for_preview(request, principal, form_id)).compiled
    return Response(
        msgspec.json.encode(runtime_rules(compiled, lang_of(request))), media_type="application/json", headers=NO_STORE
    )


@post("/formulir/{form_id:str}/pratinjau", status_code=201)
async def preview_submit(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Response[Any]:
    """A test submission from the preview: validated by the draft's rules like a real one, then kept in
    the draft's own table, never with the real submissions. A preview of the published version (no draft
    yet) refuses it: there is no draft to keep it with."""
    previewed = await _for_preview(request, principal, form_id)
    compiled, draft = previewed.compiled, previewed.draft
    if draft is None:
        raise PantauError("editor.preview_published", version=compiled.version)
    try:
        data = msgspec.json.decode(await request.body(), type=SubmissionIn)
    except msgspec.DecodeError as exc:
        raise PantauError("http.bad_request", detail=str(exc)[:200]) from None
    now = clock.now()
    result = validate(compiled, data.answers, today=now.astimezone(clock.WITA).date(), now=now)
    if not result.ok:
        return Invalid(result).response()
    received, outcome = await form_drafts.add_test_submission(
        writer_of(request), principal, draft.pk, data.instance_id, result.answers
    )
    body = {
        "instance_id": str(data.instance_id),
        "form_id": form_id,
        "form_version": compiled.version,
        "revision": 1,
        "received_at": received.isoformat(),
        "outcome": outcome,
        "test": True,
        # The editor page beside the preview shows this count without a reload (static/js/editor.js).
        "test_count": await form_drafts.count_test_submissions(db_of(request), draft.pk),
        "warnings": msgspec.to_builtins(problems_of(result.warnings)),
    }
    return Response(body, status_code=201 if outcome == "new" else 200)


# --- answers per field (asked before a deletion), download --------------------------------------------
@get("/formulir/{form_id:str}/jawaban")
async def answer_counts(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Response[Any]:
    """How many answers each published field holds: the editor asks before deleting a question with data."""
    _, versions, _ = await load_for_edit(request, principal, form_id)
    published = {name for v in versions for name in v.compiled.fields}
    found = await form_drafts.answer_counts(db_of(request), form_id) if versions else {}
    return Response({"counts": {k: n for k, n in found.items() if k in published}}, headers=NO_STORE)


@get("/formulir/{form_id:str}/unduh")
async def download(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Response[bytes]:
    """The draft (or the newest published version) as YAML or as an XLSForm workbook (?format=yaml|xlsx)."""
    fmt = request.query_params.get("format", "yaml")
    draft, versions, _ = await load_for_edit(request, principal, form_id)
    definition = compiled_draft(draft).definition if draft is not None else versions[-1].compiled.definition
    if fmt == "xlsx":
        data, media = export_xlsform(definition), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    elif fmt == "yaml":
        data, media = encode_yaml(definition), "application/yaml"
    else:
        raise PantauError("http.bad_request", detail="format")
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{form_id}.{fmt}"', **NO_STORE}
    )


router = Router(path="/", route_handlers=[
    forms_page,
    create_form,
    upload,
    editor_page,
    save_draft,
    delete_draft,
    preview_page,
    preview_rules,
    preview_submit,
    download,
    answer_counts,
])
