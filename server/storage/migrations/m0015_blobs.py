"""Beyond one machine: stateless nodes on one database. `epoch`: change counters bumped in the
same transaction as a change that other processes may have cached (storage/epochs.py), read by
every process at most once a second. `blob` and `blob_chunk`: on PostgreSQL, photos and report
editions live in the database as blobs cut in chunks (storage/blobs.py), so a node keeps nothing
another node needs; a `blob` row is written last, once every chunk is in, and marks the blob
complete. SQLite keeps its files on disk and leaves these two tables empty."""

STATEMENTS = [
    """CREATE TABLE epoch (
        name VARCHAR(64) PRIMARY KEY NOT NULL,
        value BIGINT NOT NULL DEFAULT 0
    )""",
    """CREATE TABLE blob (
        sha256 VARCHAR(64) PRIMARY KEY NOT NULL,
        content_sha256 VARCHAR(64) NOT NULL,
        size BIGINT NOT NULL,
        chunks INTEGER NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
    )""",
]
SQLITE_STATEMENTS = [
    """CREATE TABLE blob_chunk (
        sha256 VARCHAR(64) NOT NULL,
        n INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (sha256, n)
    )""",
]
POSTGRES_STATEMENTS = [
    # Chunks of about 1 MB are compressed or not by TOAST (photos and PDFs barely compress: EXTERNAL
    # skips the attempt and stores them out of line as they are).
    """CREATE TABLE blob_chunk (
        sha256 VARCHAR(64) NOT NULL,
        n INTEGER NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (sha256, n)
    )""",
    "ALTER TABLE blob_chunk ALTER COLUMN data SET STORAGE EXTERNAL",
]
