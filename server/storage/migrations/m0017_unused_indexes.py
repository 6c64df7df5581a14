"""Indexes no query uses, dropped: each cost every insert into its table (the registry import
writes a submission, a beneficiary, its event, review event, name and sealed answers per person,
100,000 people at once) and served nothing. The indexes kept on those tables name the queries that
use them in the migrations that made them (m0001, m0004, m0005, m0006).

- submission_area (submission.area_code): the only area filters on submissions are
  "area_code = X OR area_code LIKE 'X.%'" (storage/review._areas); neither SQLite (LIKE is
  case-insensitive there) nor PostgreSQL (a LIKE prefix needs the C collation or text_pattern_ops)
  answers that from this index: PostgreSQL's plan with seq scans disabled walks submission_received
  and filters.
- sealed_answer_index (sealed_answer.blind_index): no query reads sealed_answer by blind index;
  sealed values are read by submission (sealed_answer_path), the NIK search uses beneficiary's."""

STATEMENTS = [
    "DROP INDEX submission_area",
    "DROP INDEX sealed_answer_index",
]
