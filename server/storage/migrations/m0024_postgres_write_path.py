"""PostgreSQL: two index entries fewer per registration (bench/submit_cost's pg_index_entries).

A beneficiary event is keyed by its submission, and its serial id stops being indexed, as m0020 and
m0023 did for photo links, flags and sealed answers. Every query reads an event by its submission or
its beneficiary (registry.resolve, registry._upsert_event, registry_read.timeline, review's and the
exports' joins, reports); the only reader of the id was the home page's data stamp (MAX(id)), which
no longer needs it (storage/dashboard._STAMP: an event is written only with a new record or an
edit's revision, both already in the stamp). The id column stays, filled by its sequence, so the
table is the same on both databases. SQLite: the id is the rowid, no index to save.

- beneficiary_event_submission: the primary key; registry.resolve, registry._upsert_event,
  registry_read.record (WHERE submission =), review.page's and exports' joins (be.submission = s.id).
- beneficiary_kecamatan_updated (kecamatan, updated_at), dropped on PostgreSQL: its queries,
  registry_read._changed_since (the phone's copy and the read API's list of one kecamatan:
  kecamatan = AND (updated_at > OR (updated_at = AND id >)) ORDER BY updated_at, id) and
  registry_read.recent of a kecamatan, are planned without it as well: the copy's OR is never an
  ordered walk, so PostgreSQL reads a bitmap either way (the kecamatan's rows from
  beneficiary_kecamatan_due for a first copy, ANDed with beneficiary_updated's changes for the
  next ones: 1.0 ms instead of 0.25 ms for a day's changes at 200,000 people), and the recent list
  walks beneficiary_updated newest first (tests/storage/test_write_path_plans.py). SQLite keeps
  it: without statistics its planner reads the whole kecamatan instead (0.4 -> 211 ms for the same
  copy).
"""

STATEMENTS: list[str] = []

POSTGRES_STATEMENTS = [
    "DROP INDEX beneficiary_kecamatan_updated",
    "ALTER TABLE beneficiary_event DROP CONSTRAINT beneficiary_event_pkey, "
    "ADD CONSTRAINT beneficiary_event_pkey PRIMARY KEY USING INDEX beneficiary_event_submission",
]
