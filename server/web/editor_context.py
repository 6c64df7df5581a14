"""The form editor's pages, one typed context each (STYLE.md 8), built without HTTP: the
list of forms, the editor, the difference before publishing, and the problems of an upload. Labels
reach the templates as plain text (autoescaped) and the editor's JSON as safe_json."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from server import clock
from server.domain.access import ROLES, Principal, role_name
from server.domain.compile import CompiledForm
from server.domain.evolution import NEEDS_CONFIRMATION, Diff, DraftCheck
from server.domain.form import text_of
from server.domain.problems import Problem
from server.domain.questions import QUESTION_TYPES
from server.domain.regions import parents_for_editor
from server.domain.xlsform_view import Sheet, anchor_of, column_letter, sheet_of
from server.storage.form_drafts import Assignment, FormRow, TestSubmission
from server.web.fill_assets import safe_json
from server.web.viewer import Viewer, viewer_of

STATUS = {"draft": ("Draf", "Draft"), "published": ("Terbit", "Published"), "archived": ("Diarsipkan", "Archived")}
# The roles a form can be assigned to: editors always see every form (domain/access.assigned).
ASSIGNABLE_ROLES = tuple(r for r in ROLES if r not in ("admin", "staff"))


class ProblemRow(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    severity: str
    line: int
    column: int
    field: str
    message: str
    message_en: str
    hint: str
    hint_en: str
    # A workbook's problem: its sheet, the column letter, and the id of its row on the upload page.
    sheet: str = ""
    column_letter: str = ""
    anchor: str = ""


def problem_rows(problems: list[Problem], fields: list[str] | None = None) -> list[ProblemRow]:
    places = fields or ["" for _ in problems]
    return [
        ProblemRow(
            code=p.code,
            severity=p.severity,
            line=p.line,
            column=p.column,
            field=f,
            message=p.message_id,
            message_en=p.message_en,
            hint=p.hint_id,
            hint_en=p.hint_en,
            sheet=sheet_of(p),
            column_letter=column_letter(p.column) if sheet_of(p) and p.column > 0 else "",
            anchor=f"{anchor_of(sheet_of(p))}-{p.line}" if sheet_of(p) else "",
        )
        for p, f in zip(problems, places, strict=True)
    ]


def saved_answer(checked: DraftCheck, yaml_text: str, document: Any, saved: bool) -> dict[str, Any]:
    """The JSON a save answers with: both views of the definition, the problems at their fields and,
    when stored, the time the editor shows ("Tersimpan 10:42")."""
    return {
        "saved": saved,
        "saved_at": saved_time(clock.now()) if saved else "",
        "yaml": yaml_text,
        "document": document,
        "content_hash": checked.compiled.content_hash if checked.compiled else "",
        "problems": msgspec.to_builtins(problem_rows(checked.problems, checked.fields)),
    }


def saved_time(when: dt.datetime | None) -> str:
    """When a draft was saved, in WITA: the time alone today, with the date on another day."""
    if when is None:
        return ""
    local = when.astimezone(clock.WITA)
    return local.strftime("%H:%M" if local.date() == clock.now().astimezone(clock.WITA).date() else "%Y-%m-%d %H:%M")


# --- the list -----------------------------------------------------------------------------------------
class ListRow(msgspec.Struct, frozen=True, kw_only=True):
    form_id: str
    title: str
    status: str
    status_label: str
    versions: str
    submissions: int
    has_draft: bool
    assigned: str


class EditorListContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    rows: list[ListRow]
    message: str = ""
    error: str = ""


def _assigned_text(a: Assignment, lang: str) -> str:
    parts = [*(role_name(r, lang == "en") for r in a.roles), *a.areas]
    return ", ".join(parts) if parts else ("everyone who fills" if lang == "en" else "semua petugas")


def list_context(
    rows: list[FormRow], lang: str, principal: Principal, *, message: str = "", error: str = ""
) -> EditorListContext:
    en = lang == "en"
    out = [
        ListRow(
            form_id=r.form_id,
            title=(r.title_en if en and r.title_en else r.title_id) or r.form_id,
            status=r.status,
            status_label=STATUS[r.status][1 if en else 0] if r.status in STATUS else r.status,
            versions=", ".join(r.versions) or "-",
            submissions=r.submissions,
            has_draft=r.has_draft,
            assigned=_assigned_text(r.assignment, lang),
        )
        for r in rows
    ]
    return EditorListContext(lang=lang, viewer=viewer_of(principal), rows=out, message=message, error=error)


# --- the editor -----------------------------------------------------------------------------------------
class EditorContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    form_id: str
    title: str
    status: str
    status_label: str
    versions: str
    has_draft: bool
    yaml: str
    roles: list[tuple[str, bool]]  # (role, assigned)
    areas: str
    tests: list[tuple[str, str]]  # (instance id, received at in WITA), newest first
    test_count: int
    problems: list[ProblemRow]
    config: str  # JSON for editor.js, safe inside <script>
    message: str = ""
    error: str = ""


def editor_context(
    *,
    form_id: str,
    lang: str,
    principal: Principal,
    status: str,
    versions: list[str],
    has_draft: bool,
    saved_at: dt.datetime | None = None,
    yaml_text: str,
    document: Any,
    assignment: Assignment,
    tests: list[TestSubmission],
    problems: list[ProblemRow] | None = None,
    message: str = "",
    error: str = "",
) -> EditorContext:
    en = lang == "en"
    title = _title_of(document, lang) or form_id
    config = _editor_config(form_id, lang, document, yaml_text, problems or [], saved_at, versions)
    return EditorContext(
        lang=lang,
        viewer=viewer_of(principal),
        form_id=form_id,
        title=title,
        status=status,
        status_label=STATUS.get(status, (status, status))[1 if en else 0],
        versions=", ".join(versions) or "-",
        has_draft=has_draft,
        yaml=yaml_text,
        roles=[(r, r in assignment.roles) for r in ASSIGNABLE_ROLES],
        areas=" ".join(assignment.areas),
        tests=[
            (t.instance_id, t.received_at.astimezone(clock.WITA).strftime("%Y-%m-%d %H:%M WITA")) for t in tests[:20]
        ],
        test_count=len(tests),
        problems=problems or [],
        config=safe_json(config),
        message=message,
        error=error,
    )


def _editor_config(form_id: str, lang: str, document: Any, yaml_text: str, problems: list[ProblemRow],
                   saved_at: dt.datetime | None, versions: list[str]) -> dict[str, Any]:
    """What editor.js starts from: the document, the types it may offer and where to send things."""
    return {
        "form_id": form_id,
        "lang": lang,
        "document": document,
        "yaml": yaml_text,
        "types": list(QUESTION_TYPES),
        # What the structured view offers per type: a default value, and the parameters naming another
        # field (a select of names) or taking a number (docs/forms.md, Question types).
        "type_info": {
            name: {
                "default": "default" in qtype.attributes,
                "field_parameters": sorted(qtype.field_parameters, key=_parameter_order),
                "literal_parameters": sorted(qtype.literal_parameters, key=_parameter_order),
            }
            for name, qtype in QUESTION_TYPES.items()
        },
        "save": f"/formulir/{form_id}/draf",
        "preview": f"/formulir/{form_id}/pratinjau",
        "answers": f"/formulir/{form_id}/jawaban",
        "regions": [list(r) for r in parents_for_editor()],
        "problems": msgspec.to_builtins(problems),
        "saved_at": saved_time(saved_at),  # the draft's; "" when only published versions exist
        "versions": versions,
    }


# The order docs/forms.md lists a NIK's parameters in; others follow by name.
_PARAMETERS = ("sex", "birth_date", "registered", "kk", "nik")


def _parameter_order(name: str) -> tuple[int, str]:
    return (_PARAMETERS.index(name) if name in _PARAMETERS else len(_PARAMETERS), name)


def _title_of(document: Any, lang: str) -> str:
    title = document.get("settings", {}).get("title") if isinstance(document, dict) else None
    if isinstance(title, str):
        return title
    return text_of(title, lang) if isinstance(title, dict) else ""


# --- before publishing ------------------------------------------------------------------------------------
class ChangeRow(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    field: str
    before: str
    after: str
    detail: str


class PublishContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    form_id: str
    title: str
    from_version: str
    to_version: str
    changes: dict[str, list[ChangeRow]]  # kind -> rows, kinds in KINDS order
    kinds: list[tuple[str, str]]  # (kind, heading) of the kinds with rows
    errors: list[ProblemRow]
    warnings: list[ProblemRow]  # to confirm before publishing (evolution.NEEDS_CONFIRMATION)
    notes: list[ProblemRow]  # other warnings (a missing translation...): shown, not blocking
    can_publish: bool
    error: str = ""


KINDS = {
    "added": ("Pertanyaan baru", "Added"),
    "removed": (
        "Dihapus (datanya tetap ada di ekspor dan laporan)",
        "Removed (their data stays in exports and reports)",
    ),
    "retyped": ("Jenis berubah", "Type changed"),
    "relabelled": ("Label berubah", "Relabelled"),
    "rules": ("Aturan berubah", "Rules changed"),
    "choices": ("Pilihan berubah", "Choices changed"),
}


def kept_text(count: int, lang: str) -> str:
    """What deleting a question with data means (the editor's confirmation says the same, editor.js)."""
    if lang == "en":
        return f"{count} answer{'s' if count != 1 else ''} stay in exports and older reports"
    return f"{count} jawaban tetap ada di ekspor dan laporan lama"


def publish_context(
    *,
    form_id: str,
    lang: str,
    principal: Principal,
    draft: CompiledForm | None,
    checked: DraftCheck,
    diff: Diff,
    from_version: str,
    to_version: str,
    error: str = "",
    answers: dict[str, int] | None = None,
) -> PublishContext:
    en = lang == "en"
    changes: dict[str, list[ChangeRow]] = {}
    for c in diff.changes:
        held = (answers or {}).get(c.field, 0) if c.kind == "removed" else 0
        detail = kept_text(held, lang) if held else c.detail
        changes.setdefault(c.kind, []).append(
            ChangeRow(kind=c.kind, field=c.field, before=c.before, after=c.after, detail=detail)
        )
    rows = problem_rows(checked.problems, checked.fields)
    errors = [r for r in rows if r.severity == "error"]
    return PublishContext(
        lang=lang,
        viewer=viewer_of(principal),
        form_id=form_id,
        title=text_of(draft.title, lang, form_id) if draft else form_id,
        from_version=from_version or "-",
        to_version=to_version,
        changes=changes,
        kinds=[(k, v[1 if en else 0]) for k, v in KINDS.items() if k in changes],
        errors=errors,
        warnings=[r for r in rows if r.code in NEEDS_CONFIRMATION],
        notes=[r for r in rows if r.severity == "warning" and r.code not in NEEDS_CONFIRMATION],
        can_publish=draft is not None and not errors,
        error=error,
    )


class UploadContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    filename: str
    problems: list[ProblemRow]
    error: str = ""
    sheets: list[Sheet] = []  # an XLSForm's rows the problems name, marked (domain/xlsform_view.py)
