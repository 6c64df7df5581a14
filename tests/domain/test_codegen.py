"""The generated validation function against the reference (the plan walked with the expression
closures): identical answers, errors and warnings on the shipped forms and generated answer sets,
on the shared expression vectors, on trees deeper than the recursion limit and bad NIKs, and no
code run from a hostile form. `PANTAU_CODEGEN_CASES=10000` runs the long differential round
(bench/submit_cost.py's note has the command); the suite runs a few hundred per form."""

from __future__ import annotations

import ast
import datetime as dt
import math
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import msgspec
import pytest

from server.domain import answers as answers_module
from server.domain import codegen
from server.domain.answers import plan_of, validate, validate_reference
from server.domain.codegen import standalone
from server.domain.codegen_expr import MAX_INLINE_DEPTH
from server.domain.compile import CompiledForm, build, compile_source
from server.domain.expr import Context, Neg, Num, parse
from server.domain.load import load_yaml
from server.domain.sites import parse_all
from tests.domain.test_expr import CASES, NOW, TODAY, context_for, decode, same

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted((ROOT / "forms").glob("*.yaml"))
CASES_PER_FORM = int(os.environ.get("PANTAU_CODEGEN_CASES", "300"))
sys.path.insert(0, str(ROOT / "bench"))
from sample_answers import registrasi  # noqa: E402  the benches' valid registration

NIKS = ["6402064101900001", "6402060101900001", "9902064101900001", "6402064101990001", "1111111111111111",
        "1234567890123456", "6.40206E+15", "64020641019", "6402 0641 0190 0001", "0000000000000000",
        "6402069931900001", "6402064101900000", "6402060101150003", "3171064101900001", "abc", ""]
TEXTS = ["", " ", "Siti", "a'b\"c\\d\ne", "003/001", "3/1", "x" * 300, "😀", "0", "1e3", "NaN", "-0"]


def compiled_form(path: Path) -> CompiledForm:
    result = compile_source(path.read_bytes(), path.name)
    assert result.compiled is not None, result.problems
    return result.compiled


def random_value(rng: random.Random, step: Any) -> Any:
    """A value of the field's type most of the time, junk otherwise."""
    kind = step.qtype.name if step.qtype is not None else step.kind
    if rng.random() < 0.12:
        return rng.choice([None, "", [], 0, -1, 2.5, True, "zz", ["zz"], {"a": 1}, 10**400, "12", TEXTS[3]])
    if step.choices is not None:
        names = list(step.choices) or ["x"]
        return rng.sample(names, rng.randint(0, min(3, len(names)))) if kind == "select_multiple" \
            else rng.choice(names)
    if kind in ("integer", "rupiah", "decimal"):
        return rng.choice([0, 1, 2, 3, 10, 18, 30, 31, 59, 60, 1001, -5, 100_000_001, 1_500_000, "7", "Rp 1.250.000",
                           2.5, "1,5"])
    if kind in ("date", "datetime"):
        return rng.choice(["2026-03-02", "1990-01-01", "2010-07-31", "1950-12-31", "2027-01-01", "2026-13-45",
                           "2008-02-29", "2026-03-02T10:00:00+08:00"])
    if kind in ("nik", "no_kk"):
        return rng.choice(NIKS)
    if kind == "phone":
        return rng.choice(["081234567890", "+6281234567890", "0541 123456", "12", "089912345678"])
    if kind == "geopoint":
        return rng.choice(["-0.4123 116.9856 12 8", "-0.4 116.9 0 80", "1 2", "91 0 0 1", "a b c d"])
    if kind == "repeat":
        return [{} for _ in range(rng.randint(0, 2))]
    return rng.choice(TEXTS)


