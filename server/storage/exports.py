"""Exports as a stream: a thread with its own read connection walks the form's submissions in the
order of an index, renders each record (domain/exports.py) and writes CSV-in-a-zip, XLSX or JSON
lines into a pipe the HTTP response drains. Memory stays flat: the main table is written into the
archive as it is produced, repeat tables are spooled to temporary files in DATA_DIR/tmp and added at
the end, and the pipe holds a few chunks at most, so a slow client slows the scan instead of
filling memory. A long scan never runs on the event loop (on SQLite plain reads do, see db.py)."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import shutil
import tempfile
import threading
import zipfile
from collections.abc import AsyncIterator, Generator, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, cast

import msgspec

from server import clock
from server.domain import exports as layout_rules
from server.domain import review as rules
from server.domain import xlsx
from server.domain.access import Principal
from server.errors import PantauError
from server.private_files import private_dir
from server.storage import forms, review
from server.storage.db import Database
from server.storage.sql import aware, cursor, open_reader, rows

log = logging.getLogger("pantau.export")
# Two exports at once per process: each keeps a core busy, and the phones' submissions come first.
SLOTS = threading.BoundedSemaphore(2)
CHUNK = 256 * 1024
PIPE_DEPTH = 8
STALL_S = 120.0  # a reader that takes nothing for this long is gone: stop and free the slot
FETCH = 2000
# Level 1: the archive is about a fifth of the text either way, and level 6 took three times as long.
COMPRESS = 1
MEDIA_TYPES = {"csv": "application/zip", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
               "jsonl": "application/x-ndjson"}
SUFFIXES = {"csv": "zip", "xlsx": "xlsx", "jsonl": "jsonl"}


class Prepared(msgspec.Struct, frozen=True, kw_only=True):
    form_id: str
    format: str
    plan: Any  # domain.exports.Plan
    versions: dict[int, str]  # form_version pk -> its label
    where: str
    args: list[Any]

    @property
    def filename(self) -> str:
        return f"{self.form_id}-{clock.today().isoformat()}.{SUFFIXES[self.format]}"


async def prepare(db: Database, principal: Principal, filters: rules.Filters, fmt: str,
                  options: layout_rules.Options) -> Prepared:
    """Everything that can refuse an export, before a byte is sent: the form, the filters, the scope."""
    versions = await forms.versions_of(db, filters.form_id)
    if not versions:
        raise PantauError("export.unknown_form", form_id=filters.form_id)
    pairs = [(v.version, v.compiled) for v in versions]
    layout = layout_rules.with_people(layout_rules.merge(pairs), pairs)
    where, args = review.where(principal, filters)
    return Prepared(form_id=filters.form_id, format=fmt, plan=layout_rules.plan(layout, options),
                    versions={v.pk: v.version for v in versions}, where=where, args=args)


def stream(db: Database, prepared: Prepared, data_dir: str) -> Pipe:
    """Start the export thread; the response reads `pipe.chunks()`. export.busy when two already run."""
    if not SLOTS.acquire(blocking=False):
        raise PantauError("export.busy")
    pipe = Pipe(asyncio.get_running_loop())
    thread = threading.Thread(target=_run, args=(db, prepared, data_dir, pipe), name="pantau-export", daemon=True)
    try:
        thread.start()
    except BaseException:
        SLOTS.release()
        raise
    return pipe


def _run(db: Database, prepared: Prepared, data_dir: str, pipe: Pipe) -> None:
    try:
        conn = open_reader(db.url)
        records = scan(conn, prepared)
        try:
            sink = PipeWriter(pipe)
            # PipeWriter is a raw binary file: all the writers need of an IO[bytes] (write, flush, tell).
            count = WRITERS[prepared.format](prepared, records, cast(IO[bytes], sink), spool_dir(data_dir))
            sink.close()
            pipe.finish()
            log.info("export %s %s: %d records", prepared.form_id, prepared.format, count)
        finally:
            records.close()  # closes the cursor (a server-side one on PostgreSQL) before its connection
            conn.close()
    except Gone:
        log.info("export %s stopped: the client went away", prepared.form_id)
    except Exception as exc:
        log.exception("export %s failed", prepared.form_id)
        pipe.finish(exc)
    finally:
        SLOTS.release()


# --- the pipe between the export thread and the response ------------------------------------------------
class Gone(Exception):
    """The response stopped reading (client disconnected)."""


_END = object()


class Pipe:
    def __init__(self, loop: asyncio.AbstractEventLoop, depth: int = PIPE_DEPTH) -> None:
        self.loop = loop
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.slots = threading.Semaphore(depth)
        self.gone = threading.Event()

    def send(self, chunk: bytes) -> None:
        """Thread side: waits while `depth` chunks are unread."""
        waited = 0.0
        while not self.slots.acquire(timeout=0.5):
            waited += 0.5
            if self.gone.is_set() or waited >= STALL_S:
                raise Gone()
        if self.gone.is_set():
            raise Gone()
        self.loop.call_soon_threadsafe(self.queue.put_nowait, chunk)

    def finish(self, error: BaseException | None = None) -> None:
        if not self.gone.is_set():
            self.loop.call_soon_threadsafe(self.queue.put_nowait, error if error is not None else _END)

    def cancel(self) -> None:
        """The response will not read (it failed before starting): let the thread stop."""
        self.gone.set()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while True:
                item = await self.queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                self.slots.release()
                yield item
        finally:
            self.gone.set()


class PipeWriter(io.RawIOBase):
    """A write-only, unseekable file that hands the pipe chunks of CHUNK bytes (zipfile then writes
    data descriptors instead of seeking back)."""

    def __init__(self, pipe: Pipe) -> None:
        super().__init__()
        self.pipe = pipe
        self.buffer = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.buffer += data
        if len(self.buffer) >= CHUNK:
            self.pipe.send(bytes(self.buffer))
            self.buffer.clear()
        return len(data)

    def close(self) -> None:
        if not self.closed and self.buffer:
            self.pipe.send(bytes(self.buffer))
            self.buffer.clear()
        super().close()


# --- reading ---------------------------------------------------------------------------------------------------
_SCAN = ("SELECT CAST(s.id AS TEXT), s.form_version, s.revision, s.review_status, s.area_code, s.enumerator, "
         "s.received_at, CAST(s.answers AS TEXT){people} FROM submission s{join} WHERE {where} "
         "ORDER BY s.received_at, s.id")
# A form about registered beneficiaries: each record's person and its event's summary (z-scores), by
# the event's unique index on the submission.
_PEOPLE = (", b.name, CAST(be.summary AS TEXT)",
           " LEFT JOIN beneficiary_event be ON be.submission = s.id LEFT JOIN beneficiary b ON b.id = be.beneficiary")


def scan(conn: Any, prepared: Prepared) -> Generator[tuple[list[Any], dict[str, Any]], None, None]:
    """(meta, answers) per record, oldest first; one statement, so one consistent snapshot."""
    users = {row[0]: row[1] for row in rows(conn, "SELECT id, username FROM pantau_user", [], batch=FETCH)}
    decode = msgspec.json.Decoder().decode
    labels = prepared.plan.options.values == "labels"
    lang = prepared.plan.options.lang
    people = prepared.plan.layout.about_people
    people_sql = _PEOPLE if people else ("", "")
    sql = _SCAN.format(people=people_sql[0], join=people_sql[1], where=prepared.where)
    records = cursor(conn, sql, prepared.args, batch=FETCH, name="pantau_export")
    try:
        for row in records:
            sid, version, revision, status, area, enumerator, received, answers = row[:8]
            meta = [sid, prepared.versions.get(version, ""), revision,
                    rules.status_label(status, lang) if labels else status, area, users.get(enumerator, ""),
                    _local(received)]
            decoded = decode(answers) if answers else {}
            found = decoded if isinstance(decoded, dict) else {}
            if people:
                found.update(layout_rules.derived(row[8], decode(row[9]) if row[9] else None))
            yield meta, found
    finally:
        records.close()


def _local(value: Any) -> str:
    return aware(value).astimezone(clock.WITA).isoformat(timespec="seconds")


def spool_dir(data_dir: str) -> Path:
    return private_dir(Path(data_dir) / "tmp")


# --- the three formats -----------------------------------------------------------------------------------------
_SCALAR = (str, int, float, type(None))


def _flat(row: list[Any], values: str) -> list[Any]:
    return [c if c.__class__ in _SCALAR else layout_rules.flat(c, values) for c in row]


def write_jsonl(prepared: Prepared, records: Iterator[tuple[list[Any], dict[str, Any]]], sink: IO[bytes],
                _spool: Path) -> int:
    encode = msgspec.json.Encoder().encode
    plan, count = prepared.plan, 0
    for meta, answers in records:
        sink.write(encode(layout_rules.record(plan, meta, answers)) + b"\n")
        count += 1
    return count


def write_csv(prepared: Prepared, records: Iterator[tuple[list[Any], dict[str, Any]]], sink: IO[bytes],
              spool: Path) -> int:
    """A zip: FORM.csv, FORM-REPEAT.csv per repeat, _columns.csv. UTF-8 with a BOM, which is what
    makes Excel read Indonesian text right when the analyst double-clicks the file."""
    plan = prepared.plan
    names = layout_rules.table_names(plan.layout)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS) as archive, \
            contextlib.ExitStack() as stack:
        spooled = {name: stack.enter_context(tempfile.TemporaryFile(dir=spool)) for name in names[1:]}
        with archive.open(_csv_name(prepared.form_id, layout_rules.MAIN), "w") as raw:
            handles = {layout_rules.MAIN: raw, **spooled}
            texts = {name: io.TextIOWrapper(h, encoding="utf-8-sig", newline="") for name, h in handles.items()}
            count = _csv_rows(plan, records, texts)
            for text in texts.values():
                text.flush()
                text.detach()  # the binary handles stay open for copying
        for name, handle in spooled.items():
            handle.seek(0)
            with archive.open(_csv_name(prepared.form_id, name), "w") as out:
                shutil.copyfileobj(handle, out, CHUNK)
        columns = io.StringIO()
        csv.writer(columns).writerows(layout_rules.dictionary(plan.layout, plan.options.lang))
        archive.writestr("_columns.csv", columns.getvalue().encode("utf-8-sig"))
    return count


def _csv_rows(plan: Any, records: Iterator[tuple[list[Any], dict[str, Any]]], texts: Mapping[str, IO[str]]) -> int:
    layout, values = plan.layout, plan.options.values
    # Free-text cells get defused against formula injection; their positions per table.
    defuse_at = {t.name: [i for i, c in enumerate(t.columns, len(_meta(t.name))) if c.type in layout_rules.TEXT_TYPES]
                 for t in layout.tables}
    writers = {name: csv.writer(text) for name, text in texts.items()}
    for name, writer in writers.items():
        writer.writerow(layout_rules.header(layout, name))
    count = 0
    for meta, answers in records:
        count += 1
        for table, row in layout_rules.rows(plan, meta, answers):
            row = _flat(row, values)
            for i in defuse_at[table]:
                row[i] = layout_rules.defuse(row[i])
            writers[table].writerow(row)
    return count


def _meta(table: str) -> tuple[str, ...]:
    return layout_rules.MAIN_META if table == layout_rules.MAIN else layout_rules.REPEAT_META


def _csv_name(form_id: str, table: str) -> str:
    return f"{form_id}.csv" if table == layout_rules.MAIN else f"{form_id}-{table}.csv"


XLSX_MAX_ROWS = 1_048_576  # Excel's rows per sheet, the header row included


def write_xlsx(prepared: Prepared, records: Iterator[tuple[list[Any], dict[str, Any]]], sink: IO[bytes],
               spool: Path, max_rows: int = XLSX_MAX_ROWS) -> int:
    """One sheet for the records (named after the form), one per repeat, and `_columns`. A table over
    Excel's row limit continues on a sheet of its own ("uji (2)"), with the header again: a big
    export is never refused half-way. The records' first sheet streams straight into the archive;
    every other sheet is spooled to disk, so memory stays flat."""
    plan = prepared.plan
    names = layout_rules.table_names(plan.layout)
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS) as archive, \
            contextlib.ExitStack() as stack:
        def spooled() -> IO[bytes]:
            return stack.enter_context(tempfile.TemporaryFile(dir=spool))

        with archive.open("xl/worksheets/sheet1.xml", "w") as main:
            parts: dict[str, list[IO[bytes]]] = {layout_rules.MAIN: [main], **{name: [spooled()] for name in names[1:]}}
            count = _xlsx_rows(plan, records, parts, spooled, max_rows)
        ordered = [(table, i) for table in names for i in range(len(parts[table]))]
        for number, (table, i) in enumerate(ordered[1:], 2):  # the first is written already
            parts[table][i].seek(0)
            with archive.open(f"xl/worksheets/sheet{number}.xml", "w") as out:
                shutil.copyfileobj(parts[table][i], out, CHUNK)
        titles = [(prepared.form_id if table == layout_rules.MAIN else table) + (f" ({i + 1})" if i else "")
                  for table, i in ordered]
        sheets = xlsx.sheet_names([*titles, "_columns"])
        letters = [xlsx.column_letter(i) for i in range(8)]
        dictionary = [xlsx.row(n, row, letters) for n, row in enumerate(
            layout_rules.dictionary(plan.layout, plan.options.lang), 1)]
        archive.writestr(f"xl/worksheets/sheet{len(sheets)}.xml",
                         (xlsx.SHEET_HEAD + "".join(dictionary) + xlsx.SHEET_TAIL).encode())
        for part, text in (("[Content_Types].xml", xlsx.content_types(len(sheets))), ("_rels/.rels", xlsx.ROOT_RELS),
                           ("xl/workbook.xml", xlsx.workbook(sheets)),
                           ("xl/_rels/workbook.xml.rels", xlsx.workbook_rels(len(sheets))),
                           ("xl/styles.xml", xlsx.STYLES)):
            archive.writestr(part, text.encode())
    return count


def _xlsx_rows(plan: Any, records: Iterator[tuple[list[Any], dict[str, Any]]], parts: dict[str, list[IO[bytes]]],
               spooled: Any, max_rows: int) -> int:
    """Rows into the last part of each table; a part that is full gets its tail and the next one
    starts with the header (labels, then codes)."""
    layout, values = plan.layout, plan.options.values
    sheets = {name: layout_rules.sheet(layout, name, plan.options) for name in parts}
    letters = [xlsx.column_letter(i) for i in range(max(len(s.codes) for s in sheets.values()))]
    numbers = dict.fromkeys(parts, xlsx.HEADER_ROWS)
    pending: dict[str, list[str]] = {name: [] for name in parts}
    heads = {name: (xlsx.RECORDS_HEAD + xlsx.row(1, s.labels, letters) + xlsx.row(2, s.codes, letters)).encode()
             for name, s in sheets.items()}
    width = {name: len(s.codes) for name, s in sheets.items()}
    styles = {name: xlsx.styles_of(s.types) for name, s in sheets.items()}
    for name, found in parts.items():
        found[-1].write(heads[name])
    count = 0
    for meta, answers in records:
        count += 1
        for table, row in layout_rules.rows(plan, meta, answers):
            rows = pending[table]
            if numbers[table] >= max_rows:  # this sheet is full: close it, go on on a new one
                parts[table][-1].write(("".join(rows) + xlsx.tail(width[table], numbers[table])).encode())
                rows.clear()
                parts[table].append(spooled())
                parts[table][-1].write(heads[table])
                numbers[table] = xlsx.HEADER_ROWS
            numbers[table] += 1
            cells = layout_rules.with_labels(row, sheets[table].beside)
            rows.append(xlsx.row(numbers[table], _flat(cells, values), letters, styles[table]))
            if len(rows) >= 256:
                parts[table][-1].write("".join(rows).encode())
                rows.clear()
    for name, found in parts.items():
        found[-1].write(("".join(pending[name]) + xlsx.tail(width[name], numbers[name])).encode())
    return count


WRITERS = {"jsonl": write_jsonl, "csv": write_csv, "xlsx": write_xlsx}
