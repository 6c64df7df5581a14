"""A form version's validation as one generated Python function (the way fastjsonschema and attrs
generate code): the fields in order, relevance, calculations, required, choices, constraints and
the NIK/KK/phone/GPS rules written out as straight-line code, constant parts folded, compiled once
with compile() and cached with the CompiledForm. No C compiler is needed.

answers_plan.py's plan-and-closures walk stays the reference (`validate_reference`): the generated
function calls its methods for what is rare and not worth writing out (repeats and what is inside
them, a choice_filter, a tree deeper than MAX_INLINE_DEPTH), and tests compare the two on the
shipped forms, generated answer sets and hostile forms. `pantau forms compile --show FORM` prints
the source."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Protocol

import msgspec

from server.domain.answers_plan import (
    CONFIRM_KEY,
    EMPTY,
    Plan,
    Run,
    Step,
    Validation,
    plan_of,
    stored,
)
from server.domain.codegen_expr import BOOLEAN, ExprWriter, Namespace
from server.domain.compile import CompiledForm
from server.domain.expr import FUNCTIONS, Context, Expr, dates, evaluate, to_boolean, to_number
from server.domain.expr.context import lookup
from server.domain.expr.evaluate import _divide, _modulo
from server.domain.expr.nodes import BinOp, Num, Ref, Str
from server.domain.expr.values import INF, NAN, equals, normalize
from server.domain.exprtree import CHOICE_PREFIX
from server.domain.questions import TEXT_MAX_CHARS, BadAnswer, clean_choice, clean_integer, clean_text

log = logging.getLogger("server.domain.expr.evaluate")  # the closures' logger: one place to look

_DROP, _CONFIRM, _REPEAT = object(), object(), object()  # markers in the clean table
_NO_CONTEXT = Context(answers={}, today=dt.date(2000, 1, 1), now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))


def _failed() -> str:
    """An expression raised: "" and a log line, as evaluate() does for the closures."""
    log.exception("expression evaluation failed")
    return ""


def _with_current(ctx: Context, current: Any) -> Context:
    return msgspec.structs.replace(ctx, current=current)


def _lookup_top(raw: Any, name: str, ctx: Context) -> Any:
    """lookup() of a top-level name that names no repeat, after its str/float/bool case."""
    if type(raw) is int and -(2**53) <= raw <= 2**53:  # what comes here most: integer answers
        return float(raw)
    if raw is None:
        return ""
    return lookup(name, ctx)


def _lookup_any(raw: Any, name: str, ctx: Context) -> Any:
    return lookup(name, ctx)


def _format_date_impl(args: list[Any], ctx: Context) -> Any:
    impl = FUNCTIONS["format-date"].impl
    assert impl is not None
    return impl(args, ctx)


# The year, month and day of a date answer (YYYY-MM-DD) are its own digits: an age calculation asks for
# exactly these, and a new person's birth date is new to the cache below every time.
_DATE_PARTS = {"%Y": slice(0, 4), "%m": slice(5, 7), "%d": slice(8, 10)}


@lru_cache(maxsize=4096)
def _format_date_text(value: str, pattern: str) -> Any:
    part = _DATE_PARTS.get(pattern)
    if part is not None and len(value) == 10 and dates.parse(value) is not None:
        return value[part]  # a valid date of ten characters is YYYY-MM-DD, zero-padded as format-date writes it
    return _format_date_impl([value, pattern], _NO_CONTEXT)  # format-date reads no context


def _format_date(value: Any, pattern: Any, ctx: Context) -> Any:
    """format-date(date, pattern): the same text for the same two texts, so it is kept (an age
    calculation formats the registration and birth dates six times, the same dates again and again)."""
    if value.__class__ is str and pattern.__class__ is str:
        return _format_date_text(value, pattern)
    return _format_date_impl([value, pattern], ctx)


def _current(value: Any) -> Any:
    return "" if value is None else value


def _choices_ok(run: Run, value: Any, allowed: dict[str, Any], at: Any) -> bool:
    for chosen in value if isinstance(value, list) else [value]:
        if allowed.get(chosen) is None:
            run.error(at, "answer.choice", value=chosen)
            return False
    return True


_FILTER_OPS = frozenset({"or", "and", "=", "!=", "<", "<=", ">", ">="})
FILTER_MEMO_MAX = 4096  # verdicts kept per question: choices x the answers the filter reads


def _filter_reads(flt: Expr, scope: Mapping[str, Any]) -> tuple[str, ...] | None:
    """The top-level answers a choice_filter reads, when its verdict follows from them and the choice
    alone: only texts, numbers, ${refs} and comparisons (no function, no `.`, no instance, no
    arithmetic that could fail and log), no field inside a repeat. None: not such a filter."""
    names: set[str] = set()
    stack: list[Any] = [flt]
    while stack:
        node = stack.pop()
        if isinstance(node, BinOp) and node.op in _FILTER_OPS:
            stack.extend((node.left, node.right))
        elif isinstance(node, Ref):
            if not node.name.startswith(CHOICE_PREFIX):
                if node.name in scope:
                    return None
                names.add(node.name)
        elif not isinstance(node, Num | Str):
            return None
    return tuple(sorted(names))


def _choices_filtered(run: Run, step: Step, value: Any, values: dict[str, Any], at: Any, reads: tuple[str, ...],
                      memo: dict[tuple[Any, ...], bool]) -> bool:
    """run._check_choices of a top-level question whose choice_filter reads only `reads` (see
    _filter_reads): its verdict for one choice and the same answers is the same, so it is kept (a desa
    list filtered by the kecamatan answered evaluated its filter through the closures every time)."""
    overlay = step.choices.get(value) if value.__class__ is str and step.choices is not None else None
    if overlay is None:  # a list, or no such choice: the reference's own path and errors
        return run._check_choices(step, value, values, at)
    read = [values.get(name) for name in reads]
    for got in read:
        if got is not None and got.__class__ is not str:  # a list, a number (1, 1.0 and True are one key)
            return run._check_choices(step, value, values, at)
    key = (value, *read)
    verdict = memo.get(key)
    if verdict is None:
        verdict = run.passes(step, overlay, values, ())
        if len(memo) >= FILTER_MEMO_MAX:
            memo.clear()
        memo[key] = verdict
    if not verdict:
        run.error(at, "answer.choice_filtered", value=value)
    return verdict


# What every generated module can name (besides the objects bound per form in its Namespace).
RUNTIME: dict[str, Any] = {
    "_TB": to_boolean, "_TN": to_number, "_EQ": equals, "_DIV": _divide, "_MOD": _modulo,
    "_NORMALIZE": normalize, "_LOOKUP": lookup, "_LOOKUP_TOP": _lookup_top, "_LOOKUP_ANY": _lookup_any,
    "_EVAL": evaluate, "_NAN": NAN, "_INF": INF,
    "_PLAIN": (str, float, bool), "_FAILED": _failed, "_STORED": stored, "EMPTY": EMPTY,
    "_CONFIRM_KEY": CONFIRM_KEY, "_Context": Context, "_WITH_CURRENT": _with_current, "_BadAnswer": BadAnswer,
    "_DROP": _DROP, "_CONFIRM": _CONFIRM, "_REPEAT": _REPEAT, "_Validation": Validation,
    "_CHOICES_OK": _choices_ok, "_CHOICES_FILTERED": _choices_filtered,
    "_FORMAT_DATE": _format_date, "_CURRENT": _current, "_CHOICE": clean_choice, "_INTEGER": clean_integer,
    "_TEXT": clean_text, "_TEXT_MAX": TEXT_MAX_CHARS, "_SPECIAL": frozenset({None, _DROP, _CONFIRM, _REPEAT}),
}


def _runs(steps: list[Step], key: Callable[[Step], str | None]) -> list[list[Step]]:
    """Steps split into runs of neighbours with the same key (a step whose key is None stands alone)."""
    runs: list[list[Step]] = []
    last: str | None = None
    for step in steps:
        mine = key(step)
        if runs and mine is not None and mine == last:
            runs[-1].append(step)
        else:
            runs.append([step])
        last = mine
    return runs


class Validator(Protocol):
    def __call__(self, run: Run, raw: dict[str, Any]) -> dict[str, Any]: ...


class Generated(msgspec.Struct, frozen=True):
    source: str
    function: Validator


def generated(compiled: CompiledForm) -> Generated:
    """The form version's generated validation, made on first use and kept with the CompiledForm."""
    memo = compiled.memo()
    if "generated" not in memo:
        memo["generated"] = generate(compiled)
    result: Generated = memo["generated"]
    return result


