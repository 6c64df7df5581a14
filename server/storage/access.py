"""Authorise by loading (STYLE.md 7): `load_<thing>_for(principal, id, need)` returns the thing or
raises. A record outside the principal's areas does not exist for them (404, not 403), so ids
cannot be probed; a role without the need gets 403."""

from __future__ import annotations

from server.domain.access import Principal, has, may
from server.errors import PantauError
from server.storage import users
from server.storage.db import Database
from server.storage.users import Account


def require(principal: Principal, need: str) -> None:
    if not has(principal, need):
        raise PantauError("http.forbidden")


async def load_user_for(db: Database, principal: Principal, user_id: int, need: str = "manage_users") -> Account:
    require(principal, need)
    account = await users.get_by_id(db, user_id)
    if account is None:
        raise PantauError("http.not_found")
    return account


def require_area(principal: Principal, need: str, area_code: str) -> None:
    """For records that carry an area: outside one's areas the record does not exist."""
    require(principal, need)
    if not may(principal, need, area_code):
        raise PantauError("http.not_found")
