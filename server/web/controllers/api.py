"""The JSON API the phone's outbox talks to: submissions, photos, and the list of what the server
holds from me. Each handler parses, makes one call per step of ARCHITECTURE.md's submission path,
and answers with a receipt or a catalogue problem."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, BinaryIO, TypeAlias, cast

import msgspec
from litestar import Response, Router, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from litestar.response import Stream

from server import clock
from server.domain import media
from server.domain.access import Principal
from server.errors import PantauError, too_large
from server.storage import access, attachments, submissions
from server.web.auth import SignedIn, signed_in, signed_in_first
from server.web.deps import db_of, settings_of
from server.web.http import Request
from server.web.schemas import AttachmentOut, ReceiptOut, SentItem, SubmissionIn
from server.web.submitting import Invalid, accept, checked

# An answer function's result: the status and the body (a msgspec Struct or builtins), or it raises
# (Invalid for answers that break the rules, PantauError for the catalogue, anything else a 500).
Answer: TypeAlias = tuple[int, Any]
AnswerFunction: TypeAlias = Callable[[Request, Principal | None, SubmissionIn], Awaitable[Answer]]


# POST /api/v1/submissions and the bench stages below are answered by web/fast_route.py ahead of
# litestar whenever the request is an ordinary one; these handlers answer the rest (a missing or bad
# CSRF token, no session, a body litestar must refuse) and are the route table's (and the OpenAPI
# document's) entries. Both call the same answer functions.
@post("/api/v1/submissions", status_code=201, before_request=signed_in_first)
async def submit(request: Request, principal: SignedIn, data: JSONBody[SubmissionIn]) -> Response[ReceiptOut]:
    """Store one filled form exactly once. A retry with the same instance id and the same answers
    returns the first receipt (200); other answers under that id are a 409."""
    return await _as_response(submission_answer(request, principal, data))


async def submission_answer(request: Request, principal: Principal | None, data: SubmissionIn) -> Answer:
    assert principal is not None  # the route requires a session (fast_route.FastRoute.signed_in)
    receipt, warnings = await accept(request, principal, data.form_id, data.form_version, data.instance_id,
                                     data.answers, data.base_revision)
    return 201 if receipt.outcome == "new" else 200, ReceiptOut(**msgspec.structs.asdict(receipt), warnings=warnings)


async def _as_response(answer: Awaitable[Answer]) -> Response[Any]:
    """An answer function's (status, body) as litestar's handler returns it; answers that break the
    form's rules as the 422 they raise."""
    try:
        status, out = await answer
    except Invalid as invalid:
        return invalid.response()
    return Response(out, status_code=status)


@get("/api/v1/submissions/{instance_id:uuid}")
async def submission_detail(request: Request, principal: SignedIn, instance_id: FromPath[uuid.UUID]) -> dict[str, Any]:
    found = await access.submission_for(db_of(request), principal, instance_id)
    return {"id": found.instance_id, "form_id": found.form_id, "form_version": found.form_version,
            "enumerator": found.enumerator_id, "area_code": found.area_code, "answers": found.answers,
            "revision": found.revision, "review_status": found.review_status,
            "received_at": found.received_at.isoformat()}


@get("/api/v1/submissions")
async def sent_list(request: Request, principal: SignedIn) -> list[SentItem]:
    """What the server holds from me, newest first: the phone compares it with its outbox."""
    items = await submissions.sent_by(db_of(request), principal)
    return [SentItem(instance_id=i.instance_id, form_id=i.form_id, form_version=i.form_version, revision=i.revision,
                     review_status=i.review_status, received_at=i.received_at) for i in items]


_SPOOL = 1 << 20  # as litestar spools a multipart upload


