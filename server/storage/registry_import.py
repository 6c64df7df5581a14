"""Committing a checked beneficiary list: all or nothing, in ONE writer transaction.

Each new person is stored as the registry stores an intake: a submission of the programme's intake
form (approved, received at the import: reports count the person from the date of import as an
approved record, through the same basis as everyone else, domain/basis.py), the beneficiary row
whose id is that submission's (NIK/KK sealed, blind index, masked), and an event "diimpor dari <file>
oleh <user>" on their timeline. A row whose NIK is already registered in the programme updates only
the fields the mapping marks as updatable; the event records the old and the new values. The file is
recorded by its sha256: the same file again changes nothing and says so. Audited as registry.import."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
from piccolo.engine.sqlite import convert_datetime_in

from server import clock
from server.domain import registry as rules
from server.domain import registry_import as checks
from server.domain.access import Principal
from server.domain.form import Question as FormQuestion
from server.domain.form import RegistryCreates, walk
from server.domain.review import APPROVED, RECEIVED
from server.errors import PantauError
from server.settings import Settings
from server.storage import audit, forms, pii, registry
from server.storage.db import Database
from server.storage.write_tx import Tx
from server.storage.writer import Writer

CHUNK = 500  # blind indexes per lookup statement
CREATE_CHUNK = 2000  # people per round of inserts
SOURCE = "impor"  # what the registry shows as a record's source
PATIENCE_S = 3600.0  # the commit of MAX_ROWS people on a loaded machine: minutes, never an hour


class IntakeForm(msgspec.Struct, frozen=True, kw_only=True):
    """The published form that registers a programme's people: where imported people are filed."""

    form_id: str
    version_pk: int
    programme: str
    title: str
    answers: dict[str, str]  # import field -> the intake form's field name
    one_per_kk: bool
    visit_months: int
    groups: dict[str, str]  # target group code -> label (Indonesian)


async def intake_forms(db: Database) -> list[IntakeForm]:
    """Every published form with a `registry: creates:` block, one per programme (the first by id)."""
    found: dict[str, IntakeForm] = {}
    for summary in await forms.list_forms(db):
        if summary.status != "published":
            continue
        loaded = await forms.load_version(db, summary.form_id)
        registry = loaded.compiled.definition.settings.registry if loaded else None
        if loaded is None or registry is None or registry.creates is None or registry.programme in found:
            continue
        found[registry.programme] = _intake(loaded, registry.programme, registry.creates, registry.one_per_kk,
                                            rules.VISIT_MONTHS[registry.visit_every], summary.title_id)
    return list(found.values())


def _intake(loaded: forms.LoadedVersion, programme: str, spec: RegistryCreates, one_per_kk: bool, months: int,
            title: str) -> IntakeForm:
    answers = {"name": spec.name, "desa": spec.area, "nik": spec.nik or "", "kk": spec.kk or "",
               "sex": spec.sex or "", "birth_date": spec.birth_date or "", "group": spec.group or "",
               "registered_on": spec.date or ""}
    definition = loaded.compiled.definition
    groups: dict[str, str] = {}
    question = next((f for f, _ in walk(definition.fields) if isinstance(f, FormQuestion) and f.name == spec.group),
                    None) if spec.group else None
    if question is not None and question.choices and question.choices in definition.choices:
        groups = {c.name: c.label.get("id") or next(iter(c.label.values()), c.name)
                  for c in definition.choices[question.choices].choices}
    return IntakeForm(form_id=loaded.form_id, version_pk=loaded.pk, programme=programme, title=title or loaded.form_id,
                      answers={k: v for k, v in answers.items() if v}, one_per_kk=one_per_kk, visit_months=months,
                      groups=groups)


async def intake_for(db: Database, programme: str) -> IntakeForm:
    for intake in await intake_forms(db):
        if intake.programme == programme or not programme:
            return intake
    raise PantauError("import.no_intake", programme=programme or "-")


# --- saved mappings -------------------------------------------------------------------------------
async def mappings(db: Database) -> dict[str, checks.Mapping]:
    rows = await db.fetch("SELECT name, CAST(mapping AS TEXT) AS mapping FROM import_mapping ORDER BY name")
    return {r["name"]: msgspec.json.decode(r["mapping"], type=checks.Mapping) for r in rows}


