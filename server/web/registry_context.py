"""Typed contexts of the registry pages (STYLE.md 8): the list and search, one beneficiary's page
with the timeline of intake, visits and growth checks, the schedule of due visits and follow-ups,
and the possible duplicates. Builders take storage records and return only what templates show."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from server.domain import growth
from server.domain import registry as rules
from server.domain.access import Principal, has
from server.domain.form import text_of
from server.domain.nik import format_rupiah
from server.storage.registry_read import DuplicateGroup, Event, FollowUp, Record, Row
from server.web.viewer import Viewer, viewer_of

KINDS = {"intake": ("Pendaftaran", "Registration"), "update": ("Pendaftaran ulang", "Re-registration"),
         "visit": ("Kunjungan", "Visit"), "growth": ("Cek tumbuh anak", "Growth check"),
         "import": ("Impor (sumber: impor)", "Import (source: import)")}
FLAGS = {
    rules.DUPLICATE_NIK: ("NIK ganda", "Duplicate NIK"), rules.SHARED_KK: ("KK sama dengan penerima lain",
                                                                       "Same family card as another recipient"),
    "nik.sex_mismatch": ("Jenis kelamin beda dengan NIK", "Sex differs from the NIK"),
    "nik.dob_mismatch": ("Tanggal lahir beda dengan NIK", "Birth date differs from the NIK"),
    "nik.outside_kukar": ("NIK dari luar Kukar", "NIK issued outside Kukar"),
    "nik.prefix_unknown": ("Kode wilayah NIK lama", "Old region code in the NIK"),
    "kk.date": ("Tanggal di No. KK tidak ada", "The family card's date does not exist"),
    "kk.prefix_unknown": ("Kode wilayah KK lama", "Old region code in the family card"),
}
SEXES = {"L": ("Laki-laki", "Male"), "P": ("Perempuan", "Female")}


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


class Line(msgspec.Struct, frozen=True, kw_only=True):
    """One beneficiary in a list."""

    id: str
    name: str
    nik: str
    desa: str
    kecamatan: str
    last_visit: str = ""
    next_due: str = ""
    overdue: bool = False
    flags: list[str] = []


def line_of(item: Record | Row, lang: str, today: dt.date | None = None) -> Line:
    if isinstance(item, Row):
        return Line(id=item.id, name=item.name, nik=item.nik, desa=rules.area_name(item.area_code),
                    kecamatan=rules.area_name(rules.kecamatan_of(item.area_code)), last_visit=item.last_visit_on)
    return Line(id=item.id, name=item.name, nik=item.nik_masked, desa=rules.area_name(item.area_code),
                kecamatan=rules.area_name(item.kecamatan), last_visit=item.last_visit_on, next_due=item.next_due_on,
                overdue=bool(today and item.next_due_on and item.next_due_on < today.isoformat()),
                flags=[pick(FLAGS.get(f, (f, f)), lang) for f in item.flags])


class RegistryContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    query: str
    searched: bool
    rows: list[Line]
    can_see_duplicates: bool
    can_decide_duplicates: bool = False  # the probable-duplicates queue (controllers/duplicates.py)
    registered: bool | None = None  # a whole NIK/KK was searched: is it in one's areas?


def registry_context(principal: Principal, lang: str, query: str, found: list[Record] | list[Row],
                     today: dt.date, registered: bool | None = None) -> RegistryContext:
    return RegistryContext(lang=lang, viewer=viewer_of(principal), query=query, searched=bool(query),
                           rows=[line_of(item, lang, today) for item in found],
                           can_see_duplicates=has(principal, "reveal_nik"), registered=registered,
                           can_decide_duplicates=has(principal, "decide_duplicates"))


# --- one beneficiary ------------------------------------------------------------------------------
class Shown(msgspec.Struct, frozen=True):
    label: str
    value: str
    note: str = ""  # e.g. the change against the intake's baseline


class GrowthShown(msgspec.Struct, frozen=True, kw_only=True):
    child: str
    age: str
    rows: list[Shown]  # index, z-score, category
    remeasure: bool
    oedema: bool


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    date: str
    kind: str
    form_id: str
    submission: str
    figures: list[Shown]
    growth: GrowthShown | None = None
    follow_up: str = ""


class FollowUpShown(msgspec.Struct, frozen=True, kw_only=True):
    beneficiary: str
    name: str
    desa: str
    actions: str
    opened_on: str
    due_on: str
    closed_on: str
    overdue: bool


class BeneficiaryContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    id: str
    name: str
    nik: str
    kk: str
    revealed: bool
    can_reveal: bool
    sex: str
    birth_date: str
    desa: str
    kecamatan: str
    area_code: str
    group: str
    programme: str
    flags: list[str]
    registered_on: str
    last_visit: str
    next_due: str
    overdue: bool
    timeline: list[Entry]
    follow_ups: list[FollowUpShown]
    baseline: list[Shown]
    duplicates: list[Line] = []  # the records behind its duplicate flags that the reader may see
    duplicates_elsewhere: bool = False  # more, outside the reader's areas: staff see them
    visit_forms: list[tuple[str, str]] = []  # (form id, title): this person's forms the reader may fill


def beneficiary_context(principal: Principal, lang: str, record: Record, events: list[Event],
                        follow_ups: list[FollowUp], today: dt.date, revealed: tuple[str, str] | None = None,
                        group_label: dict[str, str] | None = None,
                        duplicates: tuple[list[Record], bool] = ([], False),
                        visit_forms: list[tuple[str, str]] | None = None) -> BeneficiaryContext:
    baseline = {f.key: f for f in record.baseline}
    return BeneficiaryContext(
        lang=lang, viewer=viewer_of(principal), id=record.id, name=record.name,
        nik=revealed[0] if revealed else record.nik_masked, kk=revealed[1] if revealed else record.kk_masked,
        revealed=revealed is not None, can_reveal=has(principal, "reveal_nik"),
        sex=pick(SEXES.get(record.sex, (record.sex, record.sex)), lang), birth_date=record.birth_date,
        desa=rules.area_name(record.area_code), kecamatan=rules.area_name(record.kecamatan),
        area_code=record.area_code, group=text_of(group_label or {}, lang, record.target_group),
        programme=record.programme,
        flags=[pick(FLAGS.get(f, (f, f)), lang) for f in record.flags], registered_on=record.registered_on,
        last_visit=record.last_visit_on, next_due=record.next_due_on,
        overdue=bool(record.next_due_on and record.next_due_on < today.isoformat()),
        timeline=[entry_of(e, baseline, lang) for e in reversed(events)],
        follow_ups=[follow_up_of(f, lang, today) for f in follow_ups],
        baseline=[_shown(f, {}, lang) for f in record.baseline],
        duplicates=[line_of(other, lang, today) for other in duplicates[0]], duplicates_elsewhere=duplicates[1],
        visit_forms=visit_forms or [],
    )


def entry_of(event: Event, baseline: dict[str, rules.Figure], lang: str) -> Entry:
    figures = msgspec.convert(event.summary.get("figures", []), list[rules.Figure])
    compare = baseline if event.kind in ("visit", "growth") else {}
    follow_up = event.summary.get("follow_up") or {}
    return Entry(date=event.happened_on, kind=pick(KINDS.get(event.kind, (event.kind, event.kind)), lang),
                 form_id=event.form_id, submission=event.submission,
                 figures=[_shown(f, compare, lang) for f in figures], growth=_growth(event.summary, lang),
                 follow_up=(f"{text_of(follow_up.get('text', {}), lang)} ({follow_up.get('due_on', '')})"
                            if follow_up else ""))


def _shown(figure: rules.Figure, baseline: dict[str, rules.Figure], lang: str) -> Shown:
    note = ""
    before = baseline.get(figure.key)
    if before is not None and _number(before.value) is not None and _number(figure.value) is not None:
        change = int(_number(figure.value) or 0) - int(_number(before.value) or 0)
        start = text_of(before.text, lang, str(before.value))
        amount = format_rupiah(abs(change)) if start.startswith("Rp") else str(abs(change))
        sign = "+" if change >= 0 else "−"
        note = (f"{sign}{amount} vs. {start} at intake" if lang == "en"
                else f"{sign}{amount} dibanding {start} saat pendaftaran")
    return Shown(text_of(figure.label, lang, figure.key), text_of(figure.text, lang, str(figure.value)), note)


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _growth(summary: dict[str, Any], lang: str) -> GrowthShown | None:
    raw = summary.get("growth")
    if raw is None:
        return None
    result = msgspec.convert(raw, growth.Assessment)
    rows = []
    for index, code in (("haz", result.tbu), ("waz", result.bbu), ("whz", result.bbtb)):
        z = getattr(result, index)
        number = "–" if z is None else f"{z:+.2f}".replace(".", "," if lang != "en" else ".")
        rows.append(Shown(pick(growth.INDEX_NAMES[index], lang), number, growth.label(code, lang)))
    months = result.age_days / 30.4375
    age = f"{months:.1f} bulan".replace(".", ",") if lang != "en" else f"{months:.1f} months"
    return GrowthShown(child=str(summary.get("child", "")), age=age, rows=rows, remeasure=bool(result.implausible),
                       oedema=result.oedema)


def follow_up_of(item: FollowUp, lang: str, today: dt.date) -> FollowUpShown:
    return FollowUpShown(beneficiary=item.beneficiary, name=item.name, desa=rules.area_name(item.area_code),
                         actions=text_of(item.text, lang, " ".join(item.actions)), opened_on=item.opened_on,
                         due_on=item.due_on, closed_on=item.closed_on,
                         overdue=not item.closed_on and item.due_on < today.isoformat())


# --- the schedule and the duplicates --------------------------------------------------------------
class ScheduleContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    today: str
    overdue: list[Line]
    due_soon: list[Line]
    follow_ups: list[FollowUpShown]


def schedule_context(principal: Principal, lang: str, due: list[Record], follow_ups: list[FollowUp],
                     today: dt.date) -> ScheduleContext:
    lines = [line_of(r, lang, today) for r in due]
    return ScheduleContext(lang=lang, viewer=viewer_of(principal), today=today.isoformat(),
                           overdue=[line for line in lines if line.overdue],
                           due_soon=[line for line in lines if not line.overdue],
                           follow_ups=[follow_up_of(f, lang, today) for f in follow_ups])


class DuplicateShown(msgspec.Struct, frozen=True, kw_only=True):
    reason: str
    programme: str
    members: list[Line]


class DuplicatesContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    groups: list[DuplicateShown]
    message: str = ""


REASONS = {"nik": ("NIK sama", "Same NIK"), "kk": ("No. KK sama dalam satu program", "Same family card in a programme")}


def duplicates_context(principal: Principal, lang: str, groups: list[DuplicateGroup], message: str = ""
                       ) -> DuplicatesContext:
    return DuplicatesContext(lang=lang, viewer=viewer_of(principal), message=message, groups=[
        DuplicateShown(reason=pick(REASONS[g.reason], lang), programme=g.programme,
                       members=[line_of(m, lang) for m in g.members]) for g in groups])
