"""Masked NIK and No. KK keep the province only (domain/nik.mask), no longer the region of issue
and the last two digits: the registry's masks and the masks inside stored answers (current and
earlier revisions) are narrowed in place, so no copy of the wider mask stays in the database.
The rule is written out here, not imported: a migration must mean the same thing forever."""

from __future__ import annotations

import re
from typing import Any

import msgspec

STATEMENTS = [
    "UPDATE beneficiary SET nik_masked = SUBSTR(nik_masked, 1, 2) || '**************' WHERE LENGTH(nik_masked) = 16",
    "UPDATE beneficiary SET kk_masked = SUBSTR(kk_masked, 1, 2) || '**************' WHERE LENGTH(kk_masked) = 16",
]
_WIDE = re.compile(r"[0-9]{6}\*{8}[0-9]{2}\Z")


def _narrow(value: Any) -> Any:
    if isinstance(value, str) and _WIDE.match(value):
        return value[:2] + "*" * 14
    if isinstance(value, dict):
        return {key: _narrow(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_narrow(item) for item in value]
    return value


async def rewrite(db: Any) -> None:
    """Only submissions with a sealed NIK/KK answer can hold a mask (storage/pii.seal_answers)."""
    for table, owner in (("submission", "id"), ("submission_revision", "submission")):
        held = f"{owner} IN (SELECT submission FROM sealed_answer)"
        rows = await db.fetch(f"SELECT id, answers FROM {table} WHERE {held}")
        for row in rows:
            raw = row["answers"]
            answers = msgspec.json.decode(raw) if isinstance(raw, str | bytes) else raw
            narrowed = _narrow(answers)
            if narrowed != answers:
                await db.fetch(f"UPDATE {table} SET answers = {{}} WHERE id = {{}}",
                               msgspec.json.encode(narrowed).decode(), row["id"])
