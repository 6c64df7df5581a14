"""The heavy reads' call sites on a real hot standby (tests/pg_clusters.py; storage/replica.py's own
choice of source has tests/storage/test_replica.py): with the standby's replay paused, a registration
sent after the pause is on the primary only. The export, the registry search and the home page's
figures do not have it (they read the standby, and the page states the standby's data time, not the
clock); the enumerator's own list and the receipt of a resend have it (they stay on the primary).
With the standby lagging more than PANTAU_REPLICA_MAX_LAG, or down, the same reads come from the
primary and have it. SQLite has no standby: the PostgreSQL pass runs this."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pypdf
import pytest
import time_machine
from litestar.testing import TestClient

from server import clock
from server.domain.report_format import long_date
from server.reports import worker
from server.settings import Settings
from server.storage import reports as store
from server.storage.db import Database
from server.storage.writer import Writer
from server.web.app import create_app
from tests.conftest import ON_POSTGRES, _migrated, with_settings
from tests.pg_clusters import Pair
from tests.web.conftest import Persona, sign_in
from tests.web.test_registry import NOW, intake, shipped  # noqa: F401  shipped: the fixture

pytestmark = pytest.mark.skipif(not ON_POSTGRES, reason="a PostgreSQL standby: the PostgreSQL pass runs it")

LATER = {"nama": "Bunga Lestari", "nik": "6402064101900002", "no_kk": "6402061203150008"}


@pytest.fixture
def pair(standby_pair: Pair) -> Pair:
    if not standby_pair.psql(standby_pair.primary_port, "SELECT 1 FROM pg_database WHERE datname = 'pantau'"):
        standby_pair.psql(standby_pair.primary_port, "CREATE DATABASE pantau")
    return standby_pair


@pytest.fixture
def settings(tmp_path: Path, pair: Pair) -> Settings:
    """The suite's settings on the pair's primary, heavy reads on its standby (a lag of up to an hour
    allowed: the paused standby keeps serving them)."""
    primary = f"postgresql://postgres@127.0.0.1:{pair.primary_port}/pantau"
    asyncio.run(_migrated(primary))
    return Settings(database_url=primary, database_replica_url=f"postgresql://postgres@127.0.0.1:{pair.standby_port}/pantau",
                    replica_max_lag=3600, data_dir=str(tmp_path / "data"), secret_key="k" * 48,
                    log_level="WARNING", dashboard_rescan_s=0)


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    """The application's clock on the registry tests' day (April 2026); PostgreSQL's is the real one,
    so a data time from the standby and one from the clock are different days on the page."""
    with time_machine.travel(NOW, tick=True):
        yield


def replayed(pair: Pair) -> None:
    """Until the standby has replayed everything the primary has written."""
    lsn = pair.psql(pair.primary_port, "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + 30
    while pair.psql(pair.standby_port, f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn") != "t":
        assert time.monotonic() < deadline, "the standby did not replay within 30 s"
        time.sleep(0.1)


def standby_day(pair: Pair) -> str:
    """The day (WITA, in words) of the standby's last replayed transaction."""
    replay = dt.datetime.fromisoformat(pair.psql(pair.standby_port, "SELECT pg_last_xact_replay_timestamp()"))
    return long_date(replay.astimezone(clock.WITA).date())


def exported(persona: Persona) -> str:
    answer = persona.get("/data/ekspor", params={"form": "registrasi_penerima", "format": "jsonl", "status": "all"})
    assert answer.status_code == 200, answer.text
    return answer.text


def found(persona: Persona, name: str) -> list[Any]:
    answer = persona.get("/api/v1/penerima/cari", params={"q": name})
    assert answer.status_code == 200, answer.text
    return list(answer.json()["rows"])


def as_of(persona: Persona) -> str:
    """The home page's "Angka per ..." sentence, once its figures are current."""
    for _ in range(100):
        page = persona.get("/")
        assert page.status_code == 200, page.text
        if "Ada data baru yang sedang dihitung" not in page.text:
            start = page.text.index("Angka per ")
            return page.text[start:page.text.index(".", start + 20)]
        time.sleep(0.2)
    raise AssertionError("the home page's figures did not become current")


def report_text(settings: Settings) -> str:
    """The quarterly report of Tenggarong (every record counted, reviewed or not) made by the worker
    as a node makes it, and its PDF's text."""

    async def made() -> bytes:
        db = Database.from_settings(settings)
        await db.open()
        writer = Writer(db)
        await writer.start()
        try:
            run_id = await writer.run(lambda tx: store.queue(tx, "monev_triwulan", "2026-Q1", "64.02.06", True,
                                                             None, clock.now()))
            assert run_id is not None
            await worker.execute(db, writer, settings, run_id)
            [edition] = await store.editions_of(db, run_id)
            return store.pdf_bytes(settings.data_dir, edition.sha256, settings.database_url)
        finally:
            await writer.stop()
            await db.close()

    return " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(asyncio.run(made()))).pages)


