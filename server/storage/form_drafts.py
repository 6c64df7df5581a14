"""What the form editor keeps: one draft per form (the YAML source, stored only after the
server validated it), the test submissions made from a draft's preview (their own table: never in
exports or reports, deleted with the draft), a form's status (archive/restore) and its assignment
to roles and areas, which decides who sees the form on the home page and may open /f/<id>."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import msgspec

from server import clock
from server.domain.access import Principal
from server.storage import audit, epochs
from server.storage.db import Database
from server.storage.forms import Version, status_of, versions_of
from server.storage.sql import aware
from server.storage.write_tx import Tx
from server.storage.writer import Writer

MAX_TEST_SUBMISSIONS = 200  # per draft: a preview is for trying, not for collecting


class Draft(msgspec.Struct, frozen=True, kw_only=True):
    pk: int
    form_id: str
    source: str
    content_hash: str
    updated_at: dt.datetime
    updated_by: str


class TestSubmission(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    answers: dict[str, Any]
    received_at: dt.datetime


class Assignment(msgspec.Struct, frozen=True):
    roles: tuple[str, ...] = ()
    areas: tuple[str, ...] = ()


class FormRow(msgspec.Struct, frozen=True, kw_only=True):
    """One line of the editor's list: a published form, or a draft never published."""

    form_id: str
    title_id: str
    title_en: str
    status: str  # draft (never published), published, archived
    versions: list[str]
    submissions: int
    has_draft: bool
    assignment: Assignment


# --- drafts ----------------------------------------------------------------------------------------
class Edited(msgspec.Struct, frozen=True):
    """What the editor knows of a form: its draft, its versions (oldest first) and its status."""

    draft: Draft | None
    versions: list[Version]
    status: str


async def edited(db: Database, form_id: str) -> Edited | None:
    """None when the form has neither a draft nor a version (storage/access.form_for_edit)."""
    draft, versions = await get(db, form_id), await versions_of(db, form_id)
    if draft is None and not versions:
        return None
    return Edited(draft, versions, await status_of(db, form_id) or "draft")


async def get(db: Database, form_id: str) -> Draft | None:
    rows = await db.fetch(
        "SELECT d.id AS id, d.form_id AS form_id, d.source AS source, d.content_hash AS content_hash, "
        "d.updated_at AS updated_at, u.username AS username FROM form_draft d "
        "LEFT JOIN pantau_user u ON u.id = d.updated_by WHERE d.form_id = {}",
        form_id,
    )
    if not rows:
        return None
    row = rows[0]
    return Draft(
        pk=int(row["id"]),
        form_id=row["form_id"],
        source=row["source"],
        content_hash=row["content_hash"],
        updated_at=aware(row["updated_at"]),
        updated_by=row["username"] or "",
    )


async def save(writer: Writer, principal: Principal, form_id: str, source: str, content_hash: str) -> None:
    """Store the draft's source. Callers validate first (web/controllers/editor.py: compile, check and
    the evolution rules): this module never sees a definition that does not compile."""

    def op(tx: Tx) -> None:
        now = clock.now()
        tx.execute(
            "INSERT INTO form_draft (form_id, source, content_hash, updated_by, updated_at) "
            "VALUES ({}, {}, {}, {}, {}) ON CONFLICT (form_id) DO UPDATE SET source = excluded.source, "
            "content_hash = excluded.content_hash, updated_by = excluded.updated_by, "
            "updated_at = excluded.updated_at",
            form_id,
            source,
            content_hash,
            principal.id,
            now,
        )
        tx.execute(
            audit.INSERT,
            *audit.values(
                principal, "form.draft_save", target_type="form", target_id=form_id, detail=content_hash[:12]
            ),
        )

    await writer.run(op)


async def delete(writer: Writer, principal: Principal, form_id: str) -> bool:
    """Delete the draft and every test submission made from it."""

    def op(tx: Tx) -> bool:
        # Locked (PostgreSQL): of two deletes at once, one deletes and audits, the other finds nothing.
        rows = tx.fetch("SELECT id FROM form_draft WHERE form_id = {}" + tx.for_update, form_id)
        if not rows:
            return False
        pk = rows[0]["id"]
        tx.execute("DELETE FROM draft_submission WHERE draft = {}", pk)
        tx.execute("DELETE FROM form_draft WHERE id = {}", pk)
        tx.later(audit.INSERT, *audit.values(principal, "form.draft_delete", target_type="form", target_id=form_id))
        return True

    return await writer.run(op)


