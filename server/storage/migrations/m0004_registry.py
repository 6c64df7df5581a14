"""The beneficiary registry: people a programme serves, the submissions about each of them
(intake, visits, growth checks) and the follow-ups a visit asks for. NIK and No. KK are stored only
sealed (AES-GCM) with a keyed blind index to find them (storage/pii.py), and masked for lists.
Dates are ISO text (YYYY-MM-DD): they compare as text on both engines, and "" means none."""

STATEMENTS = [
    """CREATE TABLE beneficiary (
        id UUID PRIMARY KEY NOT NULL,
        programme VARCHAR(64) NOT NULL,
        status VARCHAR(12) NOT NULL DEFAULT 'active',
        merged_into UUID REFERENCES beneficiary (id) ON DELETE RESTRICT,
        nik_index VARCHAR(64) NOT NULL DEFAULT '',
        nik_sealed TEXT NOT NULL DEFAULT '',
        nik_masked VARCHAR(16) NOT NULL DEFAULT '',
        kk_index VARCHAR(64) NOT NULL DEFAULT '',
        kk_sealed TEXT NOT NULL DEFAULT '',
        kk_masked VARCHAR(16) NOT NULL DEFAULT '',
        name VARCHAR(200) NOT NULL,
        name_key VARCHAR(200) NOT NULL,
        sex VARCHAR(1) NOT NULL DEFAULT '',
        birth_date VARCHAR(10) NOT NULL DEFAULT '',
        area_code VARCHAR(20) NOT NULL,
        kecamatan VARCHAR(20) NOT NULL,
        target_group VARCHAR(40) NOT NULL DEFAULT '',
        flags TEXT NOT NULL DEFAULT '',
        baseline JSONB NOT NULL,
        registered_on VARCHAR(10) NOT NULL,
        last_visit_on VARCHAR(10) NOT NULL DEFAULT '',
        next_due_on VARCHAR(10) NOT NULL DEFAULT '',
        visit_months INTEGER NOT NULL DEFAULT 0,
        created_by INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT,
        created_at TIMESTAMPTZ NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL
    )""",
    # Each index below names the queries that use it; an index no query uses costs every insert
    # (the registry import writes 100,000 rows at once) and was dropped (m0017).
    # Duplicate checks at intake: exact NIK / KK within a programme, through the blind index.
    # nik: storage/registry._others_by_nik_and_kk, storage/registry_import.compare_with_registry and
    # _Commit._existing (programme = AND nik_index IN).
    "CREATE INDEX beneficiary_nik ON beneficiary (programme, nik_index)",
    # kk: the same intake check (registry._others_by_nik_and_kk, registry._others), and
    # registry_import.compare_with_registry's one-per-family check and its _Commit._flag_families.
    "CREATE INDEX beneficiary_kk ON beneficiary (programme, kk_index)",
    # Name-prefix search within a kecamatan or a desa (bench/registry.py: p95 <= 50 ms at 200,000):
    # storage/registry_read.search (kecamatan = / area_code = or IN, name_key range, ORDER BY name_key).
    "CREATE INDEX beneficiary_kecamatan_name ON beneficiary (kecamatan, name_key)",
    # ... and within a desa (registry_read.search with area_code = or IN).
    "CREATE INDEX beneficiary_area_name ON beneficiary (area_code, name_key)",
    # Due and overdue visits per kecamatan: storage/registry_read.due_visits (ORDER BY next_due_on).
    "CREATE INDEX beneficiary_kecamatan_due ON beneficiary (kecamatan, next_due_on)",
    # The phone's incremental copy per kecamatan: registry_read._changed_since (ORDER BY updated_at, id).
    "CREATE INDEX beneficiary_kecamatan_updated ON beneficiary (kecamatan, updated_at)",
    # ... and overall (staff: no area clause), registry_read.recent (ORDER BY updated_at DESC) and the
    # home page's change probe (storage/dashboard: MAX(updated_at)).
    "CREATE INDEX beneficiary_updated ON beneficiary (updated_at)",
    """CREATE TABLE beneficiary_event (
        id {pk},
        beneficiary UUID NOT NULL REFERENCES beneficiary (id) ON DELETE RESTRICT,
        submission UUID NOT NULL REFERENCES submission (id) ON DELETE CASCADE,
        form_id VARCHAR(64) NOT NULL,
        kind VARCHAR(12) NOT NULL,
        happened_on VARCHAR(10) NOT NULL,
        summary JSONB NOT NULL,
        recorded_at TIMESTAMPTZ NOT NULL
    )""",
    # One event per submission (the constraint), and the person a submission belongs to:
    # registry.resolve, registry._intake, registry._upsert_event, registry_read (WHERE submission =),
    # the review list's and the export's joins (be.submission = s.id).
    "CREATE UNIQUE INDEX beneficiary_event_submission ON beneficiary_event (submission)",
    # A person's timeline: registry_read.timeline (WHERE beneficiary = ORDER BY happened_on) and
    # registry.reschedule (MAX(happened_on) WHERE beneficiary =).
    "CREATE INDEX beneficiary_event_timeline ON beneficiary_event (beneficiary, happened_on)",
    """CREATE TABLE follow_up (
        id {pk},
        beneficiary UUID NOT NULL REFERENCES beneficiary (id) ON DELETE RESTRICT,
        submission UUID NOT NULL REFERENCES submission (id) ON DELETE CASCADE,
        form_id VARCHAR(64) NOT NULL,
        actions TEXT NOT NULL DEFAULT '',
        detail JSONB NOT NULL,
        opened_on VARCHAR(10) NOT NULL,
        due_on VARCHAR(10) NOT NULL,
        closed_on VARCHAR(10) NOT NULL DEFAULT '',
        closed_by UUID REFERENCES submission (id) ON DELETE SET NULL
    )""",
    # One follow-up per visit (the constraint): registry._follow_up (WHERE submission =, its DELETE).
    "CREATE UNIQUE INDEX follow_up_submission ON follow_up (submission)",
    # A person's follow-ups: registry_read.follow_ups_of (f.beneficiary =) and the visit that closes
    # them, registry._record_event (UPDATE ... WHERE beneficiary = AND closed_on = '').
    "CREATE INDEX follow_up_beneficiary ON follow_up (beneficiary, closed_on)",
    # Open follow-ups, most overdue first: registry_read.open_follow_ups (closed_on = '' ORDER BY due_on).
    "CREATE INDEX follow_up_open ON follow_up (closed_on, due_on)",
    # NIK and KK answers of stored submissions: the answers keep them masked, the values live here
    # sealed, findable by exact value through the blind index (storage/pii.seal_answers).
    """CREATE TABLE sealed_answer (
        id {pk},
        submission UUID NOT NULL REFERENCES submission (id) ON DELETE CASCADE,
        path VARCHAR(200) NOT NULL,
        kind VARCHAR(3) NOT NULL,
        blind_index VARCHAR(64) NOT NULL,
        sealed TEXT NOT NULL
    )""",
    # One sealed value per answer (the constraint); review.sealed_values and registry.apply's delete
    # (WHERE submission =).
    "CREATE UNIQUE INDEX sealed_answer_path ON sealed_answer (submission, path)",
    # Dropped in m0017: no query looks a submission's answer up by its blind index (NIK search goes
    # through beneficiary's indexes).
    "CREATE INDEX sealed_answer_index ON sealed_answer (blind_index)",
]

# Name keys compare byte by byte, so a prefix range (>= 'siti', < 'sitj') is exactly "starts with"
# and uses the index; PostgreSQL's default collation would order by language rules instead.
POSTGRES_STATEMENTS = [
    'ALTER TABLE beneficiary ALTER COLUMN name_key TYPE VARCHAR(200) COLLATE "C"',
]
