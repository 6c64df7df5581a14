"""m0025 on a database an older release made (migrated to m0024, with registrations in it): each
submission's sealed NIK/KK answers move from sealed_answer rows into its `sealed` column, the table
is gone, and the answers still open, are checked and re-keyed; a submission without any keeps "".
And a registration stored now writes them into its row, not into rows of their own."""

from __future__ import annotations

import uuid

import msgspec

from server.settings import Settings
from server.storage import keyring, migrate, pii, review
from server.storage.db import Database
from server.storage.writer import Writer
from tests.storage.test_write_path_indexes import KK, NEW, NIK, OLD, _registration

ANGGOTA_NIK = "6402065502900002"


async def test_m0025_moves_the_sealed_answers_into_the_submission_row(empty_database_url: str) -> None:
    db = Database(empty_database_url)
    await db.open()
    try:
        await migrate.migrate(db, until="m0024_postgres_write_path")
        assert "m0025_sealed_in_submission" in await migrate.pending(db)
        sid = await _registration(db)  # a submission with its NIK and KK answers sealed
        # a household member's NIK inside a repeat, and a submission with nothing sealed
        await db.fetch("INSERT INTO sealed_answer (submission, path, kind, blind_index, sealed) "
                       "VALUES ({}, 'anggota[1]/nik_art', 'nik', {}, {})", sid,
                       pii.blind_index(OLD, "nik", ANGGOTA_NIK), pii.seal(OLD, "nik", ANGGOTA_NIK))
        plain = uuid.uuid4()
        await db.fetch("INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, "
                       "answers, received_at) SELECT {}, form_version, form_id, enumerator, area_code, 'd', answers, "
                       "received_at FROM submission WHERE id = {}", plain, sid)

        await migrate.migrate(db)

        assert await migrate.pending(db) == []
        tables = await db.fetch("SELECT name FROM sqlite_master WHERE name = 'sealed_answer'" if db.kind == "sqlite"
                                else "SELECT tablename AS name FROM pg_tables WHERE tablename = 'sealed_answer'")
        assert tables == []
        rows = {str(r["id"]): str(r["sealed"]) for r in await db.fetch("SELECT id, sealed FROM submission")}
        assert rows[str(plain)] == ""
        held = pii.held_answers(rows[str(sid)])
        assert sorted(held) == ["anggota[1]/nik_art", "nik", "no_kk"]
        assert [kind for kind, _sealed in (held[p] for p in sorted(held))] == ["nik", "nik", "kk"]

        settings = Settings(database_url=empty_database_url, secret_key="s" * 48, nik_key="o" * 48)
        assert await review.sealed_values(db, settings, sid) == {"nik": NIK, "no_kk": KK,
                                                                 "anggota[1]/nik_art": ANGGOTA_NIK}
        assert await review.sealed_values(db, settings, plain) == {}
        # 5 values: the person's NIK and KK, the three answers; one row a table, opened as first and as last
        checked = await keyring.check(db, OLD)
        assert (checked.sealed, checked.tried, checked.failed) == (5, 2 + 2 + 3 + 3, 0)

        writer = Writer(db)
        await writer.start()
        try:
            rotated = await writer.run(lambda tx: keyring.rotate(tx, OLD, NEW))
            again = await writer.run(lambda tx: keyring.rotate(tx, OLD, NEW))
        finally:
            await writer.stop()
        assert (rotated.values, rotated.already) == (5, 0)
        assert (again.values, again.already) == (0, 5)
        assert (await keyring.check(db, NEW)).failed == 0 and (await keyring.check(db, OLD)).failed == 2 + 2 + 3 + 3
        moved = pii.held_answers(str((await db.fetch("SELECT sealed FROM submission WHERE id = {}", sid))[0]["sealed"]))
        assert {path: pii.open_sealed(NEW, kind, value) for path, (kind, value) in moved.items()} == {
            "nik": NIK, "no_kk": KK, "anggota[1]/nik_art": ANGGOTA_NIK}
    finally:
        await db.close()


def test_the_column_holds_what_it_was_given() -> None:
    answers = [pii.SealedAnswer(path="nik", kind="nik", index="i", sealed="s1"),
               pii.SealedAnswer(path="anggota[2]/no_kk", kind="kk", index="j", sealed="s2")]
    column = pii.held(answers)
    assert msgspec.json.decode(column) == {"nik": ["nik", "s1"], "anggota[2]/no_kk": ["kk", "s2"]}
    assert pii.held_answers(column) == {"nik": ("nik", "s1"), "anggota[2]/no_kk": ("kk", "s2")}
    assert pii.held([]) == "" and pii.held_answers("") == {}
