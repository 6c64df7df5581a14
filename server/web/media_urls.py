"""The URLs of a form's uploaded media files (storage/form_media.py), as the fill page and the
offline manifest name them: /f/<form>/media/<sha256>/<name>. The sha256 keys the URL to the bytes,
so the file is cached for good and a new upload is a new URL."""

from __future__ import annotations

from urllib.parse import quote

from server.storage import form_media
from server.storage.db import Database


def media_url(form_id: str, sha256: str, name: str) -> str:
    return f"/f/{form_id}/media/{sha256}/{quote(name, safe='')}"


async def media_urls(db: Database, form_id: str) -> dict[str, str]:
    """Uploaded file name -> its URL; {} for a form without media (one indexed read)."""
    found = await form_media.listed(db, form_id)
    return {name: media_url(form_id, entry.sha256, name) for name, entry in found.items()}