def validate(compiled: CompiledForm, answers: dict[str, Any], *, today: dt.date, now: dt.datetime) -> Validation:
    run = Run(plan_of(compiled), today, now)
    values = generated(compiled).function(run, answers)
    return Validation(answers=values, errors=run.errors, warnings=run.warnings)


def generate(compiled: CompiledForm) -> Generated:
    ns = Namespace()
    source = _Writer(compiled, plan_of(compiled), ns).source()
    namespace: dict[str, Any] = {**RUNTIME, **ns.values}
    label = f"<pantau form {compiled.form_id!r} {compiled.version!r}>"
    exec(compile(source, label, "exec"), namespace)  # noqa: S102  every form text in it is a repr() literal
    return Generated(source=source, function=namespace["validate_form"])


def standalone(expr: Expr, scope: dict[str, tuple[str, ...]], fold_ctx: Context) -> Callable[[Context], Any]:
    """One expression as a generated function of a Context: what the shared vectors test."""
    ns = Namespace()
    writer = ExprWriter(ns, scope, fold_ctx)
    body, _ = writer.write(expr)
    source = "\n".join([
        "def expression(C):",
        "    V = C.answers",
        "    cur = _NORMALIZE(C.current)",
        "    CC = C",
        "    try:",
        f"        return {body}",
        "    except Exception:",
        "        return _FAILED()",
    ])
    namespace: dict[str, Any] = {**RUNTIME, **ns.values}
    exec(compile(source, "<pantau expression>", "exec"), namespace)  # noqa: S102  source escaped above
    function: Callable[[Context], Any] = namespace["expression"]
    return function


