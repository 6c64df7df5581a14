"""bench/backup.grow copies submissions under new ids with their sealed NIK/KK answers, which live in
the submission row since m0025 (the copy named its columns by position and a sealed_answer table)."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from pathlib import Path

from bench.backup import grow
from server.storage import migrate, pii
from server.storage.db import Database

HELD = pii.held([pii.SealedAnswer(path="nik", kind="nik", index="", sealed="sealed-nik")])


async def test_grow_copies_submissions_with_their_sealed_answers(tmp_path: Path) -> None:
    path = tmp_path / "pantau.sqlite3"
    db = Database(f"sqlite:///{path}")
    await db.open()
    try:
        await migrate.migrate(db)
        now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        form = await db.fetch("INSERT INTO form (form_id, created_at) VALUES ('reg', {}) RETURNING id", now)
        version = await db.fetch("INSERT INTO form_version (form, version, content_hash, compiled, source, "
                                 "published_at) VALUES ({}, '1', 'h', {}, '', {}) RETURNING id", form[0]["id"], "{}",
                                 now)
        await db.fetch("INSERT INTO submission (id, form_version, form_id, area_code, content_hash, answers, sealed, "
                       "received_at) VALUES ({}, {}, 'reg', '64.02.06.2001', 'c', '{{}}', {}, {})", uuid.uuid4(),
                       version[0]["id"], HELD, now)
    finally:
        await db.close()

    grow(path, 1)

    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT COUNT(*), COUNT(DISTINCT id), MIN(sealed), MAX(sealed) FROM submission").fetchone()
    assert rows[0] > 1 and rows[1] == rows[0] and rows[2] == rows[3] == HELD
