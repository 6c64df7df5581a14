"""The expression language on the server: the shared vectors, parse errors, the JSON AST, totality,
and the docs. The JS evaluator runs the same vectors (tests/js/expr.test.js)."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import re
from pathlib import Path
from typing import Any

import pytest

from server.domain.expr import (
    FUNCTIONS,
    MAX_DEPTH,
    BinOp,
    Call,
    Context,
    Current,
    Expr,
    ExprError,
    Neg,
    Num,
    Parent,
    Ref,
    Str,
    compile_expr,
    evaluate,
    from_json,
    parse,
    references,
    to_boolean,
    to_json,
    to_number,
    to_string,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests" / "expr_vectors.json").read_text(encoding="utf-8"))
TODAY = dt.date.fromisoformat(VECTORS["today"])
NOW = dt.datetime.fromisoformat(VECTORS["now"])
ERROR_CODES = {"expr.syntax", "expr.unknown_function", "expr.arity", "expr.too_long"}


def context_for(vector: dict[str, Any]) -> Context:
    return Context(
        answers=vector.get("answers", {}),
        current=vector.get("current", ""),
        scope={name: tuple(path) for name, path in vector.get("scope", {}).items()},
        position=tuple((name, index) for name, index in vector.get("position", [])),
        instances=vector.get("instances", {}),
        lists=vector.get("lists", {}),
        today=TODAY,
        now=NOW,
    )


def decode(expected: Any) -> Any:
    if isinstance(expected, dict):
        return {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}[expected["num"]]
    if isinstance(expected, list):
        return [decode(item) for item in expected]
    return expected


def same(actual: Any, expected: Any) -> bool:
    """Equal and of the same expression type: 5 (number) is not '5' (text) nor true."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    if isinstance(expected, int | float):
        if not isinstance(actual, float):
            return False
        # float(): JSON from JS writes 5.9e16 as 59874409774619090, which Python reads as an exact int
        return (math.isnan(actual) and math.isnan(expected)) or actual == float(expected)
    if isinstance(expected, list):
        return isinstance(actual, list) and len(actual) == len(expected) and all(map(same, actual, expected))
    return type(actual) is type(expected) and actual == expected


def _id(index: int, vector: dict[str, Any]) -> str:
    return f"{index}:{vector['expr'][:50]}"


CASES = [pytest.param(v, id=_id(i, v)) for i, v in enumerate(VECTORS["vectors"])]


@pytest.mark.parametrize("vector", CASES)
def test_vector(vector: dict[str, Any]) -> None:
    if "error" in vector:
        with pytest.raises(ExprError) as caught:
            parse(vector["expr"])
        assert (caught.value.code, caught.value.column) == (vector["error"], vector["column"])
        return
    expr = parse(vector["expr"])
    actual = evaluate(expr, context_for(vector))
    expected = decode(vector["expected"])
    assert same(actual, expected), f"{vector['expr']!r}: got {actual!r}, expected {expected!r}"


def test_the_vectors_cover_every_function_and_error_code() -> None:
    texts = " ".join(v["expr"] for v in VECTORS["vectors"])
    for name in FUNCTIONS:
        assert re.search(rf"(?<![\w-]){re.escape(name)}\(", texts), f"no vector calls {name}()"
    assert {v["error"] for v in VECTORS["vectors"] if "error" in v} == ERROR_CODES
    for op in (" + ", " - ", " * ", " div ", " mod ", " = ", " != ", " < ", " <= ", " > ", " >= ", " and ", " or "):
        assert op in texts, op
    assert len(VECTORS["vectors"]) >= 300


# --- parse errors ------------------------------------------------------------------------------


def error_of(text: str) -> ExprError:
    with pytest.raises(ExprError) as caught:
        parse(text)
    return caught.value


def test_an_unknown_function_suggests_the_closest_name() -> None:
    error = error_of("1 + sumx(${a})")
    assert (error.code, error.column) == ("expr.unknown_function", 5)
    assert "'sum'" in error.message_id and "'sum'" in error.message_en
    assert "'count-selected'" in error_of("countselected(.)").message_id
    assert "'substr'" in error_of("substring(., 1)").message_id


def test_an_unrelated_unknown_function_gets_no_suggestion() -> None:
    error = error_of("xyzzyplugh('a', 'b', 'c', 'd')")
    assert error.code == "expr.unknown_function"
    assert "?" not in error.message_id


def test_arity_errors_name_the_function_and_the_counts() -> None:
    error = error_of("if(${a}, 1)")
    assert (error.code, error.column) == ("expr.arity", 1)
    assert "if()" in error.message_id and "3" in error.message_id and "2" in error.message_id
    assert error_of("concat()").code == "expr.arity"
    assert error_of("substr('a', 1, 2, 3)").code == "expr.arity"


