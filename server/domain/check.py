"""Static checks of a Form: each check is a small function over one shared view of the form and
yields Problems with the place the loader recorded. Errors stop compilation; warnings are shown
(`pantau forms check`) and the form still compiles."""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from server.domain.expr import Call, Col, Expr, ExprError, Inst, Ref, Str, children
from server.domain.expr.lexer import LAST_SAVED
from server.domain.exprtree import refs_outside_aggregates
from server.domain.form import (
    MAX_NAME_LENGTH,
    NAME_RE,
    Choice,
    Field,
    Form,
    Parents,
    Question,
    Repeat,
    field_type,
    repeat_choices,
    repeat_scope,
    walk,
)
from server.domain.graph import dependencies, topological
from server.domain.problems import Loc, Problem, Said, problem
from server.domain.questions import NUMERIC_PARAMETERS, QUESTION_TYPES, QuestionType
from server.domain.sites import Key, Parsed, Site, label_references
from server.domain.sourcemap import Where

EXPR_CODES = {"expr.syntax": "form.bad_expression", "expr.unknown_function": "form.unknown_function",
              "expr.arity": "form.bad_arity", "expr.too_long": "form.expression_too_long"}
CHOICE_BUILTIN_COLUMNS = frozenset({"name", "label"})
# Attributes whose "unset" value is one of these; anything else counts as written.
_UNSET: tuple[object, ...] = (None, False, "", {})


@dataclass
class _View:
    form: Form
    where: Where
    parsed: Parsed
    entries: list[tuple[Field, Parents]] = field(default_factory=list)
    scope: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.entries = walk(self.form.fields)
        for f, parents in self.entries:
            self.scope.setdefault(f.name, repeat_scope(parents) + ((f.name,) if isinstance(f, Repeat) else ()))

    def loc_of(self, name: str, *attributes: str) -> Loc:
        """The place of the first written attribute, else of the field itself."""
        return self.where.at(*[("field", name, a) for a in attributes], ("field", name))

    def questions(self) -> Iterator[Question]:
        return (f for f, _ in self.entries if isinstance(f, Question))


def check(form: Form, where: Where, parsed: Parsed) -> list[Problem]:
    view = _View(form, where, parsed)
    found = [p for check_one in CHECKS for p in check_one(view)]
    return sorted(found, key=lambda p: (p.file, p.line, p.column))


def check_names(view: _View) -> Iterator[Problem]:
    if not NAME_RE.match(view.form.settings.id) or len(view.form.settings.id) > MAX_NAME_LENGTH:
        yield problem("form.bad_name", view.where.at(("settings", "id")), name=view.form.settings.id)
    counts = Counter(f.name for f, _ in view.entries)
    for f, _ in view.entries:
        if not NAME_RE.match(f.name) or len(f.name) > MAX_NAME_LENGTH:
            yield problem("form.bad_name", view.loc_of(f.name, "name"), name=f.name)
    for name, count in counts.items():
        if count > 1:
            first, *others = view.where.all(("field", name)) or [view.loc_of(name)] * count
            for loc in others or [first]:
                yield problem("form.duplicate_name", loc, name=name, other_line=first.line)


def check_types(view: _View) -> Iterator[Problem]:
    for q in view.questions():
        qtype = QUESTION_TYPES.get(q.type)
        if qtype is None:
            yield problem("form.unknown_type", view.loc_of(q.name, "type"), type=q.type,
                          known=", ".join([*QUESTION_TYPES, "group", "repeat"]))
            continue
        for attribute in q.__struct_fields__:
            written = getattr(q, attribute) not in _UNSET
            if written and attribute not in ("type", "name", "xlsform") and not _applies(qtype, q, attribute):
                yield problem("form.attribute_not_for_type", view.loc_of(q.name, attribute),
                              attribute=attribute, type=q.type, name=q.name)
        if qtype.computed and not q.calculation:
            yield problem("form.missing_calculation", view.loc_of(q.name), name=q.name)
        yield from _check_choices_of(view, q, qtype.has_choices)
        yield from _check_parameters(view, q)


