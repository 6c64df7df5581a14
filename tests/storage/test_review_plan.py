"""The submissions list stays a keyset walk at 100,000 rows: on SQLite every common filter is answered
from an index in list order, never by sorting all matching rows (bench numbers in bench/README.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain import review as rules
from server.domain.access import Principal
from server.storage import review
from server.storage.db import Database
from tests.conftest import ON_POSTGRES

STAFF = Principal(1, "ani", "Ani", "staff")
BUDI = Principal(2, "budi", "Budi", "coordinator", ("64.02.06",))
AFTER = (dt.datetime(2026, 3, 1, tzinfo=dt.UTC), "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11")


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite's EXPLAIN QUERY PLAN")
@pytest.mark.parametrize(("who", "params"), [
    (STAFF, {}), (BUDI, {}), (STAFF, {"form": ["uji"]}), (STAFF, {"status": ["received"]}),
    (STAFF, {"form": ["uji"], "status": ["approved"]}), (STAFF, {"enumerator": ["citra"]}),
    (BUDI, {"since": ["2026-01-01"], "until": ["2026-01-31"]}),
])
async def test_list_pages_walk_an_index_in_order(db: Database, who: Principal, params: dict[str, list[str]]) -> None:
    for after in (None, AFTER):
        clause, args = review.where(who, rules.parse_filters(params), after)
        sql = review._LIST.format(answers="", where=clause, limit=51).replace("{}", "?")
        plan = " | ".join(r["detail"] for r in await db.fetch("EXPLAIN QUERY PLAN " + sql, *args))
        assert "TEMP B-TREE FOR ORDER BY" not in plan, plan
        assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