@pytest.mark.parametrize(
    ("text", "code", "column"),
    [
        ("${a} = 1 and", "expr.syntax", 13),
        ("${a} == 1", "expr.syntax", 6),
        ("concat(${a}, 'x'", "expr.syntax", 7),
        ("${umur} >= 17 ${b}", "expr.syntax", 15),
        ("umur > 17", "expr.syntax", 1),
        ("x" * 4001, "expr.too_long", 4001),
        ("today() - ${tgl", "expr.syntax", 11),
    ],
)
def test_syntax_error_columns(text: str, code: str, column: int) -> None:
    error = error_of(text)
    assert (error.code, error.column) == (code, column)
    assert error.message_id and error.message_en and error.message_id != error.message_en


def test_every_error_message_is_filled_in() -> None:
    for vector in VECTORS["vectors"]:
        if "error" in vector:
            error = error_of(vector["expr"])
            for message in (error.message_id, error.message_en):
                assert not re.search(r"(?<!\$)\{[a-z_]+\}", message), message


def test_the_error_says_how_to_refer_to_a_question() -> None:
    assert "${umur}" in error_of("umur > 17").message_id


# --- the JSON AST ------------------------------------------------------------------------------


def test_json_shape() -> None:
    assert to_json(parse("-${a} + count-selected(.) * 2 = 'x' or position(..)")) == {
        "t": "bin",
        "op": "or",
        "left": {
            "t": "bin",
            "op": "=",
            "left": {
                "t": "bin",
                "op": "+",
                "left": {"t": "neg", "arg": {"t": "ref", "name": "a"}},
                "right": {
                    "t": "bin",
                    "op": "*",
                    "left": {"t": "call", "fn": "count-selected", "args": [{"t": "cur"}]},
                    "right": {"t": "num", "v": 2.0},
                },
            },
            "right": {"t": "str", "v": "x"},
        },
        "right": {"t": "call", "fn": "position", "args": [{"t": "parent"}]},
    }


@pytest.mark.parametrize("vector", [c for c in CASES if "error" not in c.values[0]])
def test_json_round_trip(vector: dict[str, Any]) -> None:
    expr = parse(vector["expr"])
    data = json.loads(json.dumps(to_json(expr)))
    assert from_json(data) == expr
    assert same(evaluate(from_json(data), context_for(vector)), decode(vector["expected"]))


@pytest.mark.parametrize(
    "obj",
    [
        {"t": "call", "fn": "sumx", "args": []},
        {"t": "call", "fn": "if", "args": [{"t": "num", "v": 1}]},
        {"t": "parent"},
        {"t": "neg", "arg": {"t": "parent"}},
        {"t": "call", "fn": "position", "args": [{"t": "num", "v": 1}]},
        {"t": "bin", "op": "^", "left": {"t": "num", "v": 1}, "right": {"t": "num", "v": 1}},
        {"t": "ref", "name": "a b"},
        {"t": "num", "v": "5"},
        {"t": "num", "v": float("inf")},
        {"t": "nope"},
        {"t": "call", "fn": "if"},
        [],
        "1 + 1",
        None,
    ],
)
def test_from_json_refuses_what_parse_cannot_make(obj: Any) -> None:
    with pytest.raises(ExprError) as caught:
        from_json(obj)
    assert caught.value.code in ERROR_CODES
    assert caught.value.column == 0


def test_from_json_refuses_a_too_deep_tree() -> None:
    obj: Any = {"t": "num", "v": 1}
    for _ in range(MAX_DEPTH):
        obj = {"t": "neg", "arg": obj}
    with pytest.raises(ExprError) as caught:
        from_json(obj)
    assert caught.value.code == "expr.too_long"


def test_nodes_are_frozen_and_hashable() -> None:
    expr = parse("${a} + 1")
    assert hash(expr) == hash(parse("${a} + 1"))
    with pytest.raises(AttributeError):
        expr.op = "-"


def test_references() -> None:
    expr = parse("${a} + if(${b} = 'x', ${a}, count(${c})) + string-length(.)")
    assert references(expr) == frozenset({"a", "b", "c"})
    assert references(parse("today()")) == frozenset()


# --- values and context ------------------------------------------------------------------------


def test_conversions_are_exported() -> None:
    assert to_boolean("x") and not to_boolean("") and not to_boolean(math.nan) and to_boolean([1.0])
    assert to_number("2026-03-31") == 20543 and math.isnan(to_number(""))
    assert to_string(5.0) == "5" and to_string(True) == "true" and to_string([]) == ""
    assert to_boolean(None) is False and to_string(None) == "" and math.isnan(to_number(None))
    assert to_number(3) == 3.0 and to_string(10**400) == "Infinity"


def test_answers_may_hold_python_dates_and_ints() -> None:
    ctx = Context(
        answers={"lahir": dt.date(2000, 1, 1), "n": 3, "big": 10**400, "t": dt.datetime(2026, 3, 31, 10, 0)},
        today=TODAY,
        now=NOW,
    )
    assert evaluate(parse("today() - ${lahir}"), ctx) == 9586.0
    assert evaluate(parse("${n} = '3'"), ctx) is True
    assert evaluate(parse("${big} > 0"), ctx) is True
    assert evaluate(parse("${t}"), ctx) == "2026-03-31T10:00:00.000"


