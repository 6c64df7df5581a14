"""The registry's storage on a real database: NIK/KK sealing and blind indexes, NIK answers masked in
stored submissions, merges that refuse nonsense and keep ids working, exact name-prefix search
(byte order on both engines) and the phone's paged, incremental copy."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag

from server.domain import registry as rules
from server.domain.access import Principal
from server.errors import PantauError
from server.settings import Settings
from server.storage import access, pii, registry, registry_read
from server.storage.db import Database
from server.storage.write_tx import Tx
from server.storage.writer import Writer

NOW = dt.datetime(2026, 4, 15, 2, 0, tzinfo=dt.UTC)
ANI = Principal(id=1, username="ani", display_name="Ani", role="staff")
CITRA = Principal(id=2, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))
DEWI = Principal(id=3, username="dewi", display_name="Dewi", role="enumerator", areas=("64.02.13",))
KEYS = pii.keys_from("k" * 48)


def test_a_sealed_nik_opens_only_with_its_key_and_kind() -> None:
    sealed = pii.seal(KEYS, "nik", "6402064101900001")
    assert sealed.startswith("v1.") and "6402064101900001" not in sealed
    assert pii.seal(KEYS, "nik", "6402064101900001") != sealed  # a fresh nonce every time
    assert pii.open_sealed(KEYS, "nik", sealed) == "6402064101900001"
    with pytest.raises(InvalidTag):
        pii.open_sealed(KEYS, "kk", sealed)  # a sealed NIK cannot pass for a KK
    with pytest.raises(InvalidTag):
        pii.open_sealed(pii.keys_from("x" * 48), "nik", sealed)


def test_the_blind_index_is_keyed_and_per_kind() -> None:
    index = pii.blind_index(KEYS, "nik", "6402064101900001")
    assert index == pii.blind_index(KEYS, "nik", "6402064101900001") and len(index) == 64
    assert index != pii.blind_index(KEYS, "kk", "6402064101900001")
    assert index != pii.blind_index(pii.keys_from("x" * 48), "nik", "6402064101900001")


def test_the_registry_key_is_its_own_setting_or_derived_from_the_secret_key() -> None:
    derived = pii.keys_of(Settings(secret_key="s" * 48))
    own = pii.keys_of(Settings(secret_key="s" * 48, nik_key="n" * 48))
    assert derived.fingerprint != own.fingerprint
    assert derived.fingerprint == pii.keys_of(Settings(secret_key="s" * 48, session_days=3)).fingerprint


def test_nik_and_kk_answers_are_stored_masked_with_their_sealed_values() -> None:
    types = {"nik": "nik", "kk": "no_kk", "anggota": "repeat", "nik_art": "nik", "nama": "text"}
    answers: dict[str, Any] = {"nik": "6402064101900001", "kk": "6402061203150007", "nama": "Siti",
                               "anggota": [{"nik_art": "6402061509050003"}, {"nama": "Ayu"}]}
    by_value: dict[tuple[pii.Kind, str], pii.SealedAnswer] = {}
    stored, sealed = pii.seal_answers(pii.id_fields(types), answers, KEYS, by_value)
    assert stored == {"nik": "64**************", "kk": "64**************", "nama": "Siti",
                      "anggota": [{"nik_art": "64**************"}, {"nama": "Ayu"}]}
    assert [(s.path, s.kind) for s in sealed] == [("nik", "nik"), ("kk", "kk"), ("anggota[1]/nik_art", "nik")]
    assert pii.open_sealed(KEYS, "nik", sealed[2].sealed) == "6402061509050003"
    # each sealing under its plain number, for the person's record to reuse rather than seal again
    assert by_value == {("nik", "6402064101900001"): sealed[0], ("kk", "6402061203150007"): sealed[1],
                        ("nik", "6402061509050003"): sealed[2]}
    assert sealed[0].index == pii.blind_index(KEYS, "nik", "6402064101900001")


# --- on the database -----------------------------------------------------------------------------
async def add(db: Database, name: str, area: str = "64.02.06.1001", *, programme: str = "uep",
              nik: str = "", when: dt.datetime = NOW) -> uuid.UUID:
    bid = uuid.uuid4()
    await db.fetch(
        "INSERT INTO beneficiary (id, programme, nik_index, nik_masked, name, name_key, area_code, kecamatan, "
        "baseline, registered_on, visit_months, created_at, updated_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, '2026-01-05', 1, {}, {})",
        bid, programme, pii.blind_index(KEYS, "nik", nik) if nik else "", rules.mask(nik) if nik else "", name,
        name.lower(), area, ".".join(area.split(".")[:3]), "[]", when, when)
    return bid


async def test_merging_refuses_itself_unknown_records_other_programmes_and_merged_records(db, writer) -> None:  # type: ignore[no-untyped-def]
    a, b, other = await add(db, "a"), await add(db, "b"), await add(db, "c", programme="lain")

    async def merge(keep: uuid.UUID, drop: uuid.UUID) -> None:
        await writer.run(lambda tx: registry.merge(tx, keep, drop, ANI, "-", NOW))

    for keep, drop, code in ((a, a, "registry.merge_self"), (a, uuid.uuid4(), "http.not_found"),
                             (a, other, "registry.merge_programme")):
        with pytest.raises(PantauError) as caught:
            await merge(keep, drop)
        assert caught.value.code == code
    await merge(a, b)
    with pytest.raises(PantauError) as caught:
        await merge(a, b)
    assert caught.value.code == "registry.merge_merged"
    assert [r["status"] for r in await db.fetch("SELECT status FROM beneficiary ORDER BY name")] == [
        "active", "merged", "active"]


async def test_a_merged_id_resolves_through_a_chain_of_merges(db, writer) -> None:  # type: ignore[no-untyped-def]
    first, second, third = await add(db, "x"), await add(db, "y"), await add(db, "z")
    await writer.run(lambda tx: registry.merge(tx, second, first, ANI, "-", NOW))
    await writer.run(lambda tx: registry.merge(tx, third, second, ANI, "-", NOW))

    def resolved(tx: Tx) -> Any:
        row = registry.resolve(tx, first)
        return row["id"] if row else None

    assert str(await writer.run(resolved)) == str(third)
    assert (await access.beneficiary_for(db, CITRA, first)).id == str(third)
    with pytest.raises(PantauError):
        await access.beneficiary_for(db, DEWI, first)  # Tenggarong: not Dewi's


async def test_name_prefix_search_is_exact_and_stays_in_ones_areas(db) -> None:  # type: ignore[no-untyped-def]
    for name in ("siti", "siti aminah", "sitiawati", "sitj", "sit", "zaenab"):
        await add(db, name)
    await add(db, "siti samboja", "64.02.13.1007")
    found = [r.name for r in await registry_read.search(db, CITRA, "Siti")]
    assert found == ["siti", "siti aminah", "sitiawati"]
    assert [r.name for r in await registry_read.search(db, DEWI, "siti")] == ["siti samboja"]
    assert len(await registry_read.search(db, ANI, "siti")) == 4
    assert await registry_read.search(db, CITRA, "  ") == []


async def test_a_whole_nik_is_not_searched_as_a_name(db) -> None:  # type: ignore[no-untyped-def]
    """A whole NIK is a reveal (storage/id_search.py), never a list search: it finds nobody here."""
    await add(db, "siti", nik="6402064101900001")
    assert await registry_read.search(db, CITRA, "6402064101900001") == []


async def test_the_phones_copy_is_paged_and_reports_merged_records(db, writer) -> None:  # type: ignore[no-untyped-def]
    old = NOW - dt.timedelta(hours=1)
    ids = [await add(db, f"p{i}", when=old + dt.timedelta(seconds=i)) for i in range(5)]
    await add(db, "elsewhere", "64.02.13.1007", when=old)
    first = await registry_read.slice_for(db, CITRA, "", NOW, limit=3)
    assert [r.name for r in first.rows] == ["p0", "p1", "p2"] and first.more
    rest = await registry_read.slice_for(db, CITRA, first.cursor, NOW, limit=3)
    assert [r.name for r in rest.rows] == ["p3", "p4"] and not rest.more
    assert (await registry_read.slice_for(db, CITRA, rest.cursor, NOW)).rows == []
    await writer.run(lambda tx: registry.merge(tx, ids[0], ids[1], ANI, "-", NOW))
    later = await registry_read.slice_for(db, CITRA, rest.cursor, NOW + dt.timedelta(minutes=5))
    assert later.removed == [(str(ids[1]), str(ids[0]))] and [r.name for r in later.rows] == ["p0"]
    with pytest.raises(PantauError) as caught:
        await registry_read.slice_for(db, CITRA, "bm90IGEgY3Vyc29y", NOW)
    assert caught.value.code == "registry.bad_query"


async def test_the_nik_and_the_kk_records_are_read_in_one_statement(db: Database) -> None:
    """A registration that checks both NIK and KK reads both lists in one statement (SQLite: a UNION
    ALL, each half on its own index; PostgreSQL: an OR, locked FOR UPDATE); a record with both
    appears once in each list, in registration order, and an inactive one or another programme's in
    neither."""
    ids = {name: uuid.uuid4() for name in ("a", "b", "c", "d", "e")}
    rows = [("a", "X", "K", "active", 1), ("b", "Y", "K", "active", 2), ("c", "X", "Z", "active", 3),
            ("d", "X", "K", "merged", 4), ("e", "X", "K", "active", 5)]
    writer = Writer(db)
    await writer.start()

    def op(tx: Tx) -> tuple[list[str], list[str]]:
        for name, nik, kk, status, second in rows:
            programme = "lain" if name == "e" else "bansos"
            tx.execute("INSERT INTO beneficiary (id, programme, status, nik_index, kk_index, name, name_key, "
                       "area_code, kecamatan, baseline, registered_on, created_at, updated_at) VALUES "
                       "({}, {}, {}, {}, {}, 'x', 'x', '64.02.06.1001', '64.02.06', {}, '2026-01-01', {}, {})",
                       ids[name], programme, status, nik, kk, "{}",
                       dt.datetime(2026, 1, 1, 0, 0, second, tzinfo=dt.UTC), dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        same_nik, same_kk = registry._others_by_nik_and_kk(tx, "bansos", "X", "K")
        back = {str(v): k for k, v in ids.items()}
        return [back[str(r["id"])] for r in same_nik], [back[str(r["id"])] for r in same_kk]

    try:
        assert await writer.run(op) == (["a", "c"], ["a", "b"])
    finally:
        await writer.stop()


def test_the_blind_index_is_hmac_sha256_of_kind_and_digits_under_the_index_key() -> None:
    """What stored rows hold: HMAC-SHA256(index key, "nik:<digits>") in hex; one call does not change
    the next (the keyed HMAC is copied, never updated), and the other key or kind gives another index."""
    import hashlib
    import hmac

    keys, other = pii.keys_from("kunci-induk-satu-0123456789abcdef"), pii.keys_from("kunci-induk-dua-0123456789abcdef")
    nik = "6402064101900001"
    expected = hmac.new(keys.index, f"nik:{nik}".encode(), hashlib.sha256).hexdigest()
    assert [pii.blind_index(keys, "nik", nik) for _ in range(3)] == [expected] * 3
    assert pii.blind_index(keys, "kk", nik) == hmac.new(keys.index, f"kk:{nik}".encode(), hashlib.sha256).hexdigest()
    assert pii.blind_index(other, "nik", nik) != expected


def test_a_records_baseline_json_serves_its_events_figures_unchanged() -> None:
    """The intake encodes the baseline once and puts that JSON into the event's summary (msgspec.Raw):
    the summary is byte for byte what encoding the figures' to_builtins gave, for whole numbers,
    fractions, choices, texts outside ASCII and an empty baseline."""
    import msgspec

    figures = [rules.Figure(key="pendapatan", value=1_500_000, label={"id": "Penghasilan", "en": "Income"},
                            text={"id": "Rp 1.500.000", "en": "Rp 1.500.000"}),
               rules.Figure(key="luas", value=36.5, label={"id": "Luas"}, text={"id": "36,5"}),
               rules.Figure(key="bantuan", value=["pkh", "bpnt"], label={"id": "Bantuan"},
                            text={"id": "PKH, BPNT", "en": "PKH, BPNT"}),
               rules.Figure(key="catatan", value="Usaha “warung” ñ \u0000", label={}, text={})]
    for baseline in (figures, []):
        raw = msgspec.json.encode(baseline)
        assert raw == msgspec.json.encode(msgspec.to_builtins(baseline))
        flags = ["nik.outside_kukar"]
        assert (msgspec.json.encode({"figures": msgspec.Raw(raw), "flags": flags})
                == msgspec.json.encode({"figures": msgspec.to_builtins(baseline), "flags": flags}))


def test_a_submission_id_made_text_is_the_text_its_parameters_reuse() -> None:
    from server.storage import sql

    first, second = uuid.uuid4(), uuid.uuid4()
    assert sql.uuid_text(first) == str(first)
    assert sql._LAST_UUID[0] is first  # the statements' adapter now finds it made
    assert sql._uuid_in(first) is sql.uuid_text(first)
    assert sql.uuid_text(second) == str(second) and sql._uuid_in(second) == str(second)
