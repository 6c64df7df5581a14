"""Periodic evaluation reports: one report_run per (report, period, scope), so a scheduled
report is queued once however many Pantau processes look at the clock, and every PDF made for it
(an edition) is kept with its sha256; the bytes live under DATA_DIR/reports/. Visits and growth
checks of a period are read through beneficiary_event by form and date."""

STATEMENTS = [
    """CREATE TABLE report_run (
        id {pk},
        report VARCHAR(64) NOT NULL,
        period VARCHAR(10) NOT NULL,
        scope VARCHAR(20) NOT NULL,
        status VARCHAR(12) NOT NULL,
        include_all BOOLEAN NOT NULL DEFAULT FALSE,
        message TEXT NOT NULL DEFAULT '',
        scheduled BOOLEAN NOT NULL DEFAULT FALSE,
        requested_by INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT,
        requested_at TIMESTAMPTZ NOT NULL,
        started_at TIMESTAMPTZ,
        finished_at TIMESTAMPTZ
    )""",
    "CREATE UNIQUE INDEX report_run_unique ON report_run (report, period, scope)",
    "CREATE INDEX report_run_status ON report_run (status, requested_at)",
    """CREATE TABLE report_edition (
        id {pk},
        run INTEGER NOT NULL REFERENCES report_run (id) ON DELETE RESTRICT,
        edition INTEGER NOT NULL,
        sha256 VARCHAR(64) NOT NULL,
        size INTEGER NOT NULL,
        pages INTEGER NOT NULL,
        include_all BOOLEAN NOT NULL DEFAULT FALSE,
        created_by INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT,
        created_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX report_edition_unique ON report_edition (run, edition)",
    # The reports' visits per form and period: storage/reports.kecamatan_with_data (form_id IN AND
    # happened_on range).
    "CREATE INDEX beneficiary_event_form_day ON beneficiary_event (form_id, happened_on)",
]
