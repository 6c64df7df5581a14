"""Report runs and their data. A report_run row exists once per (report, period, scope): queuing
inserts it or flips a finished one back to queued, and rendering claims it with a conditional
UPDATE, so two processes never render the same run and a schedule queues it once. The claim is a
lease: the taker renews it every few seconds (started_at is the last renewal, and the taker's token),
a run whose lease ran out goes back to the queue for another process (the one rendering it died with
its machine), and only the holder of the current lease records the outcome. Each finished PDF
is an edition (sha256, bytes in DATA_DIR/reports/<sha256>.pdf); editions are never replaced.
The period's rows are read with a blocking connection of their own, streamed (reports/dataset.py
runs in a worker thread or process, never on the event loop)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import AsyncIterator, Iterator
from itertools import starmap
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from server.domain import basis
from server.domain.nik import mask
from server.errors import PantauError
from server.private_files import move_durably, write_durably
from server.storage import audit, blobs, sql
from server.storage.db import Database
from server.storage.sql import aware_or_none
from server.storage.write_tx import Tx

QUEUED, RENDERING, READY, FAILED = "queued", "rendering", "ready", "failed"
STATUSES = {
    QUEUED: ("Dalam antrean", "Queued"),
    RENDERING: ("Sedang dibuat", "Rendering"),
    READY: ("Siap", "Ready"),
    FAILED: ("Gagal", "Failed"),
}
FETCH = 5000
T = TypeVar("T")


class Run(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    report: str
    period: str
    scope: str
    status: str
    include_all: bool
    message: str
    scheduled: bool
    requested_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


class Edition(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    run: int
    edition: int
    sha256: str
    size: int
    pages: int
    include_all: bool
    created_at: dt.datetime | None = None
    fingerprint: str = ""  # of the data the edition was made from, as on its cover
    provisional: bool = False  # made before the period ended


_RUN = (
    "SELECT id, report, period, scope, status, include_all, message, scheduled, requested_at, finished_at "
    "FROM report_run"
)
_EDITION = (
    "SELECT id, run, edition, sha256, size, pages, include_all, created_at, fingerprint, provisional "
    "FROM report_edition"
)


def _run(row: dict[str, Any]) -> Run:
    return Run(
        id=int(row["id"]),
        report=str(row["report"]),
        period=str(row["period"]),
        scope=str(row["scope"]),
        status=str(row["status"]),
        include_all=bool(row["include_all"]),
        message=str(row["message"]),
        scheduled=bool(row["scheduled"]),
        requested_at=aware_or_none(row["requested_at"]),
        finished_at=aware_or_none(row["finished_at"]),
    )


def _edition(row: dict[str, Any]) -> Edition:
    return Edition(
        id=int(row["id"]),
        run=int(row["run"]),
        edition=int(row["edition"]),
        sha256=str(row["sha256"]),
        size=int(row["size"]),
        pages=int(row["pages"]),
        include_all=bool(row["include_all"]),
        created_at=aware_or_none(row["created_at"]),
        fingerprint=str(row["fingerprint"]),
        provisional=bool(row["provisional"]),
    )


# --- queue (writer transactions) ------------------------------------------------------------------
def queue(
    tx: Tx,
    report: str,
    period: str,
    scope: str,
    include_all: bool,
    user_id: int | None,
    now: dt.datetime,
    *,
    scheduled: bool = False,
) -> int | None:
    """Queue the run: a new row, or a finished one back to queued. None when it is already queued or
    rendering (the button was pressed twice), or, for the schedule, when the row exists at all."""
    made = tx.fetch(
        "INSERT INTO report_run (report, period, scope, status, include_all, scheduled, requested_by, "
        "requested_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (report, period, scope) DO NOTHING RETURNING id",
        report,
        period,
        scope,
        QUEUED,
        include_all,
        scheduled,
        user_id,
        now,
    )
    if made:
        return int(made[0]["id"])
    if scheduled:
        return None
    again = tx.fetch(
        "UPDATE report_run SET status = {}, include_all = {}, message = '', lost_leases = 0, requested_by = {}, "
        "requested_at = {} WHERE report = {} AND period = {} AND scope = {} AND status IN ({}, {}) "
        "RETURNING id",
        QUEUED,
        include_all,
        user_id,
        now,
        report,
        period,
        scope,
        READY,
        FAILED,
    )
    return int(again[0]["id"]) if again else None


def kecamatan_with_data(tx: Tx, programme: str, form_ids: list[str], start: dt.date, end: dt.date) -> list[str]:
    """The kecamatan of the programme where the forms have records in the period (the schedule makes
    a report for each of them)."""
    if not form_ids:
        return []
    rows = tx.fetch(
        "SELECT DISTINCT b.kecamatan FROM beneficiary_event e JOIN beneficiary b ON b.id = e.beneficiary "
        f"WHERE b.programme = {{}} AND e.form_id IN ({sql.marks(len(form_ids))}) "
        "AND e.happened_on >= {} AND e.happened_on <= {} "
        "ORDER BY b.kecamatan",
        programme,
        *form_ids,
        start.isoformat(),
        end.isoformat(),
    )
    return [str(r["kecamatan"]) for r in rows]


def claim(tx: Tx, run_id: int, now: dt.datetime) -> bool:
    """queued -> rendering, for exactly one taker; `now` is its lease until it renews it."""
    return bool(
        tx.fetch(
            "UPDATE report_run SET status = {}, started_at = {} WHERE id = {} AND status = {} RETURNING id",
            RENDERING,
            now,
            run_id,
            QUEUED,
        )
    )


def renew(tx: Tx, run_id: int, held: dt.datetime, now: dt.datetime) -> bool:
    """The taker still renders: its lease `held` becomes `now`. False when the run is no longer its
    own (the lease ran out and another process took the run)."""
    return bool(
        tx.fetch(
            "UPDATE report_run SET started_at = {} WHERE id = {} AND status = {} AND started_at = {} RETURNING id",
            now,
            run_id,
            RENDERING,
            held,
        )
    )


def _holds(tx: Tx, run_id: int, held: dt.datetime | None) -> bool:
    """Whether the lease `held` is the run's current one (None: the caller holds no lease, as a test's
    direct finish; always true). PostgreSQL locks the run first, so the answer stays true until commit."""
    lock = " FOR UPDATE" if tx.kind == "postgres" else ""
    rows = tx.fetch("SELECT status, started_at FROM report_run WHERE id = {}" + lock, run_id)
    if held is None:
        return True
    return bool(rows) and rows[0]["status"] == RENDERING and aware_or_none(rows[0]["started_at"]) == held


def finish(
    tx: Tx,
    run_id: int,
    sha256: str,
    size: int,
    pages: int,
    include_all: bool,
    user_id: int | None,
    now: dt.datetime,
    *,
    fingerprint: str = "",
    provisional: bool = False,
    held: dt.datetime | None = None,
) -> int:
    """rendering -> ready with a new edition; returns the edition's number, or 0 when the lease `held`
    is no longer the run's (another process has it now and records its own). The run is locked first
    (PostgreSQL), so two finishes of one run cannot both take the same next number."""
    if not _holds(tx, run_id, held):
        return 0
    last = tx.fetch("SELECT MAX(edition) AS last FROM report_edition WHERE run = {}", run_id)
    number = int(last[0]["last"] or 0) + 1
    tx.execute(
        "INSERT INTO report_edition (run, edition, sha256, size, pages, include_all, created_by, created_at, "
        "fingerprint, provisional) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {})",
        run_id,
        number,
        sha256,
        size,
        pages,
        include_all,
        user_id,
        now,
        fingerprint,
        provisional,
    )
    tx.execute("UPDATE report_run SET status = {}, message = '', finished_at = {} WHERE id = {}", READY, now, run_id)
    return number


def fail(tx: Tx, run_id: int, message: str, now: dt.datetime, held: dt.datetime | None = None) -> None:
    if not _holds(tx, run_id, held):
        return
    tx.execute(
        "UPDATE report_run SET status = {}, message = {}, finished_at = {} WHERE id = {}",
        FAILED,
        message[:2000],
        now,
        run_id,
    )


def recover_stale(tx: Tx, seconds: int, now: dt.datetime, attempts: int) -> tuple[list[int], list[Run]]:
    """Runs whose lease was not renewed for `seconds`: the process rendering them died (a node killed,
    a machine gone). They go back to the queue, and the next process that looks makes them; a run
    whose lease has now run out `attempts` times (it kills whichever process makes it) is failed
    instead, with a message for the coordinators and an audit entry. Returns (queued again, given up)."""
    rows = tx.fetch(
        "UPDATE report_run SET lost_leases = lost_leases + 1 WHERE status = {} AND started_at < {} "
        "RETURNING id, lost_leases",
        RENDERING,
        now - dt.timedelta(seconds=seconds),
    )
    again = sorted(int(r["id"]) for r in rows if int(r["lost_leases"]) < attempts)
    spent = sorted(int(r["id"]) for r in rows if int(r["lost_leases"]) >= attempts)
    if again:
        tx.execute(
            "UPDATE report_run SET status = {}, message = {} WHERE id IN (" + ", ".join("{}" for _ in again) + ")",
            QUEUED,
            "Proses pembuat laporan berhenti; diantrekan lagi / the report process stopped; queued again",
            *again,
        )
    given_up = []
    for run_id in spent:
        error = PantauError("report.abandoned", count=str(attempts))
        message = f"{error.message('id')} / {error.message('en')}"
        tx.execute("UPDATE report_run SET status = {}, message = {}, finished_at = {} WHERE id = {}",
                   FAILED, message, now, run_id)
        run = _run(tx.fetch(_RUN + " WHERE id = {}", run_id)[0])
        tx.execute(audit.INSERT, *audit.values(None, "report.abandon", target_type="report_run",
                                               target_id=str(run_id), area_code=run.scope, actor_name="pantau",
                                               detail=f"{run.report} {run.period}: {attempts} lost leases"))
        given_up.append(run)
    return again, given_up


# --- reads (async, small) -------------------------------------------------------------------------
async def runs_in(db: Database, scopes: tuple[str, ...] | None) -> list[Run]:
    """Runs whose scope is one of these areas or inside one (None: every run)."""
    rows = await db.fetch(_RUN + " ORDER BY requested_at DESC, id DESC")
    runs = [_run(r) for r in rows]
    if scopes is None:
        return runs
    return [r for r in runs if any(r.scope == s or r.scope.startswith(s + ".") for s in scopes)]


async def run_id_of(db: Database, report: str, period: str, scope: str) -> int | None:
    """The run of this report for this period and scope (one per the three), None before the first."""
    rows = await db.fetch("SELECT id FROM report_run WHERE report = {} AND period = {} AND scope = {}",
                          report, period, scope)
    return int(rows[0]["id"]) if rows else None


async def queued_ids(db: Database) -> list[int]:
    """The runs waiting for a renderer, oldest request first."""
    rows = await db.fetch("SELECT id FROM report_run WHERE status = {} ORDER BY requested_at, id", QUEUED)
    return [int(r["id"]) for r in rows]


async def run_by_id(db: Database, run_id: int) -> Run | None:
    rows = await db.fetch(_RUN + " WHERE id = {}", run_id)
    return _run(rows[0]) if rows else None


async def editions_of(db: Database, run_id: int) -> list[Edition]:
    return [_edition(r) for r in await db.fetch(_EDITION + " WHERE run = {} ORDER BY edition DESC", run_id)]


async def latest_editions(db: Database, run_ids: list[int]) -> dict[int, Edition]:
    """run id -> its newest edition, for the list of runs."""
    if not run_ids:
        return {}
    rows = await db.fetch(
        _EDITION + f" e WHERE e.run IN ({sql.marks(len(run_ids))}) AND e.edition = "
        "(SELECT MAX(l.edition) FROM report_edition l WHERE l.run = e.run)",
        *run_ids,
    )
    return {int(r["run"]): _edition(r) for r in rows}


async def edition_by_id(db: Database, edition_id: int) -> Edition | None:
    rows = await db.fetch(_EDITION + " WHERE id = {}", edition_id)
    return _edition(rows[0]) if rows else None


# --- the PDF files ---------------------------------------------------------------------------------------
def pdf_path(data_dir: str, sha256: str) -> Path:
    return Path(data_dir) / "reports" / f"{sha256}.pdf"


def store_pdf(data_dir: str, data: bytes, database_url: str = "") -> str:
    """Keep the PDF under its sha256 and return the digest: on PostgreSQL a blob (storage/blobs.py),
    else a file in the data directory (fsynced, renamed into place)."""
    digest = hashlib.sha256(data).hexdigest()
    if blobs.in_database(database_url or "sqlite:"):
        with blobs.connect(database_url) as conn:
            blobs.put_sync(conn, (data[i:i + blobs.CHUNK] for i in range(0, len(data), blobs.CHUNK)))
        return digest
    path = pdf_path(data_dir, digest)
    if not path.exists():
        write_durably(path, data)
    return digest


def store_pdf_file(data_dir: str, written: Path, sha256: str, database_url: str = "") -> None:
    """As store_pdf, for a PDF already in a file (`written`, in the data directory's tmp folder, taken
    away): into the blob store chunk by chunk, or renamed into place; never read whole."""
    if blobs.in_database(database_url or "sqlite:"):
        with blobs.connect(database_url) as conn:
            blobs.put_sync(conn, blobs.file_chunks(written))
        return
    path = pdf_path(data_dir, sha256)
    if not path.exists():
        move_durably(written, path)


def pdf_bytes(data_dir: str, sha256: str, database_url: str = "") -> bytes:
    """An edition whole (blocking): for the CLI and the tests, never for a node serving it."""
    return blobs.whole(database_url, sha256, pdf_path(data_dir, sha256))


def pdf_chunks(db: Database, data_dir: str, sha256: str) -> AsyncIterator[bytes]:
    """An edition's bytes, a chunk at a time, from the database (PostgreSQL) or its file (SQLite)."""
    return blobs.stream(db, sha256, pdf_path(data_dir, sha256))