class _Writer:
    """Writes the source of one form version's `validate_form(run, raw)`."""

    def __init__(self, compiled: CompiledForm, plan: Plan, ns: Namespace) -> None:
        self.compiled, self.plan, self.ns = compiled, plan, ns
        self.lines: list[str] = []
        self.relevance: dict[str, str] = {}  # top-level field -> its relevance so far (a local or "True")
        fold_ctx = Context(answers={}, today=dt.date(2000, 1, 1), now=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        self.exprs = ExprWriter(ns, plan.scope, fold_ctx)
        self.has_repeats = any(step.kind == "repeat" for step in plan.steps.values())

    def emit(self, indent: int, line: str) -> None:
        self.lines.append("    " * indent + line)

    def source(self) -> str:
        c = self.compiled
        self.lines = [f"# Validation of form {c.form_id!r} version {c.version!r}, made by server/domain/codegen.py.",
                      "# Field names and texts of the form appear only as Python string literals."]
        self._clean_table()
        self.emit(0, "def validate_form(run, raw):")
        self.emit(1, "V = _clean(run, raw)")
        self.emit(1, "today = run.today")
        found = self.plan.secondary
        self.emit(1, f"C = _Context(answers=V, scope={self.ns.bind(self.plan.scope, 'scope')}, today=today, "
                     f"now=run.now, instances={self.ns.bind(found.instances, 'instances')}, "
                     f"lists={self.ns.bind(found.lists, 'lists')})")
        self.emit(1, "K = run.relevant")
        self.emit(1, "# 1. relevance and calculations, in dependency order")
        group: list[Step] = []  # neighbours that inherit the same relevance, written together
        for step in self.plan.order:
            inherited = self._inherits(step)
            if group and inherited != self.relevance[group[0].name]:
                self._inherit(group)
                group = []
            if inherited is None:
                self._compute(step)
            else:
                self.relevance[step.name] = inherited  # known now: a child's relevance reads it
                group.append(step)
        if group:
            self._inherit(group)
        self.emit(1, "run.forget_dropped()")
        self.emit(1, "# 2. checks on the final values, in document order")
        for run in _runs(self.plan.checked, self._checked_under):
            self._checks(run)
        self._confirmations()
        self.emit(1, "return V")
        return "\n".join(self.lines) + "\n"

    # --- 0. clean ------------------------------------------------------------------------------
    def _clean_table(self) -> None:
        table: dict[str, Any] = {}
        for name, step in self.plan.steps.items():
            if step.scope or step.kind == "group":
                continue  # unknown at the top level
            if step.kind == "repeat":
                table[name] = _REPEAT
            elif step.qtype is None or not step.qtype.holds_value or step.qtype.computed or step.qtype.clean is None:
                table[name] = _DROP  # notes, calculations: what the client sent does not count
            else:
                table[name] = step.qtype.clean
        table[CONFIRM_KEY] = _CONFIRM
        steps = self.ns.bind(self.plan.steps, "steps")
        # What the phone sent for a calculation, which once() keeps (answers.Run.sent)
        sent = sorted(name for name, step in self.plan.steps.items() if not step.scope and step.calculation is not None
                      and step.qtype is not None and step.qtype.holds_value)
        for line in (
            "def _clean(run, raw):",
            "    # The top level's answers by type (answers.Run.clean); a repeat's items by the reference.",
            f"    for key in {self.ns.bind(tuple(sent), 'sent')}:",
            "        value = raw.get(key)",
            "        if value.__class__ in (str, int, float, bool) and value not in EMPTY:",
            "            run.sent[((), key)] = value",
            "    out = {}",
            "    for key, value in raw.items():",
            f"        how = {self.ns.bind(table, 'cleaners')}.get(key)",
            "        if how is _CHOICE and value.__class__ is str and value:",
            "            out[key] = value.strip()  # clean_choice() of a text",
            "        elif how is _TEXT and value.__class__ is str and value and len(value) <= _TEXT_MAX:",
            "            out[key] = value.strip()  # clean_text() of a text",
            "        elif how is _INTEGER and value.__class__ is int:",
            "            out[key] = value  # clean_integer() of a whole number",
            "        elif how in _SPECIAL:  # one test for the rare kinds, not one each",
            "            if how is None:",
            "                run.error(((), key), 'answer.unknown_field', name=key)",
            "            elif how is _CONFIRM:",
            "                out[key] = run._confirmations(value, ((), key))",
            "            elif how is _REPEAT:",
            f"                out[key] = run._clean_repeat({steps}[key], value, ())",
            "            # _DROP: what the client sent does not count",
            "        elif value or value not in EMPTY:",
            "            try:",
            "                cleaned = how(value)",
            "            except _BadAnswer as exc:",
            "                run.error(((), key), exc.code, **exc.params)",
            "                run.bad.add(((), key))",
            "                continue",
            "            if cleaned is not None:",
            "                out[key] = cleaned",
            "    return out",
            "",
        ):
            self.lines.append(line)

    # --- expressions -----------------------------------------------------------------------------
    def value_of(self, indent: int, target: str, expr: Any, current: str) -> str:
        """target = the expression's value; current is the source of '.' ("" when none). Returns
        the source of its truth value."""
        body, kind = self.exprs.write(expr)
        self.emit(indent, "try:")
        if self.exprs.needs_current_ctx:
            self.emit(indent + 1, f"CC = _WITH_CURRENT(C, {current})")
        if self.exprs.uses_current:  # '.' as the closures see it: normalize(ctx.current), once
            self.emit(indent + 1, f"cur = (_c if (_c := {current}).__class__ in _PLAIN else _NORMALIZE(_c))")
        self.emit(indent + 1, f"{target} = {body}")
        self.emit(indent, "except Exception:")
        self.emit(indent + 1, f"{target} = _FAILED()")
        return target if kind == BOOLEAN else f"_TB({target})"

    # --- 1. compute ------------------------------------------------------------------------------
    def _inherits(self, step: Step) -> str | None:
        """The relevance a top-level field takes from its parent unchanged, when it has no rule or
        calculation of its own; None otherwise. Such fields next to each other with the same one are
        written as one group: their relevance is stored in one call, and dropped in one loop."""
        if step.scope or step.relevant is not None or step.calculation is not None:
            return None
        return self.relevance.get(step.parent, "True") if step.parent is not None else "True"

    def _inherit(self, steps: list[Step]) -> None:
        if len(steps) == 1:
            self._compute(steps[0])
            return
        relevant = self.relevance[steps[0].name]
        names = tuple(step.name for step in steps)
        self.emit(1, f"# {', '.join(repr(name) for name in names)}")
        keys = tuple((name, ()) for name in names)
        # The group's relevance map made once for True and for False (what a relevance almost always
        # is), not a new dict on every submission; any other value is mapped as before.
        shown = self.ns.bind(dict.fromkeys(keys, True), "shown")
        if relevant == "True":
            self.emit(1, f"K.update({shown})")
        else:
            hidden = self.ns.bind(dict.fromkeys(keys, False), "hidden")
            self.emit(1, f"K.update({shown} if {relevant} is True else {hidden} if {relevant} is False "
                         f"else dict.fromkeys({self.ns.bind(keys, 'keys')}, {relevant}))")
        if relevant != "True":
            self.emit(1, f"if not {relevant}:")
            self.emit(2, f"for name in {self.ns.bind(names, 'names')}:")
            self.emit(3, "V.pop(name, None)")

    def _compute(self, step: Step) -> None:
        name = step.name
        self.emit(1, f"# {name!r}")
        if step.scope:
            self.emit(1, f"run.compute_step({self.ns.bind(step, 'step')}, V)  # inside a repeat: the reference")
            return
        parent = self.relevance.get(step.parent, "True") if step.parent is not None else "True"
        key = repr((name, ()))
        if step.relevant is None:
            relevant = parent
        else:
            relevant = f"r_{len(self.relevance)}"
            indent = 1
            if parent != "True":
                self.emit(1, f"{relevant} = {parent}")
                self.emit(1, f"if {relevant}:")
                indent = 2
            truth = self.value_of(indent, "x", step.relevant, f'_CURRENT(V.get({name!r}))')
            self.emit(indent, f"{relevant} = {truth}")
        self.relevance[name] = relevant
        self.emit(1, f"K[{key}] = {relevant}")
        calculation = step.calculation
        if relevant != "True":
            self.emit(1, f"if not {relevant}:")
            self.emit(2, f"V.pop({name!r}, None)")
            if calculation is not None:
                self.emit(1, "else:")
        if calculation is not None:
            indent = 2 if relevant != "True" else 1
            self.value_of(indent, "x", calculation, f'run.sent.get(((), {name!r}), "")')
            self.emit(indent, "x = _STORED(x)")
            self.emit(indent, "if x is None:")
            self.emit(indent + 1, f"V.pop({name!r}, None)")
            self.emit(indent, "else:")
            self.emit(indent + 1, f"V[{name!r}] = x")

    # --- 2. check --------------------------------------------------------------------------------
    def _checked_under(self, step: Step) -> str | None:
        """The relevance a top-level question is checked under; None for a repeat or what is inside one."""
        if step.scope or step.kind == "repeat":
            return None
        return self.relevance.get(step.name, "True")

    def _checks(self, steps: list[Step]) -> None:
        """Questions next to each other under the same relevance: one `if` for all of them."""
        relevant = self._checked_under(steps[0])
        if len(steps) == 1 or relevant is None or relevant == "True":
            for step in steps:
                self._check(step)
            return
        self.emit(1, f"if {relevant}:")
        for step in steps:
            self.emit(2, f"# {step.name!r}")
            self._check_question(step, 2)

    def _check(self, step: Step) -> None:
        name = step.name
        self.emit(1, f"# {name!r}")
        if step.scope:
            self.emit(1, f"run.check_step({self.ns.bind(step, 'step')}, V)  # inside a repeat: the reference")
            return
        relevant = self.relevance.get(name, "True")
        indent = 1
        if relevant != "True":
            self.emit(1, f"if {relevant}:")
            indent = 2
        if step.kind == "repeat":
            self.emit(indent, f"run._check_repeat({self.ns.bind(step, 'step')}, V, (), [V])")
            return
        self._check_question(step, indent)

    def _check_question(self, step: Step, indent: int) -> None:
        name, at = step.name, repr(((), step.name))
        self.emit(indent, f"v = V.get({name!r})")
        # `not v` first: a truthy value is never empty, and comparing it with each of EMPTY costs more
        self.emit(indent, "if not v and v in EMPTY:")
        self._required(step, indent + 1, at)
        if step.choices is not None:
            reads = _filter_reads(step.choice_filter, self.plan.scope) if step.choice_filter is not None else None
            rank = step.qtype is not None and step.qtype.name == "rank"
            if reads is not None and not step.scope and step.source is None and step.item_scope is None and not rank:
                check = (f"_CHOICES_FILTERED(run, {self.ns.bind(step, 'step')}, v, V, {at}, "
                         f"{self.ns.bind(reads, 'reads')}, {self.ns.bind({}, 'verdicts')})")
            elif step.choice_filter is not None or step.source is not None or rank:
                check = f"run._check_choices({self.ns.bind(step, 'step')}, v, V, {at})"
            else:
                allowed = self.ns.bind(step.choices, "choices")
                check = f"(v.__class__ is str and v in {allowed}) or _CHOICES_OK(run, v, {allowed}, {at})"
            self.emit(indent, f"elif {check}:")
        else:
            self.emit(indent, "else:")
        body = len(self.lines)
        if step.constraint is not None:
            truth = self.value_of(indent + 1, "x", step.constraint, "v")
            self.emit(indent + 1, f"if not {truth}:")
            self.emit(indent + 2, f"run.error({at}, 'answer.constraint', {self._message(step, 'constraint')})")
        if step.qtype is not None and step.qtype.rules is not None:
            self._rules(step, indent + 1, at)
        if len(self.lines) == body:
            self.emit(indent + 1, "pass")

    def _required(self, step: Step, indent: int, at: str) -> None:
        message = self._message(step, "required")
        if step.required:
            self.emit(indent, f"if {at} not in run.bad:")
        elif step.required_rule is not None:
            truth = self.value_of(indent, "x", step.required_rule, '"" if v is None else v')
            self.emit(indent, f"if {truth} and {at} not in run.bad:")
        else:
            self.emit(indent, "pass")
            return
        self.emit(indent + 1, f"run.error({at}, 'answer.required', {message})")

    def _message(self, step: Step, kind: str) -> str:
        text = step.messages.get(kind)
        return self.ns.bind(text, "message") if text else "None"

    def _rules(self, step: Step, indent: int, at: str) -> None:
        assert step.qtype is not None and step.qtype.rules is not None
        refs = ", ".join(f"{key!r}: V.get({field!r})" for key, field in step.field_params.items())
        rules = self.ns.bind(step.qtype.rules, "rules")
        literals = self.ns.bind(step.literal_params, "literals")
        self.emit(indent, f"errors, warnings = {rules}(v, {{{refs}}}, {literals}, today)")
        self.emit(indent, "if errors or warnings:")
        self.emit(indent + 1, f"run._findings({at}, errors, warnings, {step.name!r} in V.get(_CONFIRM_KEY, ()))")

    def _confirmations(self) -> None:
        self.emit(1, "# 3. keep only the ticks that confirm a warning still there")
        self.emit(1, "warned = {w.path for w in run.warnings}")
        if self.has_repeats:
            self.emit(1, "for position, chain in run._all_instances(V):")
            self.emit(2, "run._keep_confirmations(chain[-1], position, warned)")
        else:
            self.emit(1, "run._keep_confirmations(V, (), warned)")
