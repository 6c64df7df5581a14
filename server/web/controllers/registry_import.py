"""Importing a beneficiary list under /penerima/impor, for staff and admins: upload an
XLSX or CSV, see how it was read (encoding, delimiter, header row) and the proposed column mapping,
change it (and save it by name), follow the check's progress, see every row's result and download
them as XLSX, then import the rows without errors (warnings only when confirmed) or nothing. The
check runs as a job the page polls (static/js/registry-import.js; without JavaScript the page
refreshes itself); the commit is one transaction (storage/registry_import.py)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from litestar import Response, Router, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.response import Redirect, Template

from server.domain import registry_import as checks
from server.errors import PantauError
from server.storage import access
from server.storage import import_jobs as jobs
from server.storage import registry_import as store
from server.web import import_jobs
from server.web.auth import SignedIn, client_address
from server.web.deps import db_of, lang_of, settings_of, writer_of
from server.web.formdata import text
from server.web.http import Request
from server.web.viewer import viewer_of

NEED = "import_registry"
MAX_UPLOAD = 40 * 1024 * 1024  # a 100,000-row list is 5-15 MB; more is not a beneficiary list
SHOWN_ROWS = 500  # rows with findings on the page; the XLSX has them all
_AREA = re.compile(r"[0-9]{2}\.[0-9]{2}\.[0-9]{2}(\.[0-9]{4})?\Z")
NO_STORE = {"Cache-Control": "no-store"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@get("/penerima/impor")
async def import_page(request: Request, principal: SignedIn) -> Template:
    access.require(principal, NEED)
    db = db_of(request)
    context = {"lang": lang_of(request), "viewer": viewer_of(principal), "intakes": await store.intake_forms(db),
               "mappings": sorted(await store.mappings(db))}
    return Template(template_name="registry_import.html", context={"page": context})


@post("/penerima/impor", status_code=303, request_max_body_size=MAX_UPLOAD + 64 * 1024)
async def upload(request: Request, principal: SignedIn) -> Redirect:
    access.require(principal, NEED)
    posted = await request.form()
    try:
        part = posted.get("berkas")
        if not isinstance(part, UploadFile) or not part.filename:
            raise PantauError("http.bad_request", detail="berkas")
        data = await part.read(MAX_UPLOAD + 1)
        file_name = part.filename.replace("\\", "/").rsplit("/", 1)[-1][:200]
        programme, area, mapping_name = text(posted, "program", max_len=64), text(posted, "wilayah", max_len=20), \
            text(posted, "peta", max_len=80)
    finally:
        await posted.close()
    if len(data) > MAX_UPLOAD:
        raise PantauError("import.too_large", limit_mb=MAX_UPLOAD // (1024 * 1024))
    if area and (not _AREA.match(area) or area not in checks.regions().names):
        raise PantauError("http.bad_request", detail="wilayah")
    db, settings = db_of(request), settings_of(request)
    intake = await store.intake_for(db, programme)
    mapping = (await store.mappings(db)).get(mapping_name) if mapping_name else None
    job_id = await import_jobs.create(db, settings, data, owner=principal.id, file_name=file_name, intake=intake,
                                      area=area, mapping=mapping)
    return Redirect(f"/penerima/impor/{job_id}", status_code=303)


@get("/penerima/impor/{job_id:str}")
async def job_page(request: Request, principal: SignedIn, job_id: FromPath[str]) -> Response[Any]:
    access.require(principal, NEED)
    db = db_of(request)
    job = await import_jobs.find(db, principal, job_id)
    run = await import_jobs.run_of(db, settings_of(request), job)
    previous = await store.previous_import(db, job.intake.programme, job.sha256)
    context = _job_context(job, run, lang_of(request), principal, previous)
    return Template(template_name="registry_import_job.html", context={"page": context}, headers=NO_STORE)


def _job_context(job: jobs.Job, run: checks.DryRun | None, lang: str, principal: Any,
                 previous: store.Previous | None) -> dict[str, Any]:
    rows = [r for r in run.results if r.findings] if run else []
    rows.sort(key=lambda r: (-_RANK[r.level], r.row))
    return {
        "lang": lang, "viewer": viewer_of(principal), "job": job, "run": run, "previous": previous,
        "percent": round(100 * job.done / job.total) if job.total else 0,
        "fields": [(f, labels[1] if lang == "en" else labels[0], f in checks.REQUIRED, f in checks.UPDATABLE)
                   for f, labels in checks.FIELDS.items()],
        "rows": rows[:SHOWN_ROWS], "more_rows": max(0, len(rows) - SHOWN_ROWS),
        "importable": len(run.importable(False)) if run else 0,
        "with_warnings": len(run.importable(True)) if run else 0,
    }


_RANK = {"error": 2, "warning": 1, "ok": 0}


@get("/penerima/impor/{job_id:str}/status")
async def job_status(request: Request, principal: SignedIn, job_id: FromPath[str]) -> Response[Any]:
    access.require(principal, NEED)
    job = await import_jobs.find(db_of(request), principal, job_id)
    return Response({"state": job.state, "done": job.done, "total": job.total}, headers=NO_STORE)


@post("/penerima/impor/{job_id:str}/peta", status_code=303)
async def remap(request: Request, principal: SignedIn, job_id: FromPath[str]) -> Redirect:
    """The mapping staff chose: the file is checked again with it (and saved by name if asked)."""
    access.require(principal, NEED)
    db, settings = db_of(request), settings_of(request)
    job = await import_jobs.find(db, principal, job_id)
    run = await import_jobs.run_of(db, settings, job)
    if run is None or job.state == jobs.DONE:
        raise PantauError("http.bad_request", detail="peta")
    posted = await request.form()
    columns = {f: text(posted, f"kolom_{f}", max_len=200) for f in checks.FIELDS}
    update = [f for f in posted.getall("ubah", []) if isinstance(f, str)]
    name = text(posted, "nama_peta", max_len=80)
    mapping = checks.Mapping(columns={f: c for f, c in columns.items() if c}, update=update)
    problems = checks.mapping_problems(run.layout.columns, mapping)
    if problems:
        raise PantauError("import.bad_mapping", detail="; ".join(problems)[:300])
    if name:
        await store.save_mapping(db, name, mapping, principal)
    await import_jobs.start(db, settings, job.id, mapping)
    return Redirect(f"/penerima/impor/{job.id}", status_code=303)


@post("/penerima/impor/{job_id:str}/ulang", status_code=303)
async def check_again(request: Request, principal: SignedIn, job_id: FromPath[str]) -> Redirect:
    """An interrupted check (its process stopped) runs again here, on the kept file, with its mapping."""
    access.require(principal, NEED)
    db = db_of(request)
    job = await import_jobs.find(db, principal, job_id)
    if job.state not in (jobs.INTERRUPTED, jobs.FAILED):
        raise PantauError("http.bad_request", detail="ulang")
    await import_jobs.start(db, settings_of(request), job.id, job.mapping)
    return Redirect(f"/penerima/impor/{job.id}", status_code=303)


@get("/penerima/impor/{job_id:str}/alasan")
async def reasons(request: Request, principal: SignedIn, job_id: FromPath[str]) -> Response[bytes]:
    access.require(principal, NEED)
    db, settings = db_of(request), settings_of(request)
    job = await import_jobs.find(db, principal, job_id)
    run = await import_jobs.run_of(db, settings, job)
    if run is None:
        raise PantauError("import.unknown_job")
    data = await import_jobs.file_of(db, settings, job)
    with import_jobs.local_copy(settings, data, job.suffix) as path:
        out = path.with_name("alasan.xlsx")
        await asyncio.to_thread(checks.write_reasons, path, run, out)
        answer = out.read_bytes()
    name = f"{Path(job.file_name).stem or 'impor'}-alasan.xlsx".replace('"', "")
    return Response(answer, media_type=XLSX, headers={**NO_STORE,
                                                      "Content-Disposition": f'attachment; filename="{name}"'})


@post("/penerima/impor/{job_id:str}/simpan", status_code=303)
async def commit(request: Request, principal: SignedIn, job_id: FromPath[str]) -> Redirect:
    """Import the rows without errors, or with warnings too when they were confirmed; nothing else."""
    access.require(principal, NEED)
    db, settings = db_of(request), settings_of(request)
    job = await import_jobs.find(db, principal, job_id)
    run = await import_jobs.run_of(db, settings, job)
    posted = await request.form()
    choice = text(posted, "pilihan", max_len=20)
    if run is None or job.state != jobs.CHECKED or choice not in ("ok", "peringatan"):
        raise PantauError("http.bad_request", detail="pilihan")
    with_warnings = choice == "peringatan"
    if with_warnings and text(posted, "konfirmasi", max_len=4) != "ya":
        raise PantauError("http.bad_request", detail="konfirmasi")
    if not run.importable(with_warnings):
        s = run.summary
        raise PantauError("import.has_errors", errors=s.error, warnings_id=f", {s.warning} berperingatan",
                          warnings_en=f", {s.warning} with warnings")
    upload_info = store.Upload(file_name=job.file_name, sha256=job.sha256, mapping=run.mapping,
                               with_warnings=with_warnings, job_id=job.id)
    await store.commit(db, writer_of(request), settings, job.intake, run, upload_info, principal,
                       client_address(request))
    return Redirect(f"/penerima/impor/{job.id}", status_code=303)


router = Router(path="/", route_handlers=[import_page, upload, job_page, job_status, remap, check_again, reasons,
                                            commit])
