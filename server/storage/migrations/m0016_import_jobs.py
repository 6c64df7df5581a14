"""The registry import's checks as jobs in the database, so any process of any node can show a
job's progress, its rows and their reasons, and commit it (web/import_jobs.py). The uploaded file and
the encoded check sit beside the row, sealed: blobs on PostgreSQL, files in the data directory on
SQLite (storage/import_jobs.py). `generation` counts the checks of one upload (a new mapping checks
it again): a check that finishes after a newer one began writes nothing. `beat_at` is the checking
process's last word: silent too long, the job was interrupted."""

STATEMENTS = [
    """CREATE TABLE import_job (
        id VARCHAR(32) PRIMARY KEY NOT NULL,
        owner INTEGER NOT NULL REFERENCES pantau_user (id) ON DELETE CASCADE,
        file_name VARCHAR(200) NOT NULL,
        sha256 VARCHAR(64) NOT NULL,
        suffix VARCHAR(8) NOT NULL,
        intake TEXT NOT NULL,
        area VARCHAR(20) NOT NULL,
        mapping TEXT NOT NULL,
        state VARCHAR(16) NOT NULL,
        generation INTEGER NOT NULL,
        done INTEGER NOT NULL,
        total INTEGER NOT NULL,
        problem TEXT NOT NULL,
        outcome TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        beat_at TIMESTAMPTZ NOT NULL
    )""",
    # the retention sweep (storage/import_jobs.sweep): jobs older than PANTAU_IMPORT_JOB_HOURS
    "CREATE INDEX import_job_created ON import_job (created_at)",
]