def test_heavy_reads_come_from_the_standby_and_ones_own_from_the_primary(  # type: ignore[no-untyped-def]
    as_, shipped, pair: Pair, settings: Settings  # noqa: F811
) -> None:
    citra, ani = as_("citra"), as_("ani")
    first = str(uuid.uuid4())
    assert intake(citra, first).status_code == 201
    replayed(pair)
    assert [row[0] for row in found(ani, "Siti")] and first in exported(ani)  # the standby has Siti
    pair.psql(pair.standby_port, "SELECT pg_wal_replay_pause()")
    try:
        later = str(uuid.uuid4())
        sent = intake(citra, later, **LATER)
        assert sent.status_code == 201, sent.text
        # The primary's reads: the receipt of a resend, and the enumerator's own list.
        again = intake(citra, later, **LATER)
        assert again.status_code == 200 and again.json()["outcome"] == "identical", again.text
        assert again.json()["received_at"] == sent.json()["received_at"]  # the first receipt
        assert later in [item["instance_id"] for item in citra.get("/api/v1/submissions").json()]
        # The heavy reads: the standby's, without Bunga.
        assert found(ani, "Bunga") == [] and found(ani, "Siti") != []
        lines = [json.loads(line) for line in exported(ani).splitlines() if line.strip()]
        assert first in json.dumps(lines) and later not in json.dumps(lines)
        stated = as_of(ani)
        assert stated.startswith(f"Angka per {standby_day(pair)} "), stated  # the standby's time
        assert long_date(NOW.astimezone(clock.WITA).date()) not in stated  # not the clock's
        text = report_text(settings)  # the report's dataset: Siti only, read at the standby's time
        assert "terdapat 1 penerima manfaat aktif" in text, text
        replay = dt.datetime.fromisoformat(pair.psql(pair.standby_port, "SELECT pg_last_xact_replay_timestamp()"))
        assert f"Data per {replay.astimezone(clock.WITA):%Y-%m-%d %H:%M} WITA (dibaca dari salinan siaga" in text
    finally:
        pair.psql(pair.standby_port, "SELECT pg_wal_replay_resume()")
    replayed(pair)
    assert found(ani, "Bunga") != [] and later in exported(ani)  # caught up: the standby has her


def test_a_lagging_or_stopped_standby_leaves_the_heavy_reads_to_the_primary(  # type: ignore[no-untyped-def]
    shipped, pair: Pair, settings: Settings, people: dict[str, int], capfd: pytest.CaptureFixture[str]  # noqa: F811
) -> None:
    def said() -> list[str]:  # the server's log lines about the standby (its handler writes to stderr)
        return [line for line in capfd.readouterr().err.splitlines() if "pantau.replica" in line]

    with TestClient(app=create_app(with_settings(settings, replica_max_lag=1)),
                    raise_server_exceptions=False) as client:
        citra, ani = Persona(client), Persona(client)
        assert sign_in(citra, "citra").status_code == 302  # type: ignore[arg-type]
        assert sign_in(ani, "ani").status_code == 302  # type: ignore[arg-type]
        replayed(pair)
        pair.psql(pair.standby_port, "SELECT pg_wal_replay_pause()")
        try:
            later = str(uuid.uuid4())
            assert intake(citra, later, **LATER).status_code == 201
            time.sleep(2.5)  # more than the 1 s allowed behind
            said()
            assert found(ani, "Bunga") != [] and later in exported(ani)
            stated = as_of(ani)
            assert stated.startswith(f"Angka per {long_date(NOW.astimezone(clock.WITA).date())} "), stated
            for _ in range(3):  # more requests, later: the log says it once a minute, not each time
                assert found(ani, "Bunga") != []
                time.sleep(1.1)
            lines = said()
            assert len(lines) == 1 and "PANTAU_REPLICA_MAX_LAG=1" in lines[0], lines
        finally:
            pair.psql(pair.standby_port, "SELECT pg_wal_replay_resume()")
        pair.stop_standby()
        try:
            for _ in range(50):  # a read under way when it stopped may be a 503; the next goes to the primary
                answer = ani.get("/api/v1/penerima/cari", params={"q": "Bunga"})
                if answer.status_code == 200:
                    break
                assert answer.status_code == 503, answer.text
                time.sleep(0.2)
            for _ in range(3):
                assert found(ani, "Bunga") != [] and later in exported(ani)
                time.sleep(1.1)
            lines = said()
            assert len(lines) == 1 and "cannot be reached" in lines[0], lines
        finally:
            pair.start_standby()  # the session's other standby tests use it
