"""Personal API tokens for scripts: a person makes one, sees it once, and can revoke it. The database
keeps only the token's sha256 (a copy of the database cannot be replayed) and a short prefix to tell
tokens apart. A token acts as its owner, with the owner's current role and areas, and web/auth.py
accepts it only for reading (GET) the JSON API."""

from __future__ import annotations

import secrets

import msgspec

from server.domain.access import Principal
from server.storage import personal_keys
from server.storage.db import Database
from server.storage.personal_keys import MAX_NAME, PersonalKey

__all__ = ["MAX_NAME", "PREFIX", "Resolved", "Token", "create", "list_for", "resolve", "revoke"]

PREFIX = "pantau_"
KIND = personal_keys.Kind(table="api_token", hash_column="token_hash", errors="token")
Token = PersonalKey


class Resolved(msgspec.Struct, frozen=True):
    """What web/auth.py keeps for a request made with a token (a session has a token_hash; this has none)."""

    principal: Principal
    token_hash: str | None = None


async def create(db: Database, principal: Principal, name: str) -> tuple[Token, str]:
    """The new token and its secret, which is shown once and never stored."""
    personal_keys.clean_name(KIND, name)
    secret = PREFIX + secrets.token_urlsafe(32)
    return await personal_keys.create(db, KIND, principal, name, secret, secret[: len(PREFIX) + 6]), secret


async def list_for(db: Database, principal: Principal) -> list[Token]:
    return await personal_keys.list_for(db, KIND, principal)


async def revoke(db: Database, principal: Principal, token: Token) -> None:
    """`token` as storage/access.token_for loaded it: one of this person's own."""
    await personal_keys.revoke(db, KIND, principal, token)


async def resolve(db: Database, token: str) -> Resolved | None:
    """The token's owner as a Principal, or None (unknown, revoked, or the owner deactivated)."""
    if not token.startswith(PREFIX) or len(token) > 100:
        return None
    found = await personal_keys.owner(db, KIND, token)
    return Resolved(found) if found is not None else None
