"""The reviewer's way through a queue: the record that follows one in its list (the same filters,
newest first, as storage/review.page orders them), so a decision opens the next record instead of
the list. Past the oldest it starts again from the newest: records that arrived meanwhile, or that
the reviewer skipped above, are not left behind."""

from __future__ import annotations

import datetime as dt
import uuid

from server.domain import review as rules
from server.domain.access import Principal
from server.storage.db import Database
from server.storage.review import where

_NEXT = "SELECT s.id AS id FROM submission s WHERE {where} ORDER BY s.received_at DESC, s.id DESC LIMIT 1"


async def next_after(db: Database, principal: Principal, filters: rules.Filters, received_at: dt.datetime,
                     instance_id: str) -> str | None:
    clause, args = where(principal, filters, (received_at, instance_id))
    found = await db.fetch(_NEXT.format(where=clause), *args)
    if not found:
        clause, args = where(principal, filters)
        found = await db.fetch(_NEXT.format(where=f"{clause} AND s.id <> {{}}"), *args, uuid.UUID(instance_id))
    return str(found[0]["id"]) if found else None