def answer_sets(compiled: CompiledForm, count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    plan = plan_of(compiled)
    fields = [step for step in plan.steps.values() if not step.scope and step.kind != "group"]
    base = registrasi("a" * 64) if compiled.form_id == "registrasi_penerima" else {}
    out = []
    for _ in range(count):
        answers = dict(base) if base and rng.random() < 0.7 else {}
        for step in rng.sample(fields, rng.randint(1, len(fields))) if not answers else \
                rng.sample(fields, rng.randint(0, 6)):
            if rng.random() < 0.1:
                answers.pop(step.name, None)
            else:
                answers[step.name] = random_value(rng, step)
        if rng.random() < 0.3:
            answers["_konfirmasi"] = rng.sample([s.name for s in fields], min(3, len(fields)))
        if rng.random() < 0.05:
            answers[rng.choice(["tak_ada", "_konfirmasi"])] = rng.choice(["x", 3, ["a", 1]])
        out.append(answers)
    return out


def outcome(function: Any, compiled: CompiledForm, answers: dict[str, Any], today: dt.date) -> Any:
    now = dt.datetime.combine(today, dt.time(10, 0), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    try:
        result = function(compiled, answers, today=today, now=now)
    except Exception as exc:  # the same exception from both, if the reference ever raises
        return ("raised", type(exc).__name__, str(exc))
    # repr: 1 and 1.0, -0.0 and 0.0 are different answers to store
    return repr(result.answers), result.errors, result.warnings


def assert_same(compiled: CompiledForm, answers: dict[str, Any], today: dt.date = dt.date(2026, 3, 31)) -> Any:
    expected = outcome(validate_reference, compiled, dict(answers), today)
    actual = outcome(validate, compiled, dict(answers), today)
    assert actual == expected, answers
    return actual


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_generated_validation_equals_the_reference_on_generated_answer_sets(path: Path) -> None:
    compiled = compiled_form(path)
    todays = [dt.date(2026, 3, 31), dt.date(2026, 1, 1), dt.date(2024, 2, 29)]
    outcomes = [assert_same(compiled, answers, todays[i % 3])
                for i, answers in enumerate(answer_sets(compiled, CASES_PER_FORM, seed=len(path.stem)))]
    raised = {o[1:] for o in outcomes if o[0] == "raised"}
    outcomes = [o for o in outcomes if o[0] != "raised"]
    assert len(raised) <= 1, raised  # see KNOWN_RAISE
    errors = {code for o in outcomes for code in (e.code for e in o[1])}
    warnings = {w.code for o in outcomes for w in o[2]}
    # the sets reach the rules, not only the type errors: constraints, required, choices, NIK findings
    assert {"answer.required", "answer.choice", "answer.unknown_field"} <= errors
    assert sum(1 for o in outcomes if not o[1]) > 0 or path.stem != "registrasi_penerima"
    if path.stem == "registrasi_penerima":
        assert {"answer.constraint", "nik.placeholder", "nik.length"} <= errors
        assert {"nik.outside_kukar"} <= warnings


def test_a_valid_registration_gives_the_same_answers_with_its_calculations() -> None:
    compiled = compiled_form(ROOT / "forms" / "registrasi_penerima.yaml")
    answers = registrasi("a" * 64)
    _, errors, warnings = assert_same(compiled, answers)
    assert errors == [] and warnings == []
    result = validate(compiled, answers, today=dt.date(2026, 3, 31), now=NOW)
    assert result.answers["umur"] == 36 and result.answers["penghasilan_kapita"] == 500_000


def test_a_nik_with_a_bad_province_is_an_error_from_both() -> None:
    compiled = compiled_form(ROOT / "forms" / "registrasi_penerima.yaml")
    _, errors, _ = assert_same(compiled, {**registrasi("a" * 64), "nik": "9902064101900001"})
    assert [e.code for e in errors] == ["nik.province"]


def test_a_filtered_choice_gets_the_same_verdict_from_both_while_verdicts_are_kept() -> None:
    """The desa list is filtered by the kecamatan answered: the generated function keeps each verdict
    per (desa, kecamatan), so the same pair again, the desa under another kecamatan, an unknown desa,
    a number and a list give what the reference gives, the second time round from the kept verdicts."""
    compiled = compiled_form(ROOT / "forms" / "registrasi_penerima.yaml")
    valid = registrasi("a" * 64)
    cases = [{}, {"kecamatan": "64.02.01"}, {}, {"desa": "64.02.01.2001"},
             {"desa": "64.02.01.2001", "kecamatan": "64.02.01"}, {"desa": "99.99"}, {"desa": 64},
             {"desa": ["64.02.06.1001"]}, {"kecamatan": ""}, {"kecamatan": 64.02}, {"kecamatan": None},
             {"desa": "64.02.01.2001"}, {}]
    codes = []
    for case in cases * 2:
        _, errors, _ = assert_same(compiled, {**valid, **case})
        codes.append([e.code for e in errors if e.path == "desa"])
    assert codes[0] == [] and codes[1] == ["answer.choice_filtered"] and codes[3] == ["answer.choice_filtered"]
    assert codes[4] == [] and codes[5] == ["answer.choice"] and codes[13] == codes[0]
    generated = codegen.generated(compiled).source
    assert "_CHOICES_FILTERED(run," in generated  # the kept path, not the closures' walk, is the one tested
    kept = [v for k, v in codegen.generated(compiled).function.__globals__.items() if k.startswith("_verdicts")]
    assert len(kept) == 1 and ("64.02.01.2001", "64.02.01") in kept[0] and ("64.02.01.2001", "64.02.06") in kept[0]


@pytest.mark.parametrize("deep", [MAX_INLINE_DEPTH, MAX_INLINE_DEPTH + 1, 5000])
def test_a_tree_deeper_than_python_allows_gives_what_the_closures_give(deep: int) -> None:
    compiled = compiled_form(ROOT / "forms" / "registrasi_penerima.yaml")
    expr: Any = Num(1.0)
    for _ in range(deep):
        expr = Neg(expr)
    compiled.expr("luas_lantai", "constraint")  # the cache entry exists; replace what it holds
    compiled.__dict__["_exprs"][("luas_lantai", "constraint")] = expr
    _, errors, _ = assert_same(compiled, registrasi("a" * 64))
    # 5000 levels: the closures hit the recursion limit, give "" (false): the constraint fails
    assert [e.code for e in errors] == (["answer.constraint"] if deep > 1000 else [])


@pytest.mark.parametrize("vector", [c for c in CASES if "error" not in c.values[0]])
def test_the_shared_vectors_give_the_same_from_generated_code(vector: dict[str, Any]) -> None:
    ctx = context_for(vector)
    function = standalone(parse(vector["expr"]), dict(ctx.scope), Context(answers={}, today=TODAY, now=NOW))
    actual = function(ctx)
    assert same(actual, decode(vector["expected"])), f"{vector['expr']!r}: got {actual!r}"


HOSTILE = r"""
settings: {id: jahat, version: "1", title: {id: "x'); __import__('os')._exit(3) #", en: x}}
choices:
  pilihan:
    "a'b": {id: "\"\"\"; __import__('os')._exit(4)", en: x}
    "c\\d": {id: y, en: y}
fields:
  - type: text
    name: teks
    label: {id: "'''\n__import__('os')._exit(5)\n'''", en: x}
    constraint: . != '\' and . != '); __import__("os")._exit(6); (' and . != "__import__('os')._exit(7)"
    constraint_message: {id: "'); __import__('os')._exit(8) #", en: "\\"}
  - type: select_one pilihan
    name: pilih
    relevant: ${teks} != '__import__' or concat('a\', '}') = '}'
"""


def test_a_hostile_form_runs_no_code_of_its_own_and_matches_the_reference() -> None:
    result = compile_source(HOSTILE.encode(), "jahat.yaml")
    assert result.compiled is not None, result.problems
    source = codegen.generated(result.compiled).source
    names = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    assert "__import__" not in names and all(name.isidentifier() for name in names)
    for value in ["ok", "'); __import__(\"os\")._exit(6); ('", "\\", "__import__('os')._exit(7)", "x\ny"]:
        for chosen in ["a'b", "c\\d", "x"]:
            assert_same(result.compiled, {"teks": value, "pilih": chosen})


def test_a_hostile_field_name_stays_a_string_literal() -> None:
    # The form check refuses such names; the generator must be safe even without it.
    loaded = load_yaml(b"settings: {id: n, version: '1', title: {id: t, en: t}}\n"
                       b"fields:\n  - {type: integer, name: a, constraint: '. > 1'}\n", "n.yaml")
    assert loaded.form is not None
    hostile = "a')\n__import__('os')._exit(9)\n#\\"
    form = msgspec.structs.replace(loaded.form, fields=[msgspec.structs.replace(loaded.form.fields[0], name=hostile)])
    compiled = build(form, parse_all(form))
    result = validate(compiled, {hostile: 1}, today=TODAY, now=NOW)
    assert [e.code for e in result.errors] == ["answer.constraint"]
    assert result.errors == validate_reference(compiled, {hostile: 1}, today=TODAY, now=NOW).errors


GROUPED = """
settings: {id: kelompok, version: '1', title: {id: K, en: K}}
fields:
  - {type: select_one, name: ikut, label: I, choices: {ya: Ya, tidak: Tidak}}
  - type: group
    name: data
    label: D
    relevant: ${ikut} = 'ya'
    fields:
      - {type: text, name: nama, label: N, required: yes}
      - {type: integer, name: umur, label: U, constraint: '. >= 0'}
      - {type: text, name: catatan, label: C}
      - {type: integer, name: dua_kali, label: D, calculation: '${umur} * 2'}
      - {type: text, name: alamat, label: A, required: yes}
"""


def test_fields_that_share_their_relevance_are_kept_and_dropped_together_as_the_reference_does() -> None:
    result = compile_source(GROUPED.encode(), "kelompok.yaml")
    assert result.compiled is not None, result.problems
    source = codegen.generated(result.compiled).source
    assert "# 'nama', 'umur', 'catatan'\n    K.update(" in source  # one group, up to the calculation
    for ikut in ["ya", "tidak", None]:
        for nama in ["Siti", "  Siti  ", " ", "", "x" * 10_001, 5, None]:
            for umur in [3, -1, None]:
                answers = {"ikut": ikut, "nama": nama, "umur": umur, "catatan": " c ", "alamat": "Jl. A"}
                assert_same(result.compiled, {k: v for k, v in answers.items() if v is not None})


def test_hostile_field_names_in_a_group_stay_string_literals() -> None:
    loaded = load_yaml(b"settings: {id: n, version: '1', title: {id: t, en: t}}\n"
                       b"fields:\n  - {type: integer, name: a, constraint: '. > 1'}\n"
                       b"  - {type: text, name: b}\n  - {type: text, name: c}\n", "n.yaml")
    assert loaded.form is not None
    hostile = ["a')\n__import__('os')._exit(9)\n#\\", "b'\n__import__('os')._exit(10)", "c\"\"\"\n#"]
    fields = [msgspec.structs.replace(f, name=name) for f, name in zip(loaded.form.fields, hostile, strict=True)]
    form = msgspec.structs.replace(loaded.form, fields=fields)
    compiled = build(form, parse_all(form))
    source = codegen.generated(compiled).source
    names = {node.id for node in ast.walk(ast.parse(source)) if isinstance(node, ast.Name)}
    assert "__import__" not in names
    answers = {hostile[0]: 1, hostile[1]: "x", hostile[2]: " y "}
    result = validate(compiled, answers, today=TODAY, now=NOW)
    assert [e.code for e in result.errors] == ["answer.constraint"]
    reference = validate_reference(compiled, answers, today=TODAY, now=NOW)
    assert (result.answers, result.errors) == (reference.answers, reference.errors)


def test_the_generated_function_is_made_once_per_form_version() -> None:
    compiled = compiled_form(ROOT / "forms" / "monev_uep.yaml")
    assert codegen.generated(compiled) is codegen.generated(compiled)
    assert answers_module.validate is validate


def test_pantau_forms_compile_show_prints_the_source() -> None:
    path = ROOT / "forms" / "registrasi_penerima.yaml"
    done = subprocess.run([sys.executable, "-m", "server.cli.main", "forms", "compile", "--show", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == codegen.generated(compiled_form(path)).source
    assert "def validate_form(run, raw):" in done.stdout and "'nik'" in done.stdout
    compile(done.stdout, "shown", "exec")  # what is shown is what runs
    bad = subprocess.run([sys.executable, "-m", "server.cli.main", "forms", "compile", "--show", "/nonexistent.yaml"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert bad.returncode == 1 and "form.unreadable" in bad.stdout


def test_nan_and_infinity_are_written_as_names() -> None:
    from server.domain.codegen_expr import literal

    assert (literal(math.nan), literal(math.inf), literal(-math.inf), literal(-0.0)) == \
        ("_NAN", "_INF", "(-_INF)", "-0.0")


REPEATS = """
settings: {id: keluarga, version: "1", title: {id: Keluarga, en: Household}}
choices:
  jk: {L: {id: L, en: M}, P: {id: P, en: F}}
fields:
  - {type: integer, name: jml_art, label: {id: Jumlah, en: Size}, required: yes, constraint: ". >= 0 and . <= 5"}
  - type: repeat
    name: anggota
    label: {id: Anggota, en: Members}
    repeat_count: ${jml_art}
    max_count: 4
    fields:
      - {type: text, name: nama_art, label: {id: Nama, en: Name}, required: yes}
      - {type: integer, name: umur_art, label: {id: Umur, en: Age}, constraint: ". >= 0 and . <= 120"}
      - {type: select_one jk, name: jk_art, label: {id: JK, en: Sex}, relevant: "${umur_art} >= 10"}
      - {type: calculate, name: dewasa, calculation: "if(${umur_art} >= 18, 1, 0)"}
      - {type: nik, name: nik_art, label: {id: NIK, en: NIK}, relevant: "${umur_art} >= 17"}
      - type: repeat
        name: sekolah
        label: {id: Sekolah, en: Schools}
        relevant: ${umur_art} < 18
        fields:
          - {type: text, name: nama_sekolah, label: {id: Sekolah, en: School}, constraint: "string-length(.) > 2"}
  - {type: calculate, name: umur_tertua, calculation: "max(${umur_art})"}
  - {type: calculate, name: jml_dewasa, calculation: "sum(${dewasa})"}
  - type: integer
    name: cek
    label: {id: Cek, en: Check}
    relevant: count(${anggota}) > 1
    constraint: . <= ${umur_tertua}
"""


def member(rng: random.Random) -> dict[str, Any]:
    item: dict[str, Any] = {}
    for name, values in (("nama_art", ["Ani", "", 3, "  Budi "]), ("umur_art", [0, 5, 12, 17, 18, 40, 130, "x", -1]),
                         ("jk_art", ["L", "P", "Q", 1]), ("nik_art", NIKS[:6]), ("dewasa", [1, "x"]),
                         ("sekolah", [[], [{"nama_sekolah": "SD 1"}, {"nama_sekolah": "x"}], "bad", [{"tak": 1}]]),
                         ("tak_dikenal", [1])):
        if rng.random() < 0.7:
            item[name] = rng.choice(values)
    return item


def test_a_form_with_repeats_gives_what_the_reference_gives() -> None:
    result = compile_source(REPEATS.encode(), "keluarga.yaml")
    assert result.compiled is not None, result.problems
    rng = random.Random(25)
    codes: set[str] = set()
    for _ in range(max(CASES_PER_FORM, 200)):
        answers: dict[str, Any] = {"jml_art": rng.choice([0, 1, 2, 3, 6, "x"]), "cek": rng.choice([1, 50, 200])}
        if rng.random() < 0.9:
            answers["anggota"] = [member(rng) for _ in range(rng.randint(0, 5))] if rng.random() < 0.95 else "x"
        if rng.random() < 0.2:
            answers["_konfirmasi"] = ["nik_art", "cek"]
        outcome_ = assert_same(result.compiled, answers)
        codes |= {e.code for e in outcome_[1]}
    assert {"answer.repeat_count", "answer.repeat_max", "answer.constraint", "answer.required"} <= codes


ODK = (Path(__file__).resolve().parents[1] / "data" / "odk_functions.yaml").read_bytes()


def test_the_odk_functions_give_the_same_from_generated_code_and_uuid_is_never_folded() -> None:
    result = compile_source(ODK, "odk_functions.yaml")
    assert result.compiled is not None, result.problems
    compiled = result.compiled
    sent = {"kepala": "Ani", "desa": "2001", "kode": "6e1c2f4e-0b1a-4f3e-9d2a-1c2b3d4e5f60",
            "anggota": [{"nama": "Ani", "no": 7}, {"nama": "Budi"}]}
    answers = assert_same(compiled, sent)[0]
    assert "'kode': '6e1c2f4e-0b1a-4f3e-9d2a-1c2b3d4e5f60'" in answers and "'penduduk': '3100'" in answers
    assert "'nama_desa': 'Loa Ipuh'" in answers and "'kec': '64.02.07'" in answers and "'kedua': 'Budi'" in answers
    assert "'jumlah_sekec': 1" in answers and "'daftar': 'Ani, Budi'" in answers
    assert "'no': 7" in answers and "'no': 2" in answers  # once() in a repeat keeps what the phone sent
    fresh = [validate(compiled, {"kepala": "Ani", "desa": "1001"}, today=TODAY, now=NOW).answers["kode"]
             for _ in range(2)]
    assert fresh[0] != fresh[1]  # a new uuid each time: never a constant folded into the generated code


@pytest.mark.parametrize("value", ["2026-03-02", "1990-12-31", "2024-02-29", "2023-02-29", "0000-01-01", "2026-13-01",
                                   "2026-3-02", "2026-03-02T10:00", "20260302", "abcd-ef-gh", "0001-01-01"])
def test_a_date_answers_year_month_and_day_are_what_format_date_writes(value: str) -> None:
    """The digits read straight from a YYYY-MM-DD answer (an age calculation's three formats) equal the
    format-date function's own text, and an invalid or other text still goes through the function."""
    from server.domain.expr.builtins import format_date

    for pattern in ("%Y", "%m", "%d", "%Y-%m", "%e", "%b"):
        codegen._format_date_text.cache_clear()
        context = Context(answers={}, today=TODAY, now=NOW)
        assert codegen._format_date(value, pattern, context) == format_date([value, pattern])


def test_a_group_sharing_a_relevance_stores_it_from_maps_made_once() -> None:
    """Fields that share their parent's relevance get it from a map made with the function (one for
    shown, one for hidden), not from a dict made on every submission; an odd relevance value (a
    failed expression's "") still maps each field to that value, as the reference does."""
    compiled = compiled_form(ROOT / "forms" / "registrasi_penerima.yaml")
    source = codegen.generated(compiled).source
    groups = [line.strip() for line in source.splitlines() if line.strip().startswith("K.update(")]
    assert groups and not any(line.startswith("K.update(dict.fromkeys(") for line in groups)
    assert any(" is True else " in line and " is False else dict.fromkeys(" in line for line in groups)
    namespace = codegen.generated(compiled).function.__globals__
    shown = [value for name, value in namespace.items() if name.startswith("_shown")]
    assert shown and all(set(m.values()) == {True} for m in shown)
