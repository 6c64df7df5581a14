"""A record's creation is evidenced by its submission row, not by a second row in audit_log: a
registration stops writing its `submission.create` audit entry (one row and, on PostgreSQL, two index
entries fewer: audit_log_pkey and the BRIN on `at`; bench/submit_cost).

The audit entry repeated what the row holds (the record id, the enumerator, the time it was
received, its area) and added the client's address. The row now keeps the address too, in
`sent_from`: the address the registration came from ('' when it was not known), NULL for a row made
before this migration (its creation is the `submission.create` entry already in audit_log, which
stays: that table refuses UPDATE and DELETE, so nothing is moved) and for rows that are not a
creation someone sent (a registry import's rows, audited as `registry.import`). The audit page
lists creations from the rows whose `sent_from` is set (storage/audit.page).

What made the audit entry evidence is that nobody can change it (m0002's trigger). The creation
columns get the same guard: a trigger refuses an UPDATE that changes id, enumerator, received_at or
sent_from. It is an UPDATE OF trigger, so it fires only for a statement that names one of those
columns; none of Pantau's does (edits, review decisions, the registry step's area, re-keying), so
they pay nothing, and a registration is an INSERT. Pantau deletes no submission rows, and this
migration changes nothing about deleting them.

No index is added: the page's creations, newest first, walk the review list's indexes (m0005),
which serve these queries now:

- submission_received: review.page and review_flow's next record (no filter), and audit.page's
  creations (no person or record filter; the date range).
- submission_enumerator_received: review.scope (an enumerator's own records), submissions.sent_by,
  review.corrections_for, and audit.page's creations of one person.
"""

_COLUMNS = "id, enumerator, received_at, sent_from"
_MESSAGE = "submission creation columns (id, enumerator, received_at, sent_from) cannot be changed"

STATEMENTS = ["ALTER TABLE submission ADD COLUMN sent_from VARCHAR(64)"]

SQLITE_STATEMENTS = [
    f"""CREATE TRIGGER submission_creation_fixed BEFORE UPDATE OF {_COLUMNS} ON submission
       WHEN NEW.id IS NOT OLD.id OR NEW.enumerator IS NOT OLD.enumerator
         OR NEW.received_at IS NOT OLD.received_at OR NEW.sent_from IS NOT OLD.sent_from
       BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END""",
]

POSTGRES_STATEMENTS = [
    f"""CREATE FUNCTION submission_creation_fixed() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION '{_MESSAGE}'; END; $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER submission_creation_fixed BEFORE UPDATE OF {_COLUMNS} ON submission FOR EACH ROW
       WHEN (NEW.id IS DISTINCT FROM OLD.id OR NEW.enumerator IS DISTINCT FROM OLD.enumerator
             OR NEW.received_at IS DISTINCT FROM OLD.received_at OR NEW.sent_from IS DISTINCT FROM OLD.sent_from)
       EXECUTE FUNCTION submission_creation_fixed()""",
]
