"""Typed contexts of the review pages (STYLE.md 8): the submissions list, one submission, and the
personal API tokens page. Builders turn storage values into exactly what the templates show (labels
in the chosen language, NIK masked, times in WITA) and are testable without HTTP."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

import msgspec
from lokal.wilayah import wilayah_name

from server.clock import WITA
from server.domain import exports as layout_rules
from server.domain import review as rules
from server.domain.access import Principal, has, may
from server.domain.answers import validate
from server.domain.form import Group, Question, Repeat, text_of
from server.domain.nik import format_rupiah
from server.domain.questions import UPLOAD_TYPES
from server.domain.report_format import long_date
from server.storage.forms import FormTitle, Version
from server.storage.review import Detail, ListRow, Person
from server.storage.tokens import Token
from server.web.viewer import Viewer, viewer_of


class Option(msgspec.Struct, frozen=True):
    value: str
    label: str
    selected: bool = False


def when(value: dt.datetime | None) -> str:
    """'6 Desember 2026 10.05 WITA': the day as Indonesians write it, the time with a dot."""
    if not value:
        return ""
    local = value.astimezone(WITA)
    return f"{long_date(local.date())} {local:%H.%M} WITA"


def _day(value: str) -> str:
    """A date answer as '6 Desember 2026' (left as it is when it is not a date)."""
    try:
        return long_date(dt.date.fromisoformat(value))
    except ValueError:
        return value


def area_label(code: str) -> str:
    if not code:
        return "-"
    try:
        name = wilayah_name(code)
    except (ValueError, KeyError):
        name = None
    return f"{name} ({code})" if name else code


def flag_labels(flags: tuple[str, ...], lang: str) -> list[str]:
    return [(rules.FLAGS[f][1] if lang == "en" else rules.FLAGS[f][0]) if f in rules.FLAGS else f for f in flags]


# --- the submissions list ----------------------------------------------------------------------------------
class DataRow(msgspec.Struct, frozen=True):
    instance_id: str
    received: str
    form: str
    version: str
    area: str
    enumerator: str
    status: str
    status_label: str
    name: str
    nik: str  # the beneficiary's, masked; "" when the record is about nobody in the registry
    flags: list[str]
    cells: list[str]


class DataContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    forms: list[Option]
    versions: list[Option]
    statuses: list[Option]
    flags: list[Option]
    columns: list[Option]  # the chosen form's fields, merged over its versions
    headers: list[str]
    rows: list[DataRow]
    form: str
    area: str
    enumerator: str
    since: str
    until: str
    q: str
    next_url: str
    export_query: str  # the current filters, for the export links
    can_export: bool
    list_query: str = ""  # the list's own query: a record opened from it knows its "next"


DEFAULT_COLUMNS = 4


def data_context(*, principal: Principal, lang: str, params: dict[str, list[str]], forms: list[FormTitle],
                 versions: list[Version], filters: rules.Filters, rows: list[ListRow], chosen: list[str],
                 next_cursor: str | None) -> DataContext:
    titles = {f.form_id: f.title(lang) for f in forms}
    layout = layout_rules.merge([(v.version, v.compiled) for v in versions]) if versions else None
    columns = list(layout.tables[0].columns) if layout else []
    shown = [c for c in columns if c.name in chosen]
    query = {k: v for k, v in params.items() if k != "cursor"}
    return DataContext(
        lang=lang, viewer=viewer_of(principal),
        forms=[Option(f.form_id, titles[f.form_id], f.form_id == filters.form_id) for f in forms],
        versions=[Option(v.version, v.version, v.version == filters.version) for v in reversed(versions)],
        statuses=[Option(code, rules.status_label(code, lang), code in filters.statuses) for code in rules.STATUSES],
        flags=[Option(code, flag_labels((code,), lang)[0], code in filters.flags) for code in rules.FLAGS],
        columns=[Option(c.name, text_of(c.label, lang, c.name) + (" †" if c.removed else ""),
                        c.name in chosen) for c in columns],
        headers=[text_of(c.label, lang, c.name) for c in shown],
        rows=_data_rows(rows, titles, shown, layout, lang),
        form=filters.form_id, area=filters.area, enumerator=filters.enumerator,
        since=filters.since.isoformat() if filters.since else "",
        until=filters.until.isoformat() if filters.until else "", q=_single(params, "q"),
        next_url="/data?" + urlencode({**query, "cursor": [next_cursor]}, doseq=True) if next_cursor else "",
        export_query=export_query(query),
        can_export=bool(filters.form_id) and has(principal, "review"))


def export_query(query: dict[str, list[str]]) -> str:
    """The page's filters for its export links: the export gives the records the page shows. The page
    shows every status unless some are chosen, the export only approved ones: so "all" is said."""
    wanted = {k: v for k, v in query.items() if k not in ("cols", "lang")}
    if not [s for s in wanted.get("status", []) if s]:
        wanted["status"] = [rules.ALL]
    return urlencode(wanted, doseq=True)


def _data_rows(rows: list[ListRow], titles: dict[str, str], shown: list[layout_rules.Column],
               layout: layout_rules.Layout | None, lang: str) -> list[DataRow]:
    options = layout_rules.Options(values="labels", lang=lang, mask_ids=True)  # lists always mask NIK
    renders = [layout_rules.renderer(c, layout, options) for c in shown] if layout else []
    return [DataRow(
        instance_id=r.instance_id, received=when(r.received_at), form=titles.get(r.form_id, r.form_id),
        version=r.form_version, area=area_label(r.area_code), enumerator=r.enumerator_name or r.enumerator,
        status=r.review_status, status_label=rules.status_label(r.review_status, lang),
        name=r.name or (r.person.name if r.person else ""), nik=masked_nik(r.person),
        flags=flag_labels(r.flags, lang),
        cells=[_cell(r.answers.get(c.name), render) for c, render in zip(shown, renders, strict=True)])
        for r in rows]


def masked_nik(person: Person | None) -> str:
    # The registry stores the NIK masked already; masking again applies the one mask rule of the
    # house, so a list never shows more than domain/review.py allows.
    return rules.mask_id(person.nik_masked) if person is not None and person.nik_masked else ""


def person_label(person: Person | None) -> str:
    """"Siti Aminah (640206********01)": whom a visit or growth check is about."""
    if person is None:
        return ""
    nik = masked_nik(person)
    return f"{person.name} ({nik})" if nik else person.name


def default_columns(versions: list[Version]) -> list[str]:
    """The first few answers of the newest version, when nobody chose columns yet."""
    if not versions:
        return []
    fields = layout_rules.in_order(versions[-1].compiled)
    return [f.name for f in fields if not f.repeat and f.type not in layout_rules.NO_COLUMN_TYPES
            and f.type not in ("image", "calculate")][:DEFAULT_COLUMNS]


def _cell(value: Any, render: Any) -> str:
    cell = render(value) if render is not None else value
    flat = layout_rules.flat(cell, "labels")
    return "" if flat is None else str(flat)


def _single(params: dict[str, list[str]], name: str) -> str:
    values = params.get(name) or [""]
    return values[0]


# --- one submission ---------------------------------------------------------------------------------------
class AnswerItem(msgspec.Struct, frozen=True, kw_only=True):
    depth: int
    kind: str  # "section" (a group or repeat heading) or "answer"
    label: str
    text: str = ""
    photo: str = ""  # sha256, shown through /api/v1/attachments/<sha256>
    upload: str = ""  # sha256 of an audio, video or file answer, linked through the same route
    upload_kind: str = ""  # audio, video or file: the first two get a player
    map_url: str = ""


class Notice(msgspec.Struct, frozen=True):
    field: str
    message: str
    confirmed: bool


class ChangeItem(msgspec.Struct, frozen=True):
    field: str
    before: str
    after: str


class RevisionItem(msgspec.Struct, frozen=True):
    revision: int
    received: str
    sent_by: str
    changes: list[ChangeItem]


class EventItem(msgspec.Struct, frozen=True):
    at: str
    actor: str
    change: str
    comment: str


class SubmissionContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    instance_id: str
    form: str
    form_id: str
    version: str
    revision: int
    status: str
    status_label: str
    area: str
    enumerator: str
    received: str
    flags: list[str]
    person: str  # whom the record registers or is about: name and masked NIK
    person_id: str
    answers: list[AnswerItem]
    notices: list[Notice]
    history: list[RevisionItem]
    events: list[EventItem]
    decisions: list[Option]  # where a reviewer may move it now; empty when they may not review
    comment_required: list[str]
    can_reveal: bool
    revealed: bool
    message: str = ""
    error: str = ""
    error_code: str = ""  # the catalogue code, on the alert as data-code
    # The list this record was opened from (its filters as a query) and the record after it there.
    list_query: str = ""
    next_href: str = ""


def submission_context(*, principal: Principal, lang: str, detail: Detail, versions: dict[int, Any], title: str,
                       revealed: bool, sealed: dict[str, str], message: str = "",
                       error: str = "", error_code: str = "") -> SubmissionContext:
    """`sealed`: the record's whole NIK/KK by path, to check its warnings and, when `revealed`, to show."""
    compiled = versions[detail.form_version_pk]
    whole = rules.unmask(detail.answers, sealed)
    person = person_label(detail.person)
    shows = _Shows(lang, mask=not revealed, people={detail.person.id: person} if detail.person else {})
    decisions = sorted(rules.TRANSITIONS.get(detail.review_status, frozenset())) \
        if may(principal, "review", detail.area_code) else []
    return SubmissionContext(
        lang=lang, viewer=viewer_of(principal), instance_id=detail.instance_id, form=title, form_id=detail.form_id,
        version=detail.form_version, revision=detail.revision, status=detail.review_status,
        status_label=rules.status_label(detail.review_status, lang), area=area_label(detail.area_code),
        enumerator=detail.enumerator, received=when(detail.received_at), flags=flag_labels(detail.flags, lang),
        person=person, person_id=detail.person.id if detail.person else "",
        answers=shows.items(compiled, compiled.definition.fields, whole if revealed else detail.answers, 0),
        notices=_notices(compiled, detail, whole, lang), history=_history(detail, versions, shows),
        events=[EventItem(when(e.at), e.actor, f"{rules.status_label(e.from_status, lang)} → "
                          f"{rules.status_label(e.to_status, lang)}", e.comment) for e in detail.events],
        decisions=[Option(d, rules.status_label(d, lang)) for d in decisions],
        comment_required=sorted(rules.COMMENT_REQUIRED), can_reveal=has(principal, "reveal_nik") and not revealed,
        revealed=revealed, message=message, error=error, error_code=error_code)


