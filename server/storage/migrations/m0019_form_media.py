"""Form media: the image, audio and video files a form's media columns name (storage/form_media.py).
One row per form and file name, the newest upload winning; the bytes are content-addressed (a
blob on PostgreSQL under `blob_key`, a file under DATA_DIR/form_media on SQLite), so a URL keyed by
`sha256` never changes meaning and may be cached for good. `md5` is what the OpenRosa manifest lists."""

STATEMENTS = [
    """CREATE TABLE form_media (
        form_id VARCHAR(64) NOT NULL,
        name VARCHAR(200) NOT NULL,
        sha256 VARCHAR(64) NOT NULL,
        blob_key VARCHAR(64) NOT NULL,
        md5 VARCHAR(32) NOT NULL,
        size BIGINT NOT NULL,
        content_type VARCHAR(40) NOT NULL,
        uploaded_by VARCHAR(80) NOT NULL,
        uploaded_at TIMESTAMPTZ NOT NULL,
        PRIMARY KEY (form_id, name)
    )""",
]
