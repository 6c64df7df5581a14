"""One AST, two evaluators: the phone's (static/js/expr.js) must read and compute exactly what the
server's does. Node runs tests/js/dump_vectors.js over the shared vectors and over a few thousand
generated expressions; every AST, value and error (code, column, message) must be identical."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from server.domain.expr import FUNCTIONS, ExprError, evaluate, parse, to_json
from tests.domain.test_expr import VECTORS, context_for, decode, same

ROOT = Path(__file__).resolve().parents[2]

ATOMS = [
    "0", "1", "2.5", ".5", "7.", "20543", "1230000000000000000000", "0.1", "3",
    "'a'", "'a b'", "''", "'1,5'", "' 7 '", "'-0'", "'2026-03-31'", "'2026-03-31T10:00:00+08:00'",
    "'2024-02-29'", "'1999-12-31T23:59:59.999Z'", "'abc'", "\"x'y\"", "'%Y-%m-%d %a %b %e %n %y %H:%M:%S.%3 %%'",
    "'^[0-9]+$'", "'[a-c]{2}'", "'en'", "'😀é'", "${x}", "${y}", "${m}", "${u}", "${r}", ".",
    "true()", "false()", "today()", "now()", "1 div 0", "0 div 0",
    "instance('l')/root/item[n = ${x}]/v", "instance('l')/root/item[2]", "instance('l')/root/item[v > 0 or . = ${y}]/n",
    "'${x}'", "'l'", "'SHA-1'",
]  # fmt: skip
INSTANCES = {"l": [{"n": "a", "v": "1"}, {"n": "5", "v": "x"}, {"n": "", "v": "2026-03-31"}], "m": [{"n": 3}]}
RANDOM = {"uuid", "random"}  # a new value at every call: the vectors check its shape or range, not its value
OPERATORS = ["or", "and", "=", "!=", "<", "<=", ">", ">=", "+", "-", "*", "div", "mod"]
NOISE = [*"${}()[],.'\"+-*=!<>/|&%# 0a", "..", "div", " and ", "😀", "\u00a0"]
VALUES: list[Any] = [
    "", "5", "05", "1,5", " 7 ", "2026-03-31", "2026-02-30", "2026-03-31T23:30:00-02:00", "a b c", "😀x",
    "-0", ".5", "1e3", 3, -2.5, 0, 1e21, 0.1, True, False, None, ["a", "b"], [], ["1", "2", "3"],
]  # fmt: skip
REGEX_PIECES = ["a", "b", "[0-9]", "\\d", "\\w", "\\s", ".", "+", "*", "?", "{2}", "{1,3}", "{2,}", "(", ")",
                "(?:", "(?=", "|", "^", "$", "[^a]", "\\.", "-", "[a-", "]", "\\", "{", "\\+"]  # fmt: skip
REGEX_TEXTS = ["", "a", "ab", "aab", "a1", "12", "a.b", "ba", "+62", "a b", "abba", "\n", "a\r"]


def random_text(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return rng.choice(ATOMS)
    if roll < 0.6:
        return f"{random_text(rng, depth + 1)} {rng.choice(OPERATORS)} {random_text(rng, depth + 1)}"
    if roll < 0.68:
        return f"({random_text(rng, depth + 1)})"
    if roll < 0.72:
        return f"-{random_text(rng, depth + 1)}"
    name = rng.choice([*(f for f in FUNCTIONS if f not in RANDOM), "sumx", "Concat"])
    if name == "position":
        return rng.choice(["position(..)", "position()"])
    definition = FUNCTIONS.get(name)
    low = definition.min_args if definition else 1
    high = (definition.max_args if definition and definition.max_args is not None else low + 2) + 1
    count = rng.randint(max(0, low - 1), high) if rng.random() < 0.1 else rng.randint(low, max(low, high - 1))
    return f"{name}({', '.join(random_text(rng, depth + 1) for _ in range(count))})"


def mutate(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text) + 1)
    if rng.random() < 0.5 and text:
        return text[:at] + text[at + 1 :]
    return text[:at] + rng.choice(NOISE) + text[at:]


def random_vector(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.15:
        pattern = "".join(rng.choice(REGEX_PIECES) for _ in range(rng.randrange(1, 7)))
        return {"expr": f"regex(., '{pattern}')", "current": rng.choice(REGEX_TEXTS)}
    expr = random_text(rng)
    if rng.random() < 0.15:
        expr = mutate(rng, expr)
    return {
        "expr": expr,
        "answers": {
            "x": rng.choice(VALUES),
            "y": rng.choice(VALUES),
            "m": rng.choice(VALUES),
            "r": [{"u": rng.choice(VALUES)} for _ in range(rng.randrange(3))],
        },
        "current": rng.choice(VALUES),
        "scope": {"u": ["r"], "r": []},
        "position": rng.choice([[], [["r", 0]], [["r", 1]], [["r", 5]]]),
        "instances": INSTANCES,
        "lists": {"x": "l", "y": "m"},
    }


def run_node(tmp_path: Path, vectors: list[dict[str, Any]]) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:  # CI installs Node.js (.ci/run); a missing node must fail, not skip, the parity
        pytest.fail("node is not installed; the JS evaluator cannot be checked against the Python one")
    path = tmp_path / "vectors.json"
    document = {"today": VECTORS["today"], "now": VECTORS["now"], "vectors": vectors}
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    script = ROOT / "tests" / "js" / "dump_vectors.js"
    done = subprocess.run(
        [node, str(script), str(path)], capture_output=True, text=True, encoding="utf-8", timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def assert_parity(vectors: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    assert len(results) == len(vectors)
    for vector, js in zip(vectors, results, strict=True):
        where = repr(vector["expr"])
        try:
            expr = parse(vector["expr"])
        except ExprError as error:
            python = {"code": error.code, "column": error.column, "message_id": error.message_id,
                      "message_en": error.message_en}  # fmt: skip
            assert js.get("error") == python, where
            continue
        assert "error" not in js, f"{where}: JS refused it: {js.get('error')}"
        assert js["ast"] == to_json(expr), where
        value = evaluate(expr, context_for(vector))
        assert same(value, decode(js["value"])), f"{where}: Python {value!r}, JS {js['value']!r}"


def test_the_js_registry_matches_python(tmp_path: Path) -> None:
    functions = run_node(tmp_path, [])["functions"]
    assert {f["name"]: (f["min"], f["max"]) for f in functions} == {
        name: (d.min_args, d.max_args) for name, d in FUNCTIONS.items()
    }


def test_the_shared_vectors_give_identical_asts_values_and_errors(tmp_path: Path) -> None:
    vectors = VECTORS["vectors"]
    assert_parity(vectors, run_node(tmp_path, vectors)["results"])


def test_generated_expressions_give_identical_results(tmp_path: Path) -> None:
    rng = random.Random(31032026)
    vectors = [random_vector(rng) for _ in range(4000)]
    assert_parity(vectors, run_node(tmp_path, vectors)["results"])


def test_the_server_loads_the_lazy_javascript_for_exactly_the_functions_it_holds() -> None:
    """fill_assets.expr_assets loads expr-more.js for the functions in MORE_JS and expr-digest.js for
    digest(): a function moved between the files without the set following would be '' on the phone."""
    from server.domain.expr.odk import MORE_JS

    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed")
    script = (
        "const e = await import('./static/js/expr-eval.js'); const base = Object.keys(e.FN);"
        "await import('./static/js/expr-more.js'); const more = Object.keys(e.FN).filter((k) => !base.includes(k));"
        "await import('./static/js/expr-digest.js');"
        "const digest = Object.keys(e.FN).filter((k) => !base.includes(k) && !more.includes(k));"
        "console.log(JSON.stringify({more, digest, nodes: Object.keys(e.NODES)}));"
    )
    done = subprocess.run([node, "--input-type=module", "-e", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, check=True)
    found = json.loads(done.stdout)
    assert set(found["more"]) | {"instance"} == MORE_JS and found["nodes"] == ["inst", "col"]
    assert found["digest"] == ["digest"]
