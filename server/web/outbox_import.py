"""Staff import of an outbox file: a phone that cannot reach the server saves its
outbox to a file; staff upload it. Each photo, recording or file is stored by its hash and each item goes through the
one submission path (web/submitting.accept) as the enumerator who filled it, so a second import of
the same file, or of items that synced meanwhile, creates nothing twice."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from typing import BinaryIO, cast

from server.domain import media
from server.domain.access import Principal
from server.errors import PantauError
from server.settings import Settings
from server.storage import attachments, audit, users
from server.storage.db import Database
from server.web import outbox_stream
from server.web.auth import client_address
from server.web.deps import db_of, settings_of
from server.web.http import Request
from server.web.offline_context import ImportContext, ImportRow, OutboxLimits, OutboxPhoto, check_outbox
from server.web.schemas import SubmissionIn
from server.web.submitting import Invalid, accept

_SPOOL = 1 << 20  # a photo to clean is held in memory up to this, then on disk (as the API's upload)


async def import_outbox(request: Request, staff: Principal, source: BinaryIO, text_limit: int) -> ImportContext:
    """The file (seekable: the upload as litestar spooled it) is read twice, a chunk at a time: once
    to check all of it (nothing is stored from a bad file), once to store each photo, recording or
    file as its bytes are decoded. No photo is ever whole in memory."""
    db, settings = db_of(request), settings_of(request)
    limits = OutboxLimits(image=settings.max_attachment_bytes, file=settings.max_file_bytes, text=text_limit)
    source.seek(0)
    outbox, photos = await asyncio.to_thread(check_outbox, source, limits)  # CPU: base64 and sha256
    account = await users.get(db, outbox.user)
    if account is None or not account.active:
        raise PantauError("outbox.unknown_user", user=outbox.user)
    filler = Principal(account.id, account.username, account.display_name, account.role, account.areas)
    source.seek(0)
    await _store(db, settings, source, photos, filler.id, text_limit)
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


async def _store(db: Database, settings: Settings, source: BinaryIO, photos: dict[str, OutboxPhoto], uploader: int,
                 text_limit: int) -> None:
    """Each photo through the path the API's upload takes: an image spooled and cleaned
    (attachments.save), a recording or file streamed as sent (attachments.save_stream)."""
    stream = outbox_stream.events(source, text_limit)
    done: set[str] = set()
    for event in stream:
        if not isinstance(event, outbox_stream.PhotoStart) or event.sha256 in done:
            continue  # the fields (checked already) and a second copy of a photo under the same hash
        photo = photos[event.sha256]
        pieces = _decoded(stream, event.sha256)
        if photo.image is not None:
            with tempfile.SpooledTemporaryFile(max_size=_SPOOL) as spool:
                for piece in pieces:
                    spool.write(piece)
                digest = await attachments.save(db, settings.data_dir, cast(BinaryIO, spool), photo.image, uploader)
        else:  # a recording or file of an audio, video or file question: its bytes say which
            saved = await attachments.save_stream(db, settings.data_dir, _async(pieces), _kind_of(photo.head),
                                                  uploader, settings.max_file_bytes)
            digest = saved.sha256
        if digest != photo.sha256:  # the file changed between the two readings
            raise PantauError("outbox.bad_file", detail=f"photos.{photo.sha256[:12]}: sha256")
        done.add(digest)


def _decoded(stream: Iterator[outbox_stream.Event], sha256: str) -> Iterator[bytes]:
    """The photo's bytes a piece at a time, up to its end in the stream."""
    decoder = outbox_stream.Base64(sha256)
    for event in stream:
        if isinstance(event, outbox_stream.PhotoEnd):
            if tail := decoder.end():
                yield tail
            return
        if isinstance(event, outbox_stream.PhotoPiece) and (data := decoder.feed(event.data)):
            yield data


async def _async(pieces: Iterator[bytes]) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def _kind_of(head: bytes) -> str:
    """The file does not say which question holds it: a video container first (an M4A is sound
    only), then sound, else any file; the submission then checks it against its question."""
    return next((kind for kind in ("video", "audio") if media.sniff(head, kind)), "file")


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