def _applies(qtype: QuestionType, q: Question, attribute: str) -> bool:
    """A question the enumerator answers may take a calculation (XLSForm's calculation on a typed
    question: computed, shown read-only) and ODK's trigger (then the calculation is what a change of
    the trigger sets it to). A calculate recomputes always, so a trigger means nothing there."""
    if attribute in qtype.attributes:
        return True
    return qtype.holds_value and not qtype.computed and attribute in ("trigger", "calculation")


def check_triggers(view: _View) -> Iterator[Problem]:
    """A trigger names one question, not itself (a change to it sets this one)."""
    for q in view.questions():
        expr = view.parsed.exprs.get(("field", q.name, "trigger"))
        if q.trigger is not None and expr is not None and (not isinstance(expr, Ref) or expr.name == q.name):
            yield problem("form.bad_trigger", view.loc_of(q.name, "trigger"), name=q.name, trigger=q.trigger)


def _check_choices_of(view: _View, q: Question, has_choices: bool) -> Iterator[Problem]:
    if has_choices and q.choices is None:
        yield problem("form.missing_choices", view.loc_of(q.name, "type"), name=q.name, type=q.type)
    elif (source := repeat_choices(q)) is not None:
        found = next((f for f, _ in view.entries if f.name == source), None)
        if not isinstance(found, Question) or not view.scope.get(source) or not QUESTION_TYPES.get(
                found.type, QUESTION_TYPES["text"]).holds_value or repeat_choices(found) is not None:
            yield problem("form.bad_repeat_choices", view.loc_of(q.name, "choices", "type"), name=q.name, ref=source)
        elif q.type != "select_one":  # pyxform itself fails on select_multiple ${x}: ODK could not take it
            yield problem("form.repeat_choices_multiple", view.loc_of(q.name, "type"), name=q.name, ref=source)
    elif q.choices is not None and q.choices not in view.form.choices:
        yield problem("form.unknown_choice_list", view.loc_of(q.name, "choices", "type"), name=q.choices,
                      known=", ".join(view.form.choices) or "-")


def _check_parameters(view: _View, q: Question) -> Iterator[Problem]:
    qtype = QUESTION_TYPES[q.type]
    known = qtype.field_parameters | qtype.literal_parameters
    for key, value in q.parameters.items():
        loc = view.loc_of(q.name, "parameters")
        if key not in known:
            yield problem("form.unknown_parameter", loc, parameter=key, type=q.type,
                          known=", ".join(sorted(known)) or "-")
        elif key in qtype.field_parameters and value not in view.scope:
            yield problem("form.bad_parameter", loc, parameter=key, name=q.name, type=q.type,
                          reason=Said(f"tidak ada pertanyaan bernama '{value}'", f"no field is named '{value}'"))
        elif key in NUMERIC_PARAMETERS and not _is_number(value):
            yield problem("form.bad_parameter", loc, parameter=key, name=q.name, type=q.type,
                          reason=Said(f"'{value}' bukan angka", f"'{value}' is not a number"))


def _is_number(text: str) -> bool:
    try:
        return float(text) >= 0
    except ValueError:
        return False


def check_expressions(view: _View) -> Iterator[Problem]:
    for key, error in view.parsed.errors.items():
        yield _expression_problem(view.where, key, error)


def _expression_problem(where: Where, key: Key, error: ExprError) -> Problem:
    code = EXPR_CODES.get(error.code, "form.bad_expression")
    reason = Said(error.message_id.rstrip("."), error.message_en.rstrip("."))
    return problem(code, where.in_expression(key, error.column), attribute=key[-1], reason=reason, column=error.column)


def check_references(view: _View) -> Iterator[Problem]:
    known = set(view.scope)
    for site in view.parsed.sites:
        for name in sorted(view.parsed.refs.get(site.key, frozenset()) - known):
            yield _unknown_reference(view, site.key, site.attribute, name, known)
        for name in sorted(view.parsed.last_saved.get(site.key, frozenset())):
            yield _last_saved(view, site.key, site.attribute, name, known)
        if site.attribute == "constraint" and site.field in view.parsed.refs.get(site.key, frozenset()):
            yield problem("form.self_reference", view.where.at(site.key), attribute="constraint", name=site.field)
    for f, _ in view.entries:
        for attribute in ("label", "hint"):
            for name in sorted(label_references(getattr(f, attribute)) - known):
                if name.startswith(LAST_SAVED):
                    yield _last_saved(view, ("field", f.name, attribute), attribute, name[len(LAST_SAVED):], known)
                else:
                    yield _unknown_reference(view, ("field", f.name, attribute), attribute, name, known)