# --- the period's rows (blocking, streamed) ----------------------------------------------------------
# Each row leaves storage as a Struct whose fields are the SELECT's columns in order. Dates are the
# schema's ISO text (VARCHAR(10)), JSON columns arrive as text for the report to decode only what it reads.
class PersonRow(msgspec.Struct, frozen=True):
    id: str
    area_code: str
    sex: str
    birth_date: str
    target_group: str
    registered_on: str
    baseline: str  # JSON: the figures registered with the person
    visit_months: int
    flags: str  # space-separated registry flags
    last_visit_on: str  # "" before the first visit
    answers: str  # JSON: the registering intake's answers (home GPS, household size)


class EventRow(msgspec.Struct, frozen=True):
    beneficiary: str
    happened_on: str
    summary: str  # JSON: the event's figures (z-scores, the child measured)
    enumerator: str  # the petugas' display name, "" when the account is gone
    revision: int
    photo: int  # a photo is attached (1/0 on SQLite, a bool on PostgreSQL)
    received_at: str
    answers: str  # JSON


class ReferralRow(msgspec.Struct, frozen=True):
    beneficiary: str
    opened_on: str
    actions: str  # space-separated action codes


class FollowUpRow(msgspec.Struct, frozen=True):
    beneficiary: str
    due_on: str
    actions: str
    closed_on: str  # "" while open
    opened_on: str


