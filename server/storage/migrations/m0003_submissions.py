"""Earlier revisions of edited submissions, and photos stored by content hash with the
submissions that use them (so a photo is visible exactly to those who may see such a submission)."""

STATEMENTS = [
    """CREATE TABLE submission_revision (
        id {pk},
        submission UUID NOT NULL REFERENCES submission (id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        form_version INTEGER NOT NULL REFERENCES form_version (id) ON DELETE RESTRICT,
        content_hash VARCHAR(64) NOT NULL,
        answers JSONB NOT NULL,
        replaced_at TIMESTAMPTZ NOT NULL,
        replaced_by INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT
    )""",
    "CREATE UNIQUE INDEX submission_revision_unique ON submission_revision (submission, revision)",
    """CREATE TABLE attachment (
        sha256 VARCHAR(64) PRIMARY KEY NOT NULL,
        size INTEGER NOT NULL,
        content_type VARCHAR(40) NOT NULL,
        uploaded_by INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT,
        uploaded_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE submission_attachment (
        id {pk},
        submission UUID NOT NULL REFERENCES submission (id) ON DELETE CASCADE,
        sha256 VARCHAR(64) NOT NULL REFERENCES attachment (sha256) ON DELETE RESTRICT
    )""",
    # One link per photo (the constraint; the primary key on PostgreSQL since m0020):
    # submissions._link_attachments' ON CONFLICT, attachments.citable (submission = AND sha256 IN),
    # reports.events' EXISTS (a.submission = s.id).
    "CREATE UNIQUE INDEX submission_attachment_unique ON submission_attachment (submission, sha256)",
    # Who holds a photo: attachments.holders (WHERE a.sha256 =), reports.photos_of's join by sha256.
    "CREATE INDEX submission_attachment_sha ON submission_attachment (sha256)",
]
