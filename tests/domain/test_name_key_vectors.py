"""The phone folds names as the server does (static/js/dupcheck.js against domain/duplicates.py):
both read tests/name_key_vectors.json, which this test writes afresh when asked
(PANTAU_WRITE_VECTORS=1) and otherwise checks against the server's functions."""

from __future__ import annotations

import json
import os
from pathlib import Path

from server.domain import duplicates
from tests.synthetic_people import FEMALE, MALE, SECOND, TITLES, VARIANT

VECTORS = Path(__file__).resolve().parents[1] / "name_key_vectors.json"
ODD = ["Hj. Sitti Aminah", "IBU  siti   aminah", "Moh. Yusuf", "M. Yusuf", "Muhamad Yusuf", "Nur'aini", "Nur’aini",
       "Djoehana", "Juhana", "Tjipto", "Soekarno", "Sukarno", "Alm. Bapak H. Achmad", "Zaenab", "Zainab", "Çelik",
       "Dr. Ir. Budi, S.Pd", "Sitti Aisah", "Siti Aisyah", "H", "Hj.", "", "Khadijah", "Chairul", "Yusuf bin Ismail",
       "Abd. Rahman", "Abdul Rahman", "Wa Ode Nurhayati", "Andi Baso", "Nyoman", "Njoman", "Ee", "Muhammmad"]


def _vectors() -> list[list[str]]:
    names = [*ODD, *FEMALE, *MALE, *SECOND, *(f"{t} {n}" for t in TITLES for n in FEMALE[:5]), *VARIANT.values(),
             *(f"{t}. Aminah" for t in sorted(duplicates.TITLES)),
             *(f"{v} Aminah" for v in sorted(duplicates.VARIANTS))]
    return [[name, key, duplicates.sound_key(key)] for name in names for key in [duplicates.name_key(name)]]


def test_the_vectors_are_the_servers_keys() -> None:
    if os.environ.get("PANTAU_WRITE_VECTORS"):
        VECTORS.write_text(json.dumps(_vectors(), ensure_ascii=False) + "\n", encoding="utf-8")
    stored = json.loads(VECTORS.read_text(encoding="utf-8"))
    assert stored == _vectors()
    assert len(stored) > 250 and len({sound for _, _, sound in stored}) > 150