def _last_saved(view: _View, key: Key, attribute: str, name: str, known: set[str]) -> Problem:
    """${last-saved#name} names a field of the form, and reads as empty (docs/forms.md)."""
    if name not in known:
        return _unknown_reference(view, key, attribute, name, known)
    return problem("form.last_saved", view.where.at(key, key[:2]), name=name, attribute=attribute)


def _unknown_reference(view: _View, key: Key, attribute: str, name: str, known: set[str]) -> Problem:
    near = difflib.get_close_matches(name, sorted(known), n=1)
    return problem("form.unknown_reference", view.where.at(key, key[:2]), name=name, attribute=attribute,
                   suggestion=f"Maksudnya ${{{near[0]}}}?" if near else "Periksa ejaan namanya.",
                   suggestion_en=f"Did you mean ${{{near[0]}}}?" if near else "Check the spelling of the name.")


def check_defaults(view: _View) -> Iterator[Problem]:
    """A default is worked out once, when the form (or a new repeat instance) opens: a field of the
    same level has no answer yet then, so a default built on it is a guess the enumerator may never
    see corrected (a measuring position preset to "standing" before the age was known changed a
    child's stunting verdict)."""
    for q in view.questions():
        for name in sorted(view.parsed.refs.get(("field", q.name, "default"), frozenset())):
            if name != q.name and view.scope.get(name) == view.scope.get(q.name):
                yield problem("form.default_reads_field", view.loc_of(q.name, "default"), name=q.name, ref=name)


def check_cycles(view: _View) -> Iterator[Problem]:
    _, cycles = topological(dependencies(view.form, view.parsed))
    for cycle in cycles:
        links = [_link(view, name, dep) for name, dep in itertools.pairwise(cycle)]
        said = Said("; ".join(i for i, _ in links), "; ".join(e for _, e in links))
        yield problem("form.calculation_cycle", view.loc_of(cycle[0], "calculation", "relevant"),
                      cycle=" -> ".join(cycle), links=said)


_READS = {"calculation": ("hitungan", "the calculation of"),
          "relevant": ("syarat tampil (relevant)", "the relevant of")}
_INSIDE = {"group": ("grup", "the group"), "repeat": ("ulangan", "the repeat")}


def _link(view: _View, name: str, dep: str) -> tuple[str, str]:
    """Why `name` waits for `dep`, in both languages: one of its rules reads it, or it is inside it."""
    itself = (" sendiri", " itself") if name == dep else ("", "")
    for attribute, (said_id, said_en) in _READS.items():
        if dep in view.parsed.refs.get(("field", name, attribute), frozenset()):
            return f"{said_id} {name} memakai {dep}{itself[0]}", f"{said_en} {name} reads {dep}{itself[1]}"
    kind_id, kind_en = _INSIDE[next(field_type(f) for f, _ in view.entries if f.name == dep)]
    return f"{name} ada di dalam {kind_id} {dep}", f"{name} is inside {kind_en} {dep}"


def check_choice_filters(view: _View) -> Iterator[Problem]:
    for q in view.questions():
        used = view.parsed.columns.get(("field", q.name, "choice_filter"))
        chosen = view.form.choices.get(q.choices or "")
        if used is None or chosen is None:
            continue
        columns = CHOICE_BUILTIN_COLUMNS | _columns(chosen.choices)
        for column in sorted(used - columns):
            yield problem("form.bad_choice_filter", view.loc_of(q.name, "choice_filter"), name=q.name,
                          column=column, list=chosen.name, known=", ".join(sorted(columns)))


def _columns(choices: list[Choice]) -> set[str]:
    return {column for choice in choices for column in choice.columns}


