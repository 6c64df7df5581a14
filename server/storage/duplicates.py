"""Probable duplicates in the registry (the scoring is domain/duplicates.py): finding the pairs, the
coordinators' queue and their decisions. NIKs are opened in memory here to compare them digit by
digit and are never written out; a pair stores only its score and the level of each field.

Two passes find pairs: `check_new` after registrations (each new person against the people of their
programme and kabupaten who share a birth date, a family card or a name word: a cheap query), and
`nightly`, the whole registry once a day (every pair the blocking finds, NIK typos included), claimed
by one process through duplicate_pass. Both write in small transactions, so the writer is never
held for long."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Iterable
from typing import Any

import msgspec

from server import clock
from server.domain import duplicates as rules
from server.domain.access import Principal, sees_area
from server.domain.registry import kecamatan_of, mask
from server.errors import PantauError
from server.storage import access, audit, pii, registry
from server.storage.db import Database
from server.storage.registry_read import area_clause
from server.storage.sql import aware
from server.storage.write_tx import Tx
from server.storage.writer import Writer

log = logging.getLogger("pantau.duplicates")
BATCH = 500  # pairs a write transaction
PAGE = 5000  # people read at a time
NIGHTLY_HOUR = 2  # WITA: the nightly pass starts from this hour on, once a day
NEED = "decide_duplicates"
_PERSON = "id, programme, name, sex, birth_date, area_code, kk_index, nik_sealed, guardian_name"


def _person(row: dict[str, Any], keys: pii.Keys) -> rules.Person:
    nik = pii.open_sealed(keys, "nik", row["nik_sealed"]) if row["nik_sealed"] else ""
    return rules.Person(id=str(row["id"]), name=row["name"], sex=row["sex"], birth_date=row["birth_date"],
                        area_code=row["area_code"], kk=row["kk_index"], nik=nik, guardian=row["guardian_name"])


async def _programme_people(db: Database, keys: pii.Keys) -> dict[str, list[rules.Person]]:
    """Every active record, by programme, read a page at a time in id order."""
    found: dict[str, list[rules.Person]] = {}
    after = uuid.UUID(int=0)
    while True:
        rows = await db.fetch(f"SELECT {_PERSON} FROM beneficiary WHERE status = 'active' AND id > {{}} "
                              "ORDER BY id LIMIT {}", after, PAGE)
        for row in rows:
            found.setdefault(str(row["programme"]), []).append(_person(row, keys))
        if len(rows) < PAGE:
            return found
        after = uuid.UUID(str(rows[-1]["id"]))
        await asyncio.sleep(0)


# --- storing pairs -----------------------------------------------------------------------------------
_UPSERT = ("INSERT INTO duplicate_candidate (programme, first_id, second_id, first_area, second_area, score, levels, "
           "status, found_at) VALUES ({}, {}, {}, {}, {}, {}, {}, 'open', {}) "
           "ON CONFLICT (first_id, second_id) DO UPDATE SET score = excluded.score, levels = excluded.levels, "
           "first_area = excluded.first_area, second_area = excluded.second_area "
           "WHERE duplicate_candidate.status = 'open'")


async def _store(writer: Writer, programme: str, found: Iterable[tuple[rules.Person, rules.Person, rules.Compared]],
                 now: dt.datetime) -> int:
    """Upsert the pairs in transactions of BATCH; a decided pair keeps its decision."""
    stored, batch = 0, []
    for a, b, compared in found:
        batch.append((programme, uuid.UUID(a.id), uuid.UUID(b.id), a.area_code, b.area_code, compared.score,
                      msgspec.json.encode(compared.levels).decode(), now))
        if len(batch) >= BATCH:
            stored += await _write(writer, batch)
            batch = []
    return stored + (await _write(writer, batch) if batch else 0)


async def _write(writer: Writer, batch: list[tuple[Any, ...]]) -> int:
    def op(tx: Tx) -> int:
        tx.many(_UPSERT, batch)
        return len(batch)
    return await writer.run(op)


# --- the passes --------------------------------------------------------------------------------------
async def full_pass(db: Database, writer: Writer, keys: pii.Keys, now: dt.datetime) -> tuple[int, int]:
    """Every programme's records compared as the blocking allows: (people, pairs at the threshold)."""
    people, pairs = 0, 0
    for programme, members in (await _programme_people(db, keys)).items():
        people += len(members)
        found = await asyncio.to_thread(lambda m=members: list(rules.candidate_pairs(m)))  # type: ignore[misc]
        pairs += await _store(writer, programme, found, now)
    return people, pairs


