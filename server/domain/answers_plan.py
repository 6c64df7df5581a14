"""The validation plan of a form version and the Run that applies it to one set of answers, shared by
the generated validator (codegen.py) and the reference walk here (validate_reference); the entry
point is answers.validate. The rules are the phone's: clean values by type, compute relevance and
calculations in dependency order, then check required, choices, constraints, repeat counts and type
rules. Warnings need a tick: "_konfirmasi" lists the confirmed field names
(answer shapes and codes: docs/forms.md "Answers and validation")."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import ChainMap
from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from server.domain.compile import CompiledForm
from server.domain.expr import Context, Expr, evaluate, to_boolean
from server.domain.exprtree import CHOICE_PREFIX
from server.domain.form import Choice, Question, Repeat, Text, repeat_choices, walk
from server.domain.instances import Secondary, secondary
from server.domain.nik import Finding
from server.domain.problems import messages
from server.domain.questions import QUESTION_TYPES, BadAnswer, QuestionType

CONFIRM_KEY = "_konfirmasi"
# Types whose rules can warn: the person filling ticks "checked against the documents" to keep the answer
# (the fill page's tick; a confirmation question after each in the ODK XForm).
CONFIRMABLE = frozenset({"nik", "no_kk", "phone", "geopoint"})
EMPTY: tuple[Any, ...] = (None, "", [])


class FieldError(msgspec.Struct, frozen=True):
    path: str  # "nik"; inside a repeat, 1-based as in ODK: "anggota[2]/umur"
    code: str
    message_id: str
    message_en: str


class FieldWarning(msgspec.Struct, frozen=True):
    path: str
    code: str
    message_id: str
    message_en: str
    confirmed: bool


class Validation(msgspec.Struct):
    answers: dict[str, Any]
    errors: list[FieldError]
    warnings: list[FieldWarning]

    @property
    def unconfirmed(self) -> list[FieldWarning]:
        return [w for w in self.warnings if not w.confirmed]

    @property
    def ok(self) -> bool:
        """Accept the submission: no errors, and every warning ticked."""
        return not self.errors and not self.unconfirmed


@dataclass(frozen=True)
class Step:
    """One field's rules, resolved once per CompiledForm."""

    name: str
    kind: str  # "question", "group" or "repeat"
    scope: tuple[str, ...]  # enclosing repeats
    parent: str | None
    qtype: QuestionType | None = None
    rules: dict[str, Expr] = field(default_factory=dict)
    required: bool = False
    messages: dict[str, Text] = field(default_factory=dict)
    choices: dict[str, dict[str, str]] | None = None  # choice name -> its "_choice.*" values
    field_params: dict[str, str] = field(default_factory=dict)
    literal_params: dict[str, str] = field(default_factory=dict)
    min_count: int | None = None
    max_count: int | None = None
    # Resolved once from the above, read on every run: validate() visits every field twice, and
    # looking each rule up again per field and per run cost more than evaluating the rules.
    relevant: Expr | None = None
    calculation: Expr | None = None  # only for a question: a group's calculation means nothing
    constraint: Expr | None = None
    required_rule: Expr | None = None
    choice_filter: Expr | None = None
    parent_scope: int = 0  # how many repeats enclose the parent: its relevance is kept per instance
    # select_one ${x}: the choices are the answers to x (source) in the repeats x lives in
    # (source_scope), those instances that share the select's own enclosing repeats.
    source: str | None = None
    source_scope: tuple[str, ...] = ()
    item_scope: dict[str, tuple[str, ...]] | None = None  # the lookup scope with x's instance made flat


@dataclass(frozen=True)
class Plan:
    steps: dict[str, Step]  # in document order
    order: list[Step]  # relevance/calculation order
    scope: dict[str, tuple[str, ...]]  # for expression lookups
    checked: list[Step]  # in document order, what check() looks at: repeats and questions holding a value
    secondary: Secondary  # choice lists and CSVs the expressions read, labels in the default language


def plan_of(compiled: CompiledForm) -> Plan:
    memo = compiled.memo()
    if "plan" not in memo:
        memo["plan"] = _build_plan(compiled)
    plan: Plan = memo["plan"]
    return plan


