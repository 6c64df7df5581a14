"""Fewer index entries per registration (bench/submit_cost's pg_index_entries, counted from the WAL):
three entries a registration wrote that no query needs once the queries they served are read from
another index.

- submission_form_status_received (form_id, review_status, received_at, id), dropped: review.page and
  review_flow.next_after with a form and a status (s.form_id = AND s.review_status IN) are a walk of
  submission_form_received_id (the form's rows, newest first) keeping the rows of the status, or of
  submission_status_received keeping the form's; each planner takes the narrower (on PostgreSQL by
  its statistics: a rare status of a common form walks the status, the review queue of 'received'
  rows, the newest, walks the form). tests/storage/test_review_plan.py checks both.
- beneficiary_area_name (area_code, name_key), dropped: a desa is read from its kecamatan's range of
  beneficiary_kecamatan_name, registry_read.area_clause (kecamatan = AND area_code =) and
  registry_read.search's desas (kecamatan IN AND area_code IN); a kecamatan has about 15 desas, so a
  desa's page of names reads about 15 times its rows of that index, still under a millisecond.
  registry_read.due_visits, _changed_since and recent of a desa read their kecamatan's indexes too.
- sealed_answer (PostgreSQL): (submission, path) becomes the primary key, and the serial id is indexed
  nowhere, as m0020 did for photo links and flags: every query reads a sealed answer by its
  submission (review.sealed_values, registry.apply's DELETE) and keyring.check / keyring.rotate by
  (submission, path); a registration's sealed NIK and KK each wrote an entry into the id's index
  besides their unique (submission, path). SQLite: the id is the rowid, no index to save.
"""

STATEMENTS = [
    "DROP INDEX submission_form_status_received",
    "DROP INDEX beneficiary_area_name",
]

POSTGRES_STATEMENTS = [
    "ALTER TABLE sealed_answer DROP CONSTRAINT sealed_answer_pkey, "
    "ADD CONSTRAINT sealed_answer_pkey PRIMARY KEY USING INDEX sealed_answer_path",
]
