"""OpenRosa submissions (form-systems.md 2.3): ODK Collect and KoboCollect send a filled form as
multipart/form-data, the instance XML as `xml_submission_file` and each photo, recording or file as
a part named by its file name. The instance becomes answers (domain/openrosa_instance.py), its photos
are stored as the phone's outbox stores them (storage/attachments: without their metadata, scaled to
the question's max_pixels or the runtime's 1600 px), its recordings and files streamed as sent
(attachments.save_stream), and the answers go the
one submission path (web/submitting.accept: validation, area, registry, domain/intake, the writer).

A form sent over several requests (`*isIncomplete*` = yes on all but the last, each repeating the
XML) is stored only when the last part arrives; until then its photos wait by file name in
storage/openrosa_parts and nothing is visible to review. Where Pantau differs from ODK Central: an
edit (meta/deprecatedID) is not taken from the apps (corrections go through the review page), and a
photo the XML names must arrive with the form; Central keeps such a record with the file missing."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from typing import Any, BinaryIO, cast

from litestar import Response, Router, head, post
from litestar.datastructures import UploadFile

from server import clock
from server.domain import media, openrosa_instance
from server.domain.access import Principal
from server.domain.form import Form
from server.errors import PantauError, too_large, wrong_kind
from server.storage import access, attachments, blobs, openrosa_parts
from server.web.controllers.openrosa import fillable_version, require_openrosa_version, xform_of
from server.web.deps import db_of, settings_of, writer_of
from server.web.http import Request
from server.web.openrosa import OpenRosaUser, openrosa_message, openrosa_routers
from server.web.submitting import Invalid, accept

ACCEPT_LENGTH = "X-OpenRosa-Accept-Content-Length"
XML_PART = "xml_submission_file"
INCOMPLETE = "*isIncomplete*"
# The settings allow photos and recordings up to 100 MB; a request holds the XML and at most one limit's worth of
# photos (Collect splits by X-OpenRosa-Accept-Content-Length), plus the multipart framing.
_FRAMING = 64 * 1024
MAX_BODY = 100 * 1024 * 1024 + openrosa_instance.MAX_XML_BYTES + _FRAMING
MAX_LISTED = 20  # problems named in the message Collect shows; the count says how many in all


def accepted_length(request: Request) -> int:
    """The largest file a request may carry: a photo's limit or a recording's, whichever is larger."""
    settings = settings_of(request)
    return max(settings.max_attachment_bytes, settings.max_file_bytes)


def body_limit(request: Request) -> int:
    return accepted_length(request) + openrosa_instance.MAX_XML_BYTES + _FRAMING


@head("/submission", status_code=204)
async def submission_preflight(request: Request, principal: OpenRosaUser) -> Response[None]:
    """Collect's HEAD before it sends: 204 (anything else is "not an OpenRosa server") and the size
    a request may have."""
    access.require(principal, "fill")
    return Response(None, status_code=204,
                    headers={ACCEPT_LENGTH: str(accepted_length(request))})


@post("/submission", status_code=201, request_max_body_size=MAX_BODY,
      exclude_from_csrf=True)  # no cookie signs these in: an app key or HTTP Basic
async def submission(request: Request, principal: OpenRosaUser) -> Response[bytes]:
    """Store one filled form exactly once: 201 with the receipt, again for a retry of the same XML."""
    access.require(principal, "fill")
    require_openrosa_version(request)  # as ODK Central: also no cross-site form can send it
    xml, files, incomplete = await _posted(request)
    instance = openrosa_instance.read(xml)
    form, added = await _form_of(request, principal, instance)
    answers = openrosa_instance.answers_of(form, instance.root, added)
    named = openrosa_instance.file_names(form, answers)
    await _keep_files(request, principal, form, instance.instance_id, named, files)
    headers = {ACCEPT_LENGTH: str(accepted_length(request))}
    if incomplete:
        return openrosa_message(f"Bagian kiriman diterima ({len(files)} berkas); menunggu bagian terakhir.", 201,
                                nature="submit_success", headers=headers)
    held = await openrosa_parts.held(db_of(request), instance.instance_id, principal.id)
    for field, name in named:
        if name not in held:
            raise PantauError("openrosa.missing_file", file=name[:255], field=field)
    receipt = await _accept(request, principal, instance, openrosa_instance.with_files(form, answers, held))
    await openrosa_parts.forget(writer_of(request), instance.instance_id, principal.id)
    when = receipt.received_at.astimezone(clock.WITA).strftime("%d-%m-%Y %H.%M WITA")
    text = f"Isian diterima: {receipt.form_id} {receipt.instance_id}, revisi {receipt.revision}, {when}."
    return openrosa_message(text, 201, nature="submit_success", headers=headers)


async def _posted(request: Request) -> tuple[bytes, dict[str, BinaryIO], bool]:
    """(instance XML, file name -> its file, more parts follow) from the multipart body. litestar
    writes each file part to a temporary file as it arrives (on disk beyond 1 MB)."""
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise PantauError("openrosa.not_multipart")
    declared = request.headers.get("content-length", "")
    limit = body_limit(request)
    if declared.isdigit() and int(declared) > limit:
        raise too_large(accepted_length(request))
    posted = await request.form()
    xml: bytes | None = None
    files: dict[str, BinaryIO] = {}
    for name, value in posted.multi_items():
        if name == XML_PART:
            xml = await value.read() if isinstance(value, UploadFile) else str(value).encode("utf-8")
        elif name != INCOMPLETE:
            data = cast(BinaryIO, value.file) if isinstance(value, UploadFile) else io.BytesIO(str(value).encode())
            files[_file_name(value.filename if isinstance(value, UploadFile) and value.filename else name)] = data
    if xml is None:
        raise PantauError("openrosa.no_instance_file")
    return xml, files, str(posted.get(INCOMPLETE, "")).strip().lower() in ("yes", "true", "1")


def _file_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name in (".", "..") or len(name) > 255:
        raise PantauError("openrosa.file_name", file=name[:80])
    return name


async def _form_of(request: Request, principal: Principal,
                   instance: openrosa_instance.Instance) -> tuple[Form, frozenset[str]]:
    """The published version the instance names, if this person may fill it (else 404), and the
    names its XForm added to the instance."""
    loaded = await fillable_version(db_of(request), principal, instance.form_id, instance.version)
    return loaded.compiled.definition, (await xform_of(db_of(request), loaded)).added


async def _keep_files(request: Request, principal: Principal, form: Form, instance_id: uuid.UUID,
                      named: list[tuple[str, str]], files: dict[str, BinaryIO]) -> None:
    """Store the files the instance names (a file it does not name is not kept), and remember their
    names for the parts to come. A photo as the phone's outbox does: kept as sent without its
    metadata when it fits the question's max_pixels (the phone runtime's 1600 px when it has none),
    else scaled to fit (Collect sends the camera's full picture unless the question has max-pixels).
    A recording or file streamed as sent. Every file is checked before any is stored."""
    settings = settings_of(request)
    kinds = openrosa_instance.uploads_of(form)
    wanted = {name: kinds[field] for field, name in named if name in files}
    sides = {name: attachments.max_side_of(form, field) or attachments.PHONE_SIDE
             for field, name in named if name in files and kinds[field] == "image"}
    for name, kind in sorted(wanted.items()):
        if kind == "image":
            if attachments.size_of(files[name]) > settings.max_attachment_bytes:
                raise too_large(settings.max_attachment_bytes)
            if attachments.sniff_file(files[name]) is None:
                raise PantauError("attachment.not_image")
            continue
        files[name].seek(0)
        head = files[name].read(media.HEAD)
        if not head:
            raise PantauError("attachment.empty")
        if attachments.size_of(files[name]) > settings.max_file_bytes:
            raise too_large(settings.max_file_bytes, "attachment.file_too_large")
        if media.sniff(head, kind) is None:
            raise wrong_kind(kind)
    stored: dict[str, str] = {}
    for name, kind in sorted(wanted.items()):
        if kind == "image":
            stored[name] = await attachments.save(db_of(request), settings.data_dir, files[name],
                                                  attachments.sniff_file(files[name]) or "", principal.id, sides[name])
        else:
            saved = await attachments.save_stream(db_of(request), settings.data_dir, _chunks(files[name]), kind,
                                                  principal.id, settings.max_file_bytes)
            stored[name] = saved.sha256
    await openrosa_parts.remember(writer_of(request), instance_id, principal.id, stored, clock.now())


async def _chunks(part: BinaryIO) -> AsyncIterator[bytes]:
    """A part a chunk at a time from where the parser spooled it: never the whole recording in memory."""
    part.seek(0)
    while piece := part.read(blobs.CHUNK):
        yield piece


async def _accept(request: Request, principal: Principal, instance: openrosa_instance.Instance,
                  answers: dict[str, Any]) -> Any:
    """The one submission path; its refusals as Collect can show them (a 400 naming each field)."""
    try:
        receipt, _warnings = await accept(request, principal, instance.form_id, instance.version,
                                          instance.instance_id, answers)
    except Invalid as invalid:
        problems = [f"{p.path}: {p.message}" for p in invalid.problems]
        raise PantauError("openrosa.invalid", count=len(problems), problems="; ".join(problems[:MAX_LISTED])) from None
    except PantauError as error:
        if error.status != 422:  # a conflict (409), an area not one's own (403), ...: as the catalogue says
            raise
        field = error.params.get("field") or error.params.get("beneficiary") or ""
        problem = f"{field}: {error.message('id')}" if field else error.message("id")
        raise PantauError("openrosa.invalid", count=1, problems=problem) from None
    return receipt


router = Router(path="/", route_handlers=openrosa_routers([submission_preflight, submission]))
