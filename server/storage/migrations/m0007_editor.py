"""The form editor: one editable draft per form (its YAML source, saved after every
server-validated save), the test submissions made from a draft's preview (kept apart from real
data and deleted with the draft), and which roles and areas a form is assigned to."""

STATEMENTS = [
    """CREATE TABLE form_draft (
        id {pk},
        form_id VARCHAR(64) NOT NULL UNIQUE,
        source TEXT NOT NULL,
        content_hash VARCHAR(64) NOT NULL DEFAULT '',
        updated_by INTEGER REFERENCES pantau_user (id) ON DELETE SET NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE draft_submission (
        id {pk},
        draft INTEGER NOT NULL REFERENCES form_draft (id) ON DELETE CASCADE,
        instance_id VARCHAR(36) NOT NULL,
        answers TEXT NOT NULL,
        submitted_by INTEGER REFERENCES pantau_user (id) ON DELETE SET NULL,
        received_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX draft_submission_instance ON draft_submission (draft, instance_id)",
    """CREATE TABLE form_assignment (
        id {pk},
        form_id VARCHAR(64) NOT NULL,
        role VARCHAR(20) NOT NULL DEFAULT '',
        area_code VARCHAR(20) NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX form_assignment_form ON form_assignment (form_id)",
]