class NamedPerson(msgspec.Struct, frozen=True):
    name: str
    nik_masked: str
    area_code: str


class DuplicateRow(msgspec.Struct, frozen=True):
    first_id: str
    area_code: str


class SentBackRow(msgspec.Struct, frozen=True):
    area_code: str
    enumerator: str


def _rows(conn: Any, kind: type[T], text: str, args: list[Any]) -> Iterator[T]:
    # On PostgreSQL a server-side cursor: the rows arrive in batches, not all at once.
    return starmap(kind, sql.rows(conn, text, args, batch=FETCH, name="pantau_report"))


def _counted(include_all: bool, alias: str = "s") -> str:
    """The counting basis (domain/basis.py) as a condition on a submission; the statuses are the
    domain's fixed codes, never user text."""
    return f" AND {alias}.review_status IN ({', '.join(repr(s) for s in basis.statuses(include_all))})"


def people(conn: Any, programme: str, scope: str, until: dt.date, include_all: bool) -> Iterator[PersonRow]:
    """The programme's active beneficiaries in the scope registered by the period's end whose
    registering intake the basis counts. A person's id is the id of the intake that registered them,
    so its answers (home GPS, household size) and review status come by primary key."""
    return _rows(
        conn,
        PersonRow,
        "SELECT CAST(b.id AS TEXT), b.area_code, b.sex, b.birth_date, b.target_group, b.registered_on, "
        "CAST(b.baseline AS TEXT), b.visit_months, b.flags, b.last_visit_on, CAST(r.answers AS TEXT) "
        "FROM beneficiary b JOIN submission r ON r.id = b.id WHERE b.programme = {} AND b.status = 'active' "
        "AND b.registered_on <= {} AND (b.kecamatan = {} OR b.kecamatan LIKE {})" + _counted(include_all, "r"),
        [programme, until.isoformat(), scope, scope + ".%"],
    )


