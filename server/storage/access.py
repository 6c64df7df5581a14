"""Authorise by loading (STYLE.md 7): `<thing>_for(db, principal, id, ...)` returns the thing or
raises. A record outside the principal's areas does not exist for them (404, not 403), so ids
cannot be probed; a role without the need gets 403. The rules themselves are domain/access.py's;
this module is the one place that applies them to a loaded row, and every handler that takes an id
reaches its data through one of these loaders (tests/web/test_route_loaders.py walks the routes)."""

from __future__ import annotations

import re
import uuid
from typing import Literal

from server.domain.access import Principal, assigned, has, may, owns, sees_area, sees_record
from server.domain.form import NAME_RE
from server.errors import PantauError
from server.storage import app_keys, attachments, form_drafts, forms, import_jobs, registry_read, review, tokens, users
from server.storage import reports as report_store
from server.storage.db import Database
from server.storage.personal_keys import PersonalKey
from server.storage.users import Account

FormNeed = Literal["fill", "edit", "review"]
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")


def require(principal: Principal, need: str) -> None:
    if not has(principal, need):
        raise PantauError("http.forbidden")


def require_area(principal: Principal, need: str, area_code: str) -> None:
    """For records that carry an area: outside one's areas the record does not exist."""
    require(principal, need)
    if not may(principal, need, area_code):
        raise PantauError("http.not_found")


async def load_user_for(db: Database, principal: Principal, user_id: int, need: str = "manage_users") -> Account:
    require(principal, need)
    account = await users.get_by_id(db, user_id)
    if account is None:
        raise PantauError("http.not_found")
    return account


# --- submissions and what hangs off them ----------------------------------------------------------------
async def submission_for(db: Database, principal: Principal, instance_id: uuid.UUID,
                         need: str = "view_data") -> review.Detail:
    """One submission with its revisions and history: enumerators see the records they sent, others
    those of their areas (domain/access.sees_record); anything else does not exist for them."""
    require(principal, need)
    detail = await review.detail_of(db, instance_id)
    if detail is None or not sees_record(principal, detail.enumerator_id, detail.area_code):
        raise PantauError("http.not_found")
    return detail


async def attachment_for(db: Database, principal: Principal, sha256: str) -> str:
    """A photo's content type, when this person uploaded it or may see a submission that holds it."""
    if not _SHA256.match(sha256):
        raise PantauError("http.not_found")
    found = await attachments.holders(db, principal, sha256)
    if found is None:
        raise PantauError("http.not_found")
    if found.uploaded_by_them or any(sees_record(principal, h.enumerator, h.area_code) for h in found.holders):
        return found.content_type
    raise PantauError("http.not_found")


# --- the registry ------------------------------------------------------------------------------------------
async def beneficiary_for(db: Database, principal: Principal, beneficiary_id: uuid.UUID,
                          need: str = "view_data") -> registry_read.Record:
    """One beneficiary (a merged id gives the record it became) of the person's areas."""
    require(principal, need)
    record = await registry_read.record(db, beneficiary_id)
    if record is None or not sees_area(principal, record.area_code):
        raise PantauError("http.not_found")
    return record


# --- forms ---------------------------------------------------------------------------------------------------
async def open_to(db: Database, principal: Principal, form_id: str) -> bool:
    """Is this form assigned to this person (domain/access.assigned)? The question the lists of
    forms ask of each form (home page, offline copy, OpenRosa form list) and form_version_for asks."""
    found = await form_drafts.assignment(db, form_id)
    return assigned(principal, found.roles, found.areas)


async def may_read_form(db: Database, principal: Principal, form_id: str) -> bool:
    """Reviewers read every form's data of their areas; anyone else the forms assigned to them, so
    the read API never shows a form the fill page says does not exist."""
    return has(principal, "review") or await open_to(db, principal, form_id)


async def form_versions_for(db: Database, principal: Principal, form_id: str) -> list[forms.Version]:
    """Every version of a form (archived ones too) whose data the person may read: the read API's
    columns and submissions. export.unknown_form otherwise, as for a form that does not exist."""
    require(principal, "view_data")
    versions = await forms.versions_of(db, form_id) if await may_read_form(db, principal, form_id) else []
    if not versions:
        raise PantauError("export.unknown_form", form_id=form_id[:64])
    return versions