# --- what a field holds: the editor asks before deleting a question with answers ---------------------------
# Every answer at any depth (inside repeats too), an empty one not counted. SQLite walks the JSON with
# json_tree; PostgreSQL with a recursive walk into arrays of objects (repeat instances).
_COUNT_SQLITE = (
    "SELECT t.key AS name, COUNT(*) AS n FROM submission s, json_tree(s.answers) t "
    "WHERE s.form_id = {} AND typeof(t.key) = 'text' AND t.type != 'null' "
    "AND NOT (t.type = 'text' AND t.atom = '') AND NOT (t.type = 'array' AND json_array_length(t.value) = 0) "
    "GROUP BY t.key"
)
_COUNT_POSTGRES = (
    "WITH RECURSIVE t(name, value) AS ("
    "SELECT e.key, e.value FROM submission s, jsonb_each(s.answers) e WHERE s.form_id = {} "
    "UNION ALL SELECT e.key, e.value FROM t, "
    "jsonb_array_elements(CASE WHEN jsonb_typeof(t.value) = 'array' THEN t.value ELSE jsonb_build_array() END) a, "
    "jsonb_each(CASE WHEN jsonb_typeof(a) = 'object' THEN a ELSE jsonb_build_object() END) e) "
    "SELECT name, COUNT(*) AS n FROM t WHERE value NOT IN ('null'::jsonb, '\"\"'::jsonb, '[]'::jsonb) GROUP BY name"
)


async def answer_counts(db: Database, form_id: str) -> dict[str, int]:
    """Field name -> how many answers the form's records hold for it (each repeat instance counts)."""
    found = await db.fetch(_COUNT_POSTGRES if db.kind == "postgres" else _COUNT_SQLITE, form_id)
    return {str(row["name"]): int(row["n"]) for row in found}


# --- test submissions from the preview ------------------------------------------------------------------
async def add_test_submission(
    writer: Writer, principal: Principal, draft_pk: int, instance_id: uuid.UUID, answers: dict[str, Any]
) -> tuple[dt.datetime, str]:
    """(received_at, outcome): "new", or "identical" for a retry of the same instance id."""
    encoded = json.dumps(answers, sort_keys=True, ensure_ascii=False)

    def op(tx: Tx) -> tuple[dt.datetime, str]:
        # The draft locked (PostgreSQL): a retry of the same test submission at the same moment is
        # seen as identical, and the count kept under MAX_TEST_SUBMISSIONS, not one over.
        if tx.kind == "postgres":
            tx.execute("SELECT id FROM form_draft WHERE id = {} FOR UPDATE", draft_pk)
        rows = tx.fetch(
            "SELECT received_at FROM draft_submission WHERE draft = {} AND instance_id = {}", draft_pk, str(instance_id)
        )
        if rows:
            return aware(rows[0]["received_at"]), "identical"
        count = tx.fetch("SELECT COUNT(*) AS n FROM draft_submission WHERE draft = {}", draft_pk)
        if int(count[0]["n"]) >= MAX_TEST_SUBMISSIONS:
            tx.execute(
                "DELETE FROM draft_submission WHERE id IN (SELECT id FROM draft_submission WHERE draft = {} "
                "ORDER BY id LIMIT 1)",
                draft_pk,
            )
        now = clock.now()
        tx.execute(
            "INSERT INTO draft_submission (draft, instance_id, answers, submitted_by, received_at) "
            "VALUES ({}, {}, {}, {}, {})",
            draft_pk,
            str(instance_id),
            encoded,
            principal.id,
            now,
        )
        return now, "new"

    return await writer.run(op)


async def test_submissions(db: Database, form_id: str) -> list[TestSubmission]:
    rows = await db.fetch(
        "SELECT s.instance_id AS instance_id, s.answers AS answers, s.received_at AS received_at "
        "FROM draft_submission s JOIN form_draft d ON d.id = s.draft WHERE d.form_id = {} "
        "ORDER BY s.id DESC",
        form_id,
    )
    return [
        TestSubmission(
            instance_id=r["instance_id"], answers=json.loads(r["answers"]), received_at=aware(r["received_at"])
        )
        for r in rows
    ]