async def nightly(db: Database, writer: Writer, keys: pii.Keys, now: dt.datetime) -> bool:
    """The day's pass once, by whichever process claims the day first; False when it is not yet
    time or another process has it."""
    local = now.astimezone(clock.WITA)
    if local.hour < NIGHTLY_HOUR:
        return False
    day = local.date().isoformat()
    claimed = await writer.run(lambda tx: _claim(tx, day, now))
    if not claimed:
        return False
    people, pairs = await full_pass(db, writer, keys, now)
    await writer.run(lambda tx: tx.execute("UPDATE duplicate_pass SET finished_at = {}, people = {}, pairs = {} "
                                           "WHERE day = {}", clock.now(), people, pairs, day))
    log.info("duplicate pass %s: %d people, %d candidate pairs", day, people, pairs)
    return True


def _claim(tx: Tx, day: str, now: dt.datetime) -> bool:
    if tx.fetch("SELECT day FROM duplicate_pass WHERE day = {}", day):
        return False
    tx.execute("INSERT INTO duplicate_pass (day, started_at) VALUES ({}, {}) ON CONFLICT (day) DO NOTHING", day, now)
    return True


async def check_new(db: Database, writer: Writer, keys: pii.Keys, since: dt.datetime, now: dt.datetime,
                    limit: int = 200) -> dt.datetime:
    """The people registered since `since` against those of their programme and kabupaten who share
    a birth date (or its day and month swapped), a family card or a name word. Returns the mark to
    pass next time."""
    rows = await db.fetch(f"SELECT {_PERSON}, created_at FROM beneficiary WHERE status = 'active' "
                          "AND created_at > {} ORDER BY created_at LIMIT {}", since, limit)
    for row in rows:
        person = _person(row, keys)
        pool = [_person(r, keys) for r in await _pool(db, str(row["programme"]), person)]
        found = rules.candidate_pairs([person, *pool], only={person.id})
        await _store(writer, str(row["programme"]), found, now)
    return aware(rows[-1]["created_at"]) if rows else since


async def _pool(db: Database, programme: str, p: rules.Person) -> list[dict[str, Any]]:
    births = {p.birth_date, _swapped(p.birth_date)} - {""}
    words = [w for w in rules.name_key(p.name).split() if len(w) >= 3][:3]
    tests, args = [], []
    if births:
        tests.append(f"b.birth_date IN ({', '.join(['{}'] * len(births))})")
        args += sorted(births)
    if p.kk:
        tests.append("b.kk_index = {}")
        args.append(p.kk)
    for word in words:
        tests.append("(b.name_key LIKE {} OR b.name_key LIKE {})")
        args += [f"{word}%", f"% {word}%"]
    if not tests:
        return []
    return await db.fetch(f"SELECT {_PERSON} FROM beneficiary b WHERE b.programme = {{}} AND b.status = 'active' "
                          f"AND b.area_code LIKE {{}} AND b.id <> {{}} AND ({' OR '.join(tests)}) "
                          "LIMIT 2000", programme, rules.kabupaten(p.area_code) + ".%", uuid.UUID(p.id), *args)


def _swapped(birth: str) -> str:
    return f"{birth[:4]}-{birth[8:10]}-{birth[5:7]}" if len(birth) == 10 and int(birth[8:10]) <= 12 else ""


