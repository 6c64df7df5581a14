"""The import page under /penerima/impor as staff use it: upload an office's list, follow the check to
its end, change the mapping and save it, download the reasons, import the rows without errors (the
warnings only when confirmed), see "sumber: impor" on the person's page, and get a clear answer (never
a 500) for files that are not lists and for jobs that are not one's own."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import re
import time
from typing import Any

import pytest
from openpyxl import load_workbook

from server import clock
from server.settings import Settings
from server.storage import import_jobs as jobs
from server.storage.db import Database
from tests.conftest import REPO
from tests.domain.test_registry_import import office_rows, office_xlsx
from tests.web.conftest import csrf_of, post_form
from tests.web.live import query
from tests.web.test_registry import publish_source


@pytest.fixture
def ani(as_, settings: Settings):  # type: ignore[no-untyped-def]
    source = (REPO / "forms" / "registrasi_penerima.yaml").read_bytes()
    publish_source(settings, source, "registrasi_penerima.yaml")
    return as_("ani")


def upload(client: Any, name: str, content: bytes, **data: str) -> Any:
    return client.post("/penerima/impor", files={"berkas": (name, content)},
                       data={"_csrf_token": csrf_of(client), "program": "bansos", **data}, follow_redirects=False)


def checked(client: Any, location: str) -> str:
    """The job page once the check is over (polling its status as the page's script does)."""
    for _ in range(600):
        status = client.get(f"{location}/status").json()
        if status["state"] != "checking":
            break
        time.sleep(0.05)
    page = client.get(location)
    assert page.status_code == 200
    return page.text


def test_an_office_list_is_checked_then_imported_and_shown_as_imported(ani, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rows = [*office_rows(), [4, "Salah", "6.40206E+15", "", "L", "", "TENGGARONG", "JAHAB", ""]]
    content = office_xlsx(tmp_path / "u.xlsx", rows).read_bytes()
    sent = upload(ani, "uep 2025.xlsx", content)
    assert sent.status_code == 303
    job = sent.headers["location"]
    page = checked(ani, job)
    assert 'data-summary="2 1 1"' in page and "judul kolom di baris 3" in page
    assert 'data-row="7" data-level="error"' in page and "NIK rusak oleh Excel" in page
    reasons = ani.get(f"{job}/alasan")
    assert reasons.status_code == 200
    values = list(load_workbook(io.BytesIO(reasons.content)).active.iter_rows(values_only=True))
    assert [v[-2] for v in values[1:]] == ["ok", "peringatan", "ok", "galat"]
    # Warnings need the explicit confirmation.
    assert post_form(ani, f"{job}/simpan", {"pilihan": "peringatan"}).status_code == 400
    done = post_form(ani, f"{job}/simpan", {"pilihan": "peringatan", "konfirmasi": "ya"})
    assert done.status_code == 303
    page = ani.get(job).text
    assert 'data-created="3"' in page
    found = ani.get("/penerima?q=siti").text
    assert "SITI AMINAH" in found
    person = re.search(r'href="/penerima/([0-9a-f-]{36})"', found).group(1)  # type: ignore[union-attr]
    detail = ani.get(f"/penerima/{person}").text
    assert "diimpor dari uep 2025.xlsx oleh ani" in detail
    # The same file again: nothing changes, and the page says so.
    again = upload(ani, "uep 2025.xlsx", content)
    assert "sudah pernah diimpor" in checked(ani, again.headers["location"])


def test_the_mapping_can_be_changed_and_saved_by_name(ani, tmp_path) -> None:  # type: ignore[no-untyped-def]
    content = b"Kolom A;Kolom B;Kolom C\r\nSiti;6402064507900001;64.02.06.1001\r\n"
    job = upload(ani, "aneh.csv", content).headers["location"]
    page = checked(ani, job)
    assert 'data-state="missing"' in page and "<code>;</code>" in page
    mapped = post_form(ani, f"{job}/peta", {"kolom_name": "Kolom A", "kolom_nik": "Kolom B", "kolom_desa": "Kolom C",
                                            "nama_peta": "Daftar aneh"})
    assert mapped.status_code == 303
    assert 'data-summary="1 0 0"' in checked(ani, job)
    assert "Daftar aneh" in ani.get("/penerima/impor").text
    bad = post_form(ani, f"{job}/peta", {"kolom_name": "Tidak ada"})
    assert bad.status_code == 400 and "<code>import.bad_mapping</code>" in bad.text


def test_files_that_are_not_lists_get_a_clear_message(ani, tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name, content, expected in (
            ("foto.xlsx", b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "bukan XLSX atau CSV"),
            ("kosong.csv", b"", "Berkas kosong"),
            ("gabung.xlsx", office_xlsx(tmp_path / "m.xlsx", office_rows(), merged="B3:C3").read_bytes(),
             "sel gabungan")):
        sent = upload(ani, name, content)
        assert sent.status_code == 303, name
        page = checked(ani, sent.headers["location"])
        assert 'data-state="failed"' in page and expected in page, name
    assert upload(ani, "x.csv", b"a,b\n1,2\n", wilayah="99.99.99").status_code == 400
    assert post_form(ani, "/penerima/impor").status_code == 400


def test_a_job_is_its_owners_only(ani, as_, tmp_path) -> None:  # type: ignore[no-untyped-def]
    job = upload(ani, "u.xlsx", office_xlsx(tmp_path / "u.xlsx", office_rows()).read_bytes()).headers["location"]
    checked(ani, job)
    admin = as_("admin")
    assert admin.get(job).status_code == 404
    assert post_form(admin, f"{job}/simpan", {"pilihan": "ok"}).status_code == 404
    assert as_("citra").get(job).status_code == 403
    assert ani.get("/penerima/impor/" + "x" * 22).status_code == 404


def _sql(settings: Settings, sql: str, *args: Any) -> list[dict[str, Any]]:
    return asyncio.run(query(settings, sql, *args))


def _stored(settings: Settings, key: str) -> bytes | None:
    async def run() -> bytes | None:
        db = Database(settings.database_url)
        await db.open()
        try:
            return await jobs.get(db, settings, key)
        finally:
            await db.close()

    return asyncio.run(run())


def test_jobs_older_than_the_retention_period_are_swept_with_their_files(ani, settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    content = office_xlsx(tmp_path / "u.xlsx", office_rows()).read_bytes()
    old_job = upload(ani, "lama.xlsx", content).headers["location"]
    checked(ani, old_job)
    job_id = old_job.rsplit("/", 1)[1]
    assert _stored(settings, jobs.file_key(job_id)) == content  # kept sealed, opened whole
    assert _stored(settings, jobs.run_key(job_id, 1)) is not None
    if settings.is_sqlite:  # sealed at rest: the file on disk is not the list
        on_disk = jobs.folder(settings) / jobs.file_key(job_id).replace(":", "_")
        assert on_disk.exists() and on_disk.read_bytes() != content and content[:200] not in on_disk.read_bytes()
        assert oct(jobs.folder(settings).stat().st_mode & 0o777) == "0o700"
    long_ago = clock.now() - dt.timedelta(hours=settings.import_job_hours, minutes=1)
    _sql(settings, "UPDATE import_job SET created_at = {} WHERE id = {}", long_ago, job_id)
    fresh = upload(ani, "baru.xlsx", content).headers["location"]  # an upload sweeps
    assert ani.get(old_job).status_code == 404
    assert _sql(settings, "SELECT id FROM import_job WHERE id = {}", job_id) == []
    assert _stored(settings, jobs.file_key(job_id)) is None and _stored(settings, jobs.run_key(job_id, 1)) is None
    assert 'data-summary="2 1 0"' in checked(ani, fresh)


def test_a_check_whose_process_fell_silent_is_interrupted_and_can_be_checked_again(ani, settings: Settings,  # type: ignore[no-untyped-def]
                                                                                   tmp_path) -> None:
    job = upload(ani, "u.xlsx", office_xlsx(tmp_path / "u.xlsx", office_rows()).read_bytes()).headers["location"]
    checked(ani, job)
    job_id = job.rsplit("/", 1)[1]
    # As a process that died mid-check leaves it: still checking, its last beat long ago.
    silent = clock.now() - dt.timedelta(seconds=jobs.STALE_S + 5)
    _sql(settings, "UPDATE import_job SET state = 'checking', beat_at = {} WHERE id = {}", silent, job_id)
    assert ani.get(f"{job}/status").json()["state"] == "interrupted"
    page = ani.get(job).text
    assert 'data-state="interrupted"' in page and "server dimulai ulang" in page and "Periksa lagi" in page
    assert post_form(ani, f"{job}/simpan", {"pilihan": "ok"}).status_code == 400  # nothing to commit
    again = post_form(ani, f"{job}/ulang")
    assert again.status_code == 303
    assert 'data-summary="2 1 0"' in checked(ani, job)
    assert _sql(settings, "SELECT generation FROM import_job WHERE id = {}", job_id)[0]["generation"] == 2
