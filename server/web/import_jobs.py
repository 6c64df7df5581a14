"""The registry import's checks as jobs: an upload is checked in the background while the page
polls its progress. The job lives in the database (storage/import_jobs.py), so the process that runs
the check need not be the one that shows its progress, its rows, its reasons or commits it; it
belongs to the person who uploaded it (any other person gets the same answer as for an unknown job:
not found). A check whose process stops reads as interrupted, with a button to check the kept file
again; nothing was stored (the commit is a separate step)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tempfile
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar

from server.domain import registry_import as checks
from server.domain.access import Principal
from server.domain.registry_file import FileProblem
from server.errors import PantauError
from server.settings import Settings
from server.storage import access
from server.storage import import_jobs as jobs
from server.storage import registry_import as store
from server.storage.db import Database

JOB_ID_LENGTH = 22
_CACHED_RUNS = 2  # decoded checks this process keeps, each with every row of its file as objects


@dataclass
class Running:
    generation: int
    done: int = 0
    total: int = 0
    task: Any = None


RUNNING: dict[str, Running] = {}  # the checks this process runs, by job id
_RUNS: OrderedDict[tuple[str, int], checks.DryRun] = OrderedDict()


async def create(db: Database, settings: Settings, data: bytes, *, owner: int, file_name: str,
                 intake: store.IntakeForm, area: str, mapping: checks.Mapping | None) -> str:
    """Stores the upload and its job, and starts its check here: the job's id."""
    await jobs.sweep(db, settings)
    job = jobs.Job(id=jobs.new_id(), owner=owner, file_name=file_name, sha256=_sha256(data),
                   suffix=Path(file_name).suffix.lower()[:8], intake=intake, area=area, mapping=mapping)
    await jobs.put(db, settings, jobs.file_key(job.id), data)
    await jobs.create(db, job)
    await start(db, settings, job.id, mapping)
    return job.id


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def start(db: Database, settings: Settings, job_id: str, mapping: checks.Mapping | None) -> None:
    generation = await jobs.begin_check(db, job_id, mapping)
    if not generation:
        raise PantauError("http.bad_request", detail="pilihan")  # committed: nothing to check again
    previous = RUNNING.get(job_id)
    if previous is not None and previous.task is not None:
        previous.task.cancel()
    running = RUNNING[job_id] = Running(generation)
    running.task = asyncio.get_running_loop().create_task(_check(db, settings, job_id, running, mapping))


async def _check(db: Database, settings: Settings, job_id: str, running: Running,
                 mapping: checks.Mapping | None) -> None:
    def progress(done: int, total: int) -> None:  # from the checking thread
        running.done, running.total = done, total

    beat = asyncio.get_running_loop().create_task(_beat(db, job_id, running))
    try:
        job = await jobs.load(db, job_id)
        data = await jobs.get(db, settings, jobs.file_key(job_id))
        if job is None or data is None:
            return
        with local_copy(settings, data, job.suffix) as path:
            run = await store.dry_run(db, settings, job.intake, path, mapping=mapping, area=job.area,
                                      progress=progress)
        key = jobs.run_key(job_id, running.generation)
        await jobs.put(db, settings, key, jobs.encode_run(run))
        if await jobs.finish(db, job_id, running.generation, jobs.CHECKED, running.done, running.total):
            _remember(job_id, running.generation, run)
            if running.generation > 1:
                await jobs.drop(db, settings, jobs.run_key(job_id, running.generation - 1))
        else:
            await jobs.drop(db, settings, key)
    except FileProblem as problem:
        await jobs.finish(db, job_id, running.generation, jobs.FAILED,
                          problem=(problem.message("id"), problem.message("en")))
    except PantauError as error:
        await jobs.finish(db, job_id, running.generation, jobs.FAILED,
                          problem=(error.message("id"), error.message("en")))
    finally:
        beat.cancel()
        if RUNNING.get(job_id) is running:
            del RUNNING[job_id]


async def _beat(db: Database, job_id: str, running: Running) -> None:
    """The check's progress in the database every BEAT_S: other processes show it, and know it lives."""
    while True:
        await asyncio.sleep(jobs.BEAT_S)
        with contextlib.suppress(PantauError):  # a busy database skips a beat, not the check
            await jobs.progress(db, job_id, running.generation, running.done, running.total)


@contextlib.contextmanager
def local_copy(settings: Settings, data: bytes, suffix: str) -> Iterator[Path]:
    """The file as the readers want it, a path, in the private folder; gone afterwards."""
    with tempfile.TemporaryDirectory(dir=jobs.folder(settings)) as tmp:
        path = Path(tmp) / f"berkas{suffix}"
        path.write_bytes(data)
        yield path


def _remember(job_id: str, generation: int, run: checks.DryRun) -> None:
    _RUNS[(job_id, generation)] = run
    _RUNS.move_to_end((job_id, generation))
    while len(_RUNS) > _CACHED_RUNS:
        _RUNS.popitem(last=False)


async def stop_all(db: Database) -> None:
    """The process is stopping: its checks end now and read as interrupted everywhere."""
    for job_id, running in list(RUNNING.items()):
        if running.task is not None:
            running.task.cancel()
        with contextlib.suppress(Exception):
            await jobs.interrupt(db, job_id, running.generation)
    RUNNING.clear()


async def find(db: Database, principal: Principal, job_id: str) -> jobs.Job:
    """The job as storage/access.import_job_for loads it (its uploader's only), with this process's
    progress when it is checking here."""
    job = await access.import_job_for(db, principal, job_id, JOB_ID_LENGTH)
    running = RUNNING.get(job_id)
    if job.state == jobs.CHECKING and running is not None:  # fresher than the last beat
        job.done, job.total = running.done, running.total
    return job


async def run_of(db: Database, settings: Settings, job: jobs.Job) -> checks.DryRun | None:
    """The job's check once it is over (this process's copy, else the stored one)."""
    if job.state not in (jobs.CHECKED, jobs.DONE):
        return None
    found = _RUNS.get((job.id, job.generation))
    if found is None:
        data = await jobs.get(db, settings, jobs.run_key(job.id, job.generation))
        if data is None:
            return None
        found = await asyncio.to_thread(jobs.decode_run, data)
        _remember(job.id, job.generation, found)
    return found


async def file_of(db: Database, settings: Settings, job: jobs.Job) -> bytes:
    data = await jobs.get(db, settings, jobs.file_key(job.id))
    if data is None:
        raise PantauError("import.unknown_job")
    return data


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Checks still running when the app stops are marked interrupted (the database is still open:
    this lifespan ends before the one that closes it)."""
    try:
        yield
    finally:
        await stop_all(app.state.db)
