"""Staff import of an outbox file: a phone that cannot reach the server saves its
outbox to a file; staff upload it. Each photo, recording or file is stored by its hash and each item goes through the
one submission path (web/submitting.accept) as the enumerator who filled it, so a second import of
the same file, or of items that synced meanwhile, creates nothing twice."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

from server.domain import media
from server.domain.access import Principal
from server.errors import PantauError, too_large
from server.storage import attachments, audit, users
from server.web.auth import client_address
from server.web.deps import db_of, settings_of
from server.web.http import Request
from server.web.offline_context import ImportContext, ImportRow, OutboxFile
from server.web.schemas import SubmissionIn
from server.web.submitting import Invalid, accept


async def import_outbox(
    request: Request,
    staff: Principal,
    parsed: tuple[OutboxFile, dict[str, bytes]],
) -> ImportContext:
    outbox, photos = parsed
    db, settings = db_of(request), settings_of(request)
    account = await users.get(db, outbox.user)
    if account is None or not account.active:
        raise PantauError("outbox.unknown_user", user=outbox.user)
    filler = Principal(account.id, account.username, account.display_name, account.role, account.areas)
    for data in photos.values():
        if attachments.sniff_image(data) is None:
            if len(data) > settings.max_file_bytes:
                raise too_large(settings.max_file_bytes, "attachment.file_too_large")
        elif len(data) > settings.max_attachment_bytes:
            raise too_large(settings.max_attachment_bytes)
    for data in photos.values():
        if (kind := attachments.sniff_image(data)) is not None:
            await attachments.save(db, settings.data_dir, io.BytesIO(data), kind, filler.id)
        else:  # a recording or file of an audio, video or file question: its bytes say which
            await attachments.save_stream(db, settings.data_dir, _one_piece(data), _kind_of(data), filler.id,
                                          settings.max_file_bytes)
    rows = [await _one(request, filler, item) for item in outbox.items]
    result = ImportContext(user=account.username, rows=rows, photos=len(photos))
    await audit.record(
        db,
        staff,
        "outbox.import",
        target_type="user",
        target_id=account.username,
        detail=f"{len(rows)} items, {result.created} stored",
        address=client_address(request),
    )
    return result


def _kind_of(data: bytes) -> str:
    """The file does not say which question holds it: a video container first (an M4A is sound
    only), then sound, else any file; the submission then checks it against its question."""
    return next((kind for kind in ("video", "audio") if media.sniff(data[:media.HEAD], kind)), "file")


async def _one_piece(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _one(request: Request, filler: Principal, item: SubmissionIn) -> ImportRow:
    row = {"instance_id": str(item.instance_id), "form_id": item.form_id}
    try:
        receipt, _ = await accept(
            request, filler, item.form_id, item.form_version, item.instance_id, item.answers, item.base_revision
        )
    except Invalid as invalid:
        first = invalid.problems[0] if invalid.problems else None
        return ImportRow(**row, outcome="submission.invalid", message=f"{first.path}: {first.message}" if first else "")
    except PantauError as error:
        if not 400 <= error.status < 500:
            raise
        return ImportRow(**row, outcome=error.code, message=error.message("id"))
    return ImportRow(**row, outcome=receipt.outcome)
