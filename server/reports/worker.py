"""Making a report outside the web server: `make_pdf` is the whole pipeline (definition -> dataset ->
HTML -> PDF -> archived file) and runs in a spawned process with a time limit, so WeasyPrint's CPU
and memory never touch the process that serves the phones, and a report that runs too long is
killed and its run marked failed. `execute` is the async side: claim the queued run (exactly one
process wins), wait for the worker in a thread, record the edition or the failure. `schedule_due`
queues each scheduled report once after its period closes (the unique run row decides)."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import io
import logging
import multiprocessing
import os
import tempfile
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

import msgspec

from server import clock
from server.domain import periods
from server.errors import PantauError
from server.private_files import private_dir
from server.reports import dataset, definitions, edition
from server.settings import Settings
from server.storage import blobs
from server.storage import reports as store
from server.storage.db import Database
from server.storage.writer import Writer

log = logging.getLogger("pantau.reports")
RENEW_S = 5.0  # how often the process rendering a run renews its lease on it
STALE_S = 30  # a lease not renewed for this long: the process died, the run is queued again
_RUNNING: set[asyncio.Task[Any]] = set()  # keep references: a bare task may be garbage-collected
# One report at a time per process: two layouts at once would take both cores from the phones.
_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


class Job(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    data_dir: str
    report: str
    period: str
    scope: str
    include_all: bool = False
    made_on: dt.date
    data_time: str = ""  # the standby's last replayed time (WITA) when read from it, else ""
    # Where the edition is written: the primary when `url` is the hot standby (read-only); "" = `url`.
    archive_url: str = ""


class Made(msgspec.Struct, frozen=True, kw_only=True):
    sha256: str
    size: int
    pages: int
    seconds: float
    layout_s: float  # WeasyPrint's part of `seconds`
    fingerprint: str  # of the data the edition was made from (printed on its cover)
    provisional: bool  # made before its period ended: watermarked SEMENTARA, never the final edition
    refused: list[str] = []


def write_pdf(job: Job, target: BinaryIO, progress: dataset.Progress | None = None) -> Made:
    """The whole pipeline in this process: definition -> dataset -> HTML -> PDF, written to `target`
    (from its start; a file in the worker, so the PDF is never whole in memory), then its sha256 and
    size read back from it in chunks."""
    from server.reports import document, render  # weasyprint loads only where a PDF is made

    say = progress or (lambda _step, _done: None)
    began = time.perf_counter()
    definition = definitions.load(job.report)
    period = definitions.period_for(definition, job.period)
    scope = definitions.scope_for(definition, job.scope)
    definitions.require_started(period, job.made_on)
    data = dataset.build(job.url, definition, period, scope, job.include_all, job.made_on, say, job.data_time)
    say("tata letak PDF", 0.5)
    with blobs.PhotoReader(job.url) as from_database:
        photos = from_database if blobs.in_database(job.url) else job.data_dir
        done = render.render(document.html(data), photos, edition.archive(data), target=target)
    target.flush()
    target.seek(0)
    digest, size = hashlib.sha256(), 0
    while piece := target.read(blobs.CHUNK):
        digest.update(piece)
        size += len(piece)
    say("selesai", 1.0)
    return Made(
        sha256=digest.hexdigest(),
        size=size,
        pages=done.pages,
        seconds=time.perf_counter() - began,
        layout_s=done.layout_s,
        fingerprint=edition.fingerprint(data),
        provisional=edition.provisional(data),
        refused=done.refused,
    )


def build_pdf(job: Job, progress: dataset.Progress | None = None) -> tuple[bytes, Made]:
    """write_pdf into memory: the PDF's bytes too (the CLI's --out, the tests)."""
    held = io.BytesIO()
    made = write_pdf(job, held, progress)
    return held.getvalue(), made


def make_pdf(job: Job, progress: dataset.Progress | None = None) -> Made:
    """write_pdf into a private temporary file in DATA_DIR/tmp, archived from it by its sha256 (the
    worker's part): streamed into a blob in PostgreSQL in chunks, renamed to a file under
    DATA_DIR/reports on SQLite. The temporary file is gone afterwards, also when the render failed."""
    folder = private_dir(Path(job.data_dir) / "tmp")
    handle, name = tempfile.mkstemp(prefix="report-", suffix=".pdf", dir=folder)  # mode 0600
    written = Path(name)
    try:
        with os.fdopen(handle, "w+b") as fh:
            made = write_pdf(job, fh, progress)
        store.store_pdf_file(job.data_dir, written, made.sha256, job.archive_url or job.url)
    finally:
        written.unlink(missing_ok=True)
    return made


def _child(job_bytes: bytes, sender: Any) -> None:
    try:
        made = make_pdf(msgspec.msgpack.decode(job_bytes, type=Job))
        sender.send(("ok", msgspec.msgpack.encode(made)))
    except PantauError as exc:
        sender.send(("error", exc.message("id")))
    except Exception as exc:  # the parent records it on the run; the traceback goes to the log here
        log.exception("report %s failed", job_bytes[:80])
        sender.send(("error", f"{type(exc).__name__}: {exc}"[:500]))
    finally:
        sender.close()


def in_worker(job: Job, time_limit_s: float) -> Made:
    """make_pdf in a spawned process; killed after the time limit (PantauError report.timeout)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(msgspec.msgpack.encode(job), sender), daemon=True, name=f"pantau-report-{job.report}"
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(time_limit_s):
            raise PantauError("report.timeout", seconds=f"{time_limit_s:g}")
        status, payload = receiver.recv()
    except EOFError:
        raise PantauError("report.failed", reason=f"worker exited ({process.exitcode})") from None
    finally:
        if process.is_alive():
            process.kill()
        process.join(5)
        receiver.close()
    if status != "ok":
        raise PantauError("report.failed", reason=payload)
    return msgspec.msgpack.decode(payload, type=Made)


def _slot() -> asyncio.Semaphore:
    """The process's one report slot (per event loop: tests run several loops one after another).
    Waiting for it holds no thread; the default executor's few threads also serve previews."""
    loop = asyncio.get_running_loop()
    if loop not in _SLOTS:
        _SLOTS[loop] = asyncio.Semaphore(1)
    return _SLOTS[loop]


# --- the async side: queue, claim, record ------------------------------------------------------------
async def execute(db: Database, writer: Writer, settings: Settings, run_id: int, user_id: int | None = None) -> None:
    """Claim the queued run (once across processes), render it in a worker, record the outcome. The
    claim comes after this process's report slot is free, so a run waiting its turn stays `queued`.
    While the worker renders, this process renews its lease on the run every RENEW_S; if the process
    dies, the lease runs out after STALE_S and another process makes the run (recover_stale)."""
    async with _slot():
        lease = _Lease(clock.now())
        if not await writer.run(lambda tx: store.claim(tx, run_id, lease.held)):
            return  # another process (or an earlier click) has it
        run = await store.run_by_id(db, run_id)
        assert run is not None
        source = await db.heavy_reads()  # the hot standby while it keeps up
        job = Job(
            url=reader_url(source.db, settings.report_time_limit),
            data_time=source.data_time.astimezone(clock.WITA).strftime("%Y-%m-%d %H:%M") if source.data_time else "",
            archive_url=db.url,
            data_dir=settings.data_dir,
            report=run.report,
            period=run.period,
            scope=run.scope,
            include_all=run.include_all,
            made_on=clock.today(),
        )
        renewing = asyncio.get_running_loop().create_task(_renew(writer, run_id, lease))
        try:
            made = await asyncio.to_thread(in_worker, job, float(settings.report_time_limit))
        except Exception as exc:
            if isinstance(exc, PantauError):
                message = f"{exc.message('id')} / {exc.message('en')}"
            else:  # the parent's side (spawning, the pipe): never leave the run `rendering`
                log.exception("report run %d failed", run_id)
                message = f"{type(exc).__name__}: {exc}"
            log.warning("report run %d failed: %s", run_id, message)
            await lease.release(renewing)
            await writer.run(lambda tx: store.fail(tx, run_id, message, clock.now(), held=lease.held))
            return
        await lease.release(renewing)
    number = await writer.run(
        lambda tx: store.finish(
            tx,
            run_id,
            made.sha256,
            made.size,
            made.pages,
            job.include_all,
            user_id,
            clock.now(),
            fingerprint=made.fingerprint,
            provisional=made.provisional,
            held=lease.held,
        )
    )
    if number:
        log.info("report run %d ready: %d pages in %.1f s", run_id, made.pages, made.seconds)
    else:
        log.warning("report run %d: made here, but another process has taken the run over; not recorded", run_id)


class _Lease:
    """This process's claim on a run: the time it last renewed it (the token the run row holds)."""

    def __init__(self, held: dt.datetime) -> None:
        self.held = held
        self.done = asyncio.Event()

    async def release(self, renewing: asyncio.Task[None]) -> None:
        """Stop renewing, after a renewal under way has landed (so `held` is what the row holds)."""
        self.done.set()
        await renewing


def _renewed(tx: Any, *, run_id: int, held: dt.datetime) -> tuple[bool, dt.datetime]:
    now = clock.now()
    return store.renew(tx, run_id, held, now), now


async def _renew(writer: Writer, run_id: int, lease: _Lease) -> None:
    while True:
        try:
            await asyncio.wait_for(lease.done.wait(), RENEW_S)
            return
        except TimeoutError:
            pass
        try:
            renewed, now = await writer.run(functools.partial(_renewed, run_id=run_id, held=lease.held))
        except Exception:  # the database is away for a moment: try again next time
            log.exception("report run %d: renewing the lease failed", run_id)
            continue
        if not renewed:
            log.warning("report run %d: the lease ran out and another process took the run", run_id)
            return
        lease.held = now


def reader_url(db: Database, time_limit_s: int) -> str:
    """PostgreSQL: the worker's reads may run as long as the report may (PANTAU_REPORT_TIME_LIMIT),
    not the 30 s of a request, and its connection waits as long as a request's (libpq URL options)."""
    if db.kind != "postgres":
        return db.url
    joiner = "&" if "?" in db.url else "?"
    return (f"{db.url}{joiner}connect_timeout={db.connect_timeout}"
            f"&options=-c%20statement_timeout%3D{time_limit_s * 1000}")


def start(db: Database, writer: Writer, settings: Settings, run_id: int, user_id: int | None = None) -> None:
    task = asyncio.get_running_loop().create_task(execute(db, writer, settings, run_id, user_id))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


async def schedule_due(writer: Writer, settings: Settings, today: dt.date) -> list[int]:
    """Queue each scheduled report for its last closed period, once per scope its definition names:
    the kabupaten, and each kecamatan where the report's forms have records in the period. The insert
    of the unique (report, period, scope) row succeeds in one process and is a no-op everywhere after."""
    queued: list[int] = []
    for name in scheduled_names(settings):
        definition = definitions.load(name)
        period = periods.last_closed(definition.period, today)

        def insert(
            tx: Any, definition: definitions.Definition = definition, period: periods.Period = period
        ) -> list[int]:
            scopes = [definitions.KABUPATEN] if "kabupaten" in definition.scopes else []
            if "kecamatan" in definition.scopes:
                forms = [f for f in (definition.forms.intake, definition.forms.visit, definition.forms.growth) if f]
                found = store.kecamatan_with_data(tx, definition.programme, forms, period.start, period.end)
                scopes += [scope for scope in found if _known_scope(definition, scope)]
            made = [
                store.queue(tx, definition.name, period.code, scope, False, None, clock.now(), scheduled=True)
                for scope in scopes
            ]
            return [run for run in made if run is not None]

        queued += await writer.run(insert)
    return queued


def _known_scope(definition: definitions.Definition, scope: str) -> bool:
    """A kecamatan of Kukar the report can be made for (a stray area code would only fail later)."""
    try:
        definitions.scope_for(definition, scope)
    except PantauError:
        return False
    return True


def scheduled_names(settings: Settings) -> list[str]:
    return [n.strip() for n in settings.report_schedule.split(",") if n.strip()]


async def recover(writer: Writer, settings: Settings) -> None:
    """Runs whose renderer died go back to the queue; one that has lost PANTAU_REPORT_ATTEMPTS
    leases is failed instead (it would kill every node that takes it)."""
    again, given_up = await writer.run(
        lambda tx: store.recover_stale(tx, STALE_S, clock.now(), settings.report_attempts))
    for run_id in again:
        log.warning("report run %d: its process stopped renewing the lease; queued again", run_id)
    for run in given_up:
        log.error("report run %d (%s %s %s): its process died %d times; failed, not queued again",
                  run.id, run.report, run.period, run.scope, settings.report_attempts)


def lifespan(db: Database, settings: Settings, writer_of: Callable[[], Writer]) -> Any:
    """A background loop for the app's life: queue what the schedule asks for, make queued runs."""

    async def loop() -> None:
        while True:
            await asyncio.sleep(settings.report_poll)
            try:
                writer = writer_of()
                await recover(writer, settings)
                await schedule_due(writer, settings, clock.today())
                for run_id in await store.queued_ids(db):
                    await execute(db, writer, settings, run_id)
            except Exception:
                log.exception("report scheduler round failed")

    return loop