async def save_mapping(db: Database, name: str, mapping: checks.Mapping, principal: Principal) -> None:
    clean = " ".join(name.split())[:80]
    if not clean:
        raise PantauError("import.bad_mapping", detail="name")
    encoded = msgspec.json.encode(mapping).decode()
    await db.fetch("INSERT INTO import_mapping (name, mapping, saved_by, saved_at) VALUES ({}, {}, {}, {}) "
                   "ON CONFLICT (name) DO UPDATE SET mapping = excluded.mapping, saved_by = excluded.saved_by, "
                   "saved_at = excluded.saved_at", clean, encoded, principal.id, clock.now())


# --- against the registry (dry run) -------------------------------------------------------------
class Previous(msgspec.Struct, frozen=True):
    at: str
    by: str
    created: int
    updated: int


async def previous_import(db: Database, programme: str, sha256: str) -> Previous | None:
    rows = await db.fetch("SELECT CAST(i.imported_at AS TEXT) AS at, COALESCE(u.username, '') AS by, i.created, "
                          "i.updated FROM registry_import i LEFT JOIN pantau_user u ON u.id = i.imported_by "
                          "WHERE i.programme = {} AND i.sha256 = {}", programme, sha256)
    return Previous(str(rows[0]["at"])[:16], rows[0]["by"], rows[0]["created"], rows[0]["updated"]) if rows else None


async def compare_with_registry(db: Database, settings: Settings, intake: IntakeForm, run: checks.DryRun) -> None:
    """Adds to each row what the registry holds (the NIK registered: an update; the KK of another
    recipient in a one-per-family programme: a warning) and recounts the summary. The blind indexes
    are kept on the run for the commit (an HMAC per number, not three)."""
    people = [r.person for r in run.results if r.person is not None]
    index = _indexer(pii.keys_of(settings), run.indexes)
    nik_of = {index("nik", p.nik): p.nik for p in people}
    registered = {nik_of[str(r["nik_index"])] for chunk in _chunks(list(nik_of)) for r in await db.fetch(
        f"SELECT nik_index FROM beneficiary WHERE programme = {{}} AND status = 'active' AND nik_index IN "
        f"({_marks(chunk)})", intake.programme, *chunk)}
    shared: set[str] = set()
    if intake.one_per_kk:
        kk_of = {index("kk", p.kk): p.kk for p in people if p.kk}
        nik_index_of = {p.kk: index("nik", p.nik) for p in people if p.kk}
        for chunk in _chunks(list(kk_of)):
            for row in await db.fetch(f"SELECT kk_index, nik_index FROM beneficiary WHERE programme = {{}} AND "
                                      f"status = 'active' AND kk_index IN ({_marks(chunk)})", intake.programme, *chunk):
                kk = kk_of[str(row["kk_index"])]
                if row["nik_index"] != nik_index_of.get(kk):
                    shared.add(kk)
    checks.against_registry(run.results, registered, shared)
    checks.recount(run)


def _indexer(keys: pii.Keys, memo: dict[str, str]) -> Callable[[pii.Kind, str], str]:
    def index(kind: pii.Kind, digits: str) -> str:
        key = f"{kind}:{digits}"
        found = memo.get(key)
        if found is None:
            found = memo[key] = pii.blind_index(keys, kind, digits)
        return found

    return index


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _marks(items: list[Any]) -> str:
    return ", ".join(["{}"] * len(items))


# --- the commit -----------------------------------------------------------------------------------
class Outcome(msgspec.Struct, frozen=True, kw_only=True):
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows not imported (errors; warnings not confirmed)
    already: Previous | None = None  # the same file was imported before: nothing changed


class _Sealed(msgspec.Struct, frozen=True):
    row: int
    person: checks.Candidate
    nik: SealedId
    kk: SealedId | None


class SealedId(msgspec.Struct, frozen=True):
    index: str
    sealed: str
    masked: str


class Upload(msgspec.Struct, frozen=True, kw_only=True):
    """What the commit records about the file."""

    file_name: str
    sha256: str
    mapping: checks.Mapping
    with_warnings: bool
    job_id: str = ""  # the page's import job (storage/import_jobs.py): marked done in the same transaction


