"""Review and export: the history of review decisions, what a submission is flagged for
and the name it is searched by (both kept by the writer as submissions arrive), personal API
tokens (only their sha256 is stored), and the indexes that keep the submissions list a keyset walk
at 100,000 rows."""

STATEMENTS = [
    """CREATE TABLE review_event (
        id {pk},
        submission UUID NOT NULL REFERENCES submission (id) ON DELETE CASCADE,
        revision INTEGER NOT NULL,
        from_status VARCHAR(20) NOT NULL,
        to_status VARCHAR(20) NOT NULL,
        comment TEXT NOT NULL DEFAULT '',
        actor INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT,
        at TIMESTAMPTZ NOT NULL
    )""",
    # A submission's review history: review._revisions (WHERE submission = ORDER BY id), the latest
    # event in review.corrections_for (MAX(id) WHERE submission =), the "corrected" filter (EXISTS).
    "CREATE INDEX review_event_submission ON review_event (submission, id)",
    """CREATE TABLE submission_flag (
        id {pk},
        submission UUID NOT NULL REFERENCES submission (id) ON DELETE CASCADE,
        flag VARCHAR(40) NOT NULL
    )""",
    # One row per flag (the constraint; the primary key on PostgreSQL since m0020): review.after_store's
    # ON CONFLICT and DELETE, review._flags_of (submission IN), review.STORED_FLAG's EXISTS.
    "CREATE UNIQUE INDEX submission_flag_unique ON submission_flag (submission, flag)",
    # The review list filtered by a stored flag from the flag's side (review.page with review.STORED_FLAG:
    # a rare flag, the semi-join starts from its rows).
    "CREATE INDEX submission_flag_flag ON submission_flag (flag, submission)",
    """CREATE TABLE submission_name (
        submission UUID PRIMARY KEY NOT NULL REFERENCES submission (id) ON DELETE CASCADE,
        name VARCHAR(200) NOT NULL,
        name_key VARCHAR(200) NOT NULL
    )""",
    """CREATE TABLE api_token (
        id {pk},
        user_id INTEGER NOT NULL REFERENCES pantau_user (id) ON DELETE CASCADE,
        name VARCHAR(80) NOT NULL,
        token_hash VARCHAR(64) NOT NULL UNIQUE,
        prefix VARCHAR(16) NOT NULL,
        created_at TIMESTAMPTZ NOT NULL,
        last_used_at TIMESTAMPTZ,
        revoked_at TIMESTAMPTZ
    )""",
    "CREATE INDEX api_token_user ON api_token (user_id, id)",
    # The list is ordered newest first with the id as tie-breaker; each index below serves one
    # common filter as a walk in that order, so a page costs ~50 index entries, not a sort of all rows.
    # All serve review.page and review_flow's next record (review.where, ORDER BY received_at DESC, id
    # DESC): no filter (staff, admins) ...
    "CREATE INDEX submission_received ON submission (received_at, id)",
    # ... a form (s.form_id =) ...
    "CREATE INDEX submission_form_received_id ON submission (form_id, received_at, id)",
    # ... a form and a status (the review queue of one form: review.page, review_flow's next record) ...
    "CREATE INDEX submission_form_status_received ON submission (form_id, review_status, received_at, id)",
    # ... a status (s.review_status IN) ...
    "CREATE INDEX submission_status_received ON submission (review_status, received_at, id)",
    # ... an enumerator's own records (review.scope: s.enumerator =; submissions' own list and
    # review.corrections_for).
    "CREATE INDEX submission_enumerator_received ON submission (enumerator, received_at, id)",
    # Prefixes of the two above: they serve every query the old ones did, and each index costs the
    # writer an insert per submission.
    "DROP INDEX submission_form_received",
    "DROP INDEX submission_enumerator",
]
