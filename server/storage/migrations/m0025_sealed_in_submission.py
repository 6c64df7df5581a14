"""A submission's sealed NIK/KK answers move into its own row: two index entries fewer per
registration (bench/submit_cost's pg_index_entries; one each on SQLite).

A registration wrote two sealed_answer rows (its NIK and its KK answer), each with a primary-key
entry. They are only ever read with their submission (review.sealed_values for the detail view and
a correction's unchanged numbers, keyring.check and keyring.rotate), so the submission row keeps
them: `sealed`, {path: [kind, sealed value]} as JSON, "" for none (storage/pii.held). The answers'
blind index is not kept: no query read sealed_answer by it (m0017 dropped its index), and the
registry's own NIK/KK (beneficiary) keeps the blind index the duplicate checks use. An edit
replaces the column with the rest of the row, as it replaced the rows.

Existing answers are copied into the column (one statement: PostgreSQL rewrites the submissions
that hold some, not the others) and the table is dropped.
"""

STATEMENTS = ["ALTER TABLE submission ADD COLUMN sealed TEXT NOT NULL DEFAULT ''"]

SQLITE_STATEMENTS = [
    "UPDATE submission SET sealed = (SELECT json_group_object(a.path, json_array(a.kind, a.sealed)) "
    "FROM sealed_answer a WHERE a.submission = submission.id) "
    "WHERE id IN (SELECT submission FROM sealed_answer)",
    "DROP TABLE sealed_answer",
]

POSTGRES_STATEMENTS = [
    "UPDATE submission s SET sealed = a.held FROM (SELECT submission, "
    "json_object_agg(path, json_build_array(kind, sealed) ORDER BY path)::text AS held "
    "FROM sealed_answer GROUP BY submission) a WHERE a.submission = s.id",
    "DROP TABLE sealed_answer",
]
