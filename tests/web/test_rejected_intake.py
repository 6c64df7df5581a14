"""A rejected intake makes no active beneficiary: Siti registered twice (the form flags a second NIK),
ani rejects the second intake as "Data ganda", and that record leaves the registry list, the search,
the phone's copy and the duplicate flags; reopening the intake brings it back as it was."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine

from tests.web.conftest import post_form
from tests.web.test_registry import FLAG_FORM, NOW, SITI_NIK, fetch, flagged_intake, publish_source


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


def decide(persona: Any, instance_id: str, status: str, comment: str = "") -> None:
    response = post_form(persona, f"/data/{instance_id}/tinjau", {"status": status, "comment": comment,
                                                                   "revision": "1"})
    assert response.status_code == 303, response.text


def seen(persona: Any) -> dict[str, Any]:
    """What each place shows of the registry: the list page, the search, the phone's copy."""
    phone = persona.get("/api/v1/penerima").json()
    return {
        "list": persona.get("/penerima").text,
        "search": [row[0] for row in persona.get("/api/v1/penerima/cari?q=siti").json()["rows"]],
        "phone": [row[0] for row in phone["rows"]],
        "removed": [tuple(pair) for pair in phone["removed"]],
    }


def test_a_rejected_duplicate_intake_leaves_the_registry_and_reopening_restores_it(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish_source(settings, FLAG_FORM, "daftar_uji.yaml")
    citra, ani = as_("citra"), as_("ani")
    first, second = flagged_intake(citra, "Siti", SITI_NIK), flagged_intake(citra, "Siti Ganda", SITI_NIK)
    before = seen(citra)
    assert "Siti Ganda" in before["list"] and set(before["search"]) == {first, second} == set(before["phone"])

    decide(ani, second, "rejected", "Data ganda")
    after = seen(citra)
    assert "Siti Ganda" not in after["list"] and after["search"] == [first] and after["phone"] == [first]
    assert after["removed"] == [(second, "")]  # the phone drops it; nothing replaces it
    assert as_("budi").get(f"/api/v1/penerima/{first}").json()["beneficiary"]["flags"] == []  # no duplicate left
    assert "NIK sama" not in ani.get("/penerima/duplikat").text
    statuses = {str(r["id"]): r["status"] for r in fetch(settings, "SELECT id, status FROM beneficiary")}
    assert statuses == {first: "active", second: "rejected"}

    decide(ani, second, "received")  # reopened: the reviewer takes the rejection back
    again = seen(citra)
    assert "Siti Ganda" in again["list"] and set(again["search"]) == {first, second} == set(again["phone"])
    for one in (first, second):
        assert citra.get(f"/api/v1/penerima/{one}").json()["beneficiary"]["flags"] == ["nik_ganda"]
    assert "NIK sama" in ani.get("/penerima/duplikat").text
