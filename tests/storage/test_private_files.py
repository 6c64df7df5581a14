"""Files holding personal data are the service user's alone (0600, folders 0700), even when the
service was started with a permissive umask: the SQLite database with its WAL and SHM, report PDFs,
photos, the export spool, a backup and the secret key."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.private_files import write_durably
from server.settings import Settings, ensure_secret_key
from server.storage import attachments, exports, migrate
from server.storage import reports as report_store
from server.storage.db import Database
from tests.web.test_api_submissions import JPEG


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def modes(*paths: Path) -> list[int]:
    return [mode(p) for p in paths]  # stat raises if one is missing


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0o022)  # what a service started from a login shell usually has
    try:
        yield
    finally:
        os.umask(previous)


def test_a_new_sqlite_database_and_its_wal_and_shm_are_0600(tmp_path: Path) -> None:
    path = tmp_path / "pantau.sqlite3"

    async def run() -> None:
        db = Database(f"sqlite:///{path}")
        await db.open()
        try:
            await migrate.migrate(db)
            await db.fetch("SELECT count(*) AS n FROM pantau_user")
            # checked while open: SQLite removes the WAL and SHM on a clean close
            assert modes(path, Path(f"{path}-wal"), Path(f"{path}-shm")) == [0o600, 0o600, 0o600]
        finally:
            await db.close()

    asyncio.run(run())


def test_report_pdfs_photos_spool_and_secret_key_are_owner_only(tmp_path: Path, db: Database) -> None:
    data_dir = tmp_path / "data"
    digest = report_store.store_pdf(str(data_dir), b"%PDF-1.7 uji")
    pdf = report_store.pdf_path(str(data_dir), digest)
    assert mode(pdf) == 0o600 and mode(pdf.parent) == 0o700 and mode(data_dir) == 0o700
    write_durably(attachments.path_of(str(data_dir), "ab" * 32), JPEG)  # as attachments.save writes a photo
    photo = attachments.path_of(str(data_dir), "ab" * 32)
    assert mode(photo) == 0o600 and mode(photo.parent) == 0o700 and mode(photo.parent.parent) == 0o700
    assert mode(exports.spool_dir(str(data_dir))) == 0o700
    keyed = ensure_secret_key(Settings(database_url="sqlite:///x", data_dir=str(tmp_path / "baru"), secret_key=""))
    assert keyed.secret_key and mode(tmp_path / "baru") == 0o700 and mode(tmp_path / "baru" / "secret_key") == 0o600
