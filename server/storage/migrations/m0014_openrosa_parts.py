"""The files of a filled form that ODK Collect sends over several requests (`*isIncomplete*`): each
part's photos are stored at once (storage/attachments), and this table remembers under which file
name, so the last part can name them all. Nothing here is a submission: the record is stored only
when the last part arrives, and its rows are then deleted."""

STATEMENTS = [
    """CREATE TABLE openrosa_part (
        id {pk},
        instance_id VARCHAR(36) NOT NULL,
        uploaded_by INTEGER NOT NULL REFERENCES pantau_user (id) ON DELETE RESTRICT,
        file_name VARCHAR(255) NOT NULL,
        sha256 VARCHAR(64) NOT NULL REFERENCES attachment (sha256) ON DELETE RESTRICT,
        received_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX openrosa_part_file ON openrosa_part (instance_id, uploaded_by, file_name)",
]
