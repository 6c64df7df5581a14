"""Every index on the tables a submission writes names the queries that use it: each one costs every
registration an entry (bench/submit_cost's pg_index_entries), so an index that serves no query is a
cost with nothing in return. The test reads the migrated database's own index list and fails for
an index whose CREATE INDEX in the migrations has no comment naming a query (a `module.function`)
right above it, or no such line in the docstring of the migration that changed it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.storage import migrations
from server.storage.db import Database

# The tables a registration (registrasi_penerima) or a review decision writes.
WRITE_PATH = ("submission", "submission_attachment", "submission_flag", "submission_name", "beneficiary",
              "beneficiary_event", "follow_up", "review_event", "audit_log")
# A comment names a query when it names where it runs: `review.page`, `registry_read.search`, ...
NAMES_A_QUERY = re.compile(r"\b[a-z_]+\.[a-z_]+\b")


def commented_indexes() -> dict[str, str]:
    """Index name -> the comment that names its queries, from every migration's source."""
    found: dict[str, str] = {}
    for path in sorted(Path(migrations.__file__).parent.glob("m*.py")):
        text = path.read_text(encoding="utf-8")
        lines = text.splitlines()
        for n, line in enumerate(lines):
            created = re.search(r"CREATE (?:UNIQUE )?INDEX (\w+) ON", line)
            if created is None:
                continue
            comment = []
            for above in reversed(lines[:n]):
                if not above.strip().startswith("#"):
                    break
                comment.insert(0, above.strip().lstrip("# "))
            if comment and NAMES_A_QUERY.search(" ".join(comment)):
                found[created.group(1)] = " ".join(comment)
        for listed in re.finditer(r"^- (\w+): (.+(?:\n  .+)*)", text, re.MULTILINE):  # a docstring's list
            if NAMES_A_QUERY.search(listed.group(2)):
                found[listed.group(1)] = listed.group(2)
    return found


async def live_indexes(db: Database) -> list[tuple[str, str]]:
    """(table, index) of the write-path tables in the migrated database; primary keys (PostgreSQL) and
    SQLite's own autoindexes left out."""
    marks = ", ".join("{}" for _ in WRITE_PATH)
    if db.kind == "postgres":
        rows = await db.fetch(f"SELECT tablename AS t, indexname AS i FROM pg_indexes WHERE tablename IN ({marks}) "
                              "AND indexname NOT LIKE '%\\_pkey' ESCAPE '\\'", *WRITE_PATH)
    else:
        rows = await db.fetch(f"SELECT tbl_name AS t, name AS i FROM sqlite_master WHERE type = 'index' "
                              f"AND sql IS NOT NULL AND tbl_name IN ({marks})", *WRITE_PATH)
    return sorted((str(r["t"]), str(r["i"])) for r in rows)


async def test_every_index_of_the_write_path_names_the_queries_that_use_it(db: Database) -> None:
    commented = commented_indexes()
    live = await live_indexes(db)
    assert live, "the migrated database has indexes on these tables"
    assert [index for _table, index in live if index not in commented] == []


def test_an_index_without_a_named_query_is_found() -> None:
    """The check itself: the current migrations' indexes pass, and a CREATE INDEX with no comment (or
    one that names no query) would not."""
    commented = commented_indexes()
    assert "beneficiary_nik" in commented and "registry._others_by_nik_and_kk" in commented["beneficiary_nik"]
    assert NAMES_A_QUERY.search("only a reason, no query") is None


async def test_photo_links_and_flags_are_keyed_by_what_identifies_them(db: Database) -> None:
    """m0020: on PostgreSQL the unique (submission, sha256) and (submission, flag) are the primary keys,
    so a photo link or a flag costs one index entry less; the serial ids are indexed nowhere."""
    if db.kind != "postgres":
        pytest.skip("an SQLite INTEGER PRIMARY KEY is the rowid: no index to save")
    rows = await db.fetch("SELECT tablename AS t, indexdef AS d FROM pg_indexes WHERE tablename IN "
                          "('submission_attachment', 'submission_flag') ORDER BY tablename, indexname")
    assert [(r["t"], r["d"].split(" USING ")[1]) for r in rows] == [
        ("submission_attachment", "btree (submission, sha256)"), ("submission_attachment", "btree (sha256)"),
        ("submission_flag", "btree (flag, submission)"), ("submission_flag", "btree (submission, flag)")]
