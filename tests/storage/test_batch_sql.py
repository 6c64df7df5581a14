"""The writer's deferred rows as PostgreSQL statements: one multi-row INSERT per table joined in one
WITH, split at the parameter budget, the text made once per batch shape."""

from __future__ import annotations

from server.storage import batch_sql


def test_deferred_rows_join_into_one_statement_per_parameter_budget() -> None:
    """Past the parameter budget, more statements (PostgreSQL takes at most 65,535 parameters)."""
    grouped = {"INSERT INTO a (x, y) VALUES ({}, lower({})) ON CONFLICT (x) DO NOTHING": [(1, "p"), (2, "q")],
               "INSERT INTO b (z) VALUES ({})": [(3,)]}
    [(text, args)] = batch_sql.joined(grouped)
    assert text == ("WITH w0 AS (INSERT INTO a (x, y) VALUES ($1, lower($2)), ($3, lower($4)) ON CONFLICT (x) "
                    "DO NOTHING) INSERT INTO b (z) VALUES ($5)")
    assert args == [1, "p", 2, "q", 3]
    same_shape = dict(zip(grouped, [[(7, "r"), (8, "s")], [(9,)]], strict=True))  # the text is kept, the values are new
    assert batch_sql.joined(same_shape) == [(text, [7, "r", 8, "s", 9])]
    many = {"INSERT INTO b (z) VALUES ({})": [(n,) for n in range(batch_sql.MAX_PARAMETERS + 10)]}
    statements = batch_sql.joined(many)
    assert [len(args) for _text, args in statements] == [batch_sql.MAX_PARAMETERS, 10]
    assert statements[1][1] == list(range(batch_sql.MAX_PARAMETERS, batch_sql.MAX_PARAMETERS + 10))


def test_a_statement_of_its_own_when_the_next_table_would_pass_the_budget() -> None:
    """Tables join in one WITH only while their parameters fit: the next goes in a new statement,
    its parameters numbered from $1 again."""
    wide = "INSERT INTO a (x) VALUES ({})"
    grouped = {wide: [(n,) for n in range(batch_sql.MAX_PARAMETERS - 1)],
               "INSERT INTO b (y, z) VALUES ({}, {})": [(1, 2)]}
    first, second = batch_sql.joined(grouped)
    assert not first[0].startswith("WITH") and len(first[1]) == batch_sql.MAX_PARAMETERS - 1
    assert second == ("INSERT INTO b (y, z) VALUES ($1, $2)", [1, 2])


def test_the_row_is_found_by_its_parentheses_not_the_first_closing_one() -> None:
    """A row with calls in it (lower(...), a cast) is repeated whole; what follows it stays once."""
    sql = "INSERT INTO t (a, b) VALUES (lower({}), CAST({} AS jsonb)) ON CONFLICT (a) DO UPDATE SET b = excluded.b"
    assert batch_sql._values_split(sql) == ("INSERT INTO t (a, b) VALUES ", "(lower({}), CAST({} AS jsonb))",
                                            " ON CONFLICT (a) DO UPDATE SET b = excluded.b")
    [(text, args)] = batch_sql.joined({sql: [("A", "{}"), ("B", "[]")]})
    assert text == ("INSERT INTO t (a, b) VALUES (lower($1), CAST($2 AS jsonb)), (lower($3), CAST($4 AS jsonb)) "
                    "ON CONFLICT (a) DO UPDATE SET b = excluded.b")
    assert args == ["A", "{}", "B", "[]"]


def test_the_kept_texts_are_bounded() -> None:
    """Batches under load come in many sizes: past MAX_PLANS shapes the kept texts start again."""
    sql = "INSERT INTO t (a) VALUES ({})"
    for count in range(1, batch_sql.MAX_PLANS + 2):
        batch_sql.joined({sql: [(n,) for n in range(count)]})
    assert 0 < len(batch_sql._PLANS) <= batch_sql.MAX_PLANS