def check_repeats(view: _View) -> Iterator[Problem]:
    for f, _ in view.entries:
        if not isinstance(f, Repeat):
            continue
        low, high = f.min_count, f.max_count
        if (low is not None and low < 0) or (high is not None and high < 0) or (
                low is not None and high is not None and low > high):
            yield problem("form.repeat_bounds", view.loc_of(f.name, "min_count", "max_count"), name=f.name,
                          min=low, max=high)
        if f.repeat_count and (low is not None or high is not None):
            yield problem("form.repeat_count_with_bounds", view.loc_of(f.name, "repeat_count"), name=f.name)
        for ref in sorted(view.parsed.refs.get(("field", f.name, "repeat_count"), frozenset())):
            if f.name in view.scope.get(ref, ()):
                yield problem("form.repeat_count_self", view.loc_of(f.name, "repeat_count"), name=f.name, ref=ref)
    yield from _check_repeat_references(view)


def _check_repeat_references(view: _View) -> Iterator[Problem]:
    # A field inside a repeat has one value per instance; from outside that instance only an
    # aggregate (sum, count, ...) says which of them is meant.
    for site in view.parsed.sites:
        expr = view.parsed.exprs.get(site.key)
        if expr is None:
            continue
        own = _value_scope(view, site.field) if site.field else ()
        item = _item_scope(view, site.field) if site.attribute == "choice_filter" and site.field else None
        for ref in sorted(refs_outside_aggregates(expr)):
            ref_scope = _value_scope(view, ref)
            if ref_scope is None or own is None or ref_scope == own[: len(ref_scope)]:
                continue
            if item is not None and ref_scope == item[: len(ref_scope)]:
                continue  # a select over a repeat's answers filters each answer by its own instance
            if site.attribute == "repeat_count" and site.field in ref_scope:
                continue  # reported once, as form.repeat_count_self
            shared = next((i for i, (a, b) in enumerate(zip(ref_scope, own, strict=False)) if a != b),
                          min(len(ref_scope), len(own)))  # the first repeat the reference enters
            yield problem("form.repeat_reference", view.where.at(site.key), attribute=site.attribute,
                          name=site.field or "settings", ref=ref, repeat=ref_scope[shared])


def _item_scope(view: _View, name: str) -> tuple[str, ...] | None:
    """The repeats the answers a `select_one ${x}` chooses from live in (those of x), else None."""
    q = next((f for f, _ in view.entries if f.name == name and isinstance(f, Question)), None)
    source = repeat_choices(q) if isinstance(q, Question) else None
    return _value_scope(view, source) if source else None


def _value_scope(view: _View, name: str) -> tuple[str, ...] | None:
    """The repeats a field's value lives in; a repeat's own attributes live in its parent's scope."""
    scope = view.scope.get(name)
    if scope is None:
        return None
    return scope[:-1] if scope and scope[-1] == name else scope


def check_containers(view: _View) -> Iterator[Problem]:
    for f, _ in view.entries:
        if not isinstance(f, Question) and not f.fields:
            kind = field_type(f)
            yield problem("form.empty_group", view.loc_of(f.name), type=Said(_INSIDE[kind][0], kind), name=f.name)


def check_labels(view: _View) -> Iterator[Problem]:
    languages = set(view.form.settings.title) | {lang for f, _ in view.entries for lang in f.label}
    for f, _ in view.entries:
        takes_label = "label" in getattr(QUESTION_TYPES.get(getattr(f, "type", "")), "attributes", {"label"})
        shown = not isinstance(f, Question) or (f.type not in ("calculate", "hidden") and takes_label)
        if isinstance(f, Question) and shown and not f.label:
            yield problem("form.missing_label", view.loc_of(f.name), name=f.name)
            continue
        texts: dict[str, dict[str, str]] = {"label": f.label, "hint": f.hint}
        if isinstance(f, Question):
            texts |= {"constraint_message": f.constraint_message, "required_message": f.required_message}
        for attribute, text in texts.items():
            for lang in sorted(languages - set(text)) if text else ():
                yield problem("form.missing_translation", view.loc_of(f.name, attribute), attribute=attribute,
                              name=f.name, language=lang)


