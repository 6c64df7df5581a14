"""Users, forms with their immutable versions, and submissions keyed by the phone's instance id."""

STATEMENTS = [
    """CREATE TABLE pantau_user (
        id {pk},
        username VARCHAR(40) NOT NULL UNIQUE,
        display_name VARCHAR(100) NOT NULL DEFAULT '',
        password_hash VARCHAR(255) NOT NULL,
        role VARCHAR(20) NOT NULL,
        active BOOLEAN NOT NULL DEFAULT TRUE,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE form (
        id {pk},
        form_id VARCHAR(64) NOT NULL UNIQUE,
        title_id VARCHAR(200) NOT NULL DEFAULT '',
        title_en VARCHAR(200) NOT NULL DEFAULT '',
        status VARCHAR(16) NOT NULL DEFAULT 'published',
        created_at TIMESTAMPTZ NOT NULL
    )""",
    """CREATE TABLE form_version (
        id {pk},
        form INTEGER NOT NULL REFERENCES form (id) ON DELETE RESTRICT,
        version VARCHAR(64) NOT NULL,
        content_hash VARCHAR(64) NOT NULL,
        compiled JSONB NOT NULL,
        source TEXT NOT NULL,
        source_name VARCHAR(200) NOT NULL DEFAULT '',
        published_at TIMESTAMPTZ NOT NULL
    )""",
    # A form's version label and its content each identify one version: loading the same file
    # twice, or two processes publishing at once, cannot make a second row.
    "CREATE UNIQUE INDEX form_version_label ON form_version (form, version)",
    "CREATE UNIQUE INDEX form_version_hash ON form_version (form, content_hash)",
    """CREATE TABLE submission (
        id UUID PRIMARY KEY NOT NULL,
        form_version INTEGER NOT NULL REFERENCES form_version (id) ON DELETE RESTRICT,
        form_id VARCHAR(64) NOT NULL,
        enumerator INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT,
        area_code VARCHAR(20) NOT NULL DEFAULT '',
        content_hash VARCHAR(64) NOT NULL,
        answers JSONB NOT NULL,
        revision INTEGER NOT NULL DEFAULT 1,
        review_status VARCHAR(20) NOT NULL DEFAULT 'received',
        received_at TIMESTAMPTZ NOT NULL
    )""",
    # Dropped in m0005 (a prefix of submission_form_received_id, which serves review.page).
    "CREATE INDEX submission_form_received ON submission (form_id, received_at)",
    # Dropped in m0017: every area filter on submissions is "area_code = X OR area_code LIKE 'X.%'"
    # (review._areas), which neither engine answers from this index.
    "CREATE INDEX submission_area ON submission (area_code)",
    # Dropped in m0005 (a prefix of submission_enumerator_received, which serves submissions.sent_by).
    "CREATE INDEX submission_enumerator ON submission (enumerator)",
]
