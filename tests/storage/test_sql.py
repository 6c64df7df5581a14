"""The storage boundary's one SQL module: `{}` placeholders become each driver's style, the same
statement returns the same rows through every driver that runs it, and a row's values come back
typed however the engine handed them over."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import msgspec

from server.settings import Settings
from server.storage import sql
from server.storage.db import Database
from server.storage.writer import Writer

ROOT = Path(__file__).resolve().parents[2]


def test_each_driver_gets_its_own_placeholders() -> None:
    text = "SELECT a FROM t WHERE b = {} AND c LIKE '64.%' AND d IN ({})"
    assert sql.for_sqlite(text) == "SELECT a FROM t WHERE b = ? AND c LIKE '64.%' AND d IN (?)"
    # psycopg reads % as its own marker: a literal one in the text is doubled.
    assert sql.for_psycopg(text) == "SELECT a FROM t WHERE b = %s AND c LIKE '64.%%' AND d IN (%s)"
    assert sql.for_asyncpg(text) == "SELECT a FROM t WHERE b = $1 AND c LIKE '64.%' AND d IN ($2)"
    assert sql.marks(3) == "{}, {}, {}" and sql.marks(0) == ""


def test_a_compiled_statement_is_kept_and_reused() -> None:
    text = "SELECT {} AS kept_" + uuid.uuid4().hex
    first = sql.for_asyncpg(text)
    assert sql.for_asyncpg(text) is first  # the hot reads pay a dict lookup, not a rewrite


def test_no_other_module_rewrites_placeholders() -> None:
    rewrites = re.compile(r"""replace\(\s*["']\{\}["']|split\(\s*["']\{\}["']\)""")
    found = [str(path.relative_to(ROOT)) for path in (ROOT / "server").rglob("*.py")
             if path.name != "sql.py" and rewrites.search(path.read_text(encoding="utf-8"))]
    assert found == []


async def test_one_statement_reads_the_same_rows_through_every_driver(db: Database, settings: Settings) -> None:
    writer = Writer(db)
    await writer.start()
    try:
        def seed(tx):  # type: ignore[no-untyped-def]
            for code, name in (("64.02", "Tenggarong"), ("64.02.06", "Loa Ipuh"), ("64.03", "Samboja")):
                tx.execute("INSERT INTO pantau_user (username, display_name, password_hash, role, active, "
                           "created_at) VALUES ({}, {}, {}, {}, {}, {})", f"u{code}", name, "x", "enumerator",
                           True, dt.datetime(2026, 1, 5, tzinfo=dt.UTC))

        await writer.run(seed)
    finally:
        await writer.stop()
    text = ("SELECT username, display_name FROM pantau_user WHERE username LIKE 'u64.02%' "
            "AND display_name <> {} ORDER BY username")
    through_engine = [(r["username"], r["display_name"]) for r in await db.fetch(text, "nobody")]
    assert through_engine == [("u64.02", "Tenggarong"), ("u64.02.06", "Loa Ipuh")]
    conn = sql.open_reader(settings.database_url)
    try:
        streamed = [tuple(r) for r in sql.rows(conn, text, ["nobody"], batch=1, name="pantau_test")]
    finally:
        conn.close()
    assert streamed == through_engine


def test_values_come_back_typed_whatever_the_engine_handed_over() -> None:
    utc = dt.datetime(2026, 3, 1, 2, 30, tzinfo=dt.UTC)
    assert sql.aware("2026-03-01 02:30:00") == utc  # SQLite's text, written in UTC
    assert sql.aware("2026-03-01T10:30:00+08:00") == utc
    assert sql.aware(dt.datetime(2026, 3, 1, 2, 30)) == utc
    assert sql.aware_or_none(None) is None
    assert sql.json_object('{"a": 1}') == {"a": 1} and sql.json_object({"a": 1}) == {"a": 1}
    assert sql.json_object("[1]") == {} and sql.json_object("{not json") == {} and sql.json_object(None) == {}
    assert sql.json_value("[1, 2]") == [1, 2] and sql.json_value([1]) == [1]
    assert msgspec.json.decode(sql.json_text({"z": [1, "dua"]})) == {"z": [1, "dua"]}
    made = uuid.uuid4()
    assert sql.uuid_or_none(str(made)) == made and sql.uuid_or_none(made) is made
    assert sql.uuid_or_none("") is None and sql.uuid_or_none("bukan-uuid") is None and sql.uuid_or_none(None) is None


def test_only_storage_runs_sql() -> None:
    """Rows reach the web, the CLI and the reports through storage's functions and Structs: no SQL
    text and no raw fetch outside server/storage."""
    sql_text = re.compile(r"""["'](SELECT|INSERT INTO|UPDATE|DELETE FROM) |\bdb(_of\(request\))?\.fetch\(""")
    found = [str(path.relative_to(ROOT)) for layer in ("web", "cli", "reports", "domain")
             for path in (ROOT / "server" / layer).rglob("*.py") if sql_text.search(path.read_text(encoding="utf-8"))]
    assert found == []


def test_sqlite_parameters_are_piccolos_texts_made_once_per_value() -> None:
    """UUIDs and datetimes reach SQLite as the texts piccolo's adapters make (ids in text, timestamps
    in UTC), also when the same value comes again, another one follows, and back."""
    import sqlite3

    from piccolo.engine.sqlite import convert_datetime_in, convert_uuid_in

    wita = dt.timezone(dt.timedelta(hours=8))
    ids = [uuid.uuid4(), uuid.uuid4()]
    times = [dt.datetime(2026, 3, 2, 9, 30, 1, 5, tzinfo=wita), dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC),
             dt.datetime(2026, 3, 2, 9, 30)]
    values = [ids[0], ids[0], times[0], ids[1], times[1], ids[0], times[0], times[2], times[2]]
    connection = sqlite3.connect(":memory:")
    try:
        stored = connection.execute("SELECT " + ", ".join(["?"] * len(values)), values).fetchone()
    finally:
        connection.close()
    expected = [convert_uuid_in(v) if isinstance(v, uuid.UUID) else convert_datetime_in(v) for v in values]
    assert list(stored) == expected
    assert stored[2] == "2026-03-02 01:30:01.000005+00:00" and stored[0] == str(ids[0])
