"""Probable duplicates beyond the NIK (domain/duplicates.py): pairs of one programme's records that
score as the same person, for a coordinator to decide. A decided pair keeps its decision, so a pair
judged "different people" never comes back; the nightly pass claims its day in duplicate_pass, so
one process makes it."""

STATEMENTS = [
    """CREATE TABLE duplicate_candidate (
        id {pk},
        programme VARCHAR(64) NOT NULL,
        first_id UUID NOT NULL REFERENCES beneficiary (id) ON DELETE CASCADE,
        second_id UUID NOT NULL REFERENCES beneficiary (id) ON DELETE CASCADE,
        first_area VARCHAR(20) NOT NULL,
        second_area VARCHAR(20) NOT NULL,
        score REAL NOT NULL,
        levels JSONB NOT NULL,
        status VARCHAR(12) NOT NULL DEFAULT 'open',
        found_at TIMESTAMPTZ NOT NULL,
        decided_at TIMESTAMPTZ,
        decided_by INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT
    )""",
    # One row a pair (the lower id first): the passes upsert by it, and a decision sticks to it.
    "CREATE UNIQUE INDEX duplicate_candidate_pair ON duplicate_candidate (first_id, second_id)",
    # The review queue and the open count: open pairs, best first (storage/duplicates.queue, open_count).
    "CREATE INDEX duplicate_candidate_open ON duplicate_candidate (status, score)",
    """CREATE TABLE duplicate_pass (
        day VARCHAR(10) PRIMARY KEY NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        people INTEGER NOT NULL DEFAULT 0,
        pairs INTEGER NOT NULL DEFAULT 0
    )""",
]
