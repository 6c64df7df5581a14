"""Cheaper audit entries: every registration writes one audit_log row, and each of the table's
indexes costs that row an entry (bench/submit_cost's pg_index_entries, counted from the WAL).

- audit_log_nik_search replaces audit_log_actor (actor_id, at): its only query, the whole-NIK
  search's rate limit (id_search.found: actor_id = AND at > AND action = 'nik.search', the action
  written as a literal so a prepared plan can use the partial index), reads nik.search rows alone,
  so the index holds only those and a submission's audit row writes no entry into it.
- audit_log_at (PostgreSQL): a BRIN index on `at` instead of a B-tree. The log is append-only (a
  trigger refuses UPDATE and DELETE), so `at` follows the rows' physical order and a block-range
  summary finds audit.page's date range (at >= since, at < until) as well; an insert adds no entry
  (it widens its range's summary, if the range is summarized yet). Ranges of 4 pages (~500 rows):
  with the default 128 a day's range read ~19,000 rows to return 165 and the planner walked the
  primary key instead (tests/storage/test_index_plans.py); autosummarize has a filled range
  summarized by autovacuum at once, not at the next VACUUM. SQLite keeps the B-tree (no BRIN)."""

STATEMENTS = [
    "DROP INDEX audit_log_actor",
    # One person's recent NIK look-ups: id_search.found (actor_id = AND at > AND action = 'nik.search').
    "CREATE INDEX audit_log_nik_search ON audit_log (actor_id, at) WHERE action = 'nik.search'",
]

POSTGRES_STATEMENTS = [
    "DROP INDEX audit_log_at",
    # The audit page's date range: audit.page (at >= since, at < until).
    "CREATE INDEX audit_log_at ON audit_log USING brin (at) WITH (pages_per_range = 4, autosummarize = on)",
]
