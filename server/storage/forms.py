"""Published form versions. A version is immutable: publishing the same content again is a no-op
that returns the existing version; publishing other content under a used version label is refused
(errors: form.version_changed)."""

from __future__ import annotations

from typing import Any, Protocol

import msgspec

from server import clock
from server.domain.form import Form as Form_
from server.domain.load import encode_yaml
from server.errors import PantauError
from server.storage import epochs
from server.storage.db import Database
from server.storage.tables import Form, FormVersion


class Compiled(Protocol):
    form_id: str
    version: str
    title: dict[str, str]
    content_hash: str
    definition: Form_  # the form itself (domain/form.Form)


class Published(msgspec.Struct, frozen=True):
    form_id: str
    version: str
    version_pk: int
    content_hash: str
    created: bool


class FormSummary(msgspec.Struct, frozen=True):
    form_id: str
    title_id: str
    title_en: str
    status: str
    versions: int


async def publish(db: Database, compiled: Compiled, source: bytes, source_name: str) -> Published:
    async with db.atomic():
        form_pk = await _form_pk(compiled)
        same_hash = await FormVersion.select(FormVersion.id, FormVersion.version).where(
            (FormVersion.form == form_pk) & (FormVersion.content_hash == compiled.content_hash)
        ).first()
        if same_hash:
            return Published(compiled.form_id, same_hash["version"], same_hash["id"], compiled.content_hash, False)
        if await FormVersion.exists().where(
            (FormVersion.form == form_pk) & (FormVersion.version == compiled.version)
        ):
            raise PantauError("form.version_changed", form_id=compiled.form_id, version=compiled.version)
        rows = await FormVersion.insert(
            FormVersion(form=form_pk, version=compiled.version, content_hash=compiled.content_hash,
                        compiled=msgspec.json.encode(compiled).decode(),
                        source=_source_text(compiled, source), source_name=source_name,
                        published_at=clock.now())
        ).returning(FormVersion.id)
        await Form.update({Form.title_id: compiled.title.get("id", ""),
                           Form.title_en: compiled.title.get("en", "")}).where(Form.id == form_pk)
        await epochs.bump_now(db, epochs.FORMS)  # every process drops what it kept of this form
    epochs.forget(db)
    return Published(compiled.form_id, compiled.version, rows[0]["id"], compiled.content_hash, True)


def _source_text(compiled: Compiled, source: bytes) -> str:
    """What the version keeps as its source: the text as written, or for a workbook (an XLSForm,
    whose bytes a text column cannot hold: PostgreSQL refuses NUL) the form as the YAML it became."""
    text = source.decode("utf-8", errors="replace")
    return encode_yaml(compiled.definition).decode() if "\x00" in text else text


async def _form_pk(compiled: Compiled) -> int:
    row = await Form.select(Form.id).where(Form.form_id == compiled.form_id).first()
    if row:
        return int(row["id"])
    rows = await Form.insert(
        Form(form_id=compiled.form_id, title_id=compiled.title.get("id", ""),
             title_en=compiled.title.get("en", ""), status="published", created_at=clock.now())
    ).returning(Form.id)
    return int(rows[0]["id"])


async def list_forms(db: Database) -> list[FormSummary]:
    rows = await Form.select(Form.form_id, Form.title_id, Form.title_en, Form.status).order_by(Form.form_id)
    counts: dict[str, Any] = {}
    for row in await db.fetch(
        "SELECT f.form_id AS form_id, COUNT(v.id) AS n FROM form f JOIN form_version v ON v.form = f.id "
        "GROUP BY f.form_id"
    ):
        counts[row["form_id"]] = int(row["n"])
    return [FormSummary(versions=counts.get(r["form_id"], 0), **r) for r in rows]


class LoadedVersion(msgspec.Struct, frozen=True):
    pk: int
    form_id: str
    version: str
    status: str
    compiled: Any  # server.domain.compile.CompiledForm


# Published versions never change, so a decoded CompiledForm can be kept for the life of the
# process: decoding the definition and its ASTs on every submission would dominate the request.
# Kept per database (db.memo), as the status below: one process may open several databases (the
# tests do), and the same form id and version label may name different content in each.
# A form's status (published/archived) is kept per process until the "forms" epoch moves
# (storage/epochs.py): archiving or restoring on any node stops or reopens submissions on every
# node within epochs.POLL_S, without a query on every submission.