# --- the queue and the decisions -------------------------------------------------------------------------
class Side(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    sex: str
    birth_date: str
    area_code: str
    nik: str  # masked
    kk: str  # masked
    target_group: str
    registered_on: str


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    programme: str
    score: float
    levels: dict[str, str]
    first: Side
    second: Side


_SIDE = ("{a}.id AS {a}_id, {a}.name AS {a}_name, {a}.sex AS {a}_sex, {a}.birth_date AS {a}_birth_date, "
         "{a}.area_code AS {a}_area_code, {a}.nik_masked AS {a}_nik, {a}.kk_masked AS {a}_kk, "
         "{a}.target_group AS {a}_target_group, {a}.registered_on AS {a}_registered_on")


def _queue_sql(principal: Principal, what: str) -> tuple[str, list[Any]]:
    one, one_args = area_clause(principal, "f")
    two, two_args = area_clause(principal, "s")
    return (f"SELECT {what} FROM duplicate_candidate c JOIN beneficiary f ON f.id = c.first_id "
            "JOIN beneficiary s ON s.id = c.second_id WHERE c.status = 'open' AND f.status = 'active' "
            f"AND s.status = 'active' AND {one} AND {two}", [*one_args, *two_args])


async def queue(db: Database, principal: Principal, limit: int = 50) -> list[Candidate]:
    """Open pairs whose two records the person may both see, best score first."""
    access.require(principal, NEED)
    sql, args = _queue_sql(principal, f"c.id, c.programme, c.score, c.levels, {_SIDE.format(a='f')}, "
                                      f"{_SIDE.format(a='s')}")
    rows = await db.fetch(sql + " ORDER BY c.score DESC, c.id LIMIT {}", *args, limit)
    return [_candidate(r) for r in rows]


async def open_count(db: Database, principal: Principal) -> int:
    sql, args = _queue_sql(principal, "COUNT(*) AS n")
    return int((await db.fetch(sql, *args))[0]["n"])


def _candidate(r: dict[str, Any]) -> Candidate:
    levels = r["levels"]
    return Candidate(id=int(r["id"]), programme=r["programme"], score=float(r["score"]),
                     levels=msgspec.json.decode(levels) if isinstance(levels, str | bytes) else dict(levels),
                     first=_side(r, "f"), second=_side(r, "s"))


def _side(r: dict[str, Any], a: str) -> Side:
    return Side(id=str(r[f"{a}_id"]), name=r[f"{a}_name"], sex=r[f"{a}_sex"], birth_date=r[f"{a}_birth_date"],
                area_code=r[f"{a}_area_code"], nik=mask(r[f"{a}_nik"]), kk=mask(r[f"{a}_kk"]),
                target_group=r[f"{a}_target_group"], registered_on=r[f"{a}_registered_on"])


def decide(tx: Tx, candidate_id: int, decision: str, keep: str, principal: Principal, address: str,
           now: dt.datetime) -> None:
    """"same": the pair is one person, `keep` (one of the two ids) stays and the other merges into it
    (registry.merge: both timelines kept); "different": the pair never comes back. Audited."""
    access.require(principal, NEED)
    rows = tx.fetch("SELECT c.id, c.status, c.first_id, c.second_id, f.area_code AS first_area, "
                    "s.area_code AS second_area FROM duplicate_candidate c JOIN beneficiary f ON f.id = c.first_id "
                    f"JOIN beneficiary s ON s.id = c.second_id WHERE c.id = {{}}{tx.for_update}", candidate_id)
    if not rows or not all(sees_area(principal, str(rows[0][k])) for k in ("first_area", "second_area")):
        raise PantauError("http.not_found")  # another area's pair does not exist for this person
    row = rows[0]
    if row["status"] != "open":
        raise PantauError("registry.duplicate_decided")
    ids = (str(row["first_id"]), str(row["second_id"]))
    if decision == "same":
        if keep not in ids:
            raise PantauError("registry.bad_query", detail="keep")
        drop = ids[1] if keep == ids[0] else ids[0]
        registry.merge(tx, uuid.UUID(keep), uuid.UUID(drop), principal, address, now)
    elif decision != "different":
        raise PantauError("registry.bad_query", detail="keputusan")
    tx.execute("UPDATE duplicate_candidate SET status = {}, decided_at = {}, decided_by = {} WHERE id = {}",
               decision, now, principal.id, candidate_id)
    tx.later(audit.INSERT, *audit.values(principal, f"duplicate.{decision}", target_type="beneficiary",
                                           target_id=ids[0], area_code=kecamatan_of(str(row["first_area"])),
                                           detail=f"pair={ids[0]},{ids[1]}", address=address))
