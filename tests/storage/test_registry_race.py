"""Two Pantau processes registering one NIK at the same moment: each process has its own
writer, so the two intakes run in two open transactions. The second must wait for the first and
then update that person or flag both, as the programme's same_nik says, never make a second
unflagged record. Run on PostgreSQL with PANTAU_TEST_DATABASE_URL (on SQLite one writer at a time
holds the database, so the test passes there by construction)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from typing import Any

import pytest

from server.domain import intake
from server.domain.access import Principal
from server.domain.answers import validate
from server.domain.compile import compile_source
from server.settings import Settings
from server.storage import forms, pii, registry, submissions, users
from server.storage.db import Database
from server.storage.write_tx import Tx
from server.storage.writer import Writer

NOW = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)
HOLD_S = 0.8  # how long the first transaction stays open after its intake (a large batch does so)
FORM = """
settings:
  id: daftar_balapan
  version: "1"
  title: {id: Daftar, en: Intake}
  registry:
    programme: uji
    creates: {nik: nik, kk: no_kk, name: nama, area: desa}
    same_nik: SAME
choices:
  kecamatan: {wilayah: kecamatan 64.02}
  desa: {wilayah: desa 64.02}
fields:
  - {type: nik, name: nik, label: NIK, required: yes}
  - {type: no_kk, name: no_kk, label: KK, required: yes, parameters: {nik: nik}}
  - {type: text, name: nama, label: Nama, required: yes}
  - {type: select_one kecamatan, name: kecamatan, label: Kecamatan, required: yes}
  - {type: select_one desa, name: desa, label: Desa, required: yes, choice_filter: "parent = ${kecamatan}"}
