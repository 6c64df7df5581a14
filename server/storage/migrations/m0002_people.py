"""People and permissions: the areas a user holds, server-side sessions (so deactivating a user
ends their sessions at once), failed sign-ins for rate limiting, and the append-only audit log."""

STATEMENTS = [
    """CREATE TABLE user_area (
        id {pk},
        user_id INTEGER NOT NULL REFERENCES pantau_user (id) ON DELETE CASCADE,
        area_code VARCHAR(20) NOT NULL
    )""",
    "CREATE UNIQUE INDEX user_area_unique ON user_area (user_id, area_code)",
    """CREATE TABLE user_session (
        token_hash VARCHAR(64) PRIMARY KEY NOT NULL,
        user_id INTEGER NOT NULL REFERENCES pantau_user (id) ON DELETE CASCADE,
        created_at TIMESTAMPTZ NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        address VARCHAR(64) NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX user_session_user ON user_session (user_id)",
    """CREATE TABLE login_failure (
        id {pk},
        username VARCHAR(80) NOT NULL,
        address VARCHAR(64) NOT NULL,
        at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE INDEX login_failure_username ON login_failure (username, at)",
    "CREATE INDEX login_failure_address ON login_failure (address, at)",
    """CREATE TABLE audit_log (
        id {pk},
        at TIMESTAMPTZ NOT NULL,
        actor_id INTEGER,
        actor VARCHAR(80) NOT NULL DEFAULT '',
        action VARCHAR(40) NOT NULL,
        target_type VARCHAR(40) NOT NULL DEFAULT '',
        target_id VARCHAR(80) NOT NULL DEFAULT '',
        area_code VARCHAR(20) NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        address VARCHAR(64) NOT NULL DEFAULT ''
    )""",
    # The audit page's date range: audit.page (at >= since, at < until; ORDER BY id DESC walks the
    # primary key, this index serves a narrow range far back). A BRIN on PostgreSQL since m0021.
    "CREATE INDEX audit_log_at ON audit_log (at)",
    # The audit page filtered by action: audit.page (action =, with the date range).
    "CREATE INDEX audit_log_action ON audit_log (action, at)",
    # One person's recent NIK look-ups: id_search.found (actor_id = AND at > AND action =, the rate
    # limit of the whole-NIK search). Replaced by the partial audit_log_nik_search in m0021.
    "CREATE INDEX audit_log_actor ON audit_log (actor_id, at)",
]

# The audit log is append-only in the database itself, not only by convention in the code.
SQLITE_STATEMENTS = [
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
       BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
]
POSTGRES_STATEMENTS = [
    """CREATE FUNCTION audit_log_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
       FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]