class _Shows:
    """How one answer reads on the page, in one language, NIK masked or not."""

    def __init__(self, lang: str, mask: bool, people: dict[str, str] | None = None) -> None:
        self.lang = lang
        self.mask = mask
        self.people = people or {}  # beneficiary id -> "name (masked NIK)": a reference reads as a person

    def label(self, compiled: Any, name: str) -> str:
        info = compiled.fields.get(name)
        return text_of(info.label, self.lang, name) if info else name

    def text(self, compiled: Any, name: str, value: Any) -> str:
        info = compiled.fields.get(name)
        kind = info.type if info else ""
        if value is None or value == "" or value == []:
            return ""
        if kind in rules.ID_TYPES and self.mask:
            return rules.mask_id(value)
        if kind == "beneficiary" and str(value) in self.people:
            return self.people[str(value)]
        if kind == "rupiah" and isinstance(value, int):
            return format_rupiah(value)
        if kind == "date" and isinstance(value, str):
            return _day(value)
        if info is not None and info.choices in compiled.definition.choices:
            names = {c.name: text_of(c.label, self.lang, c.name)
                     for c in compiled.definition.choices[info.choices].choices}
            items = value if isinstance(value, list) else [value]
            return "; ".join(names.get(str(v), str(v)) for v in items)
        flat = layout_rules.flat(value, "labels")
        return "" if flat is None else str(flat)

    def items(self, compiled: Any, fields: list[Any], values: dict[str, Any], depth: int) -> list[AnswerItem]:
        out: list[AnswerItem] = []
        for field in fields:
            label = text_of(field.label, self.lang, field.name)
            if isinstance(field, Group) and not field.label:
                # A group only for skip logic (monev_uep's hasil): its name is no heading for people.
                out += self.items(compiled, field.fields, values, depth)
            elif isinstance(field, Group):
                inner = self.items(compiled, field.fields, values, depth + 1)
                out += [AnswerItem(depth=depth, kind="section", label=label), *inner] if inner else []
            elif isinstance(field, Repeat):
                instances = values.get(field.name)
                for index, instance in enumerate(instances if isinstance(instances, list) else [], 1):
                    if isinstance(instance, dict):
                        out.append(AnswerItem(depth=depth, kind="section", label=f"{label} {index}"))
                        out += self.items(compiled, field.fields, instance, depth + 1)
            elif isinstance(field, Question) and field.type != "note":
                answer = self.answer(compiled, field, values.get(field.name), label, depth)
                if answer is not None:
                    out.append(answer)
        return out

    def answer(self, compiled: Any, field: Question, value: Any, label: str, depth: int) -> AnswerItem | None:
        text = self.text(compiled, field.name, value)
        if not text:
            return None
        if field.type == "image" and _is_sha256(value):
            return AnswerItem(depth=depth, kind="answer", label=label, text=text, photo=str(value))
        if field.type in UPLOAD_TYPES and _is_sha256(value):
            return AnswerItem(depth=depth, kind="answer", label=label, text=text, upload=str(value),
                              upload_kind=field.type)
        if field.type == "geopoint":
            return AnswerItem(depth=depth, kind="answer", label=label, text=text, map_url=map_url(str(value)))
        return AnswerItem(depth=depth, kind="answer", label=label, text=text)