async def commit(db: Database, writer: Writer, settings: Settings, intake: IntakeForm, run: checks.DryRun,
                 upload: Upload, principal: Principal, address: str = "") -> Outcome:
    """Stores the importable rows or nothing. Rows with errors are never stored; rows with warnings
    only when the upload says they were confirmed. Raises PantauError when the file has errors and
    nothing can be imported (run.missing)."""
    if run.missing:
        raise PantauError("import.missing_columns", fields=", ".join(run.missing))
    keys = pii.keys_of(settings)
    index = _indexer(keys, run.indexes)
    chosen = run.importable(upload.with_warnings)
    sealed = [_Sealed(r.row, r.person, _seal(keys, index, "nik", r.person.nik),
                      _seal(keys, index, "kk", r.person.kk) if r.person.kk else None)
              for r in chosen if r.person is not None]
    today = clock.today().isoformat()
    job = _Commit(intake, upload, sealed, principal, address, today, skipped=run.summary.rows - len(sealed))
    return await writer.run(job)


def _seal(keys: pii.Keys, index: Callable[[pii.Kind, str], str], kind: pii.Kind, digits: str) -> SealedId:
    return SealedId(index(kind, digits), pii.seal(keys, kind, digits), rules.mask(digits))


class _Commit:
    """The writer-thread part: one transaction (the writer's), so a failure stores nothing."""

    patience = PATIENCE_S  # the writer lets this transaction run long (storage/writer._patience_of)

    def __init__(self, intake: IntakeForm, upload: Upload, rows: list[_Sealed], principal: Principal,
                 address: str, today: str, skipped: int) -> None:
        self.intake, self.upload, self.rows, self.principal = intake, upload, rows, principal
        self.address, self.today, self.skipped = address, today, skipped

    def __call__(self, tx: Tx) -> Outcome:
        now = clock.now()
        tx.lock_keys(f"import:{self.intake.programme}:{self.upload.sha256}")
        done = tx.fetch("SELECT CAST(i.imported_at AS TEXT) AS at, COALESCE(u.username, '') AS by, i.created, "
                        "i.updated FROM registry_import i LEFT JOIN pantau_user u ON u.id = i.imported_by "
                        "WHERE i.programme = {} AND i.sha256 = {}", self.intake.programme, self.upload.sha256)
        if done:
            row = done[0]
            return self._job_done(tx, Outcome(already=Previous(str(row["at"])[:16], row["by"], row["created"],
                                                               row["updated"])))
        existing = self._existing(tx)
        new = [r for r in self.rows if r.nik.index not in existing]
        updates = [r for r in self.rows if r.nik.index in existing]
        for start in range(0, len(new), CREATE_CHUNK):  # bounded lists of statement rows, whatever the file
            self._create(tx, new[start:start + CREATE_CHUNK], now)
        changed = sum(self._update(tx, r, existing[r.nik.index], now) for r in updates)
        if self.intake.one_per_kk:
            self._flag_families(tx)
        outcome = Outcome(created=len(new), updated=changed, unchanged=len(updates) - changed, skipped=self.skipped)
        tx.execute("INSERT INTO registry_import (programme, sha256, file_name, created, updated, unchanged, skipped, "
                   "imported_by, imported_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})", self.intake.programme,
                   self.upload.sha256, self.upload.file_name[:200], outcome.created, outcome.updated,
                   outcome.unchanged, outcome.skipped, self.principal.id, now)
        detail = (f"file={self.upload.file_name[:200]} sha256={self.upload.sha256} created={outcome.created} "
                  f"updated={outcome.updated} unchanged={outcome.unchanged} skipped={outcome.skipped}")
        tx.execute(audit.INSERT, *audit.values(self.principal, "registry.import", target_type="programme",
                                               target_id=self.intake.programme, detail=detail, address=self.address))
        return self._job_done(tx, outcome)

    def _job_done(self, tx: Tx, outcome: Outcome) -> Outcome:
        if self.upload.job_id:
            tx.execute("UPDATE import_job SET state = 'done', outcome = {} WHERE id = {}",
                       msgspec.json.encode(outcome).decode(), self.upload.job_id)
        return outcome

    def _existing(self, tx: Tx) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        indexes = sorted({r.nik.index for r in self.rows})
        for chunk in _chunks(indexes):
            for row in tx.fetch("SELECT id, nik_index, kk_index, kk_masked, name, sex, birth_date, area_code, "
                                "target_group, flags FROM beneficiary WHERE programme = {} AND status = 'active' "
                                f"AND nik_index IN ({_marks(chunk)}) ORDER BY created_at, id{tx.for_update}",
                                self.intake.programme, *chunk):
                found.setdefault(str(row["nik_index"]), row)
        return found

    def _event(self, changes: list[rules.Figure]) -> str:
        file_name, user = self.upload.file_name, self.principal.username
        source = rules.Figure(key="sumber", value=SOURCE, label={"id": "Sumber", "en": "Source"},
                              text={"id": f"diimpor dari {file_name} oleh {user}",
                                    "en": f"imported from {file_name} by {user}"})
        summary = {"figures": msgspec.to_builtins([source, *changes]), "source": SOURCE, "file": file_name,
                   "sha256": self.upload.sha256, "by": user}
        return msgspec.json.encode(summary).decode()

    def _answers(self, person: checks.Candidate, nik: SealedId, kk: SealedId | None) -> str:
        fields = self.intake.answers
        values = {"name": person.name, "desa": person.area_code, "nik": nik.masked, "kk": kk.masked if kk else "",
                  "sex": person.sex, "birth_date": person.birth_date, "group": person.group,
                  "registered_on": self.today}
        return msgspec.json.encode({fields[k]: v for k, v in values.items() if k in fields and v}).decode()

    def _create(self, tx: Tx, rows: list[_Sealed], moment: dt.datetime) -> None:
        intake, user = self.intake, self.principal.id
        # SQLite: the one timestamp as the text its adapter would make of it, once rather than five
        # times per person (half a million adapter calls for an office's list)
        now: Any = convert_datetime_in(moment) if tx.kind == "sqlite" else moment
        due = rules.next_due(self.today, intake.visit_months)
        event = self._event([])
        submissions, people, events, reviews = [], [], [], []
        for item in rows:
            # the id as text once (each row names it up to 8 times; the driver's adapter would convert each)
            pid, person, kk = str(uuid.uuid4()), item.person, item.kk or SealedId("", "", "")
            name, key = person.name[:200], rules.name_key(person.name)[:200]
            digest = hashlib.sha256(f"import:{self.upload.sha256}:{item.row}".encode()).hexdigest()
            ids: tuple[tuple[str | None, SealedId | None, pii.Kind], ...] = (
                (intake.answers.get("nik"), item.nik, "nik"), (intake.answers.get("kk"), item.kk, "kk"))
            sealed = [pii.SealedAnswer(path=path, kind=kind, index=value.index, sealed=value.sealed)
                      for path, value, kind in ids if path and value is not None]
            submissions.append((pid, intake.version_pk, intake.form_id, user, person.area_code, digest,
                                self._answers(person, item.nik, item.kk), pii.held(sealed), APPROVED, now))
            people.append((pid, intake.programme, item.nik.index, item.nik.sealed, item.nik.masked, kk.index,
                           kk.sealed, kk.masked, name, key, person.sex,
                           person.birth_date, person.area_code, rules.kecamatan_of(person.area_code),
                           person.group[:40], "[]", self.today, intake.visit_months, "", "", due, user, now, now))
            events.append((pid, pid, "import", "import", self.today, event, now))
            reviews.append((pid, 1, RECEIVED, APPROVED, f"impor {self.upload.file_name}"[:500], user, now))
        tx.many("INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, answers, "
                "sealed, revision, review_status, received_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, 1, {}, {})",
                submissions)
        tx.many("INSERT INTO beneficiary (id, programme, nik_index, nik_sealed, nik_masked, kk_index, kk_sealed, "
                "kk_masked, name, name_key, sex, birth_date, area_code, kecamatan, target_group, baseline, "
                "registered_on, visit_months, flags, last_visit_on, next_due_on, created_by, created_at, updated_at) "
                f"VALUES ({_marks(list(people[0]) if people else [])})", people)
        tx.many("INSERT INTO beneficiary_event (beneficiary, submission, form_id, kind, happened_on, summary, "
                "recorded_at) VALUES ({}, {}, {}, {}, {}, {}, {})", events)
        tx.many("INSERT INTO review_event (submission, revision, from_status, to_status, comment, actor, at) "
                "VALUES ({}, {}, {}, {}, {}, {}, {})", reviews)

    def _update(self, tx: Tx, item: _Sealed, row: dict[str, Any], now: dt.datetime) -> bool:
        """The updatable fields that differ; an event with the old and new values. False: nothing changed."""
        person, wanted = item.person, set(self.upload.mapping.update)
        new_kk = item.kk or SealedId("", "", "")
        candidates = {
            "name": ("name", row["name"], person.name), "sex": ("sex", row["sex"], person.sex),
            "birth_date": ("birth_date", row["birth_date"], person.birth_date),
            "desa": ("area_code", row["area_code"], person.area_code),
            "group": ("target_group", row["target_group"], person.group),
            "kk": ("kk_index", row["kk_index"], new_kk.index),
        }
        changed = {field: spec for field, spec in candidates.items()
                   if field in wanted and spec[2] and str(spec[1] or "") != spec[2]}
        if not changed:
            return False
        sets: dict[str, Any] = {column: new for column, _old, new in changed.values()}
        if "kk" in changed:
            sets |= {"kk_sealed": new_kk.sealed, "kk_masked": new_kk.masked}
        if "name" in changed:
            sets["name_key"] = rules.name_key(person.name)[:200]
        if "desa" in changed:
            sets["kecamatan"] = rules.kecamatan_of(person.area_code)
        if "name" in changed:  # the intake that registered them goes on showing the name it gave
            registry.pin_name(tx, row["id"], person.name)
        assignments = ", ".join(f"{column} = {{}}" for column in sets)
        tx.execute(f"UPDATE beneficiary SET {assignments}, updated_at = {{}} WHERE id = {{}}", *sets.values(), now,
                   row["id"])
        figures = [_change(field, row, person, new_kk) for field in changed]
        sid = uuid.uuid4()
        digest = hashlib.sha256(f"import:{self.upload.sha256}:{item.row}".encode()).hexdigest()
        tx.execute("INSERT INTO submission (id, form_version, form_id, enumerator, area_code, content_hash, answers, "
                   "revision, review_status, received_at) VALUES ({}, {}, {}, {}, {}, {}, {}, 1, {}, {})",
                   sid, self.intake.version_pk, self.intake.form_id, self.principal.id,
                   sets.get("area_code", row["area_code"]), digest, self._answers(person, item.nik, item.kk),
                   APPROVED, now)
        tx.execute("INSERT INTO beneficiary_event (beneficiary, submission, form_id, kind, happened_on, summary, "
                   "recorded_at) VALUES ({}, {}, {}, {}, {}, {}, {})", row["id"], sid, "import", "import",
                   self.today, self._event(figures), now)
        return True

    def _flag_families(self, tx: Tx) -> None:
        """kk_ganda on every active record of the programme sharing a family card with another
        recipient, after the import: the same flag an intake sets (storage/registry.py)."""
        kks = sorted({r.kk.index for r in self.rows if r.kk is not None})
        for chunk in _chunks(kks):
            rows = tx.fetch(f"SELECT id, kk_index, nik_index, flags FROM beneficiary WHERE programme = {{}} AND "
                            f"status = 'active' AND kk_index IN ({_marks(chunk)}){tx.for_update}",
                            self.intake.programme, *chunk)
            by_kk: dict[str, list[dict[str, Any]]] = {}
            for row in rows:
                by_kk.setdefault(str(row["kk_index"]), []).append(row)
            for family in by_kk.values():
                if len({str(r["nik_index"]) for r in family}) > 1:
                    for row in family:
                        flags = set(str(row["flags"]).split())
                        if rules.SHARED_KK not in flags:
                            tx.execute("UPDATE beneficiary SET flags = {} WHERE id = {}",
                                       " ".join(sorted(flags | {rules.SHARED_KK})), row["id"])


