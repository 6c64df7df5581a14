"""The JSON API the phone's outbox talks to: submissions, photos, and the list of what the server
holds from me. Each handler parses, makes one call per step of ARCHITECTURE.md's submission path,
and answers with a receipt or a catalogue problem."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody

from server import clock
from server.domain import intake
from server.domain.access import Principal, sees_area
from server.domain.answers import Validation, validate
from server.errors import PantauError
from server.storage import access, attachments, forms, submissions
from server.web.auth import SignedIn, client_address, signed_in
from server.web.deps import db_of, settings_of, writer_of
from server.web.schemas import AttachmentOut, FieldProblem, ReceiptOut, SentItem, SubmissionIn


def _problems(items: list[Any]) -> list[FieldProblem]:
    return [FieldProblem(i.path, i.code, i.message_id, i.message_en) for i in items]


def _values_of_type(compiled: Any, answers: dict[str, Any], types: set[str]) -> list[tuple[str, Any]]:
    """(field, value) for every answer whose field has one of these types, inside repeats too."""
    out: list[tuple[str, Any]] = []

    def visit(values: dict[str, Any]) -> None:
        for name, value in values.items():
            info = compiled.fields.get(name)
            if info is None:
                continue
            if info.type == "repeat" and isinstance(value, list):
                for instance in value:
                    if isinstance(instance, dict):
                        visit(instance)
            elif info.type in types and value not in (None, ""):
                out.append((name, value))

    visit(answers)
    return out


def _region_answers(compiled: Any, answers: dict[str, Any]) -> list[str]:
    lists = compiled.definition.choices
    return [str(answers[name]) for name, info in compiled.fields.items()
            if not info.repeat and info.choices in lists and lists[info.choices].wilayah and answers.get(name)]


async def _checked(request: Request, principal: Principal, data: SubmissionIn) -> tuple[Any, Validation]:  # type: ignore[type-arg]
    access.require(principal, "fill")
    loaded = await forms.load_version(db_of(request), data.form_id, data.form_version)
    if loaded is None:
        raise PantauError("submission.unknown_form", form_id=data.form_id, version=data.form_version)
    now = clock.now()
    result = validate(loaded.compiled, data.answers, today=now.astimezone(clock.WITA).date(), now=now)
    if result.errors:
        raise _Invalid(result)
    return loaded, result


class _Invalid(Exception):
    def __init__(self, result: Validation) -> None:
        self.result = result


@post("/api/v1/submissions", status_code=201, guards=[signed_in])
async def submit(request: Request, principal: SignedIn, data: JSONBody[SubmissionIn]) -> Response[ReceiptOut]:  # type: ignore[type-arg]
    """Store one filled form exactly once. A retry with the same instance id and the same answers
    returns the first receipt (200); other answers under that id are a 409."""
    try:
        loaded, result = await _checked(request, principal, data)
    except _Invalid as invalid:
        errors = _problems(invalid.result.errors)
        body = {"code": "submission.invalid", "status": 422,
                "detail": PantauError("submission.invalid", count=len(errors)).message("en"),
                "detail_id": PantauError("submission.invalid", count=len(errors)).message("id"),
                "errors": msgspec.to_builtins(errors)}
        return Response(body, status_code=422, media_type="application/problem+json")  # type: ignore[arg-type]
    compiled = loaded.compiled
    photos = _values_of_type(compiled, result.answers, {"image"})
    known = await attachments.known(db_of(request), [str(v) for _, v in photos])
    for field, value in photos:
        if value not in known:
            raise PantauError("attachment.missing", field=field)
    area = intake.area_of(_region_answers(compiled, result.answers), principal.areas)
    if area and not sees_area(principal, area):
        raise PantauError("submission.outside_area", area=area)
    item = submissions.Incoming(
        instance_id=data.instance_id, form_id=loaded.form_id, form_version=loaded.version, form_version_pk=loaded.pk,
        answers=result.answers, content_hash=intake.content_hash(loaded.form_id, loaded.version, result.answers),
        area_code=area, attachments=tuple(str(v) for _, v in photos), base_revision=data.base_revision)
    receipt = await submissions.store(db_of(request), writer_of(request), item, principal, client_address(request),
                                      clock.now())
    out = ReceiptOut(**msgspec.structs.asdict(receipt), warnings=_problems(result.warnings))
    return Response(out, status_code=201 if receipt.outcome == "new" else 200)


@get("/api/v1/submissions/{instance_id:uuid}")
async def submission_detail(request: Request, principal: SignedIn, instance_id: FromPath[uuid.UUID]) -> dict[str, Any]:  # type: ignore[type-arg]
    access.require(principal, "view_data")
    row = await submissions.get_for(db_of(request), principal, instance_id)
    return {**row, "id": str(row["id"]), "received_at": row["received_at"].isoformat()}


@get("/api/v1/submissions")
async def sent_list(request: Request, principal: SignedIn) -> list[SentItem]:  # type: ignore[type-arg]
    """What the server holds from me, newest first: the phone compares it with its outbox."""
    items = await submissions.sent_by(db_of(request), principal)
    return [SentItem(instance_id=i.instance_id, form_id=i.form_id, form_version=i.form_version, revision=i.revision,
                     review_status=i.review_status, received_at=i.received_at) for i in items]


async def _read_limited(request: Request, limit: int) -> bytes:  # type: ignore[type-arg]
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PantauError("attachment.too_large", size=int(declared), limit=limit)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PantauError("attachment.too_large", size=f">{limit}", limit=limit)
        chunks.append(chunk)
    return b"".join(chunks)


@post("/api/v1/attachments", status_code=201, guards=[signed_in])
async def upload_attachment(request: Request, principal: SignedIn) -> AttachmentOut:  # type: ignore[type-arg]
    """One photo per request, keyed by its sha256: uploading the same photo again is harmless."""
    access.require(principal, "fill")
    settings = settings_of(request)
    data = await _read_limited(request, settings.max_attachment_bytes)
    kind = attachments.sniff_image(data)
    if kind is None:
        raise PantauError("attachment.not_image")
    digest = await attachments.save(db_of(request), settings.data_dir, data, kind, principal.id)
    return AttachmentOut(sha256=digest, size=len(data), content_type=kind)


@get("/api/v1/attachments/{sha256:str}")
async def download_attachment(request: Request, principal: SignedIn, sha256: FromPath[str]) -> Response[bytes]:  # type: ignore[type-arg]
    if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
        raise PantauError("http.not_found")
    kind = await attachments.visible_to(db_of(request), principal, sha256)
    if kind is None:
        raise PantauError("http.not_found")
    path = attachments.path_of(settings_of(request).data_dir, sha256)
    return Response(path.read_bytes(), media_type=kind, headers={"Cache-Control": "private, max-age=86400"})
