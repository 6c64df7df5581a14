"""A rank question over HTTP: the JSON API stores the order, refuses an answer that is not a
permutation of the offered choices with a clear Indonesian 422 and stores nothing, and the record's
page shows the labels in the enumerator's order."""

from __future__ import annotations

import uuid
from typing import Any

from server.settings import Settings
from tests.domain.test_rank import RANKED
from tests.web.conftest import csrf_of
from tests.web.test_review import publish, query


def send(persona: Any, answers: dict[str, Any]) -> Any:
    payload = {"instance_id": str(uuid.uuid4()), "form_id": "prioritas", "form_version": "1", "answers": answers}
    return persona.post("/api/v1/submissions", json=payload, headers={"x-csrftoken": csrf_of(persona)})


def test_a_rank_is_stored_in_order_refused_when_incomplete_and_shown_as_ordered_labels(
        as_: Any, settings: Settings) -> None:
    publish(settings, RANKED.encode(), "prioritas.yaml")
    citra = as_("citra")
    bad = send(citra, {"urutan": ["air", "jalan"], "jenis": "barang", "bantuan_urut": ["sembako"]})
    assert bad.status_code == 422
    assert "Urutkan semua pilihan" in bad.text and "listrik" in bad.text
    assert query(settings, "SELECT count(*) AS n FROM submission WHERE form_id = 'prioritas'")[0]["n"] == 0
    good = send(citra, {"urutan": "jalan air listrik", "jenis": "barang", "bantuan_urut": ["sembako"]})
    assert good.status_code == 201, good.text
    page = as_("budi").get(f"/data/{good.json()['instance_id']}?lang=en")
    assert page.status_code == 200
    assert "Rank the needs</dt><dd>Road; Clean water; Electricity" in page.text
