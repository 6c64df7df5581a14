"""`pantau forms check | eval | convert` (and `load`, owned by forms_load.py): the form language
from the command line. Staff check a definition before publishing, try a rule without filling
a form, and move between YAML and XLSForm."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from server import clock
from server.cli.attach import Attached, attach_argument, attached_files
from server.domain.problems import Loc, Problem, problem

# The compiler, openpyxl and the region data are imported inside the handlers: every `pantau`
# command builds this parser, and `pantau serve` should not pay for them at start-up.

WRITERS = {".yaml", ".yml", ".json", ".xlsx"}


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("forms", help="form definitions: check, eval, convert, load")
    forms_sub = p.add_subparsers(dest="forms_command", metavar="ACTION", required=True)
    check = forms_sub.add_parser("check", help="check form files (.yaml, .json, .xlsx, .xls); exit 1 on errors")
    check.add_argument("paths", nargs="+", metavar="FILE")
    check.add_argument("--lang", choices=("en", "id"), default="en", help="language of the messages")
    attach_argument(check)
    check.set_defaults(func=_check)
    ev = forms_sub.add_parser("eval", help="evaluate an expression against answers given as JSON")
    ev.add_argument("expression", metavar="EXPRESSION")
    ev.add_argument("--answers", default="{}", help='answers as a JSON object, e.g. \'{"umur": 61}\'')
    ev.add_argument("--current", default=None, help="the value of '.' as JSON")
    ev.add_argument("--today", default=None, help="the date today() returns (YYYY-MM-DD); default: today in WITA")
    ev.set_defaults(func=_eval)
    conv = forms_sub.add_parser("convert", help="convert between YAML/JSON and XLSForm, by file extension")
    conv.add_argument("source", metavar="IN")
    conv.add_argument("target", metavar="OUT")
    conv.set_defaults(func=_convert)
    gen = forms_sub.add_parser("compile", help="compile a form file and its validation function (Python source)")
    gen.add_argument("path", metavar="FORM", help="a form file (.yaml, .json, .xlsx)")
    gen.add_argument("--show", action="store_true", help="print the generated validation source")
    gen.set_defaults(func=_compile)
    from server.cli.forms_load import add_load_command  # the lead owns `forms load`

    add_load_command(forms_sub)


def _read(path: str) -> bytes | Problem:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        return problem("form.unreadable", Loc(path), reason=exc.strerror or type(exc).__name__)


def _print_problem(item: Problem, lang: str) -> None:
    print(item.format(lang))
    hint = item.hint_id if lang == "id" else item.hint_en
    if hint:
        print(f"    {hint}")


def _check(args: argparse.Namespace) -> int:
    from server.domain.compile import compile_source

    errors = warnings = 0
    attached = attached_files(args)
    for path in args.paths:
        data = _read(path)
        found = [data] if isinstance(data, Problem) else compile_source(data, path, Attached(path, attached)).problems
        for item in found:
            _print_problem(item, args.lang)
        errors += sum(1 for p in found if p.severity == "error")
        warnings += sum(1 for p in found if p.severity == "warning")
    print(f"{len(args.paths)} file(s) checked: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0


def _compile(args: argparse.Namespace) -> int:
    from server.domain.codegen import generated
    from server.domain.compile import compile_source

    data = _read(args.path)
    result = None if isinstance(data, Problem) else compile_source(data, args.path)
    if result is None or result.compiled is None:
        for item in [data] if isinstance(data, Problem) else result.problems if result else []:
            _print_problem(item, "en")
        return 1
    source = generated(result.compiled).source
    if args.show:
        print(source, end="")
    else:
        lines = source.count("\n")
        print(f"{result.compiled.form_id} {result.compiled.version}: validation compiled, {lines} lines")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from server.domain.expr import Context, ExprError, evaluate, parse

    try:
        expr = parse(args.expression)
    except ExprError as exc:
        sys.stderr.write(f"pantau: column {exc.column}: {exc.message_en} [{exc.code}]\n")
        return 2
    try:
        answers = json.loads(args.answers)
        current = json.loads(args.current) if args.current is not None else ""
        today = dt.date.fromisoformat(args.today) if args.today else clock.today()
    except ValueError as exc:
        sys.stderr.write(f"pantau: {exc}\n")
        return 2
    if not isinstance(answers, dict):
        sys.stderr.write("pantau: --answers must be a JSON object, e.g. '{\"umur\": 61}'\n")
        return 2
    now = clock.now()
    if args.today:  # keep now() on the same day as the given today()
        now = dt.datetime.combine(today, now.astimezone(clock.WITA).timetz())
    value: Any = evaluate(expr, Context(answers=answers, current=current, today=today, now=now))
    print(json.dumps(_plain(value), ensure_ascii=False))
    return 0


def _plain(value: Any) -> Any:
    """61.0 -> 61, as XPath's string() shows it; NaN stays NaN so an empty answer is visible."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _convert(args: argparse.Namespace) -> int:
    from server.domain.compile import load_source
    from server.domain.load import encode_yaml, form_document
    from server.domain.xlsform_export import export_xlsform

    suffix = Path(args.target).suffix.lower()
    if suffix not in WRITERS:
        sys.stderr.write(f"pantau: cannot write {suffix or 'a file without extension'}; use .yaml, .json or .xlsx\n")
        return 2
    data = _read(args.source)
    loaded = load_source(data, args.source) if isinstance(data, bytes) else None
    found = [data] if isinstance(data, Problem) else loaded.problems if loaded else []
    for item in found:
        _print_problem(item, "en")
    if loaded is None or loaded.form is None:
        return 1
    if suffix == ".xlsx":
        output = export_xlsform(loaded.form)
    elif suffix == ".json":
        output = json.dumps(form_document(loaded.form), ensure_ascii=False, indent=2).encode() + b"\n"
    else:
        output = encode_yaml(loaded.form)
    Path(args.target).write_bytes(output)
    print(f"{args.source} -> {args.target}")
    return 0
