"""Beneficiary lists imported into the registry: each committed file once per programme,
by its sha256, so importing the same file again changes nothing; and the column mappings staff
saved by name for the next file of the same shape."""

STATEMENTS = [
    """CREATE TABLE registry_import (
        id {pk},
        programme VARCHAR(64) NOT NULL,
        sha256 VARCHAR(64) NOT NULL,
        file_name VARCHAR(200) NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        skipped INTEGER NOT NULL,
        imported_by INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT,
        imported_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX registry_import_file ON registry_import (programme, sha256)",
    """CREATE TABLE import_mapping (
        id {pk},
        name VARCHAR(80) NOT NULL,
        mapping JSONB NOT NULL,
        saved_by INTEGER REFERENCES pantau_user (id) ON DELETE RESTRICT,
        saved_at TIMESTAMPTZ NOT NULL
    )""",
    "CREATE UNIQUE INDEX import_mapping_name ON import_mapping (name)",
]