async def _spooled(request: Request, limit: int) -> BinaryIO:
    """The request body in a temporary file as it arrives (in memory up to SPOOL bytes, then on
    disk): a photo is never whole in a node's memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    spool, size = tempfile.SpooledTemporaryFile(max_size=_SPOOL), 0  # noqa: SIM115 - the caller closes it
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise too_large(limit)
            spool.write(chunk)  # a chunk of at most 64 kB into the page cache
    except BaseException:
        spool.close()
        raise
    return cast(BinaryIO, spool)


# The settings allow recordings up to 100 MB (PANTAU_MAX_FILE_BYTES); the handler holds each to its own.
@post("/api/v1/attachments", status_code=201, guards=[signed_in], request_max_body_size=100 * 1024 * 1024)
async def upload_attachment(request: Request, principal: SignedIn,
                            jenis: FromQuery[str] = "image") -> AttachmentOut:
    """One photo (or with ?jenis=audio|video|file, one recording or file) per request, keyed by
    its sha256: uploading the same bytes again is harmless."""
    access.require(principal, "fill")
    settings = settings_of(request)
    if jenis != "image":
        return await _upload_file(request, principal, jenis)
    with await _spooled(request, settings.max_attachment_bytes) as photo:
        kind = attachments.sniff_file(photo)
        if kind is None:
            raise PantauError("attachment.not_image")
        digest = await attachments.save(db_of(request), settings.data_dir, photo, kind, principal.id)
        return AttachmentOut(sha256=digest, size=attachments.size_of(photo), content_type=kind)


async def _upload_file(request: Request, principal: SignedIn, kind: str) -> AttachmentOut:
    """A recording or file streamed to storage as it arrives: a 20 MB video never sits whole in memory."""
    if kind not in media.KINDS:
        raise PantauError("attachment.unknown_kind", kind=kind[:20])
    limit = settings_of(request).max_file_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit, "attachment.file_too_large")
    saved = await attachments.save_stream(db_of(request), settings_of(request).data_dir, request.stream(), kind,
                                          principal.id, limit)
    return AttachmentOut(sha256=saved.sha256, size=saved.size, content_type=saved.content_type)


@get("/api/v1/attachments/{sha256:str}")
async def download_attachment(request: Request, principal: SignedIn, sha256: FromPath[str]) -> Stream:
    kind = await access.attachment_for(db_of(request), principal, sha256)
    # nosniff: the browser takes the type we say, never guesses HTML or script from the bytes; and
    # opened on its own the photo is a download, not a page of our origin. A file question's upload
    # is octet-stream; a recording keeps its type so an <audio>/<video> element plays it.
    if kind.startswith("image/"):
        filename = f"foto-{sha256[:12]}.{attachments.EXTENSIONS.get(kind, 'bin')}"
    else:
        kind = kind if kind in media.EXTENSIONS else media.OCTET
        filename = f"berkas-{sha256[:12]}.{media.EXTENSIONS[kind]}"
    body = attachments.chunks(db_of(request), settings_of(request).data_dir, sha256)
    return Stream(body, media_type=kind, headers={
        "Cache-Control": "private, max-age=86400", "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'attachment; filename="{filename}"'})


@post("/api/v1/bench/noop", status_code=201)
async def bench_noop(request: Request, data: JSONBody[SubmissionIn]) -> Response[Any]:
    """The same decoding into the same Struct as submit, and nothing else: bench/submit_load.py
    divides by this to see what validation and durable storage cost on top of the HTTP work.
    Registered only with PANTAU_BENCH_ROUTES=true, as the two below; answered ahead of litestar by
    web/fast_route.py as submit is, so the stages measure the same path."""
    return await _as_response(noop_answer(request, None, data))


async def noop_answer(request: Request, principal: Principal | None, data: SubmissionIn) -> Answer:
    return 201, {"instance_id": str(data.instance_id), "outcome": "noop"}


# The submission path in stages, for bench/submit_cost.py's breakdown: signed_in is submit's HTTP side
# (session, dependencies, a receipt as the answer) without the form; validated adds loading the form
# and validating the answers. Neither stores anything: submit minus validated is the storage side.
@post("/api/v1/bench/signed_in", status_code=201, before_request=signed_in_first)
async def bench_signed_in(request: Request, principal: SignedIn, data: JSONBody[SubmissionIn]) -> Response[Any]:
    return await _as_response(signed_in_answer(request, principal, data))


async def signed_in_answer(request: Request, principal: Principal | None, data: SubmissionIn) -> Answer:
    return _bench_receipt(data)


@post("/api/v1/bench/validated", status_code=201, before_request=signed_in_first)
async def bench_validated(request: Request, principal: SignedIn, data: JSONBody[SubmissionIn]) -> Response[Any]:
    return await _as_response(validated_answer(request, principal, data))


async def validated_answer(request: Request, principal: Principal | None, data: SubmissionIn) -> Answer:
    assert principal is not None  # the route requires a session
    await checked(request, principal, data.form_id, data.form_version, data.answers)
    return _bench_receipt(data)


def _bench_receipt(data: SubmissionIn) -> Answer:
    return 201, ReceiptOut(instance_id=str(data.instance_id), form_id=data.form_id, form_version=data.form_version,
                           revision=1, received_at=clock.now(), outcome="bench")


router = Router(path="/", route_handlers=[submit, submission_detail, sent_list, upload_attachment, download_attachment])
bench_router = Router(path="/", route_handlers=[bench_noop, bench_signed_in, bench_validated])

# What web/fast_route.py answers ahead of litestar: path -> (whether a session is required, the answer).
FAST_ROUTES: dict[str, tuple[bool, AnswerFunction]] = {"/api/v1/submissions": (True, submission_answer)}
FAST_BENCH_ROUTES: dict[str, tuple[bool, AnswerFunction]] = {
    "/api/v1/bench/noop": (False, noop_answer), "/api/v1/bench/signed_in": (True, signed_in_answer),
    "/api/v1/bench/validated": (True, validated_answer)}