def check_odk_functions(view: _View) -> Iterator[Problem]:
    """What the parser cannot know: jr:choice-name() names a select question, indexed-repeat() the
    repeats that hold its question, instance()/pulldata() a choice list's real columns or a CSV."""
    for site in view.parsed.sites:
        expr = view.parsed.exprs.get(site.key)
        for node in _nodes(expr) if expr is not None else ():
            if isinstance(node, Call) and node.fn == "jr:choice-name":
                yield from _check_choice_name(view, site, node)
            elif isinstance(node, Call) and node.fn == "indexed-repeat":
                yield from _check_indexed_repeat(view, site, node)
            elif isinstance(node, Inst):
                yield from _check_instance(view, site, node.id, _columns_read(node))
            elif isinstance(node, Call) and node.fn == "pulldata" and isinstance(node.args[0], Str):
                columns = {arg.v for arg in node.args[1:3] if isinstance(arg, Str)}
                yield from _check_instance(view, site, node.args[0].v, columns)


def _nodes(expr: Expr) -> Iterator[Expr]:
    stack: list[Expr] = [expr]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(children(node))


def _columns_read(node: Inst) -> set[str]:
    """The columns of its own rows a path reads: bare names in its [...] (not those of a nested
    instance path, checked on their own) and the column it returns."""
    found = {node.get} if node.get else set()
    stack: list[Expr] = list(node.where)
    while stack:
        current = stack.pop()
        if isinstance(current, Col):
            found.add(current.name)
        elif not isinstance(current, Inst):
            stack.extend(children(current))
    return found


def _check_choice_name(view: _View, site: Site, node: Call) -> Iterator[Problem]:
    found = re.fullmatch(r"\$\{(.+)\}", node.args[1].v) if isinstance(node.args[1], Str) else None
    field = found.group(1) if found else ""
    question = next((q for q in view.questions() if q.name == field), None)
    if question is None or not question.choices:
        yield problem("form.choice_name_field", view.where.at(site.key), attribute=site.attribute,
                      name=site.field or "settings", field=field)


def _check_indexed_repeat(view: _View, site: Site, node: Call) -> Iterator[Problem]:
    ref = node.args[0].name if isinstance(node.args[0], Ref) else ""
    scope = _value_scope(view, ref)
    if scope is None:
        return  # an unknown ${name}: form.unknown_reference says so
    for arg in node.args[1::2]:
        repeat = arg.name if isinstance(arg, Ref) else ""
        if repeat not in scope:
            yield problem("form.indexed_repeat", view.where.at(site.key), attribute=site.attribute,
                          name=site.field or "settings", ref=ref, repeat=repeat)


def _check_instance(view: _View, site: Site, name: str, columns: set[str]) -> Iterator[Problem]:
    chosen = view.form.choices.get(name)
    where = view.where.at(site.key)
    declared = any(q.type == "csv_external" and q.name == name for q in view.questions())
    if chosen is None and declared:
        return  # `csv-external name` declares the file: its upload is checked with the form's attachments
    if chosen is None:
        yield problem("form.instance_file", where, attribute=site.attribute, name=site.field or "settings", file=name)
        return
    known = CHOICE_BUILTIN_COLUMNS | _columns(chosen.choices)
    for column in sorted(columns - known):
        yield problem("form.instance_column", where, attribute=site.attribute, name=site.field or "settings",
                      column=column, list=name, known=", ".join(sorted(known)))


def check_unused_lists(view: _View) -> Iterator[Problem]:
    used = {q.choices for q in view.questions()}
    used |= {n.id for expr in view.parsed.exprs.values() for n in _nodes(expr) if isinstance(n, Inst)}
    for name in view.form.choices:
        if name not in used:
            yield problem("form.unused_choice_list", view.where.at(("choices", name)), name=name)