def events(conn: Any, form_id: str, start: dt.date, end: dt.date, include_all: bool) -> Iterator[EventRow]:
    """The form's events in the period that the basis counts, by the date index. In a total order (day,
    then when received, then id): of two visits on one day the one received last is a person's
    latest, whatever order the database would have handed them over in, so an edition of unchanged
    data is the same edition."""
    return _rows(
        conn,
        EventRow,
        "SELECT CAST(e.beneficiary AS TEXT), e.happened_on, CAST(e.summary AS TEXT), COALESCE(u.display_name, ''), "
        "s.revision, EXISTS (SELECT 1 FROM submission_attachment a WHERE a.submission = s.id), "
        "CAST(s.received_at AS TEXT), CAST(s.answers AS TEXT) "
        "FROM beneficiary_event e JOIN submission s ON s.id = e.submission "
        "LEFT JOIN pantau_user u ON u.id = s.enumerator "
        "WHERE e.form_id = {} AND e.happened_on >= {} AND e.happened_on <= {}" + _counted(include_all)
        + " ORDER BY e.happened_on, s.received_at, s.id",
        [form_id, start.isoformat(), end.isoformat()],
    )


def referrals(conn: Any, form_id: str, start: dt.date, end: dt.date, include_all: bool) -> Iterator[ReferralRow]:
    """The follow-ups the form's records opened in these days."""
    return _rows(
        conn,
        ReferralRow,
        "SELECT CAST(f.beneficiary AS TEXT), f.opened_on, f.actions FROM follow_up f "
        "JOIN submission s ON s.id = f.submission WHERE f.form_id = {} AND f.opened_on >= {} "
        "AND f.opened_on <= {}" + _counted(include_all),
        [form_id, start.isoformat(), end.isoformat()],
    )