async def count_test_submissions(db: Database, draft_pk: int) -> int:
    rows = await db.fetch("SELECT COUNT(*) AS n FROM draft_submission WHERE draft = {}", draft_pk)
    return int(rows[0]["n"])


# --- status: archive and restore ---------------------------------------------------------------------------
async def set_status(writer: Writer, principal: Principal, form_id: str, status: str) -> bool:
    """published <-> archived. An archived form is off the home page and takes no new submissions
    (forms.load_version); its data stays in exports and reports."""
    action = "form.archive" if status == "archived" else "form.restore"

    def op(tx: Tx) -> bool:
        if not tx.fetch("UPDATE form SET status = {} WHERE form_id = {} RETURNING id", status, form_id):
            return False
        tx.later(audit.INSERT, *audit.values(principal, action, target_type="form", target_id=form_id))
        tx.execute(*epochs.bump(epochs.FORMS))  # every process sees it within epochs.POLL_S
        return True

    done = await writer.run(op)
    epochs.forget(writer.db)  # this process at once
    return done


# --- assignment to roles and areas ---------------------------------------------------------------------------
# Read on every fill page and submission: kept per process until the "forms" epoch moves.
async def assignment(db: Database, form_id: str) -> Assignment:
    memo = await epochs.cache(db, epochs.FORMS)
    key = ("assignment", form_id)
    found: Assignment | None = memo.get(key)
    if found is None:
        rows = await db.fetch("SELECT role, area_code FROM form_assignment WHERE form_id = {} ORDER BY id", form_id)
        found = memo[key] = Assignment(
            roles=tuple(r["role"] for r in rows if r["role"]),
            areas=tuple(r["area_code"] for r in rows if r["area_code"]))
    return found


async def set_assignment(writer: Writer, principal: Principal, form_id: str, wanted: Assignment) -> None:
    def op(tx: Tx) -> None:
        # Two changes at once would each delete the rows they can see and insert their own: the
        # union of both would stay. The lock (PostgreSQL; a draft may have no form row to lock)
        # makes the second wait and replace the first's list.
        tx.lock_keys(f"form_assignment:{form_id}")
        tx.execute("DELETE FROM form_assignment WHERE form_id = {}", form_id)
        for role in wanted.roles:
            tx.execute("INSERT INTO form_assignment (form_id, role, area_code) VALUES ({}, {}, '')", form_id, role)
        for area in wanted.areas:
            tx.execute("INSERT INTO form_assignment (form_id, role, area_code) VALUES ({}, '', {})", form_id, area)
        detail = f"roles={','.join(wanted.roles) or '-'} areas={','.join(wanted.areas) or '-'}"
        tx.execute(
            audit.INSERT, *audit.values(principal, "form.assign", target_type="form", target_id=form_id, detail=detail)
        )
        tx.execute(*epochs.bump(epochs.FORMS))

    await writer.run(op)
    epochs.forget(writer.db)


# --- the editor's list ---------------------------------------------------------------------------------------
async def overview(db: Database) -> list[FormRow]:
    forms_rows = await db.fetch("SELECT form_id, title_id, title_en, status FROM form ORDER BY form_id")
    versions: dict[str, list[str]] = {}
    for row in await db.fetch(
        "SELECT f.form_id AS form_id, v.version AS version FROM form_version v "
        "JOIN form f ON f.id = v.form ORDER BY v.id"
    ):
        versions.setdefault(row["form_id"], []).append(row["version"])
    counts = {
        r["form_id"]: int(r["n"])
        for r in await db.fetch("SELECT form_id, COUNT(*) AS n FROM submission GROUP BY form_id")
    }
    drafts = {r["form_id"]: r["source"] for r in await db.fetch("SELECT form_id, source FROM form_draft")}
    out = [
        FormRow(
            form_id=r["form_id"],
            title_id=r["title_id"],
            title_en=r["title_en"],
            status=r["status"],
            versions=versions.get(r["form_id"], []),
            submissions=counts.get(r["form_id"], 0),
            has_draft=r["form_id"] in drafts,
            assignment=await assignment(db, r["form_id"]),
        )
        for r in forms_rows
    ]
    published = {r["form_id"] for r in forms_rows}
    out += [
        FormRow(
            form_id=form_id,
            title_id="",
            title_en="",
            status="draft",
            versions=[],
            submissions=0,
            has_draft=True,
            assignment=await assignment(db, form_id),
        )
        for form_id in sorted(drafts)
        if form_id not in published
    ]
    return out