def _build_plan(compiled: CompiledForm) -> Plan:
    form = compiled.definition
    steps: dict[str, Step] = {}
    for f, parents in walk(form.fields):
        scope = compiled.fields[f.name].repeat
        rules = {a: e for a in compiled.rules.get(f.name, {}) if (e := compiled.expr(f.name, a)) is not None}
        common: dict[str, Any] = {"name": f.name, "scope": scope, "rules": rules,
                                  "parent": parents[-1].name if parents else None}
        if isinstance(f, Question):
            qtype = QUESTION_TYPES[f.type]
            steps[f.name] = Step(
                kind="question", qtype=qtype, required=f.required is True,
                messages={"constraint": f.constraint_message, "required": f.required_message},
                choices={} if repeat_choices(f) else _choice_overlays(form.choices[f.choices].choices,
                                                                      form.settings.default_language)
                if f.choices else None, source=repeat_choices(f),
                field_params={k: v for k, v in f.parameters.items() if k in qtype.field_parameters},
                literal_params={k: v for k, v in f.parameters.items() if k in qtype.literal_parameters},
                **common)
        elif isinstance(f, Repeat):
            steps[f.name] = Step(kind="repeat", min_count=f.min_count, max_count=f.max_count, **common)
        else:
            steps[f.name] = Step(kind="group", **common)
    for name, step in steps.items():
        parent = steps[step.parent] if step.parent is not None else None
        steps[name] = dataclasses.replace(
            step, relevant=step.rules.get("relevant"),
            # A triggered calculation is set by the phone when its trigger changes (setvalue.js), not recomputed.
            calculation=step.rules.get("calculation") if step.qtype is not None and "trigger" not in step.rules
            else None,
            constraint=step.rules.get("constraint"), required_rule=step.rules.get("required"),
            choice_filter=step.rules.get("choice_filter"), parent_scope=len(parent.scope) if parent else 0)
    lookup_scope = {name: info.repeat for name, info in compiled.fields.items() if info.repeat}
    for name, step in steps.items():
        if step.source is not None:
            within = compiled.fields[step.source].repeat
            steps[name] = dataclasses.replace(step, source_scope=within, item_scope={
                k: v for k, v in lookup_scope.items() if v != within[: len(v)]})
    checked = [step for step in steps.values()
               if step.kind == "repeat" or (step.qtype is not None and step.qtype.holds_value)]
    return Plan(steps=steps, order=[steps[name] for name in compiled.order], scope=lookup_scope, checked=checked,
                 secondary=secondary(compiled, form.settings.default_language))


def repeat_offered(compiled: CompiledForm, name: str, values: Mapping[str, Any],
                   position: tuple[tuple[str, int], ...], today: dt.date, now: dt.datetime) -> list[str]:
    """The answers `select_one ${x}` offers at this position, its choice_filter applied: what the
    fill page shows before its script runs (and without JavaScript)."""
    run = Run(plan_of(compiled), today, now)
    step = run.plan.steps[name]
    return [text for text, overlay in repeat_items(step, values, position).items()
            if run.passes(step, overlay, values, position)]


def repeat_items(step: Step, values: Mapping[str, Any],
                 position: tuple[tuple[str, int], ...]) -> dict[str, MutableMapping[str, Any]]:
    """select_one ${x}: each answer to x -> its instance's values (and those of the instances
    around it), from the instances that share the select's enclosing repeats; blanks skipped, the
    first of equal answers kept. The fill page offers the same (fill_context, repchoice.js)."""
    assert step.source is not None
    shared = 0
    while shared < min(len(position), len(step.source_scope)) and position[shared][0] == step.source_scope[shared]:
        shared += 1
    found: list[tuple[tuple[tuple[str, int], ...], list[Mapping[str, Any]]]] = [((), [values])]
    for repeat in step.source_scope:
        found = [((*pos, (repeat, i)), [*chain, item]) for pos, chain in found
                 for i, item in enumerate(chain[-1].get(repeat) or []) if isinstance(item, Mapping)]
    items: dict[str, MutableMapping[str, Any]] = {}
    for where, chain in found:
        answer = chain[-1].get(step.source)
        if where[:shared] != position[:shared] or answer in EMPTY or isinstance(answer, list | dict):
            continue
        items.setdefault(_choice_text(answer), ChainMap(*[dict(level) for level in reversed(chain[1:])]))
    return items


def _choice_text(answer: Any) -> str:
    """An answer as the choice's name: an integer 3 (or 3.0) is "3", as the phone writes it."""
    if isinstance(answer, float) and answer.is_integer():
        return str(int(answer))
    return answer if isinstance(answer, str) else str(answer).lower() if isinstance(answer, bool) else str(answer)