def _is_sha256(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def map_url(geopoint: str) -> str:
    """OpenStreetMap at the point: a plain link, so the page itself loads nothing from outside."""
    parts = geopoint.split()
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except (IndexError, ValueError):
        return ""
    return f"https://www.openstreetmap.org/?mlat={lat:.6f}&mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"


def _notices(compiled: Any, detail: Detail, whole: dict[str, Any], lang: str) -> list[Notice]:
    """The warnings the rules give for these answers as of the day they arrived (NIK structure, sex
    or birth date differing from the answers, ...), and whether the enumerator ticked each one."""
    received = detail.received_at
    result = validate(compiled, whole, today=received.astimezone(WITA).date(), now=received)
    shows = _Shows(lang, mask=True)
    return [Notice(shows.label(compiled, w.path.rsplit("/", 1)[-1].split("[")[0]) + f" ({w.path})",
                   w.message_en if lang == "en" else w.message_id, w.confirmed) for w in result.warnings]


def _history(detail: Detail, versions: dict[int, Any], shows: _Shows) -> list[RevisionItem]:
    """Newest first: each revision with what changed from the one before (the first, with nothing)."""
    first = detail.revisions[0]
    out = [RevisionItem(first.revision, when(first.received_at), first.sent_by, [])]
    for before, after in zip(detail.revisions, detail.revisions[1:], strict=False):
        compiled = versions[after.form_version_pk]
        changes = [ChangeItem(shows.label(compiled, c.name) + (f" ({c.path})" if "/" in c.path else ""),
                              shows.text(compiled, c.name, c.before), shows.text(compiled, c.name, c.after))
                   for c in rules.diff(before.answers, after.answers)]
        out.append(RevisionItem(after.revision, when(after.received_at), after.sent_by, changes))
    return list(reversed(out))


# --- personal API tokens -------------------------------------------------------------------------------------
class TokenRow(msgspec.Struct, frozen=True):
    id: int
    name: str
    prefix: str
    created: str
    last_used: str
    active: bool


class TokensContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    viewer: Viewer
    tokens: list[TokenRow]
    new_token: str = ""  # shown once, right after it is made
    message: str = ""
    error: str = ""


def tokens_context(*, principal: Principal, lang: str, tokens: list[Token], new_token: str = "", message: str = "",
                   error: str = "") -> TokensContext:
    rows = [TokenRow(t.id, t.name, t.prefix, when(t.created_at), when(t.last_used_at), t.active) for t in tokens]
    return TokensContext(lang=lang, viewer=viewer_of(principal), tokens=rows, new_token=new_token, message=message,
                         error=error)
