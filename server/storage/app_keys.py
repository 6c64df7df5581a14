"""Personal app keys for ODK Collect and KoboCollect, as ODK Central's app users: a person
makes one per device on the account page, and the app is set up with the server URL
https://<host>/key/<key>/ (a QR code), so no password is typed on the phone. The database keeps only
the key's sha256 and a short prefix to tell keys apart. A key acts as its owner, with the owner's
current role and areas, on the OpenRosa routes only (web/openrosa.py)."""

from __future__ import annotations

import re
import secrets

from server.domain.access import Principal
from server.storage import personal_keys
from server.storage.db import Database
from server.storage.personal_keys import MAX_NAME, PersonalKey

__all__ = ["KEY_RE", "MAX_NAME", "AppKey", "create", "list_for", "resolve", "revoke"]

KEY_BYTES = 36  # 48 URL-safe characters: 288 random bits
KEY_RE = re.compile(r"[A-Za-z0-9_-]{48}\Z")
PREFIX_LEN = 6
KIND = personal_keys.Kind(table="app_key", hash_column="key_hash", errors="app_key")
AppKey = PersonalKey


async def create(db: Database, principal: Principal, name: str) -> tuple[AppKey, str]:
    """The new key and its secret, which is shown once (as a QR code) and never stored."""
    personal_keys.clean_name(KIND, name)
    secret = secrets.token_urlsafe(KEY_BYTES)
    return await personal_keys.create(db, KIND, principal, name, secret, secret[:PREFIX_LEN]), secret


async def list_for(db: Database, principal: Principal) -> list[AppKey]:
    return await personal_keys.list_for(db, KIND, principal)


async def revoke(db: Database, principal: Principal, key: AppKey) -> None:
    """`key` as storage/access.app_key_for loaded it: one of this person's own."""
    await personal_keys.revoke(db, KIND, principal, key)


async def resolve(db: Database, key: str) -> Principal | None:
    """The key's owner, or None (malformed, unknown, revoked, or the owner deactivated)."""
    return await personal_keys.owner(db, KIND, key) if KEY_RE.match(key) else None
