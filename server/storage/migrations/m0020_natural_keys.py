"""PostgreSQL: a submission's photo links and flags are keyed by what identifies them, (submission,
sha256) and (submission, flag), and their serial `id` stops being indexed. No query reads either
table by id (storage/attachments, storage/review, storage/reports read them by submission or by
sha256 / flag), yet each registration with a photo wrote an entry into the id's primary key index
as well as into the unique index the ON CONFLICT of its INSERT uses. The unique indexes become the
primary keys (the row's identity for tools that want one); the id columns stay (their sequence
still fills them) so the table definitions are the same on both databases. SQLite: nothing to do,
an INTEGER PRIMARY KEY is the rowid and costs no index.

- submission_attachment_unique: the primary key; submissions._link_attachments' ON CONFLICT,
  attachments.citable (WHERE submission = AND sha256 IN), reports' EXISTS (WHERE a.submission =).
- submission_flag_unique: the primary key; review.after_store's ON CONFLICT and DELETE, review's
  stored flags (EXISTS ... WHERE f.submission = AND f.flag =), review._flags_of (WHERE submission IN)."""

STATEMENTS: list[str] = []

POSTGRES_STATEMENTS = [
    "ALTER TABLE submission_attachment DROP CONSTRAINT submission_attachment_pkey, "
    "ADD CONSTRAINT submission_attachment_pkey PRIMARY KEY USING INDEX submission_attachment_unique",
    "ALTER TABLE submission_flag DROP CONSTRAINT submission_flag_pkey, "
    "ADD CONSTRAINT submission_flag_pkey PRIMARY KEY USING INDEX submission_flag_unique",
]
