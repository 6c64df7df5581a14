"""The addresses each person has signed in from: a lock caused by guesses from elsewhere does not
hold there (domain/sign_in.py)."""

STATEMENTS = [
    """CREATE TABLE login_address (
        id {pk},
        user_id INTEGER NOT NULL REFERENCES pantau_user (id) ON DELETE CASCADE,
        address VARCHAR(64) NOT NULL,
        first_at TIMESTAMPTZ NOT NULL,
        last_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX login_address_unique ON login_address (user_id, address)",
]
