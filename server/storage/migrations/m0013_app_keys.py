"""Personal app keys for ODK Collect and KoboCollect: one per device, made on the account
page; the key is part of the server URL the app is set up with (/key/<key>/), so only its sha256 is
stored, with a short prefix to tell keys apart."""

STATEMENTS = [
    """CREATE TABLE app_key (
        id {pk},
        user_id INTEGER NOT NULL REFERENCES pantau_user (id) ON DELETE CASCADE,
        name VARCHAR(80) NOT NULL,
        key_hash VARCHAR(64) NOT NULL UNIQUE,
        prefix VARCHAR(16) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        last_used_at TIMESTAMPTZ,
        revoked_at TIMESTAMPTZ
    )""",
    "CREATE INDEX app_key_user ON app_key (user_id, id)",
]
