"""The routes bench/submit_load.py and bench/submit_cost.py measure against: present only with
PANTAU_BENCH_ROUTES=true, each doing its stage of the submission path and storing nothing."""

from __future__ import annotations

from collections.abc import Iterator

import msgspec
import pytest
from litestar.testing import TestClient

from server.settings import Settings
from server.web.app import create_app
from tests.web.conftest import Persona, csrf_of, sign_in
from tests.web.test_api_submissions import body, publish
from tests.web.test_registry import fetch

STAGES = ("/api/v1/bench/noop", "/api/v1/bench/signed_in", "/api/v1/bench/validated")


@pytest.fixture
def bench_client(settings: Settings, people: dict[str, int]) -> Iterator[TestClient]:  # type: ignore[type-arg]
    with TestClient(app=create_app(msgspec.structs.replace(settings, bench_routes=True)),
                    raise_server_exceptions=False) as client:
        yield client


def post(persona: Persona, path: str, payload: dict[str, object]):  # type: ignore[no-untyped-def]
    return persona.post(path, json=payload, headers={"x-csrftoken": csrf_of(persona)})  # type: ignore[arg-type]


def test_without_the_setting_there_are_no_bench_routes(as_, settings) -> None:  # type: ignore[no-untyped-def]
    publish(settings)
    citra = as_("citra")
    for path in STAGES:
        assert post(citra, path, body()).status_code == 404, path


def test_each_stage_answers_like_submit_and_stores_nothing(bench_client, settings) -> None:  # type: ignore[no-untyped-def]
    publish(settings)
    anonymous, citra = Persona(bench_client), Persona(bench_client)
    assert sign_in(citra, "citra").status_code == 302  # type: ignore[arg-type]
    payload = body()
    # the no-op only decodes; the stages of the submission path ask for a session, as submit does
    assert post(anonymous, STAGES[0], payload).json() == {"instance_id": payload["instance_id"], "outcome": "noop"}
    for path in STAGES[1:]:
        assert post(anonymous, path, payload).status_code == 401, path
        answer = post(citra, path, payload)
        assert answer.status_code == 201, answer.text
        assert answer.json()["instance_id"] == payload["instance_id"] and answer.json()["outcome"] == "bench"
    # only the validated stage looks at the answers: an age of 200 breaks the form's constraint
    wrong = body(umur=200)
    assert post(citra, STAGES[1], wrong).status_code == 201
    refused = post(citra, STAGES[2], wrong)
    assert refused.status_code == 422 and refused.json()["code"] == "submission.invalid"
    assert [e["path"] for e in refused.json()["errors"]] == ["umur"]
    assert post(citra, STAGES[2], {**payload, "form_id": "tidak_ada"}).status_code == 404
    assert fetch(settings, "SELECT COUNT(*) AS n FROM submission")[0]["n"] == 0
