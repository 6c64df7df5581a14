"""What a phone may cache to fill forms offline: the published forms and the versions an
enumerator may still be filling: the newest of each form, and older ones published recently enough
that a draft begun on them may still be open on a phone."""

from __future__ import annotations

import datetime as dt

import msgspec

from server import clock
from server.storage.db import Database
from server.storage.sql import aware

# A draft begun on an older version stays fillable offline this long after the newer one appears.
OLDER_VERSIONS_DAYS = 30


class OfflineVersion(msgspec.Struct, frozen=True):
    form_id: str
    title_id: str
    title_en: str
    version: str
    newest: bool


async def published_versions(db: Database) -> list[OfflineVersion]:
    rows = await db.fetch(
        "SELECT f.form_id AS form_id, f.title_id AS title_id, f.title_en AS title_en, v.version AS version, "
        "v.published_at AS published_at FROM form f JOIN form_version v ON v.form = f.id "
        "WHERE f.status = 'published' ORDER BY f.form_id, v.id DESC"
    )
    since = clock.now() - dt.timedelta(days=OLDER_VERSIONS_DAYS)
    out: list[OfflineVersion] = []
    for row in rows:
        newest = not out or out[-1].form_id != row["form_id"]
        if newest or aware(row["published_at"]) >= since:
            out.append(OfflineVersion(row["form_id"], row["title_id"], row["title_en"], row["version"], newest))
    return out
