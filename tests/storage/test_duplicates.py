"""Probable duplicates beyond the NIK: the scoring (domain/duplicates.py) on a synthetic registry the
test builds itself, and the passes, queue and decisions (storage/duplicates.py) on the database."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest

from server.domain import duplicates as rules
from server.domain.access import Principal
from server.domain.registry import mask
from server.errors import PantauError
from server.storage import duplicates, pii, users
from server.storage.db import Database
from tests.synthetic_people import measure, registry

KEYS = pii.keys_from("a test key for probable duplicates")
NOW = dt.datetime(2026, 12, 6, 3, 0, tzinfo=dt.UTC)
ANI = Principal(id=1, username="ani", display_name="Ani", role="staff")
BUDI = Principal(id=2, username="budi", display_name="Budi", role="coordinator", areas=("64.02.06",))
RINA = Principal(id=3, username="rina", display_name="Rina", role="coordinator", areas=("64.02.13",))
CITRA = Principal(id=4, username="citra", display_name="Citra", role="enumerator", areas=("64.02.06",))


# --- the scoring -------------------------------------------------------------------------------------
def test_names_lose_titles_and_spelling_variants() -> None:
    assert rules.name_key("Hj. Sitti Aminah") == rules.name_key("Ibu Siti  AMINAH") == "siti aminah"
    assert rules.name_key("Moh. Yusuf") == rules.name_key("Muhamad Yusuf") == "muhammad yusuf"
    assert rules.sound_key(rules.name_key("Djoehana")) == rules.sound_key(rules.name_key("Juhana"))
    assert rules.name_key("Siti Aminah") != rules.name_key("Siti Rahmah")


def test_each_field_lands_on_its_level() -> None:
    siti = rules.Person(id="a", name="Siti Aminah", sex="P", birth_date="1990-03-05", area_code="64.02.06.1001",
                        kk="k1", nik="6402064503900001")
    swapped = rules.compare(siti, rules.Person(id="b", name="Hj. Sitti Aminah", sex="P", birth_date="1990-05-03",
                                               area_code="64.02.06.1002", nik="6402064503900010"))
    assert swapped.levels == {"name": "same", "birth": "swapped", "sex": "same", "desa": "kecamatan", "nik": "typo"}
    assert swapped.score >= rules.THRESHOLD
    one_digit = rules.compare(siti, rules.Person(id="c", name="Siti Aminah", nik="6402064503900007"))
    assert one_digit.levels["nik"] == "typo"
    # The mother's name weighs when both records have one: a child without a NIK is told apart by it.
    child = rules.Person(id="e", name="Ayu", sex="P", birth_date="2021-06-01", area_code="64.02.06.1001",
                         guardian="Hj. Siti Aminah")
    same_mother = rules.compare(child, rules.Person(id="f", name="Ayu", sex="P", birth_date="2021-06-01",
                                                    area_code="64.02.06.1001", guardian="Sitti Aminah"))
    other_mother = rules.compare(child, rules.Person(id="g", name="Ayu", sex="P", birth_date="2021-06-01",
                                                     area_code="64.02.06.1001", guardian="Rahmawati"))
    assert same_mother.levels["guardian"] == "same" and other_mother.levels["guardian"] == "differ"
    weights = rules.WEIGHTS["guardian"]
    assert same_mother.score - other_mother.score == pytest.approx(weights["same"] - weights["differ"], abs=0.02)
    stranger = rules.compare(siti, rules.Person(id="d", name="Budi Santoso", sex="L", birth_date="1971-11-20",
                                                area_code="64.02.13.1007", kk="k2", nik="6402131120710003"))
    assert stranger.score < 0 and stranger.levels["nik"] == "differ"
    # The score is the sum of the weights of the levels, and nothing else.
    assert swapped.score == pytest.approx(sum(rules.WEIGHTS[f][lv] for f, lv in swapped.levels.items()), abs=0.01)


def test_recall_and_precision_on_a_synthetic_registry() -> None:
    people, truth = registry(4000, 400, seed=7)
    found = {(a.id, b.id) for a, b, _ in rules.candidate_pairs(people)}
    recall, precision = measure(people, truth, found)
    assert recall >= 0.9 and precision >= 0.8, (recall, precision)
    only = {next(iter(truth))[1]}  # one copy against everyone: its original is among its pairs
    pairs = {(a.id, b.id) for a, b, _ in rules.candidate_pairs(people, only=only)}
    assert all(only & set(p) for p in pairs) and any(set(p) == set(next(iter(truth))) for p in pairs)


# --- on the database -----------------------------------------------------------------------------
async def add(db: Database, name: str, *, area: str = "64.02.06.1001", birth: str = "1990-03-05", sex: str = "P",
              nik: str = "", kk: str = "", when: dt.datetime = NOW, programme: str = "bansos",
              guardian: str = "") -> str:
    bid = uuid.uuid4()
    await db.fetch(
        "INSERT INTO beneficiary (id, programme, nik_index, nik_sealed, nik_masked, kk_index, kk_sealed, kk_masked, "
        "name, name_key, sex, birth_date, area_code, kecamatan, baseline, registered_on, visit_months, created_at, "
        "updated_at, guardian_name) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
        "'2026-01-05', 1, {}, {}, {})",
        bid, programme, pii.blind_index(KEYS, "nik", nik) if nik else "", pii.seal(KEYS, "nik", nik) if nik else "",
        mask(nik) if nik else "", pii.blind_index(KEYS, "kk", kk) if kk else "", pii.seal(KEYS, "kk", kk) if kk else "",
        mask(kk) if kk else "", name, name.lower(), sex, birth, area, ".".join(area.split(".")[:3]), "[]", when, when,
        guardian)
    return str(bid)


async def _people(db: Database) -> dict[str, str]:
    siti = await add(db, "Siti Aminah", nik="6402064503900001", kk="6402061203150007")
    copy = await add(db, "Hj. Sitti Aminah", nik="6402064503900010", area="64.02.06.1002")  # two digits swapped
    rahma = await add(db, "Rahmawati", birth="1988-05-05", nik="6402064505880002")
    rahma2 = await add(db, "Rahmawati", birth="1988-05-05")  # no NIK the second time
    far = await add(db, "Wati", area="64.02.13.1007", birth="1970-01-01")
    far2 = await add(db, "Wati", area="64.02.13.1007", birth="1970-01-01", sex="P", guardian="Ibu Hasanah")
    return {"siti": siti, "copy": copy, "rahma": rahma, "rahma2": rahma2, "far": far, "far2": far2}


async def test_the_pass_finds_pairs_the_queue_shows_them_by_area_and_no_nik_is_written(db, writer) -> None:  # type: ignore[no-untyped-def]
    ids = await _people(db)
    people, pairs = await duplicates.full_pass(db, writer, KEYS, NOW)
    assert people == 6 and pairs == 3
    budi = await duplicates.queue(db, BUDI)
    assert {frozenset((c.first.id, c.second.id)) for c in budi} == {
        frozenset((ids["siti"], ids["copy"])), frozenset((ids["rahma"], ids["rahma2"]))}
    siti = next(c for c in budi if ids["siti"] in (c.first.id, c.second.id))
    far = next(c for c in await duplicates.queue(db, RINA))
    assert "guardian" not in far.levels  # only one of the two records names a mother: it weighs nothing
    assert siti.levels["nik"] == "typo" and siti.levels["birth"] == "same"
    assert {c.first.nik for c in budi} | {c.second.nik for c in budi} <= {"64**************", ""}
    assert await duplicates.open_count(db, BUDI) == 2
    assert await duplicates.open_count(db, ANI) == 3  # staff: every area
    assert [frozenset((c.first.id, c.second.id)) for c in await duplicates.queue(db, RINA)] == [
        frozenset((ids["far"], ids["far2"]))]
    stored = await db.fetch("SELECT * FROM duplicate_candidate")
    assert not any("6402064503900001" in str(v) or "6402064503900010" in str(v) for r in stored for v in r.values())
    with pytest.raises(PantauError) as refused:
        await duplicates.queue(db, CITRA)
    assert refused.value.code == "http.forbidden"


async def _signed_in(db: Database, p: Principal) -> Principal:
    account = await users.create(db, p.username, p.role, "-", areas=p.areas)
    return Principal(id=account.id, username=p.username, display_name=p.display_name, role=p.role, areas=p.areas)


async def test_decisions_stick_merge_and_are_area_bound(db, writer) -> None:  # type: ignore[no-untyped-def]
    budi = await _signed_in(db, BUDI)
    ids = await _people(db)
    await duplicates.full_pass(db, writer, KEYS, NOW)
    queue = {frozenset((c.first.id, c.second.id)): c for c in await duplicates.queue(db, ANI)}
    rahma = queue[frozenset((ids["rahma"], ids["rahma2"]))]
    siti = queue[frozenset((ids["siti"], ids["copy"]))]
    far = queue[frozenset((ids["far"], ids["far2"]))]

    async def decide(c: Any, decision: str, keep: str = "", who: Principal = budi) -> None:
        await writer.run(lambda tx: duplicates.decide(tx, c.id, decision, keep, who, "-", NOW))

    with pytest.raises(PantauError) as other_area:
        await decide(far, "different")  # Budi's areas do not hold Samboja's pair: it does not exist for him
    assert other_area.value.code == "http.not_found"
    await decide(rahma, "different")
    await decide(siti, "same", keep=ids["siti"])
    merged = await db.fetch("SELECT status, merged_into FROM beneficiary WHERE id = {}", uuid.UUID(ids["copy"]))
    assert merged[0]["status"] == "merged" and str(merged[0]["merged_into"]) == ids["siti"]
    with pytest.raises(PantauError) as twice:
        await decide(rahma, "same", keep=ids["rahma"])
    assert twice.value.code == "registry.duplicate_decided"
    # The next night's pass finds the "different" pair again and leaves it decided.
    await duplicates.full_pass(db, writer, KEYS, NOW + dt.timedelta(days=1))
    assert [c.id for c in await duplicates.queue(db, BUDI)] == []
    audit = await db.fetch("SELECT action FROM audit_log WHERE action LIKE 'duplicate.%' ORDER BY id")
    assert [r["action"] for r in audit] == ["duplicate.different", "duplicate.same"]


async def test_a_new_registration_is_checked_against_the_registry(db, writer) -> None:  # type: ignore[no-untyped-def]
    await add(db, "Siti Aminah", nik="6402064503900001", when=NOW - dt.timedelta(days=30))
    await add(db, "Budi Santoso", sex="L", birth="1971-11-20", when=NOW - dt.timedelta(days=30))
    mark = NOW - dt.timedelta(minutes=5)
    assert await duplicates.check_new(db, writer, KEYS, mark, NOW) == mark  # nobody new
    new = await add(db, "Ibu Siti Aminah", birth="1990-05-03", when=NOW)  # day and month swapped, no NIK
    after = await duplicates.check_new(db, writer, KEYS, mark, NOW)
    assert after == NOW
    [pair] = await duplicates.queue(db, ANI)
    assert new in (pair.first.id, pair.second.id) and pair.levels["birth"] == "swapped"


async def test_the_nightly_pass_runs_once_a_day_after_two_in_the_morning(db, writer) -> None:  # type: ignore[no-untyped-def]
    await _people(db)
    early = dt.datetime(2026, 12, 6, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert await duplicates.nightly(db, writer, KEYS, early) is False
    night = dt.datetime(2026, 12, 6, 2, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert await duplicates.nightly(db, writer, KEYS, night) is True
    assert await duplicates.nightly(db, writer, KEYS, night + dt.timedelta(hours=3)) is False
    [done] = await db.fetch("SELECT day, people, pairs, finished_at FROM duplicate_pass")
    assert done["day"] == "2026-12-06" and done["people"] == 6 and done["pairs"] == 3 and done["finished_at"]
