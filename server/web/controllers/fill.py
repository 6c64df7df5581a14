"""The fill page. GET /f/<form_id> renders the newest published version for a person who
may fill it; POST /f/<form_id> is the path without JavaScript: the posted fields become answers and
go through the one submission path (web/submitting.py). /aset/<hash>/... serves static files under
a content-hashed URL with a year-long cache, so a repeat visit downloads only the HTML.

Posted field names (docs in tests/web/test_fill_post.py): a field's name ("nama"); inside a repeat
"<repeat>[<i>].<field>" with i from 0, nested as "a[0].b[1].c"; a select_multiple or _konfirmasi
once per ticked value; an image as a file part, or as the sha256 of a photo stored earlier. Reserved:
_csrf_token, _id (instance uuid), _versi (form version), _revisi (a correction: the revision sent back),
_aksi ("tambah:<repeat key>", "hapus:<instance key>", "hitung"), which re-renders the page instead of
submitting."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Any, BinaryIO, cast

import msgspec
from litestar import Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery
from litestar.response import File, Template

from server import clock
from server.domain.access import Principal, pickable_areas
from server.domain.answers import CONFIRM_KEY
from server.domain.compile import CompiledForm
from server.domain.form import NAME_RE, Field, Group, Question, Repeat, text_of
from server.domain.questions import ATTACHMENT_TYPES, LIST_TYPES, UPLOAD_TYPES
from server.errors import PantauError, too_large
from server.storage import access, attachments, blobs
from server.web.auth import SignedIn, signed_in
from server.web.deps import db_of, lang_of, settings_of
from server.web.errors import pantau_error_handler
from server.web.fill_assets import STATIC, asset_urls, ui_texts
from server.web.fill_context import (
    MAX_TEXT,
    Clock,
    ReceiptContext,
    Shown,
    defaults,
    fill_context,
    key_of_path,
)
from server.web.fill_runtime import runtime_rules
from server.web.http import Request
from server.web.media_urls import media_urls
from server.web.submitting import Invalid, accept

MAX_INSTANCES = 200  # repeat instances per repeat in one post: a bigger index is hostile, not a family
# The post without JavaScript carries its photos, recordings and files (each held to its own limit as
# it is stored; a part is spooled to disk beyond 1 MB as it arrives): the largest PANTAU_MAX_FILE_BYTES
# allows, with room for the answers and a photo, as ODK Collect's post has.
MAX_POST = 100 * 1024 * 1024 + 16 * 1024 * 1024
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_OFFSET = re.compile(r"(Z|[+-][0-9]{2}:?[0-9]{2})\Z")
_INDEXED = re.compile(r"\[([0-9]{1,6})\]\.")
ASSET_TYPES = {".js": "text/javascript", ".css": "text/css", ".json": "application/json", ".svg": "image/svg+xml",
               ".png": "image/png", ".ico": "image/x-icon"}
NO_STORE = {"Cache-Control": "no-store"}  # a page with a fresh instance id and personal answers


def _clock() -> Clock:
    now = clock.now()
    return Clock(today=now.astimezone(clock.WITA).date(), now=now)


async def _version(request: Request, principal: Principal, form_id: str, version: str | None) -> Any:
    """Authorise by loading (STYLE.md 7): the need first (403), then the form (404 when unknown,
    archived, or not a form name at all)."""
    return await access.form_version_for(db_of(request), principal, form_id, version, need="fill")


async def _page(request: Request, principal: Principal, compiled: CompiledForm, instance_id: str,
                answers: dict[str, Any] | None = None, shown: Shown | None = None, status: int = 200,
                base_revision: int | None = None) -> Template:
    context = fill_context(compiled, lang=lang_of(request), instance_id=instance_id, viewer=principal.display_name,
                           clock=_clock(), answers=answers, shown=shown, base_revision=base_revision,
                           areas=pickable_areas(principal), media=await media_urls(db_of(request), compiled.form_id))
    return Template(template_name="fill.html", context={"page": context}, status_code=status, headers=NO_STORE)


@get("/f/{form_id:str}")
async def fill_page(request: Request, principal: SignedIn, form_id: FromPath[str],
                    v: FromQuery[str | None] = None) -> Template:
    """A new, empty form: the instance id is made here, so every retry of its post is the same record.
    ?v= names an older version still published: a draft begun on it is resumed on it."""
    if v is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", v):
        raise PantauError("http.not_found")
    loaded = await _version(request, principal, form_id, v)
    return await _page(request, principal, loaded.compiled, str(uuid.uuid4()))


@get("/f/{form_id:str}/aturan", guards=[signed_in])
async def fill_rules(request: Request, principal: SignedIn, form_id: FromPath[str],
                     v: FromQuery[str]) -> Response[bytes]:
    """The runtime's rules of one version in one language (fill_assets.rules_url). Immutable: the
    URL names the version and the release, and a published version never changes."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", v):
        raise PantauError("http.not_found")
    loaded = await _version(request, principal, form_id, v)
    memo, key = loaded.compiled.memo(), ("fill.runtime_rules", lang_of(request))
    if key not in memo:  # once per version and language in this process: the version never changes
        memo[key] = msgspec.json.encode(runtime_rules(loaded.compiled, key[1]))
    return Response(memo[key], media_type="application/json",
                    headers={"Cache-Control": "private, max-age=31536000, immutable"})