def test_context_defaults() -> None:
    ctx = Context(answers={}, today=TODAY, now=NOW)
    assert (ctx.current, dict(ctx.scope), ctx.position) == ("", {}, ())
    assert evaluate(parse("position(..)"), ctx) == 1.0


# --- totality ----------------------------------------------------------------------------------


def random_value(rng: random.Random, depth: int = 0) -> Any:
    choices: list[Any] = [
        "", "0", "1,5", "2026-03-31", "2026-02-30T25:00", "a b", "😀", "NaN", " 7 ", "-", "2e5", "\n",
        0, -1, 2.5, 10**30, math.nan, math.inf, True, False, None,
        dt.date(2026, 1, 1), dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.UTC), object(), b"bytes", {1, 2},
    ]  # fmt: skip
    if depth < 3:
        choices += [
            [random_value(rng, depth + 1) for _ in range(rng.randrange(3))],
            {"x": random_value(rng, depth + 1), "r": [{"x": random_value(rng, depth + 1)}]},
        ]
    return rng.choice(choices)


def random_expr(rng: random.Random, depth: int = 0) -> Expr:
    if depth > 6 or rng.random() < 0.3:
        leaves: list[Expr] = [
            Num(rng.choice([0.0, 1.0, -2.5, 1e300, 20543.0, math.nan])),
            Str(rng.choice(["", "a", "2026-03-31", "^[0-9]+$", "(a+)+", "%Y %b %a", "en", "[", "1,5"])),
            Ref(rng.choice(["x", "r", "missing", "m"])),
            Current(),
            Parent(),
        ]
        return rng.choice(leaves)
    kind = rng.randrange(3)
    if kind == 0:
        return Neg(random_expr(rng, depth + 1))
    if kind == 1:
        op = rng.choice(["or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod", "^"])
        return BinOp(op, random_expr(rng, depth + 1), random_expr(rng, depth + 1))
    name = rng.choice([*FUNCTIONS, "nope"])
    args = tuple(random_expr(rng, depth + 1) for _ in range(rng.randrange(5)))
    return Call(name, args)


def test_evaluation_is_total_for_random_trees_and_answers() -> None:
    rng = random.Random(20260331)
    for _ in range(4000):
        ctx = Context(
            answers={"x": random_value(rng), "r": random_value(rng), "m": random_value(rng)},
            current=random_value(rng),
            scope=rng.choice([{}, {"x": ("r",)}, {"x": ("r", "q")}, {"r": (), "x": ("r",)}]),
            position=rng.choice([(), (("r", 0),), (("r", 7),), (("q", -1),)]),
            today=TODAY,
            now=NOW,
        )
        expr = random_expr(rng)
        value = compile_expr(expr)(ctx)  # without evaluate()'s last-resort guard: total by design
        assert isinstance(value, str | float | bool | list)


def test_a_tree_deeper_than_parse_allows_still_evaluates() -> None:
    expr: Expr = Num(1.0)
    for _ in range(5000):
        expr = Neg(expr)
    assert evaluate(expr, Context(answers={}, today=TODAY, now=NOW)) == ""


def test_parse_only_raises_expr_error() -> None:
    rng = random.Random(7)
    alphabet = [*"${}()[],.'\"+-*=!<>/|&%#@ \tabdimnorstv0123456789_:", "div", "mod", "and", "or"]
    alphabet += [*FUNCTIONS, "${a}", "..", "😀"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 25)))
        try:
            parse(text)
        except ExprError as error:
            assert error.code in ERROR_CODES
            assert 1 <= error.column <= len(text) + 1


def test_regex_patterns_are_compiled_once() -> None:
    from server.domain.expr import safe_regex

    safe_regex.compiled("^[0-9]{3}$")
    assert safe_regex.compiled("^[0-9]{3}$") is safe_regex.compiled("^[0-9]{3}$")


# --- registry and docs -------------------------------------------------------------------------


def test_every_function_is_registered_with_docs() -> None:
    for name, definition in FUNCTIONS.items():
        assert definition.name == name
        assert definition.doc_id and definition.doc_en
        assert [definition.impl, definition.lazy, definition.node].count(None) == 2
        assert definition.max_args is None or definition.max_args >= definition.min_args


def test_every_function_and_operator_is_documented() -> None:
    doc = (ROOT / "docs" / "expressions.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### `([a-z:-]+)\(", doc, flags=re.MULTILINE))
    assert headings == set(FUNCTIONS), f"undocumented: {set(FUNCTIONS) - headings}, stale: {headings - set(FUNCTIONS)}"
    for op in ("+", "-", "*", "div", "mod", "=", "!=", "<", "<=", ">", ">=", "and", "or", "${name}", "`.`", ".."):
        assert op in doc, op
    for name, definition in FUNCTIONS.items():
        section = doc.split(f"### `{name}(", 1)[1].split("\n### ", 1)[0]
        assert definition.doc_id in section, f"{name}: the Indonesian summary is not in its section"