def open_follow_ups(
    conn: Any, form_id: str, since: dt.date, end: dt.date, include_all: bool
) -> Iterator[FollowUpRow]:
    """Follow-ups due before `end` that were still open at `since` or later; the caller decides
    which period-end each was overdue at."""
    return _rows(
        conn,
        FollowUpRow,
        "SELECT CAST(f.beneficiary AS TEXT), f.due_on, f.actions, f.closed_on, f.opened_on FROM follow_up f "
        "JOIN submission s ON s.id = f.submission WHERE f.form_id = {} AND f.due_on < {} "
        "AND f.opened_on <= {} AND (f.closed_on = '' OR f.closed_on > {})" + _counted(include_all),
        [form_id, end.isoformat(), end.isoformat(), since.isoformat()],
    )


def named(conn: Any, ids: list[str]) -> dict[str, NamedPerson]:
    """id -> name, masked NIK and area, for the few people a report lists by name."""
    if not ids:
        return {}
    found = sql.rows(
        conn,
        "SELECT CAST(id AS TEXT), name, nik_masked, area_code FROM beneficiary "
        f"WHERE CAST(id AS TEXT) IN ({sql.marks(len(ids))})",
        list(ids),
        batch=FETCH,
    )
    return {str(r[0]): NamedPerson(name=str(r[1]), nik_masked=mask(str(r[2])), area_code=str(r[3])) for r in found}