"""


async def _incoming(db: Database, settings: Settings, same_nik: str, name: str) -> submissions.Incoming:
    result = compile_source(FORM.replace("SAME", same_nik).encode(), "daftar_balapan.yaml")
    assert result.compiled is not None, result.problems
    compiled = result.compiled
    published = await forms.publish(db, compiled, b"-", "daftar_balapan.yaml")
    answers = {"nik": "6402064101900001", "no_kk": "6402061203150007", "nama": name, "kecamatan": "64.02.06",
               "desa": "64.02.06.1001"}
    checked = validate(compiled, answers, today=NOW.date(), now=NOW)
    assert checked.ok, checked.errors
    prepared = registry.prepare(compiled, checked, settings, NOW.date())
    return submissions.Incoming(
        instance_id=uuid.uuid4(), form_id=compiled.form_id, form_version="1", form_version_pk=published.version_pk,
        answers=prepared.answers if prepared else answers, content_hash=intake.content_hash("f", "1", answers),
        area_code="64.02.06.1001", registry=prepared)


@pytest.mark.parametrize("same_nik", ["update", "flag"])
async def test_two_processes_registering_one_nik_at_once_never_make_two_unflagged_records(  # type: ignore[no-untyped-def]
        db, settings, same_nik) -> None:
    account = await users.create(db, "citra", "enumerator", "-", areas=("64.02.06",))
    citra = Principal(id=account.id, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))
    first, second = (await _incoming(db, settings, same_nik, "Siti"), await _incoming(db, settings, same_nik, "Siti A"))
    one, two = Writer(db), Writer(db)  # two processes: two writers, two connections, two transactions

    def slow(tx: Tx) -> Any:
        receipt = submissions._store(tx, first, citra, "-", NOW)
        time.sleep(HOLD_S)  # still uncommitted while the second intake arrives
        return receipt

    try:
        held = asyncio.create_task(one.run(slow))
        await asyncio.sleep(HOLD_S / 4)
        started = time.monotonic()
        await two.run(lambda tx: submissions._store(tx, second, citra, "-", NOW))
        waited = time.monotonic() - started
        await held
    finally:
        await one.stop()
        await two.stop()
    rows = await db.fetch("SELECT id, name, flags FROM beneficiary ORDER BY created_at, name")
    if same_nik == "update":  # one person, updated by the second intake
        assert [(r["name"], r["flags"]) for r in rows] == [("Siti A", "")]
        kinds = await db.fetch("SELECT kind FROM beneficiary_event ORDER BY recorded_at, kind")
        assert sorted(k["kind"] for k in kinds) == ["intake", "update"]
    else:  # two records, both flagged as sharing the NIK
        assert sorted(r["flags"] for r in rows) == ["nik_ganda", "nik_ganda"]
    assert waited >= HOLD_S / 2  # the second really waited for the first to commit


async def test_one_registration_resent_to_two_processes_at_once_is_stored_once(db, settings) -> None:  # type: ignore[no-untyped-def]
    """A phone's retry reaching another node while the first node's transaction is still open: the
    second INSERT (which also takes the identity locks) waits for the first commit, finds the
    instance id and answers "identical"; one submission, one person, one event, and one creation (the
    submission row's sender and address, the first node's; no audit_log row)."""
    account = await users.create(db, "citra", "enumerator", "-", areas=("64.02.06",))
    citra = Principal(id=account.id, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))
    item = await _incoming(db, settings, "update", "Siti")
    one, two = Writer(db), Writer(db)

    def slow(tx: Tx) -> Any:
        receipt = submissions._store(tx, item, citra, "10.0.0.1", NOW)
        time.sleep(HOLD_S)
        return receipt

    try:
        held = asyncio.create_task(one.run(slow))
        await asyncio.sleep(HOLD_S / 4)
        again = await two.run(lambda tx: submissions._store(tx, item, citra, "10.0.0.2", NOW))
        first = await held
    finally:
        await one.stop()
        await two.stop()
    assert (first.outcome, again.outcome) == ("new", "identical")
    for table, column in (("submission", "id"), ("beneficiary", "id"), ("beneficiary_event", "submission")):
        rows = await db.fetch(f"SELECT {column} AS x FROM {table}")
        assert [str(r["x"]) for r in rows] == [str(item.instance_id)], table
    assert not await db.fetch("SELECT submission FROM submission_name")  # its name is its person's
    sealed = await db.fetch("SELECT sealed FROM submission")
    assert [kind for kind, _value in pii.held_answers(str(sealed[0]["sealed"])).values()] == ["nik", "kk"]
    assert await db.fetch("SELECT id FROM audit_log") == []
    created = await db.fetch("SELECT enumerator, sent_from FROM submission")
    assert [(r["enumerator"], r["sent_from"]) for r in created] == [(account.id, "10.0.0.1")]


async def test_one_batch_sees_its_own_deferred_registrations(db, settings) -> None:  # type: ignore[no-untyped-def]
    """In one batch (one transaction) the rows of a new registration are deferred to one statement at
    the end; a second intake of the same NIK in the batch must still find the first person (its
    duplicate check writes them first), and the same instance id twice is stored once."""
    account = await users.create(db, "citra", "enumerator", "-", areas=("64.02.06",))
    citra = Principal(id=account.id, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))
    first, second = (await _incoming(db, settings, "flag", "Siti"), await _incoming(db, settings, "flag", "Siti A"))
    writer = Writer(db)

    def batch(tx: Tx) -> list[str]:
        outcomes = [submissions._store(tx, first, citra, "-", NOW).outcome]
        assert tx.pending_keys, "the first person's row waits for the batch's end, marked by NIK and KK"
        outcomes.append(submissions._store(tx, second, citra, "-", NOW).outcome)
        outcomes.append(submissions._store(tx, first, citra, "-", NOW).outcome)  # a resend in the same batch
        return outcomes

    try:
        await writer.run(lambda tx: None)  # started: the next item runs in a batch, deferring
        outcomes = await writer.run(batch)
    finally:
        await writer.stop()
    assert outcomes == ["new", "new", "identical"]
    rows = await db.fetch("SELECT id, flags FROM beneficiary ORDER BY created_at, name")
    assert sorted(r["flags"] for r in rows) == ["nik_ganda", "nik_ganda"]
    assert len(await db.fetch("SELECT id FROM submission")) == 2
