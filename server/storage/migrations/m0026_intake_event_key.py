"""A person's own intake event stops being written into beneficiary_event_timeline: one index entry
fewer per registration on both databases (bench/submit_cost's pg_index_entries).

The intake that registers a person is their first event, and the person's id IS that submission's
id (beneficiary.id = the intake's instance id), so the primary key (PostgreSQL; the unique
beneficiary_event_submission on SQLite) finds it already: beneficiary = submission = the person's
id. The timeline index keeps only the events whose beneficiary is not their submission (visits,
an intake that updated an existing record, events a merge moved), and each query of a person's
events reads the two parts, the one through the timeline index, the other by its key:
registry_read.timeline, registry.reschedule, registry.merge (tests/storage/test_intake_event_plans.py
checks both databases' plans). A merge's UPDATE of beneficiary writes the moved intake event into
the index, as its row then differs.

- beneficiary_event_timeline: registry_read.timeline (beneficiary = AND beneficiary <> submission,
  ORDER BY happened_on), registry.reschedule (MAX(happened_on) of a person's visits) and
  registry.merge (the events moved to the record kept).
"""

STATEMENTS = [
    "DROP INDEX beneficiary_event_timeline",
    "CREATE INDEX beneficiary_event_timeline ON beneficiary_event (beneficiary, happened_on) "
    "WHERE beneficiary <> submission",
]
