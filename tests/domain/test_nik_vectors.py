"""The NIK and No. KK cases in tests/nik_vectors.json through the server's checks; tests/js/nik.test.js
runs the same cases through the fill page's (static/js/nik.js), so the two cannot drift apart."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from server.domain.nik import check_kk, check_nik

DATA = json.loads((Path(__file__).resolve().parents[1] / "nik_vectors.json").read_text(encoding="utf-8"))
REGISTERED = dt.date.fromisoformat(DATA["registered"])
PHONE_CODES = set(DATA["phone_codes"])


def _check(vector: dict[str, Any]) -> Any:
    if vector["kind"] == "no_kk":
        return check_kk(vector["value"], registered=REGISTERED)
    birth = vector.get("birth_date")
    return check_nik(vector["value"], registered=REGISTERED, sex=vector.get("sex"),
                     birth_date=dt.date.fromisoformat(birth) if birth else None)


def _name(vector: dict[str, Any]) -> str:
    return f"{vector['kind']}:{vector['value']}:{vector.get('sex')}:{vector.get('birth_date')}"


@pytest.mark.parametrize("vector", DATA["vectors"], ids=_name)
def test_the_server_finds_what_the_vector_says(vector: dict[str, Any]) -> None:
    result = _check(vector)
    findings = [*result.errors, *result.warnings]
    assert [f.code for f in findings] == vector["server"]
    params = {f.code: f.params for f in findings if f.code in PHONE_CODES}
    assert params == {code: vector.get("params", {}).get(code, {}) for code in params}
    if vector["kind"] == "nik" and "why" not in vector:
        decoded = [result.sex, result.birth_date.isoformat()] if result.birth_date else None
        assert decoded == vector["decoded"]


def test_the_page_shows_the_servers_codes_it_knows_unless_a_vector_says_why_not() -> None:
    differ = [v for v in DATA["vectors"] if v["phone"] != [c for c in v["server"] if c in PHONE_CODES]]
    assert all("why" in v for v in differ), [v["value"] for v in differ if "why" not in v]
    assert all(v in differ for v in DATA["vectors"] if "why" in v)  # a stale "why" is removed
    assert {c for v in DATA["vectors"] for c in v["phone"]} == PHONE_CODES  # every code the page knows is exercised