# The registry block: which question types each key may name. None: any question with a value.
_ANY = None
REGISTRY_TYPES: dict[str, dict[str, frozenset[str] | None]] = {
    "creates": {"name": frozenset({"text"}), "area": frozenset({"select_one"}), "nik": frozenset({"nik"}),
                "kk": frozenset({"no_kk"}), "sex": frozenset({"select_one", "text"}), "birth_date": frozenset({"date"}),
                "date": frozenset({"date"}), "group": frozenset({"select_one", "text"}), "baseline": _ANY,
                "guardian": frozenset({"text"})},
    "refers": {"beneficiary": frozenset({"beneficiary"}), "date": frozenset({"date"}), "figures": _ANY,
               "follow_up": frozenset({"select_multiple", "select_one"}), "follow_up_due": frozenset({"date"})},
    "growth": {"sex": frozenset({"select_one", "text"}), "birth_date": frozenset({"date"}),
               "weight": frozenset({"decimal", "integer"}), "length": frozenset({"decimal", "integer"}),
               "position": frozenset({"select_one"}), "oedema": frozenset({"select_one"}),
               "child": frozenset({"text"}), "referral": frozenset({"select_one"})},
}


def check_registry(view: _View) -> Iterator[Problem]:
    registry = view.form.settings.registry
    if registry is None:
        return
    here = view.where.at(("settings", "registry"))
    if not NAME_RE.match(registry.programme):
        yield problem("form.bad_name", view.where.at(("registry", "registry", "programme")), name=registry.programme)
    if (registry.creates is None) == (registry.refers is None):
        yield problem("form.registry_role", here, reason="give either 'creates' or 'refers', not both or neither")
    elif registry.refers is not None and (registry.same_nik != "update" or registry.one_per_kk
                                          or registry.visit_every != "none"):
        yield problem("form.registry_role", here,
                      reason="same_nik, one_per_kk and visit_every are the programme's rules: set them with 'creates'")
    parts = [("creates", registry.creates), ("refers", registry.refers),
             ("growth", registry.refers.growth if registry.refers else None)]
    for part, spec in parts:
        for key, name in _named_fields(spec, REGISTRY_TYPES[part]):
            yield from _check_registry_field(view, part, key, name)


def _named_fields(spec: object, keys: dict[str, frozenset[str] | None]) -> Iterator[tuple[str, str]]:
    """(key, field name) for every key of the block that names a field (not `event`, `growth`)."""
    for key in keys if spec is not None else ():
        value = getattr(spec, key)
        if isinstance(value, str):
            yield key, value
        elif isinstance(value, dict):
            yield from ((key, name) for name in value.values())


def _check_registry_field(view: _View, part: str, key: str, name: str) -> Iterator[Problem]:
    wanted = REGISTRY_TYPES[part][key]
    loc = view.where.at(("registry", part, key), ("settings", "registry"))
    expected = ", ".join(sorted(wanted)) if wanted else "any question with an answer"
    found = next((q for q in view.questions() if q.name == name), None)
    qtype = QUESTION_TYPES.get(found.type) if found else None
    if found is None or qtype is None or not qtype.holds_value:
        reason = "which is no question" if found is None else "which holds no answer"
        yield problem("form.registry_field", loc, key=key, name=name, reason=reason, expected=expected)
    elif wanted is not None and found.type not in wanted:
        yield problem("form.registry_field", loc, key=key, name=name, reason=f"a {found.type}", expected=expected)
    elif view.scope.get(name):
        yield problem("form.registry_field", loc, key=key, name=name, reason="inside a repeat", expected=expected)
    elif part == "creates" and key == "area" and not _is_region_list(view, found):
        yield problem("form.registry_field", loc, key=key, name=name, reason="whose list is not a region list",
                      expected="select_one of a {wilayah: desa ...} list")


_REGION_CODE = re.compile(r"[0-9]{2}(\.[0-9]{2}){0,2}(\.[0-9]{4})?\Z")


def _is_region_list(view: _View, q: Question) -> bool:
    """A `{wilayah: ...}` list, or its choices written out (as XLSForm export writes them): access to a
    beneficiary is decided by the Kemendagri code of their area."""
    chosen = view.form.choices.get(q.choices or "")
    return chosen is not None and bool(chosen.choices) and (
        chosen.wilayah is not None or all(_REGION_CODE.match(c.name) for c in chosen.choices))


CHECKS: tuple[Callable[[_View], Iterator[Problem]], ...] = (
    check_names, check_types, check_expressions, check_references, check_defaults, check_cycles, check_choice_filters,
    check_odk_functions, check_triggers,
    check_repeats, check_containers, check_labels, check_unused_lists, check_registry,
)