async def load_version(db: Database, form_id: str, version: str | None = None) -> LoadedVersion | None:
    """A published version (the newest when version is None), or None when there is no such version
    or the form is archived."""
    cache: dict[tuple[str, str], LoadedVersion] = db.memo.setdefault("form_versions", {})
    if version is not None and (form_id, version) in cache:
        cached = cache[(form_id, version)]
        return cached if await _status(db, form_id) == "published" else None
    query = FormVersion.select(FormVersion.id, FormVersion.version, FormVersion.compiled, FormVersion.form.status
                               ).where(FormVersion.form.form_id == form_id)
    if version is not None:
        query = query.where(FormVersion.version == version)
    row = await query.order_by(FormVersion.id, ascending=False).first()
    if row is None or row["form.status"] != "published":
        return None
    known = cache.get((form_id, row["version"]))
    if known is not None:  # a version never changes: keep the one decoded (and its generated validation)
        return known
    compiled = decode_compiled(row["compiled"])
    loaded = LoadedVersion(pk=row["id"], form_id=form_id, version=row["version"], status=row["form.status"],
                           compiled=compiled)
    cache[(form_id, row["version"])] = loaded
    return loaded


async def status_of(db: Database, form_id: str) -> str | None:
    """The form's status as stored now (published, archived); None when there is no such form. The
    editor reads it so; the fill path through _status, cached until the forms change."""
    rows = await db.fetch("SELECT status FROM form WHERE form_id = {}", form_id)
    return str(rows[0]["status"]) if rows else None


async def _status(db: Database, form_id: str) -> str | None:
    memo = await epochs.cache(db, epochs.FORMS)
    key = ("status", form_id)
    if key not in memo:
        memo[key] = await status_of(db, form_id)
    status: str | None = memo[key]
    return status


def decode_compiled(raw: Any) -> Any:
    """A stored form_version.compiled (JSON text, or already parsed by the driver) as a CompiledForm."""
    from server.domain.compile import CompiledForm

    if isinstance(raw, str | bytes):
        return msgspec.json.decode(raw, type=CompiledForm)
    return msgspec.convert(raw, CompiledForm)


# --- every version of a form, archived ones too (exports and the list merge them) ---------------------------
class Version(msgspec.Struct, frozen=True):
    pk: int
    version: str
    compiled: Any  # CompiledForm


# Decoded versions by content hash (immutable, and the same in every database that has them).
_COMPILED: dict[str, Any] = {}


async def versions_of(db: Database, form_id: str) -> list[Version]:
    """Oldest first; [] when there is no such form."""
    rows = await db.fetch("SELECT v.id AS id, v.version AS version, v.content_hash AS content_hash "
                          "FROM form_version v JOIN form f ON f.id = v.form WHERE f.form_id = {} ORDER BY v.id",
                          form_id)
    missing = [r["id"] for r in rows if r["content_hash"] not in _COMPILED]
    if missing:
        for found in await db.fetch("SELECT content_hash, compiled FROM form_version WHERE id IN ("
                                    + ", ".join("{}" for _ in missing) + ")", *missing):
            _COMPILED[found["content_hash"]] = decode_compiled(found["compiled"])
    return [Version(int(r["id"]), r["version"], _COMPILED[r["content_hash"]]) for r in rows]


class FormTitle(msgspec.Struct, frozen=True, kw_only=True):
    form_id: str
    title_id: str
    title_en: str
    status: str

    def title(self, lang: str) -> str:
        """The title in the reader's language, the other one when that is empty, else the form id."""
        return (self.title_en if lang == "en" and self.title_en else self.title_id) or self.form_id


async def form_titles(db: Database) -> list[FormTitle]:
    """Every form, archived ones too, with its titles and status, by form id."""
    rows = await db.fetch("SELECT form_id, title_id, title_en, status FROM form ORDER BY form_id")
    return [FormTitle(form_id=r["form_id"], title_id=r["title_id"], title_en=r["title_en"], status=r["status"])
            for r in rows]