def _choice_overlays(choices: list[Choice], language: str) -> dict[str, dict[str, str]]:
    # What a choice_filter sees for each choice: its columns as ${_choice.<column>}.
    out: dict[str, dict[str, str]] = {}
    for choice in choices:
        label = choice.label.get(language) or next(iter(choice.label.values()), "")
        values = {"name": choice.name, "label": label, **choice.columns}
        out[choice.name] = {CHOICE_PREFIX + k: v for k, v in values.items()}
    return out


def validate_reference(compiled: CompiledForm, answers: dict[str, Any], *, today: dt.date,
                       now: dt.datetime) -> Validation:
    """The reference: the plan walked field by field, rules run by the expression closures."""
    run = Run(plan_of(compiled), today, now)
    values = run.clean(answers, ())
    run.compute(values)
    run.forget_dropped()
    run.check(values)
    return Validation(answers=values, errors=run.errors, warnings=run.warnings)


# An instance: where it sits ((repeat, index) pairs) and the dicts from the top down to it.
_Position = tuple[tuple[str, int], ...]
_Instance = tuple[_Position, list[dict[str, Any]]]
_At = tuple[_Position, str]  # one answer: its instance and field name; the path is made only when shown


class Run:
    def __init__(self, plan: Plan, today: dt.date, now: dt.datetime) -> None:
        self.plan, self.today, self.now = plan, today, now
        self.errors: list[FieldError] = []
        self.error_places: list[_At] = []
        self.warnings: list[FieldWarning] = []
        self.relevant: dict[tuple[str, tuple[tuple[str, int], ...]], bool] = {}
        self.bad: set[_At] = set()  # values that failed their type: no "required" on top
        # What the phone sent for calculations: only once() reads it (as '.'), to keep a value the
        # phone computed once (a uuid, the time the form was opened); every other one is recomputed.
        self.sent: dict[_At, Any] = {}

    def error(self, at: _At, code: str, text: Text | None = None, /, **params: Any) -> None:
        # Positional-only: a finding's own parameters may be called "code" (nik.province).
        message_id, message_en = messages(code, **params)
        if text:
            message_id, message_en = text.get("id", message_id), text.get("en", message_en)
        self.errors.append(FieldError(_path(*at), code, message_id, message_en))
        self.error_places.append(at)

    # --- 1. clean -------------------------------------------------------------------------------
    def clean(self, raw: Mapping[str, Any], position: tuple[tuple[str, int], ...]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        scope = tuple(r for r, _ in position)
        for key, value in raw.items():
            step = self.plan.steps.get(key)
            if key == CONFIRM_KEY:
                out[key] = self._confirmations(value, (position, key))
            elif step is None or step.scope != scope or step.kind == "group":
                self.error((position, key), "answer.unknown_field", name=key)
            elif step.kind == "repeat":
                out[key] = self._clean_repeat(step, value, position)
            elif value not in EMPTY and step.qtype is not None and step.qtype.holds_value:
                if step.calculation is not None and isinstance(value, str | int | float | bool):
                    self.sent[(position, key)] = value
                cleaned = self._clean_value(step.qtype, value, (position, key))
                if cleaned is not None:
                    out[key] = cleaned
        return out

    def _confirmations(self, value: Any, at: _At) -> list[str]:
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
        self.error(at, "answer.bad_confirmation")
        return []

    def _clean_repeat(self, step: Step, value: Any, position: tuple[tuple[str, int], ...]) -> list[dict[str, Any]]:
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.error((position, step.name), "answer.repeat")
            self.bad.add((position, step.name))
            return []
        return [self.clean(item, (*position, (step.name, i))) for i, item in enumerate(value)]

    def _clean_value(self, qtype: QuestionType, value: Any, at: _At) -> Any:
        if qtype.computed or qtype.clean is None:
            return None  # recomputed below; what the client sent does not count
        try:
            return qtype.clean(value)
        except BadAnswer as exc:
            self.error(at, exc.code, **exc.params)
            self.bad.add(at)
            return None

    # --- 2. relevance and calculations, in dependency order ---------------------------------
    def compute(self, values: dict[str, Any]) -> None:
        for step in self.plan.order:
            self.compute_step(step, values)

    def compute_step(self, step: Step, values: dict[str, Any]) -> None:
        known, name = self.relevant, step.name
        for position, chain in self.instances(values, step.scope) if step.scope else self.top(values):
            relevant = self._is_relevant(step, position, chain)
            known[(name, position)] = relevant
            if not relevant:
                chain[-1].pop(name, None)
            elif step.calculation is not None:
                sent = self.sent.get((position, name))  # '.' of a calculation: what once() keeps
                result = stored(evaluate(step.calculation, self.context(values, position, sent)))
                if result is None:
                    chain[-1].pop(name, None)
                else:
                    chain[-1][name] = result

    def forget_dropped(self) -> None:
        """A value the form no longer asks for is dropped, not judged: the phone may still send an
        answer from before a relevance changed, and that must not block the submission."""
        kept = [(at, e) for at, e in zip(self.error_places, self.errors, strict=True) if self._asked(at)]
        self.error_places, self.errors = [at for at, _ in kept], [e for _, e in kept]

    def _asked(self, at: _At) -> bool:
        position, name = at
        enclosing = all(self.relevant.get((repeat, position[:i]), True) for i, (repeat, _) in enumerate(position))
        return enclosing and self.relevant.get((name, position), True)

    def _is_relevant(self, step: Step, position: tuple[tuple[str, int], ...], chain: list[dict[str, Any]]) -> bool:
        if step.parent is not None and not self.relevant.get((step.parent, position[: step.parent_scope]), True):
            return False
        if step.relevant is None:
            return True
        return to_boolean(evaluate(step.relevant, self.context(chain[0], position, chain[-1].get(step.name))))

    @staticmethod
    def top(values: dict[str, Any]) -> tuple[_Instance]:
        """The one instance of a top-level field (most fields): made once per pass, not per field."""
        return (((), [values]),)

    def instances(self, values: dict[str, Any], scope: tuple[str, ...]) -> Iterable[_Instance]:
        if not scope:
            return self.top(values)
        found: list[_Instance] = [((), [values])]
        for repeat in scope:
            found = [((*pos, (repeat, i)), [*chain, item])
                     for pos, chain in found for i, item in enumerate(chain[-1].get(repeat) or [])]
        return found

    def context(self, values: Mapping[str, Any], position: tuple[tuple[str, int], ...], current: Any) -> Context:
        return Context(answers=values, scope=self.plan.scope, position=position, today=self.today, now=self.now,
                       current="" if current is None else current, instances=self.plan.secondary.instances,
                       lists=self.plan.secondary.lists)

    # --- 3. checks on the final values ------------------------------------------------------
    def check(self, values: dict[str, Any]) -> None:
        for step in self.plan.checked:
            self.check_step(step, values)
        warned = {w.path for w in self.warnings}
        for position, chain in self._all_instances(values):
            self._keep_confirmations(chain[-1], position, warned)

    def check_step(self, step: Step, values: dict[str, Any]) -> None:
        relevant = self.relevant
        for position, chain in self.instances(values, step.scope) if step.scope else self.top(values):
            if not relevant.get((step.name, position), True):
                continue
            if step.kind == "repeat":
                self._check_repeat(step, values, position, chain)
            else:
                self._check_question(step, values, position, chain)

    def _check_question(self, step: Step, values: dict[str, Any], position: tuple[tuple[str, int], ...],
                        chain: list[dict[str, Any]]) -> None:
        value, at = chain[-1].get(step.name), (position, step.name)
        if value in EMPTY:
            required = step.required or (step.required_rule is not None and to_boolean(
                evaluate(step.required_rule, self.context(values, position, value))))
            if required and at not in self.bad:
                self.error(at, "answer.required", step.messages.get("required"))
            return
        if step.choices is not None and not self._check_choices(step, value, values, at):
            return
        constraint = step.constraint
        if constraint is not None and not to_boolean(evaluate(constraint, self.context(values, position, value))):
            self.error(at, "answer.constraint", step.messages.get("constraint"))
        if step.qtype is not None and step.qtype.rules is not None:
            refs = {key: _find(chain, name) for key, name in step.field_params.items()}
            errors, warnings = step.qtype.rules(value, refs, step.literal_params, self.today)
            self._findings(at, errors, warnings, step.name in chain[-1].get(CONFIRM_KEY, ()))

    def _check_choices(self, step: Step, value: Any, values: dict[str, Any], at: _At) -> bool:
        assert step.choices is not None
        items: Mapping[str, MutableMapping[str, Any]] = self.repeat_items(step, values, at[0]) \
            if step.source is not None else step.choices
        for chosen in value if isinstance(value, list) else [value]:
            overlay = items.get(chosen)
            if overlay is None:
                self.error(at, "answer.choice", value=chosen)
                return False
            if not self.passes(step, overlay, values, at[0]):
                self.error(at, "answer.choice_filtered", value=chosen)
                return False
        if step.qtype is not None and step.qtype.name == "rank":
            # every choice the filter offers here, each once (clean_choices dropped repeated names)
            missing = [name for name, overlay in items.items()
                       if name not in value and self.passes(step, overlay, values, at[0])]
            if missing:
                self.error(at, "answer.rank", missing=", ".join(missing))
                return False
        return True

    def passes(self, step: Step, overlay: MutableMapping[str, Any], values: Mapping[str, Any],
               position: tuple[tuple[str, int], ...]) -> bool:
        """Does the choice_filter let this choice (its overlay) through, at the select's position?"""
        if step.choice_filter is None:
            return True
        context = self.context(ChainMap(overlay, values), position, "")  # type: ignore[arg-type]
        if step.item_scope is not None:  # a repeat's answer: its own instance's fields read as plain names
            context = msgspec.structs.replace(context, scope=step.item_scope)
        return to_boolean(evaluate(step.choice_filter, context))

    def repeat_items(self, step: Step, values: Mapping[str, Any],
                     position: tuple[tuple[str, int], ...]) -> dict[str, MutableMapping[str, Any]]:
        return repeat_items(step, values, position)

    def _findings(self, at: _At, errors: list[Finding], warnings: list[Finding], confirmed: bool) -> None:
        for finding in errors:
            self.error(at, finding.code, **finding.params)
        for finding in warnings:
            message_id, message_en = messages(finding.code, **finding.params)
            self.warnings.append(FieldWarning(_path(*at), finding.code, message_id, message_en, confirmed))

    def _check_repeat(self, step: Step, values: dict[str, Any], position: tuple[tuple[str, int], ...],
                      chain: list[dict[str, Any]]) -> None:
        got, at = len(chain[-1].get(step.name) or []), (position, step.name)
        if "repeat_count" in step.rules:
            wanted = evaluate(step.rules["repeat_count"], self.context(values, position, None))
            count = _as_count(wanted)
            if count is not None and got != count:
                self.error(at, "answer.repeat_count", count=count, got=got)
        if step.min_count is not None and got < step.min_count:
            self.error(at, "answer.repeat_min", min=step.min_count)
        if step.max_count is not None and got > step.max_count:
            self.error(at, "answer.repeat_max", max=step.max_count)

    def _all_instances(self, values: dict[str, Any]) -> Iterator[_Instance]:
        yield (), [values]
        for step in self.plan.steps.values():
            if step.kind == "repeat":
                yield from self.instances(values, (*step.scope, step.name))

    def _keep_confirmations(self, instance: dict[str, Any], position: tuple[tuple[str, int], ...],
                            warned: set[str]) -> None:
        # Keep only ticks that confirm a warning that is still there: the stored answers then say
        # exactly which warnings a person checked (the data-quality indicator counts them).
        ticked = instance.pop(CONFIRM_KEY, [])
        kept = [name for name in ticked if _path(position, name) in warned]
        if kept:
            instance[CONFIRM_KEY] = kept


def _path(position: tuple[tuple[str, int], ...], name: str) -> str:
    return "/".join([*(f"{repeat}[{index + 1}]" for repeat, index in position), name])


def _find(chain: list[dict[str, Any]], name: str) -> Any:
    """A parameter's field: in this repeat instance first, then outwards to the top level."""
    for instance in reversed(chain):
        if name in instance:
            return instance[name]
    return None


def stored(result: Any) -> Any:
    """An evaluation result as an answer: a nodeset its first item (as XPath's string(): the label an
    instance('list')/root/item[...]/label found), NaN empty, whole floats ints."""
    if result.__class__ is float:  # most calculations give a number
        if result != result:
            return None
        return int(result) if result.is_integer() and abs(result) < 2**53 else result
    if isinstance(result, list):
        result = result[0] if result else ""
    if result == "" or (isinstance(result, float) and result != result):
        return None
    if isinstance(result, float) and result.is_integer() and abs(result) < 2**53:
        return int(result)
    return result


def _as_count(value: Any) -> int | None:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    if number is None or number != number:
        return None
    return max(int(number), 0)