def photos_of(conn: Any, form_id: str, ids: list[str], start: dt.date, end: dt.date, limit: int) -> list[str]:
    """The sha256 of up to `limit` photos from the period's visits to these people."""
    if not ids:
        return []
    found = sql.rows(
        conn,
        "SELECT DISTINCT a.sha256 FROM submission_attachment a JOIN beneficiary_event e "
        f"ON e.submission = a.submission WHERE e.form_id = {{}} AND e.happened_on >= {{}} "
        f"AND e.happened_on <= {{}} AND CAST(e.beneficiary AS TEXT) IN ({sql.marks(len(ids))}) ORDER BY a.sha256",
        [form_id, start.isoformat(), end.isoformat(), *ids],
        batch=FETCH,
    )
    return [str(r[0]) for r in found][:limit]


def open_duplicates(conn: Any, programme: str, scope: str) -> Iterator[DuplicateRow]:
    """The first record of each probable-duplicate pair still undecided when the report is made
    (storage/duplicates.py), both records active, the first in the scope."""
    return _rows(
        conn,
        DuplicateRow,
        "SELECT CAST(f.id AS TEXT), f.area_code FROM duplicate_candidate c JOIN beneficiary f ON f.id = c.first_id "
        "JOIN beneficiary s ON s.id = c.second_id WHERE c.status = 'open' AND c.programme = {} "
        "AND f.status = 'active' AND s.status = 'active' AND (f.kecamatan = {} OR f.kecamatan LIKE {}) "
        "ORDER BY c.id",
        [programme, scope, scope + ".%"],
    )


def sent_back(
    conn: Any, programme: str, form_ids: list[str], scope: str, since: dt.datetime, until: dt.datetime
) -> Iterator[SentBackRow]:
    """The beneficiary's area and the petugas of each record of these forms that a reviewer sent
    back for correction in [since, until), once however often, whatever its status now: the
    data-quality tables count what happened in the period, not what is left of it."""
    if not form_ids:
        return iter(())
    return _rows(
        conn,
        SentBackRow,
        # CROSS JOIN: SQLite then starts from the review events (few) rather than walking every
        # beneficiary of the programme and their events (1.4 s at 100,000 submissions, twice a report).
        "SELECT b.area_code, COALESCE(u.display_name, '') FROM review_event r CROSS JOIN beneficiary_event e "
        "JOIN beneficiary b ON b.id = e.beneficiary "
        "JOIN submission s ON s.id = r.submission LEFT JOIN pantau_user u ON u.id = s.enumerator "
        "WHERE e.submission = r.submission AND r.to_status = 'needs_correction' AND r.at >= {} AND r.at < {} "
        f"AND e.form_id IN ({sql.marks(len(form_ids))}) "
        "AND b.programme = {} AND (b.kecamatan = {} OR b.kecamatan LIKE {}) "
        "GROUP BY r.submission, b.area_code, u.display_name",
        [since, until, *form_ids, programme, scope, scope + ".%"],
    )
