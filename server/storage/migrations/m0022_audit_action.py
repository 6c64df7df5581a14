"""PostgreSQL: the audit page's action index leaves out the one action every registration writes,
submission.create, so a registration's audit row writes no entry into it (bench/submit_cost's
pg_index_entries). Filtering the page by submission.create walks the primary key newest first and
keeps the matching rows, which are most of the log, so a page is found within about as many rows
as it shows; every other action reads the index as before (tests/storage/test_index_plans.py).
SQLite keeps the whole index: its planner uses a partial index only when the query repeats the
index's own condition, and `action = 'x'` does not repeat `action <> 'submission.create'`."""

STATEMENTS: list[str] = []

POSTGRES_STATEMENTS = [
    "DROP INDEX audit_log_action",
    # The audit page filtered by action: audit.search (action = 'x' as a literal, with the date range).
    "CREATE INDEX audit_log_action ON audit_log (action, at) WHERE action <> 'submission.create'",
]
