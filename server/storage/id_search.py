"""Searching the registry by a whole NIK or No. KK. Such a search confirms a guessed number, so it
is a reveal in all but name: only the roles that may reveal may ask, the answer is "found in your
areas" or "not found" and nothing more, every search is in the audit log (nik.search), and each
user gets SEARCHES_PER_MINUTE of them. The limit is counted from the audit log itself, in the
database, so it holds across worker processes."""

from __future__ import annotations

import datetime as dt

from server.domain.access import Principal
from server.domain.nik import clean_digits
from server.errors import PantauError
from server.storage import access, audit, pii
from server.storage.db import Database
from server.storage.registry_read import area_clause

SEARCHES_PER_MINUTE = 20
WINDOW = dt.timedelta(minutes=1)


async def found(db: Database, principal: Principal, digits: str, keys: pii.Keys, now: dt.datetime,
                address: str = "") -> bool:
    """Is an active beneficiary of one's areas on this NIK or KK? The attempt is written before it
    is counted, so concurrent searches of one user cannot all slip under the limit: the search
    committed as the (limit+1)-th within the window sees at least limit+1 rows and is refused."""
    access.require(principal, "reveal_nik")
    where, args = area_clause(principal)
    rows = await db.fetch(f"SELECT id, area_code FROM beneficiary b WHERE (b.nik_index = {{}} OR b.kk_index = {{}}) "
                          f"AND b.status = 'active' AND {where} LIMIT 1",
                          pii.blind_index(keys, "nik", digits), pii.blind_index(keys, "kk", digits), *args)
    hit = rows[0] if rows else None
    await audit.record(db, principal, "nik.search", target_type="beneficiary" if hit else "",
                       target_id=str(hit["id"]) if hit else "", area_code=str(hit["area_code"]) if hit else "",
                       detail="ditemukan" if hit else "tidak ditemukan", address=address)
    # the action as a literal: it is the predicate of the partial index this uses (audit_log_nik_search)
    recent = await db.fetch("SELECT COUNT(*) AS n FROM audit_log WHERE actor_id = {} AND at > {} "
                            "AND action = 'nik.search'", principal.id, now - WINDOW)
    if int(recent[0]["n"]) > SEARCHES_PER_MINUTE:
        raise PantauError("registry.id_search_limited", limit=SEARCHES_PER_MINUTE)
    return hit is not None


def is_whole_id(query: str) -> str | None:
    """The 16 digits of a query that is a whole NIK or No. KK (spaces, dots, dashes allowed)."""
    digits = clean_digits(query.strip())
    return digits if len(digits) == 16 and digits.isdigit() else None
