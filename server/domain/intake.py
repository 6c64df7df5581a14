"""The submission rules (STYLE.md 5): the phone makes the instance id when the form opens, so the
server can tell a retry from a new record. Same id and same content: the earlier receipt. Same id,
other content: a conflict, unless the client says which revision it edited (an edit makes the
next revision). The rule lives here, not in a handler or in SQL."""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import msgspec

Decision = Literal["new", "identical", "edit", "conflict", "stale"]


class Existing(msgspec.Struct, frozen=True):
    content_hash: str
    revision: int
    form_id: str
    enumerator_id: int | None


# An empty hash to copy: hashlib.sha256() looks the algorithm up in OpenSSL by name on every call.
_SHA256 = hashlib.sha256()


def content_hash(form_id: str, version: str, answers: dict[str, Any]) -> str:
    """A hash of what was answered on which form version; key order and spacing do not matter."""
    canonical = msgspec.json.encode({"f": form_id, "v": version, "a": answers}, order="sorted")
    digest = _SHA256.copy()
    digest.update(canonical)
    return digest.hexdigest()


def decide(existing: Existing | None, incoming_hash: str, base_revision: int | None) -> Decision:
    if existing is None:
        return "new"
    if existing.content_hash == incoming_hash:
        return "identical"
    if base_revision is None:
        return "conflict"
    if base_revision != existing.revision:
        return "stale"  # edited elsewhere meanwhile: the client must look at the newer revision first
    return "edit"


def area_of(region_answers: list[str], home_areas: tuple[str, ...]) -> str:
    """The area a record belongs to: the most specific region answered in it (a desa code beats its
    kecamatan), else the enumerator's first area, else the whole kabupaten ("")."""
    answered = [code for code in region_answers if isinstance(code, str) and code]
    if answered:
        return max(answered, key=lambda code: code.count("."))
    return home_areas[0] if home_areas else ""
