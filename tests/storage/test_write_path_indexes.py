"""m0023 and m0024 on a database an older release made (migrated to m0022, with a registration's rows
in it): the indexes they drop are gone, the others kept, nothing stored is lost, the sealed NIK/KK
answers are still found by their submission (in its row since m0025), checked and re-keyed, and the
person's event is found by its submission, its key."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from server.domain.access import Principal
from server.settings import Settings
from server.storage import keyring, migrate, pii, registry_read, review
from server.storage.db import Database
from server.storage.writer import Writer

OLD = pii.keys_from("o" * 48)
NEW = pii.keys_from("n" * 48)
NIK, KK = "6402064101700001", "6402060101150001"
DESA = "64.02.06.2001"


async def _indexes(db: Database, table: str) -> dict[str, str]:
    """index name -> its columns, primary key included."""
    if db.kind == "postgres":
        rows = await db.fetch("SELECT indexname AS i, indexdef AS d FROM pg_indexes WHERE tablename = {}", table)
        return {str(r["i"]): str(r["d"]).split(" USING ")[1] for r in rows}
    rows = await db.fetch("SELECT name AS i, sql AS d FROM sqlite_master WHERE type = 'index' AND tbl_name = {} "
                          "AND sql IS NOT NULL", table)
    return {str(r["i"]): str(r["d"]).split(" ON ")[1] for r in rows}


async def _registration(db: Database) -> uuid.UUID:
    """What a registration stored before m0023: a submission, its two sealed answers, its person."""
    now = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)
    user = await db.fetch("INSERT INTO pantau_user (username, password_hash, role, created_at) "
                          "VALUES ('citra', 'x', 'enumerator', {}) RETURNING id", now)
    form = await db.fetch("INSERT INTO form (form_id, created_at) VALUES ('reg', {}) RETURNING id", now)
    version = await db.fetch("INSERT INTO form_version (form, version, content_hash, compiled, source, published_at) "
                             "VALUES ({}, '1', 'h', {}, '', {}) RETURNING id", form[0]["id"], "{}", now)
    sid = uuid.uuid4()
    await db.fetch("INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, answers, "
                   "received_at) VALUES ({}, {}, 'reg', {}, {}, 'c', {}, {})", sid, version[0]["id"],
                   user[0]["id"], DESA, msgspec.json.encode({"nik": "64" + "*" * 14}).decode(), now)
    for path, kind, digits in (("nik", "nik", NIK), ("no_kk", "kk", KK)):
        await db.fetch("INSERT INTO sealed_answer (submission, path, kind, blind_index, sealed) "
                       "VALUES ({}, {}, {}, {}, {})", sid, path, kind, pii.blind_index(OLD, kind, digits),
                       pii.seal(OLD, kind, digits))
    await db.fetch("INSERT INTO beneficiary (id, programme, nik_index, nik_sealed, nik_masked, kk_index, kk_sealed, "
                   "kk_masked, name, name_key, area_code, kecamatan, baseline, registered_on, created_at, updated_at) "
                   "VALUES ({}, 'bansos', {}, {}, '64**************', {}, {}, '64**************', 'Siti Aminah', "
                   "'siti aminah', {}, '64.02.06', {}, '2026-12-01', {}, {})", sid,
                   pii.blind_index(OLD, "nik", NIK), pii.seal(OLD, "nik", NIK), pii.blind_index(OLD, "kk", KK),
                   pii.seal(OLD, "kk", KK), DESA, "{}", now, now)
    await db.fetch("INSERT INTO beneficiary_event (beneficiary, submission, form_id, kind, happened_on, summary, "
                   "recorded_at) VALUES ({}, {}, 'reg', 'intake', '2026-12-01', {}, {})", sid, sid, "{}", now)
    return sid


async def test_m0023_upgrades_a_database_with_registrations(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    await db.open()
    try:
        await migrate.migrate(db, until="m0022_audit_action")
        assert (await migrate.pending(db))[:2] == ["m0023_write_path_indexes", "m0024_postgres_write_path"]
        assert "submission_form_status_received" in await _indexes(db, "submission")
        assert "beneficiary_area_name" in await _indexes(db, "beneficiary")
        sid = await _registration(db)

        assert await migrate.migrate(db, until="m0024_postgres_write_path") == [
            "m0023_write_path_indexes", "m0024_postgres_write_path"]  # m0025 moves sealed_answer (its own test)

        submission, beneficiary = await _indexes(db, "submission"), await _indexes(db, "beneficiary")
        assert "submission_form_status_received" not in submission and "beneficiary_area_name" not in beneficiary
        assert {"submission_form_received_id", "submission_status_received"} <= submission.keys()
        assert "beneficiary_kecamatan_name" in beneficiary and "beneficiary_updated" in beneficiary
        # PostgreSQL plans a kecamatan's change feed without its own index; SQLite keeps it (m0024)
        assert ("beneficiary_kecamatan_updated" in beneficiary) == (db.kind == "sqlite")
        sealed = await _indexes(db, "sealed_answer")
        if db.kind == "postgres":  # the unique (submission, path) is the key; the serial id is indexed nowhere
            assert sealed == {"sealed_answer_pkey": "btree (submission, path)"}
        else:
            assert sealed == {"sealed_answer_path": "sealed_answer (submission, path)"}
        events = await _indexes(db, "beneficiary_event")
        if db.kind == "postgres":  # the event's key is its submission; the serial id is indexed nowhere
            assert events["beneficiary_event_pkey"] == "btree (submission)"
            assert "beneficiary_event_submission" not in events
        assert {"beneficiary_event_timeline", "beneficiary_event_form_day"} <= events.keys()

        # nothing lost, with today's code (m0025 moves the sealed answers into the submission row): the
        # submission's sealed answers open, its person is found in the desa
        await migrate.migrate(db)
        settings = Settings(database_url=empty_database_url, secret_key="s" * 48, nik_key="o" * 48)
        assert await review.sealed_values(db, settings, sid) == {"nik": NIK, "no_kk": KK}
        enumerator = Principal(1, "citra", "Citra", "enumerator", (DESA,))
        assert [r.id for r in await registry_read.search(db, enumerator, "siti")] == [str(sid)]
        assert [e.submission for e in await registry_read.timeline(db, str(sid))] == [str(sid)]
        checked = await keyring.check(db, OLD)
        assert (checked.sealed, checked.failed) == (4, 0)

        writer = Writer(db)
        await writer.start()
        try:
            rotated = await writer.run(lambda tx: keyring.rotate(tx, OLD, NEW))
        finally:
            await writer.stop()
        assert (rotated.values, rotated.already) == (4, 0)
        assert (await keyring.check(db, NEW)).failed == 0
        rows = await db.fetch("SELECT nik_index, kk_index FROM beneficiary WHERE id = {}", sid)
        assert (rows[0]["nik_index"], rows[0]["kk_index"]) == (pii.blind_index(NEW, "nik", NIK),
                                                               pii.blind_index(NEW, "kk", KK))
    finally:
        await db.close()
