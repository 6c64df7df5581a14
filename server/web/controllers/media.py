"""Form media: the image, audio and video files a form's media columns name (domain/form_media.py).

    POST /formulir/<form_id>/media                 staff upload files (the field `media`, several)
    GET  /f/<form_id>/media/<sha256>/<file name>   one file, for whoever may fill the form or edit forms

A file is checked by its bytes (domain/form_media.sniff), its size (PANTAU_MAX_FORM_MEDIA_BYTES)
and its name (a plain file name the form names) before anything is stored; one refused file refuses
the whole upload. A served file is immutable under its URL (the sha256 names the bytes)."""

from __future__ import annotations

import re
from typing import Any

from litestar import Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Stream

from server.domain.access import Principal, has
from server.domain.form_media import named_files
from server.errors import PantauError
from server.storage import access, form_media
from server.storage.db import Database
from server.web.auth import SignedIn
from server.web.deps import db_of, settings_of
from server.web.http import Request

IMMUTABLE = {"Cache-Control": "private, max-age=31536000, immutable"}
MAX_BODY = 70 * 1024 * 1024  # the largest PANTAU_MAX_FORM_MEDIA_BYTES allows, with room for a few files


async def names_of(db: Database, principal: Principal, form_id: str) -> dict[str, str]:
    """Every media file the draft and the published versions name -> its column kind; 403/404 as
    the editor (storage/access.form_for_edit)."""
    found = await access.form_for_edit(db, principal, form_id)
    named: dict[str, str] = {}
    for version in found.versions:
        named |= named_files(version.compiled.definition)
    if found.draft is not None:
        from server.web.controllers.editor import compiled_draft

        named |= named_files(compiled_draft(found.draft).definition)
    return named


async def read_media_parts(parts: list[Any], limit: int) -> list[tuple[str, bytes]]:
    """(name as sent, bytes) of each file part; a part over the limit is read only to limit + 1."""
    out: list[tuple[str, bytes]] = []
    for part in parts:
        if isinstance(part, UploadFile) and part.filename:
            out.append((part.filename, await part.read(limit + 1)))
    return out


async def store_checked(db: Database, data_dir: str, principal: Principal, form_id: str,
                        files: list[tuple[str, bytes]], named: dict[str, str], limit: int) -> list[str]:
    """Every file checked first (one refusal refuses all, nothing written), then stored."""
    kinds = [form_media.checked(name, data, named, limit) for name, data in files]
    for (name, data), kind in zip(files, kinds, strict=True):
        await form_media.save(db, data_dir, principal, form_id, name, data, kind)
    return [name for name, _ in files]


@post("/formulir/{form_id:str}/media", request_max_body_size=MAX_BODY, status_code=303)
async def upload_media(request: Request, principal: SignedIn, form_id: FromPath[str]) -> Redirect:
    db, settings = db_of(request), settings_of(request)
    named = await names_of(db, principal, form_id)
    posted = await request.form()
    try:
        files = await read_media_parts(posted.getall("media", []), settings.max_form_media_bytes)
    finally:
        await posted.close()
    if not files:
        raise PantauError("media.none_chosen")
    await store_checked(db, settings.data_dir, principal, form_id, files, named, settings.max_form_media_bytes)
    found = await access.form_for_edit(db, principal, form_id)
    return Redirect(f"/formulir/{form_id}/terbit" if found.draft is not None else f"/formulir/{form_id}",
                    status_code=303)


@get("/f/{form_id:str}/media/{sha256:str}/{name:str}")
async def media_file(request: Request, principal: SignedIn, form_id: FromPath[str], sha256: FromPath[str],
                     name: FromPath[str]) -> Stream:
    """Only for a person who may fill the form (its assignment), or edit forms (the preview)."""
    db = db_of(request)
    if has(principal, "edit_forms"):
        await access.form_for_edit(db, principal, form_id)
    else:
        await access.form_version_for(db, principal, form_id, need="fill")
    entry = (await form_media.listed(db, form_id)).get(name)
    if entry is None or entry.sha256 != sha256:
        raise PantauError("media.not_found")
    headers = {**IMMUTABLE, "Accept-Ranges": "bytes", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'; sandbox"}
    wanted = request.headers.get("range", "")
    if wanted:  # a player seeking in audio or video: the part asked for, streamed
        start, end = byte_range(wanted, entry.size)
        return Stream(form_media.part(db, settings_of(request).data_dir, entry, start, end), status_code=206,
                      media_type=entry.content_type, headers={
                          **headers, "Content-Range": f"bytes {start}-{end}/{entry.size}",
                          "Content-Length": str(end - start + 1)})
    return Stream(form_media.chunks(db, settings_of(request).data_dir, entry), media_type=entry.content_type,
                  headers={**headers, "Content-Length": str(entry.size)})


_RANGE = re.compile(r"bytes=([0-9]{0,15})-([0-9]{0,15})\Z")


def byte_range(header: str, size: int) -> tuple[int, int]:
    """One range of `Range: bytes=a-b` (a-, -n too) as (first, last) byte; media.bad_range (416)
    for anything else, or a range outside the file."""
    found = _RANGE.match(header.strip())
    if found is None or not (found.group(1) or found.group(2)) or size == 0:
        raise PantauError("media.bad_range", range=header[:40], size=size)
    first, last = found.group(1), found.group(2)
    if not first:  # the last n bytes
        start, end = max(size - int(last), 0), size - 1
    else:
        start, end = int(first), min(int(last), size - 1) if last else size - 1
    if start > end or start >= size:
        raise PantauError("media.bad_range", range=header[:40], size=size)
    return start, end


router = Router(path="/", route_handlers=[upload_media, media_file])