_LABELS = {field: {"id": label[0], "en": label[1]} for field, label in checks.FIELDS.items()}


def _change(field: str, row: dict[str, Any], person: checks.Candidate, kk: SealedId) -> rules.Figure:
    old, new = {
        "name": (row["name"], person.name), "sex": (row["sex"], person.sex),
        "birth_date": (row["birth_date"], person.birth_date),
        "desa": (rules.area_name(str(row["area_code"])), rules.area_name(person.area_code)),
        "group": (row["target_group"], person.group), "kk": (row["kk_masked"], kk.masked),
    }[field]
    text = f"{old or '-'} → {new}"
    return rules.Figure(key=field, value={"old": old, "new": new}, label=_LABELS[field], text={"id": text, "en": text})


async def dry_run(db: Database, settings: Settings, intake: IntakeForm, path: Path, *,
                  mapping: checks.Mapping | None = None, area: str = "", sheet: str = "",
                  progress: checks.Progress | None = None) -> checks.DryRun:
    """Reads and checks the file (in a thread: it is CPU work), then against the registry. Raises
    registry_file.FileProblem when the file as a whole cannot be read."""
    run = await asyncio.to_thread(checks.check_file, path, today=clock.today(), groups=intake.groups,
                                  one_per_kk=intake.one_per_kk, area=area, mapping=mapping, sheet=sheet,
                                  progress=progress)
    if not run.missing:
        await compare_with_registry(db, settings, intake, run)
    return run


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