def _not_utf8(request: Request, _exc: UnicodeDecodeError) -> Response[Any]:
    # Litestar decodes text parts while checking the CSRF token, before this handler runs, and lets
    # a UnicodeDecodeError through (a 500); a phone with a broken keyboard deserves a 400 page.
    return pantau_error_handler(request, PantauError("http.bad_request", detail="UTF-8"))


@post("/f/{form_id:str}", guards=[signed_in], status_code=200, exception_handlers={UnicodeDecodeError: _not_utf8},
      request_max_body_size=MAX_POST)
async def fill_post(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Template:
    access.require(principal, "fill")
    form = await request.form()
    try:
        instance_id, version, action = _reserved(form)
        revision = _revision(form)  # a correction: a new revision of that one
        loaded = await _version(request, principal, form_id, version)
        compiled = loaded.compiled
        answers, uploads = answers_from_post(compiled, form)
        photo_errors = await _store_photos(request, principal, uploads, compiled)
    finally:
        await form.close()
    if action:
        _apply_action(compiled, answers, action, _clock())
        return await _page(request, principal, compiled, str(instance_id), answers, base_revision=revision)
    if photo_errors:
        shown = _invalid(photo_errors, lang_of(request))
        return await _page(request, principal, compiled, str(instance_id), answers, shown, 422, revision)
    return await _submit(request, principal, compiled, instance_id, answers, revision)


async def _submit(request: Request, principal: Principal, compiled: CompiledForm, instance_id: uuid.UUID,
                  answers: dict[str, Any], revision: int | None = None) -> Template:
    lang = lang_of(request)
    try:
        receipt, warnings = await accept(request, principal, compiled.form_id, compiled.version, instance_id, answers,
                                         revision)
    except Invalid as invalid:  # errors, or warnings nobody ticked: back to the page, answers kept
        result = invalid.result
        errors = {key_of_path(e.path): e.message_en if lang == "en" else e.message_id for e in result.errors}
        shown = _invalid(errors, lang) if errors else Shown(error=ui_texts(lang)["tick"])
        shown = msgspec.structs.replace(shown, warnings=_by_key(result.unconfirmed, lang))
        return await _page(request, principal, compiled, str(instance_id), answers, shown, 422, revision)
    except PantauError as error:
        if not 400 <= error.status < 500:
            raise
        # 409, outside the area...: the answers stay on the page
        shown = Shown(error=error.message(lang), error_code=error.code)
        return await _page(request, principal, compiled, str(instance_id), answers, shown, error.status, revision)
    context = ReceiptContext(
        lang=lang, title=text_of(compiled.title, lang, compiled.form_id), viewer=principal.display_name,
        instance_id=receipt.instance_id, received_at=receipt.received_at.astimezone(clock.WITA).strftime(
            "%Y-%m-%d %H:%M WITA"), revision=receipt.revision, identical=receipt.outcome == "identical",
        again_url=f"/f/{compiled.form_id}" + ("?lang=en" if lang == "en" else ""),
        warnings=[w.message_en if lang == "en" else w.message for w in warnings], ui=ui_texts(lang),
        assets=asset_urls())
    return Template(template_name="fill_receipt.html", context={"page": context}, headers=NO_STORE,
                    status_code=201 if receipt.outcome == "new" else 200)


def _invalid(errors: dict[str, str], lang: str) -> Shown:
    error = PantauError("submission.invalid", count=len(errors))
    return Shown(errors=errors, error=error.message(lang), error_code=error.code)


def _by_key(items: list[Any], lang: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in items:
        out.setdefault(key_of_path(item.path), []).append(item.message_en if lang == "en" else item.message_id)
    return out


# --- posted fields -> answers ---------------------------------------------------------------------
def _reserved(form: Any) -> tuple[uuid.UUID, str, str]:
    try:
        instance_id = uuid.UUID(_one(form, "_id"))
    except ValueError:
        raise PantauError("http.bad_request", detail="_id") from None
    version = _one(form, "_versi")
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", version):
        raise PantauError("http.bad_request", detail="_versi")
    return instance_id, version, _one(form, "_aksi")


def _revision(form: Any) -> int | None:
    raw = _one(form, "_revisi")
    if raw and not re.fullmatch(r"[1-9][0-9]{0,8}", raw):
        raise PantauError("http.bad_request", detail="_revisi")
    return int(raw) if raw else None


def _one(form: Any, key: str) -> str:
    values = form.getall(key) if key in form else []
    if len(values) > 1 or any(not isinstance(v, str) for v in values):
        raise PantauError("http.bad_request", detail=key)
    value = values[0] if values else ""
    if len(value) > MAX_TEXT:
        raise PantauError("http.field_too_long", field=key, max=MAX_TEXT)
    return value


Uploads = list[tuple[dict[str, Any], str, str, UploadFile]]  # (answers level, field name, key, file)


def answers_from_post(compiled: CompiledForm, form: Any) -> tuple[dict[str, Any], Uploads]:
    """The posted fields as the answers dict the JSON API takes, reading only the form's own fields
    (anything else posted is ignored); photos to store are returned beside it."""
    uploads: Uploads = []
    answers = _level(compiled.definition.fields, "", form, uploads)
    return answers, uploads


def _level(fields: list[Field], prefix: str, form: Any, uploads: Uploads, into: dict[str, Any] | None = None
           ) -> dict[str, Any]:
    out: dict[str, Any] = {} if into is None else into  # a group's fields land in its level's dict
    for field in fields:
        key = prefix + field.name
        if isinstance(field, Group):
            _level(field.fields, prefix, form, uploads, out)
            continue
        elif isinstance(field, Repeat):
            indexes = sorted(_indexes(form, key))
            if len(indexes) > MAX_INSTANCES:
                raise PantauError("http.bad_request", detail=f"{key}: > {MAX_INSTANCES}")
            out[field.name] = [_level(field.fields, f"{key}[{i}].", form, uploads) for i in indexes]
        elif field.type in ATTACHMENT_TYPES:  # a photo, recording or file: a file part or a kept sha256
            _image(out, field.name, key, form, uploads)
        else:
            value = _value(field, key, form)
            if value not in (None, "", []):
                out[field.name] = value
    if into is not None:
        return out
    ticked = [v for v in (form.getall(prefix + CONFIRM_KEY) if prefix + CONFIRM_KEY in form else []) if v]
    if any(not isinstance(v, str) or not NAME_RE.match(v) for v in ticked):
        raise PantauError("http.bad_request", detail=prefix + CONFIRM_KEY)
    if ticked:
        out[CONFIRM_KEY] = ticked
    return out


def _indexes(form: Any, key: str) -> set[int]:
    found = set()
    for name in form:
        if name.startswith(key + "[") and (match := _INDEXED.match(name, len(key))):
            found.add(int(match.group(1)))
    return found


def _value(field: Question, key: str, form: Any) -> Any:
    if field.type in LIST_TYPES:
        values = form.getall(key) if key in form else []
        if any(not isinstance(v, str) or len(v) > 200 for v in values) or len(values) > 500:
            raise PantauError("http.bad_request", detail=key)
        # a rank's places in order (one drop-down each), or its names in one input, space-separated
        return [name for v in values for name in v.split()] if field.type == "rank" else [v for v in values if v]
    value = _one(form, key).strip()
    if field.type == "datetime" and value and not _OFFSET.search(value):
        value += "+08:00"  # datetime-local has no zone; the enumerators are in WITA (clock.WITA)
    return value


def _image(out: dict[str, Any], name: str, key: str, form: Any, uploads: Uploads) -> None:
    parts = form.getall(key) if key in form else []
    files = [p for p in parts if isinstance(p, UploadFile) and p.filename]
    kept = [p.strip() for p in parts if isinstance(p, str) and _SHA256.match(p.strip())]
    if len(files) > 1 or len(parts) > 2:
        raise PantauError("http.bad_request", detail=key)
    if files:
        uploads.append((out, name, key, files[0]))
    elif kept:
        out[name] = kept[0]


async def _store_photos(request: Request, principal: Principal, uploads: Uploads,
                        compiled: CompiledForm) -> dict[str, str]:
    """Each photo checked by its bytes and its size, then stored by hash like the API's uploads; a bad
    one is an error at its field, and the others are kept (their hashes go back into the page). The
    phone's runtime scales photos before sending; without it the server scales them the same way."""
    settings, lang, errors = settings_of(request), lang_of(request), {}
    for level, name, key, upload in uploads:
        if (question_type := compiled.fields[name].type) in UPLOAD_TYPES:
            try:
                saved = await attachments.save_stream(db_of(request), settings.data_dir, _parts_of(upload),
                                                      question_type, principal.id, settings.max_file_bytes)
                level[name] = saved.sha256
            except PantauError as refused:
                errors[key] = refused.message(lang)
            continue
        photo = cast(BinaryIO, upload.file)  # spooled to disk beyond 1 MB as it arrived
        kind = attachments.sniff_file(photo)
        if attachments.size_of(photo) > settings.max_attachment_bytes:
            error = too_large(settings.max_attachment_bytes)
        elif kind is None:
            error = PantauError("attachment.not_image")
        else:
            side = attachments.max_side_of(compiled.definition, name) or attachments.PHONE_SIDE
            try:
                level[name] = await attachments.save(db_of(request), settings.data_dir, photo, kind, principal.id, side)
                continue
            except PantauError as refused:
                error = refused
        errors[key] = error.message(lang)
    return errors


async def _parts_of(upload: UploadFile) -> AsyncIterator[bytes]:
    while piece := await upload.read(blobs.CHUNK):
        yield piece


def _apply_action(compiled: CompiledForm, answers: dict[str, Any], action: str, now: Clock) -> None:
    """Without JavaScript, adding or removing a repeat instance is a post that re-renders the page."""
    verb, _, key = action.partition(":")
    if verb == "hapus" and (match := re.fullmatch(r"(.+)\[([0-9]{1,6})\]", key)):
        items = _list_at(answers, match.group(1))
        if items is not None and int(match.group(2)) < len(items):
            del items[int(match.group(2))]
    elif verb == "tambah":
        repeat = _repeat_named(compiled.definition.fields, key.rsplit(".", 1)[-1])
        items = _list_at(answers, key) if repeat is not None else None
        if repeat is not None and items is not None and len(items) < (repeat.max_count or MAX_INSTANCES):
            items.append(defaults(compiled, repeat.fields, now))
    elif verb != "hitung":
        raise PantauError("http.bad_request", detail="_aksi")


def _list_at(answers: dict[str, Any], key: str) -> list[Any] | None:
    level: Any = answers
    *steps, last = key.split(".")
    for step in steps:
        match = re.fullmatch(r"(.+)\[([0-9]{1,6})\]", step)
        items = level.get(match.group(1)) if match and isinstance(level, dict) else None
        index = int(match.group(2)) if match else -1
        level = items[index] if isinstance(items, list) and 0 <= index < len(items) else None
    if not isinstance(level, dict) or not isinstance(level.get(last, []), list):
        return None
    return level.setdefault(last, [])  # type: ignore[no-any-return]


def _repeat_named(fields: list[Field], name: str) -> Repeat | None:
    for field in fields:
        if isinstance(field, Repeat) and field.name == name:
            return field
        if isinstance(field, Group | Repeat) and (found := _repeat_named(field.fields, name)):
            return found
    return None


# --- static files with a long cache ------------------------------------------------------------------
@get("/aset/{version:str}/{file_path:path}", include_in_schema=False)
async def asset(version: FromPath[str], file_path: FromPath[str]) -> Response[Any]:
    """The version in the URL is the hash of the static files (fill_assets.asset_version): a new
    release changes every URL, so a year of `immutable` cache is safe. Any version is answered with the
    current file: a page from before an upgrade still gets its styles and runtime."""
    path = (STATIC / file_path.lstrip("/")).resolve()
    kind = ASSET_TYPES.get(path.suffix)
    if kind is None or not path.is_relative_to(STATIC) or not path.is_file():
        raise PantauError("http.not_found")
    cache = {"Cache-Control": "public, max-age=31536000, immutable"}
    if path.suffix == ".js":
        return Response(_lean(path, path.stat().st_mtime_ns), media_type=kind, headers=cache)
    return File(path=path, filename=path.name, media_type=kind, content_disposition_type="inline", headers=cache)


@lru_cache(maxsize=32)
def _lean(path: Path, _version: int) -> bytes:
    """A script without its comment lines and indentation: a fifth fewer bytes on 2G, and no build
    step. Whole lines only, no code is rewritten; a file where a line could be inside a string (a
    template literal, a continued string) is served as written."""
    text = path.read_text(encoding="utf-8")
    if "`" in text or re.search(r"\\$", text, re.MULTILINE):
        return text.encode()
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")).encode() + b"\n"


router = Router(path="/", route_handlers=[fill_page, fill_rules, fill_post, asset])
