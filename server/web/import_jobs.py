"""The registry import's checks as jobs: an upload is checked in the background while the
page polls its progress. A job lives in this process for JOB_HOURS and belongs to the person who
uploaded it (any other person gets the same answer as for an unknown job: not found). Its file sits
in the data directory, owner-only, and goes with the job. A server restart forgets the jobs: the
page then asks for the file again (nothing was stored: the commit is a separate step)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from server.domain import registry_import as checks
from server.domain.registry_file import FileProblem
from server.errors import PantauError
from server.private_files import create_private, private_dir
from server.settings import Settings
from server.storage import registry_import as store
from server.storage.db import Database

JOB_HOURS = 2
MAX_JOBS = 200  # per process: the oldest go first
_JOB_ID_LENGTH = 22


@dataclass
class Job:
    id: str
    owner: int
    path: Path
    file_name: str
    sha256: str
    intake: store.IntakeForm
    area: str = ""
    state: str = "checking"  # checking, checked, failed, done
    done: int = 0
    total: int = 0
    run: checks.DryRun | None = None
    problem: tuple[str, str] = ("", "")
    outcome: store.Outcome | None = None
    created: float = field(default_factory=time.monotonic)
    task: Any = None


JOBS: dict[str, Job] = {}


def folder(settings: Settings) -> Path:
    return private_dir(Path(settings.data_dir) / "imports")


def save_upload(settings: Settings, data: bytes, suffix: str) -> tuple[str, Path]:
    """The uploaded list in the private folder; lists older than JOB_HOURS go first (a restart
    forgets its jobs, so their files are swept by age, not only with their job)."""
    job_id = secrets.token_urlsafe(16)
    _sweep(folder(settings))
    path = folder(settings) / f"{job_id}{suffix}"
    fd = create_private(path)
    with open(fd, "wb") as out:
        out.write(data)
    return job_id, path


def start(job: Job, db: Database, settings: Settings, mapping: checks.Mapping | None) -> None:
    _forget_old()
    JOBS[job.id] = job
    job.state, job.done, job.run, job.outcome = "checking", 0, None, None
    job.task = asyncio.get_running_loop().create_task(_check(job, db, settings, mapping))


async def _check(job: Job, db: Database, settings: Settings, mapping: checks.Mapping | None) -> None:
    def progress(done: int, total: int) -> None:
        job.done, job.total = done, total

    try:
        job.run = await store.dry_run(db, settings, job.intake, job.path, mapping=mapping, area=job.area,
                                      progress=progress)
        job.state = "checked"
    except FileProblem as problem:
        job.state, job.problem = "failed", (problem.message("id"), problem.message("en"))
    except PantauError as error:
        job.state, job.problem = "failed", (error.message("id"), error.message("en"))


def _sweep(where: Path) -> None:
    limit = time.time() - JOB_HOURS * 3600
    for old in where.iterdir():
        with contextlib.suppress(OSError):
            if old.is_file() and old.stat().st_mtime < limit:
                old.unlink()


def find(job_id: str, owner: int) -> Job:
    job = JOBS.get(job_id) if len(job_id) == _JOB_ID_LENGTH else None
    if job is None or job.owner != owner:
        raise PantauError("import.unknown_job")
    return job


def _forget_old() -> None:
    limit = time.monotonic() - JOB_HOURS * 3600
    old = [j for j in JOBS.values() if j.created < limit]
    old += sorted(JOBS.values(), key=lambda j: j.created)[: max(0, len(JOBS) - MAX_JOBS + 1)]
    for job in old:
        JOBS.pop(job.id, None)
        with contextlib.suppress(OSError):
            job.path.unlink()