async def form_version_for(db: Database, principal: Principal, form_id: str, version: str | None = None,
                           need: FormNeed = "fill", missing: str = "http.not_found") -> forms.LoadedVersion:
    """A published version (the newest when version is None) the person may use: "fill" a form
    assigned to them, "review" its data (reviewers every form, others as fill), "edit" any form. The
    need missing is 403; an unknown, archived or unassigned form is `missing` (404 by default; the
    submission path and OpenRosa name it in their own catalogue entries)."""
    require(principal, {"fill": "fill", "edit": "edit_forms", "review": "view_data"}[need])
    loaded = await forms.load_version(db, form_id, version) if NAME_RE.match(form_id) else None
    if loaded is None or not await _may_use(db, principal, form_id, need):
        raise PantauError(missing, form_id=form_id, version=version or "-",
                          what=f"formulir {form_id} versi {version or '-'}")
    return loaded


async def _may_use(db: Database, principal: Principal, form_id: str, need: FormNeed) -> bool:
    if need == "edit":
        return True
    if need == "review":
        return await may_read_form(db, principal, form_id)
    return await open_to(db, principal, form_id)


async def form_for_edit(db: Database, principal: Principal, form_id: str) -> form_drafts.Edited:
    """What the editor works on: the draft, the published versions and the status; 404 when there is
    neither draft nor version."""
    require(principal, "edit_forms")
    found = await form_drafts.edited(db, form_id) if NAME_RE.match(form_id) else None
    if found is None:
        raise PantauError("http.not_found")
    return found


# --- reports -------------------------------------------------------------------------------------------------
REPORT_NEED = "download_reports"


async def report_run_for(db: Database, principal: Principal, run_id: int) -> report_store.Run:
    require(principal, REPORT_NEED)
    run = await report_store.run_by_id(db, run_id)
    if run is None:
        raise PantauError("http.not_found")
    require_area(principal, REPORT_NEED, run.scope)
    return run


async def edition_for(db: Database, principal: Principal,
                      edition_id: int) -> tuple[report_store.Edition, report_store.Run]:
    """An archived PDF and its run, when the run's scope is within the person's areas."""
    require(principal, REPORT_NEED)
    edition = await report_store.edition_by_id(db, edition_id)
    if edition is None:
        raise PantauError("http.not_found")
    return edition, await report_run_for(db, principal, edition.run)


async def report_runs_for(db: Database, principal: Principal) -> list[report_store.Run]:
    """Every run whose scope the person sees (the list beside the reports)."""
    require(principal, REPORT_NEED)
    return [r for r in await report_store.runs_in(db, None) if sees_area(principal, r.scope)]


# --- a beneficiary list being imported ---------------------------------------------------------------------
IMPORT_NEED = "import_registry"


async def import_job_for(db: Database, principal: Principal, job_id: str, id_length: int) -> import_jobs.Job:
    """An import job is its uploader's only (domain/access.owns): anyone else's, or an id of the
    wrong length, is import.unknown_job."""
    require(principal, IMPORT_NEED)
    job = await import_jobs.load(db, job_id) if len(job_id) == id_length else None
    if job is None or not owns(principal, job.owner):
        raise PantauError("import.unknown_job")
    return job


# --- one's own secrets ---------------------------------------------------------------------------------------
async def token_for(db: Database, principal: Principal, token_id: int) -> PersonalKey:
    """One of the person's API tokens; someone else's does not exist for them."""
    return _own(await tokens.list_for(db, principal), token_id)


async def app_key_for(db: Database, principal: Principal, key_id: int) -> PersonalKey:
    """One of the person's app keys for ODK Collect; someone else's does not exist for them."""
    return _own(await app_keys.list_for(db, principal), key_id)


def _own(keys: list[PersonalKey], key_id: int) -> PersonalKey:
    found = next((k for k in keys if k.id == key_id), None)
    if found is None:
        raise PantauError("http.not_found")
    return found
