"""The registry import's jobs in the database (m0016), so every process of every node knows every
job: one serves the upload and runs the check, another the progress, the rows, the reasons and the
commit. A job row holds the state and the progress; the uploaded file and the encoded check are
stored beside it, sealed with the registry's key (they hold NIKs in clear): blobs in PostgreSQL
(storage/blobs.py), files in the data directory on SQLite (one machine's processes share it).

A check's process writes its progress every BEAT_S; a job still `checking` whose process has been
silent for STALE_S stopped with that process (a restart, a crash) and reads as `interrupted`, as do
the checks a process cancels when it stops. Jobs older than PANTAU_IMPORT_JOB_HOURS go, with their
files (sweep)."""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
import time
from pathlib import Path

import msgspec

from server import clock
from server.domain import registry_import as checks
from server.private_files import private_dir, write_durably
from server.settings import Settings
from server.storage import blobs, pii
from server.storage.db import Database
from server.storage.registry_import import IntakeForm, Outcome

BEAT_S = 1.0  # a checking process writes its progress this often
STALE_S = 60  # silent this long: the check's process is gone
CHECKING, CHECKED, FAILED, INTERRUPTED, DONE = "checking", "checked", "failed", "interrupted", "done"
INTERRUPTED_PROBLEM = (
    "Pemeriksaan berkas terhenti karena server dimulai ulang atau berhenti. Berkas Anda masih tersimpan: "
    "tekan “Periksa lagi” untuk memeriksanya kembali. Belum ada data yang disimpan.",
    "The check stopped because the server restarted or stopped. Your file is still kept: press “Check "
    "again” to check it again. Nothing was stored.",
)


class Job(msgspec.Struct, kw_only=True):
    id: str
    owner: int
    file_name: str
    sha256: str
    suffix: str
    intake: IntakeForm
    area: str = ""
    mapping: checks.Mapping | None = None  # None: guessed from the file
    state: str = CHECKING
    generation: int = 0
    done: int = 0
    total: int = 0
    problem: tuple[str, str] = ("", "")
    outcome: Outcome | None = None


def new_id() -> str:
    return secrets.token_urlsafe(16)  # 22 characters


def file_key(job_id: str) -> str:
    return f"import-file:{job_id}"


def run_key(job_id: str, generation: int) -> str:
    return f"import-run:{job_id}:{generation}"


def folder(settings: Settings) -> Path:
    return private_dir(Path(settings.data_dir) / "imports")


# --- the stored bytes -----------------------------------------------------------------------------------
async def put(db: Database, settings: Settings, key: str, data: bytes) -> None:
    sealed = pii.seal_bytes(pii.keys_of(settings), key, data)
    if blobs.in_database(db.url):
        await blobs.put_bytes(db, sealed, key)
    else:
        write_durably(_path(settings, key), sealed)


async def get(db: Database, settings: Settings, key: str) -> bytes | None:
    if blobs.in_database(db.url):
        sealed = b"".join([piece async for piece in blobs.read(db, key)])
    else:
        try:
            sealed = _path(settings, key).read_bytes()
        except FileNotFoundError:
            sealed = b""
    return pii.open_bytes(pii.keys_of(settings), key, sealed) if sealed else None


async def drop(db: Database, settings: Settings, key: str) -> None:
    if blobs.in_database(db.url):
        await blobs.drop(db, key)
    else:
        with contextlib.suppress(FileNotFoundError):
            _path(settings, key).unlink()


def _path(settings: Settings, key: str) -> Path:
    return folder(settings) / key.replace(":", "_")


def encode_run(run: checks.DryRun) -> bytes:
    return msgspec.msgpack.encode(run)


def decode_run(data: bytes) -> checks.DryRun:
    return msgspec.msgpack.decode(data, type=checks.DryRun)


# --- the rows -------------------------------------------------------------------------------------------
_COLUMNS = ("id, owner, file_name, sha256, suffix, intake, area, mapping, state, generation, done, total, problem, "
            "outcome")


async def create(db: Database, job: Job) -> None:
    now = clock.now()
    await db.fetch(f"INSERT INTO import_job ({_COLUMNS}, created_at, beat_at) VALUES "
                   "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
                   job.id, job.owner, job.file_name[:200], job.sha256, job.suffix[:8],
                   msgspec.json.encode(job.intake).decode(), job.area, _mapping_text(job.mapping), job.state,
                   job.generation, job.done, job.total, msgspec.json.encode(job.problem).decode(), "", now, now)


