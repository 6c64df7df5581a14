"""Who uploaded each photo, every one of them: a photo's sha256 is the same for everyone who sends
the same bytes, and a submission may cite only photos its sender uploaded (storage/attachments)."""

STATEMENTS = [
    """CREATE TABLE attachment_upload (
        id {pk},
        sha256 VARCHAR(64) NOT NULL REFERENCES attachment (sha256) ON DELETE RESTRICT,
        uploaded_by INTEGER NOT NULL REFERENCES pantau_user (id) ON DELETE RESTRICT,
        uploaded_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX attachment_upload_unique ON attachment_upload (sha256, uploaded_by)",
    "CREATE INDEX attachment_upload_user ON attachment_upload (uploaded_by, sha256)",
    # The first uploader was all the attachment row kept.
    """INSERT INTO attachment_upload (sha256, uploaded_by, uploaded_at)
       SELECT sha256, uploaded_by, uploaded_at FROM attachment WHERE uploaded_by IS NOT NULL""",
]
