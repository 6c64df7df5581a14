"""The photos of a filled form sent by ODK Collect over several requests, by file name, per sender and
instance (migration m0014). A part's photos are stored as they arrive (storage/attachments.save);
this keeps the names the instance XML uses for them until the last part lets the record be stored."""

from __future__ import annotations

import datetime as dt
import uuid

from server.storage.db import Database
from server.storage.write_tx import Tx
from server.storage.writer import Writer


async def remember(writer: Writer, instance_id: uuid.UUID, sender: int, files: dict[str, str],
                   now: dt.datetime) -> None:
    """files: file name -> sha256 of the photo stored for it; a name sent again points at its new bytes."""
    if not files:
        return

    def op(tx: Tx) -> None:
        for name, digest in sorted(files.items()):
            tx.execute(
                "INSERT INTO openrosa_part (instance_id, uploaded_by, file_name, sha256, received_at) "
                "VALUES ({}, {}, {}, {}, {}) ON CONFLICT (instance_id, uploaded_by, file_name) "
                "DO UPDATE SET sha256 = excluded.sha256, received_at = excluded.received_at",
                str(instance_id), sender, name, digest, now)

    await writer.run(op)


async def held(db: Database, instance_id: uuid.UUID, sender: int) -> dict[str, str]:
    rows = await db.fetch("SELECT file_name, sha256 FROM openrosa_part WHERE instance_id = {} AND uploaded_by = {}",
                          str(instance_id), sender)
    return {str(r["file_name"]): str(r["sha256"]) for r in rows}


async def forget(writer: Writer, instance_id: uuid.UUID, sender: int) -> None:
    def op(tx: Tx) -> None:
        tx.execute("DELETE FROM openrosa_part WHERE instance_id = {} AND uploaded_by = {}", str(instance_id), sender)

    await writer.run(op)