async def load(db: Database, job_id: str) -> Job | None:
    """The job, `interrupted` when its check's process has been silent for STALE_S."""
    stale = clock.now() - dt.timedelta(seconds=STALE_S)
    rows = await db.fetch(f"SELECT {_COLUMNS}, CASE WHEN beat_at < {{}} THEN 1 ELSE 0 END AS stale FROM import_job "
                          "WHERE id = {}", stale, job_id)
    if not rows:
        return None
    row = rows[0]
    job = Job(id=row["id"], owner=int(row["owner"]), file_name=row["file_name"], sha256=row["sha256"],
              suffix=row["suffix"], intake=msgspec.json.decode(row["intake"], type=IntakeForm), area=row["area"],
              mapping=msgspec.json.decode(row["mapping"], type=checks.Mapping) if row["mapping"] else None,
              state=row["state"], generation=int(row["generation"]), done=int(row["done"]),
              total=int(row["total"]), problem=tuple(msgspec.json.decode(row["problem"])),
              outcome=msgspec.json.decode(row["outcome"], type=Outcome) if row["outcome"] else None)
    if job.state == INTERRUPTED or (job.state == CHECKING and int(row["stale"])):
        job.state, job.problem = INTERRUPTED, INTERRUPTED_PROBLEM
    return job


async def begin_check(db: Database, job_id: str, mapping: checks.Mapping | None) -> int:
    """A new check of the job's file (the first, or again with a new mapping): its generation."""
    rows = await db.fetch("UPDATE import_job SET state = {}, generation = generation + 1, done = 0, total = 0, "
                          "problem = {}, mapping = {}, beat_at = {} WHERE id = {} AND state <> {} "
                          "RETURNING generation", CHECKING, '["",""]', _mapping_text(mapping), clock.now(),
                          job_id, DONE)
    return int(rows[0]["generation"]) if rows else 0


async def progress(db: Database, job_id: str, generation: int, done: int, total: int) -> None:
    await db.fetch("UPDATE import_job SET done = {}, total = {}, beat_at = {} WHERE id = {} AND generation = {} "
                   "AND state = {}", done, total, clock.now(), job_id, generation, CHECKING)


async def finish(db: Database, job_id: str, generation: int, state: str, done: int = 0, total: int = 0,
                 problem: tuple[str, str] = ("", "")) -> bool:
    """The check's end, unless a newer check began meanwhile (then False: its result is not wanted)."""
    rows = await db.fetch("UPDATE import_job SET state = {}, done = {}, total = {}, problem = {}, beat_at = {} "
                          "WHERE id = {} AND generation = {} AND state = {} RETURNING id", state, done, total,
                          msgspec.json.encode(problem).decode(), clock.now(), job_id, generation, CHECKING)
    return bool(rows)


async def sweep(db: Database, settings: Settings) -> int:
    """Jobs older than the retention period, with their stored file and checks; then any file in
    the folder older than that (a job row removed by hand, a crash between two steps)."""
    limit = clock.now() - dt.timedelta(hours=settings.import_job_hours)
    old = await db.fetch("SELECT id, generation FROM import_job WHERE created_at < {}", limit)
    for row in old:
        for key in (file_key(row["id"]), *(run_key(row["id"], n) for n in range(1, int(row["generation"]) + 1))):
            await drop(db, settings, key)
        await db.fetch("DELETE FROM import_job WHERE id = {}", row["id"])
    if not blobs.in_database(db.url):
        oldest = time.time() - settings.import_job_hours * 3600
        for path in folder(settings).iterdir():
            with contextlib.suppress(OSError):
                if path.is_file() and path.stat().st_mtime < oldest:
                    path.unlink()
    return len(old)


def _mapping_text(mapping: checks.Mapping | None) -> str:
    return msgspec.json.encode(mapping).decode() if mapping is not None else ""


async def interrupt(db: Database, job_id: str, generation: int) -> None:
    """A check this process stops (it is shutting down): the job reads as interrupted at once."""
    await db.fetch("UPDATE import_job SET state = {} WHERE id = {} AND generation = {} AND state = {}",
                   INTERRUPTED, job_id, generation, CHECKING)
