"""Does the configured registry key open the stored NIKs, and moving them to a new key. A wrong
PANTAU_NIK_KEY (a typo, a lost variable that silently falls back to the secret key) would not fail
loudly: new intakes would be sealed and indexed under another key, duplicate checks would miss
every earlier NIK and reveals would fail. So `pantau serve` and `pantau keys check` open a sample
of the stored values first, and `pantau keys rotate` re-seals and re-indexes everything in ONE
transaction: it completes, or nothing changed and it can simply be run again."""

from __future__ import annotations

from typing import Any

import msgspec
from cryptography.exceptions import InvalidTag

from server.errors import PantauError
from server.storage import pii
from server.storage.db import Database
from server.storage.write_tx import Tx

SAMPLE = 20  # values opened per table at start-up: enough to tell a wrong key, cheap at any size
# (table, its key's columns, kind column or fixed kind, index column, sealed column): one value a row.
_SEALED = (("beneficiary", ("id",), "'nik'", "nik_index", "nik_sealed"),
           ("beneficiary", ("id",), "'kk'", "kk_index", "kk_sealed"))
# A submission's sealed answers, several in one column ({path: [kind, sealed]}, storage/pii.held, m0025).
_ANSWERS_COUNT = {"sqlite": "SELECT COUNT(*) AS n FROM submission, json_each(submission.sealed) WHERE sealed <> ''",
                  "postgres": "SELECT COUNT(*) AS n FROM submission, json_object_keys(sealed::json) "
                              "WHERE sealed <> ''"}


class KeyCheck(msgspec.Struct, frozen=True, kw_only=True):
    fingerprint: str
    sealed: int  # sealed values stored
    tried: int  # of which this many were opened as a sample
    failed: int  # and this many did not open with the key

    @property
    def ok(self) -> bool:
        return self.failed == 0


def _kind(value: Any) -> pii.Kind:
    return "kk" if value == "kk" else "nik"


async def check(db: Database, keys: pii.Keys) -> KeyCheck:
    """Open the first and last sealed values of each table, in the order of its key, with these keys."""
    total = tried = failed = 0
    for table, key, kind, _index, sealed in _SEALED:
        where = f"{sealed} <> ''"
        total += int((await db.fetch(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}"))[0]["n"])
        half = SAMPLE // 2
        rows = [*await db.fetch(f"SELECT {kind} AS kind, {sealed} AS sealed FROM {table} WHERE {where} "
                                f"ORDER BY {', '.join(key)} LIMIT {{}}", half),
                *await db.fetch(f"SELECT {kind} AS kind, {sealed} AS sealed FROM {table} WHERE {where} "
                                f"ORDER BY {', '.join(c + ' DESC' for c in key)} LIMIT {{}}", half)]
        for row in rows:
            tried += 1
            if not _opens(keys, _kind(row["kind"]), str(row["sealed"])):
                failed += 1
    total += int((await db.fetch(_ANSWERS_COUNT[db.kind]))[0]["n"])
    half = SAMPLE // 2
    for order in ("", " DESC"):
        for row in await db.fetch(f"SELECT sealed FROM submission WHERE sealed <> '' ORDER BY id{order} LIMIT {{}}",
                                  half):
            for kind, sealed in pii.held_answers(str(row["sealed"])).values():
                tried += 1
                if not _opens(keys, kind, sealed):
                    failed += 1
    return KeyCheck(fingerprint=keys.fingerprint, sealed=total, tried=tried, failed=failed)


def _opens(keys: pii.Keys, kind: pii.Kind, sealed: str) -> bool:
    try:
        pii.open_sealed(keys, kind, sealed)
    except (InvalidTag, ValueError):
        return False
    return True


async def refuse_wrong_key(db: Database, keys: pii.Keys) -> KeyCheck:
    """For start-up: the check, or keys.wrong_key naming what to do."""
    found = await check(db, keys)
    if not found.ok:
        raise PantauError("keys.wrong_key", failed=found.failed, tried=found.tried, fingerprint=found.fingerprint)
    return found


class Rotated(msgspec.Struct, frozen=True, kw_only=True):
    values: int  # values re-sealed
    already: int  # values that already opened with the new key (a rotation run before)


def rotate(tx: Tx, old: pii.Keys, new: pii.Keys) -> Rotated:
    """Every sealed NIK/KK and its blind index (a submission's answers keep none: pii.held), from the
    old key to the new, inside the caller's one transaction (the writer's): a value that opens with
    neither key stops everything (keys.rotate_failed), so a wrong old key changes nothing. Values
    already under the new key are left as they are."""
    if old.fingerprint == new.fingerprint:
        raise PantauError("keys.same_key")
    done = already = 0
    for table, key, kind, index, sealed in _SEALED:
        picked = ", ".join(f"{column} AS key_{n}" for n, column in enumerate(key))
        by_key = " AND ".join(f"{column} = {{}}" for column in key)
        rows = tx.fetch(f"SELECT {picked}, {kind} AS kind, {sealed} AS sealed FROM {table} WHERE {sealed} <> ''")
        for row in rows:
            value_kind = _kind(row["kind"])
            found = [row[f"key_{n}"] for n in range(len(key))]
            digits = _open_either(old, new, value_kind, str(row["sealed"]), table, "/".join(map(str, found)))
            if digits is None:
                already += 1
                continue
            tx.execute(f"UPDATE {table} SET {sealed} = {{}}, {index} = {{}} WHERE {by_key}",
                       pii.seal(new, value_kind, digits), pii.blind_index(new, value_kind, digits), *found)
            done += 1
    for row in tx.fetch("SELECT id, sealed FROM submission WHERE sealed <> ''"):
        held = pii.held_answers(str(row["sealed"]))
        moved: dict[str, tuple[pii.Kind, str]] = {}
        for path, (value_kind, sealed) in held.items():
            digits = _open_either(old, new, value_kind, sealed, "submission", f"{row['id']}/{path}")
            if digits is None:
                already += 1
                continue
            moved[path] = (value_kind, pii.seal(new, value_kind, digits))
            done += 1
        if moved:
            answers = [pii.SealedAnswer(path=path, kind=kind, index="", sealed=sealed)
                       for path, (kind, sealed) in {**held, **moved}.items()]
            tx.execute("UPDATE submission SET sealed = {} WHERE id = {}", pii.held(answers), row["id"])
    return Rotated(values=done, already=already)


def _open_either(old: pii.Keys, new: pii.Keys, kind: pii.Kind, sealed: str, table: str, pk: Any) -> str | None:
    """The digits under the old key; None when the value is already under the new one."""
    try:
        return pii.open_sealed(old, kind, sealed)
    except (InvalidTag, ValueError):
        pass
    if _opens(new, kind, sealed):
        return None
    raise PantauError("keys.rotate_failed", table=table, row=str(pk))
