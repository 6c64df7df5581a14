"""How many times a report run's lease ran out (its renderer's process died): a report that kills
its node every time (memory, a crash in the renderer) is given up after PANTAU_REPORT_ATTEMPTS lost
leases instead of going back to the queue forever (storage/reports.recover_stale). Queuing the run
again by hand starts the count anew."""

STATEMENTS = [
    "ALTER TABLE report_run ADD COLUMN lost_leases INTEGER NOT NULL DEFAULT 0",
]
