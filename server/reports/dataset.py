"""A report's data: the period's rows streamed from storage into domain/indicators.Facts (for the
period and the one before it), then the definition's indicators as tables, the people who need
attention (masked NIK only) and a bounded set of photos. The result is small whatever the number of
submissions: counters per area and the latest visit per person, never the rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec

from server import clock
from server.domain import basis, indicators, periods
from server.domain.regions import region_choices
from server.domain.registry import area_name, kecamatan_of
from server.domain.review import CONFIRM_KEY
from server.reports.definitions import KABUPATEN, Definition
from server.storage import reports as store
from server.storage.sql import open_reader

Progress = Callable[[str, float], None]
_decode = msgspec.json.Decoder().decode


class Person(msgspec.Struct, frozen=True):
    name: str
    nik: str  # masked (domain/nik.mask): 64**************
    area: str
    reason: str


class Dataset(msgspec.Struct, frozen=True, kw_only=True):
    definition: Definition
    period: periods.Period
    scope: str
    scope_name: str
    include_all: bool
    basis: str  # the counting basis in words (cover, approval sheet)
    basis_note: str  # the same as a table footnote
    made_on: dt.date
    tables: list[indicators.Table]
    attention: list[Person]
    attention_total: int
    photos: list[str]  # sha256 of stored photos
    visits: int
    active: int = 0  # active beneficiaries in scope at the period's end: none makes the short report
    records: int = 0  # records of the report's forms in the period
    # Read from PostgreSQL's hot standby (storage/replica.py): the last transaction it had replayed, in
    # WITA ("YYYY-MM-DD HH:MM"); "" when read from the primary, which has everything.
    data_time: str = ""


def build(
    url: str,
    definition: Definition,
    period: periods.Period,
    scope: str,
    include_all: bool,
    made_on: dt.date,
    progress: Progress | None = None,
    data_time: str = "",
) -> Dataset:
    say = progress or (lambda _step, _done: None)
    conn = open_reader(url)
    try:
        say("data periode ini dan sebelumnya", 0.05)
        now, before = _facts(conn, definition, period, scope, include_all)
        say("indikator", 0.4)
        tables = indicators.tables(definition.indicators, now, before, area_name)
        flagged = indicators.attention(now, definition.attention.figures)
        shown = flagged[: definition.attention.limit]
        found = store.named(conn, [pid for pid, _ in shown])
        people = [
            Person(found[pid].name, found[pid].nik_masked, area_name(found[pid].area_code), reason)
            for pid, reason in shown
            if pid in found
        ]
        photos = (
            store.photos_of(
                conn, definition.forms.visit, [pid for pid, _ in shown], period.start, period.end, definition.photos
            )
            if definition.forms.visit
            else []
        )
    finally:
        conn.close()
    return Dataset(
        definition=definition,
        period=period,
        scope=scope,
        scope_name=scope_title(scope),
        include_all=include_all,
        basis=basis.label(include_all),
        basis_note=basis.footnote(include_all),
        made_on=made_on,
        tables=tables,
        attention=people,
        attention_total=len(flagged),
        photos=photos,
        visits=sum(now.visits.values()),
        active=sum(now.active.values()),
        records=sum(n for (_, name), n in now.quality.items() if name == "records"),
        data_time=data_time,
    )


class Trend(msgspec.Struct, frozen=True, kw_only=True):
    """One indicator's main figure over consecutive periods, oldest first: each point is the figure
    that indicator's table has in that period's report (its headline), labelled with the period."""

    key: str
    title: str  # the table's subject ("penerima dikunjungi"), what the chart draws
    unit: str
    periods: list[str]  # the periods' codes, in the order of `points`
    points: list[indicators.Measure]


def home_of(
    url: str, definition: Definition, period: periods.Period, scope: str, include_all: bool, count: int
) -> tuple[list[indicators.Table], list[Trend]]:
    """The report's tables the home page lists (`definition.home`, in that order) for `period`, made
    exactly as build() makes them, and the trend of each `definition.trend` indicator over the
    `count` periods ending with it: one pass over the data for all of them, each period's Facts
    filled as its own report fills them, so every figure is that report's."""
    spans = [period]
    while len(spans) < count:
        spans.insert(0, spans[0].previous())
    conn = open_reader(url)
    try:
        *own, before = _pass(conn, definition, [*((p, True) for p in spans), (period.previous(), False)],
                             scope, include_all)
    finally:
        conn.close()
    specs = {spec.key: spec for spec in definition.indicators}
    tables = indicators.tables([specs[key] for key in definition.home if key in specs], own[-1], before, area_name)
    wanted = [specs[key] for key in definition.trend if key in specs]
    found = [indicators.tables(wanted, facts, None, area_name) for facts in own]
    trends = []
    for n, spec in enumerate(wanted):
        series = [made[n] for made in found]
        points = [
            indicators.Measure(label=p.short_title(), value=t.headline_value, base=t.overall.base if t.overall else 0,
                               text=t.headline)
            for p, t in zip(spans, series, strict=True)
        ]
        trends.append(Trend(key=spec.key, title=series[-1].subject, unit=series[-1].unit,
                            periods=[p.code for p in spans], points=points))
    return tables, trends


def scope_title(scope: str) -> str:
    return "Kabupaten Kutai Kartanegara" if scope == KABUPATEN else f"Kecamatan {area_name(scope)}"


def _areas(spec: str) -> list[str]:
    return [c.name for c in region_choices(spec)]


def _new_facts(definition: Definition, period: periods.Period, scope: str) -> indicators.Facts:
    # A row per kecamatan for the kabupaten, per desa inside one kecamatan, each with a total.
    gps = definition.records
    group_of: Callable[[str], str]
    if scope == KABUPATEN:
        areas, group_of, total, level = _areas(f"kecamatan {scope}"), kecamatan_of, "Kukar", "kecamatan"
    else:
        areas, group_of, total, level = _areas(f"desa {scope}"), str, f"Kec. {area_name(scope)}", "desa/kelurahan"
    return indicators.Facts(
        period.start,
        period.end,
        group_of,
        areas,
        total,
        level=level,
        accuracy_m=gps.accuracy_m,
        distance_km=gps.distance_km,
    )


class _Answers:
    """Reads the few answers a report wants from a record's answers JSON (msgspec skips the rest
    without building it): the definition's figures, its completeness list and the ticked warnings."""

    def __init__(self, definition: Definition, kind: str) -> None:
        records = definition.records
        self.figures = records.answers.get(kind, {})
        self.complete = records.complete.get(kind, [])
        self.id_fields = set(records.id_fields)
        wanted = sorted({*self.figures.values(), *self.complete, CONFIRM_KEY})
        # Field names become struct attributes under a safe name: an answer may start with "_".
        self.names = {name: f"a{n}" for n, name in enumerate(wanted)}
        struct = msgspec.defstruct(
            f"Answers_{kind}",
            [(attr, Any, None) for attr in self.names.values()],
            rename={a: n for n, a in self.names.items()},
        )
        self.decoder = msgspec.json.Decoder(struct)

    def read(self, text: str | None) -> dict[str, Any]:
        if not text:
            return {}
        try:
            found = self.decoder.decode(text)
        except msgspec.DecodeError:  # not an object: nothing to read
            return {}
        return {name: getattr(found, attr) for name, attr in self.names.items()}

    def figures_of(self, answers: dict[str, Any]) -> list[dict[str, Any]]:
        return [{"key": key, "value": answers.get(name)} for key, name in self.figures.items()]

    def record(self, answers: dict[str, Any], row: store.EventRow, visit: bool, location: str) -> indicators.Record:
        ticked = answers.get(CONFIRM_KEY)
        return indicators.Record(
            enumerator=str(row.enumerator),
            visit=visit,
            revision=int(row.revision or 1),
            photo=bool(row.photo),
            received_on=str(row.received_at or "")[:10],
            location=str(answers.get(location) or "") if location else "",
            complete=all(answers.get(name) not in (None, "", []) for name in self.complete),
            id_confirmed=isinstance(ticked, list) and any(name in self.id_fields for name in ticked),
        )


def _facts(
    conn: Any, definition: Definition, period: periods.Period, scope: str, include_all: bool
) -> tuple[indicators.Facts, indicators.Facts]:
    """The period's Facts and the previous period's, from ONE scan of each table over both periods."""
    before, now = _pass(conn, definition, [(period.previous(), False), (period, True)], scope, include_all)
    return now, before


class _Slot:
    """One period's Facts in a pass, filled as a report fills it: as the report's own period (`own`:
    it also sees the last visits of the period before and counts the open duplicate pairs) or as
    the period before a report's (its own rows only, for the change column)."""

    def __init__(self, facts: indicators.Facts, period: periods.Period, own: bool) -> None:
        self.facts, self.own = facts, own
        self.start, self.end = period.start.isoformat(), period.end.isoformat()
        self.seen_from = period.previous().start.isoformat() if own else self.start

    def holds(self, day: str) -> bool:
        return self.start <= day <= self.end


def _pass(
    conn: Any, definition: Definition, wanted: list[tuple[periods.Period, bool]], scope: str, include_all: bool
) -> list[indicators.Facts]:
    """Facts for each (period, own) of `wanted` (their order kept) from ONE scan of each table over
    all of them: each row goes to the periods that hold its day, so the Facts of a period are the
    ones its own report fills, however many periods share the pass."""
    slots = [_Slot(_new_facts(definition, p, scope), p, own) for p, own in wanted]
    first = dt.date.fromisoformat(min(s.seen_from for s in slots))
    last = dt.date.fromisoformat(max(s.end for s in slots))
    widest = next(s.facts for s in slots if s.end == last.isoformat())  # everyone any slot counts
    forms, location = definition.forms, definition.records.location
    intake = _Answers(definition, "intake")
    for row in store.people(conn, definition.programme, scope, last, include_all):
        decoded = _decode(row.baseline) if row.baseline else []
        own = intake.read(row.answers)
        figures = [*(decoded if isinstance(decoded, list) else []), *intake.figures_of(own)]
        home = str(own.get(definition.records.answers.get("intake", {}).get(location, ""), "") or "")
        person = (row.id, row.area_code, row.sex, row.birth_date, row.target_group, row.registered_on, figures,
                  int(row.visit_months or 0), str(row.flags or ""))
        for slot in slots:
            if row.registered_on <= slot.end:
                slot.facts.add_person(*person, last_visit_on=str(row.last_visit_on or ""), home=home)
    if forms.intake:
        for event in store.events(conn, forms.intake, first, last, include_all):
            for slot in slots:
                if slot.holds(event.happened_on):
                    record = intake.record(intake.read(event.answers), event, False, "")
                    slot.facts.add_record(event.beneficiary, record)
    if forms.visit:
        _visits(conn, definition, slots, widest, first, last, include_all)
    for slot in slots:
        _sent_back(conn, definition, scope, slot, slot.facts)
    for pair in store.open_duplicates(conn, definition.programme, scope):
        for slot in slots:
            if slot.own and pair.first_id in slot.facts.people:  # a person the basis counts
                slot.facts.add_open_duplicate(pair.area_code)
    if forms.growth:
        growth = _Answers(definition, "growth")
        for event in store.events(conn, forms.growth, first, last, include_all):
            pid, day = event.beneficiary, event.happened_on
            if pid in widest.people:
                found = _decode(event.summary)
                for slot in (s for s in slots if s.holds(day)):
                    slot.facts.add_record(pid, growth.record(growth.read(event.answers), event, False, ""))
                    if isinstance(found.get("growth"), dict):
                        slot.facts.add_growth(pid, str(found.get("child") or ""), day, found["growth"])
    return [slot.facts for slot in slots]


def _sent_back(conn: Any, definition: Definition, scope: str, slot: _Slot, facts: indicators.Facts) -> None:
    """Records of the report's forms sent back for correction during the slot's period (WITA days)."""
    forms = [f for f in (definition.forms.intake, definition.forms.visit, definition.forms.growth) if f]
    start, end = dt.date.fromisoformat(slot.start), dt.date.fromisoformat(slot.end)
    since, until = clock.day_start(start), clock.day_start(end + dt.timedelta(days=1))
    for sent in store.sent_back(conn, definition.programme, forms, scope, since, until):
        facts.add_sent_back(sent.area_code, sent.enumerator)


def _visits(
    conn: Any,
    definition: Definition,
    slots: list[_Slot],
    widest: indicators.Facts,
    first: dt.date,
    last: dt.date,
    include_all: bool,
) -> None:
    form = definition.forms.visit
    visit = _Answers(definition, "visit")
    location = visit.figures.get(definition.records.location, "")
    for event in store.events(conn, form, first, last, include_all):
        pid, day = event.beneficiary, event.happened_on
        if pid not in widest.people:
            continue
        answers = visit.read(event.answers)
        figures = [*(_decode(event.summary).get("figures") or []), *visit.figures_of(answers)]
        for slot in slots:
            if slot.holds(day):
                slot.facts.add_visit(pid, day, figures, event.enumerator)
                slot.facts.add_record(pid, visit.record(answers, event, True, location))
            elif slot.own and slot.seen_from <= day < slot.start:
                slot.facts.saw(pid, day)  # the last visit before the period, for days since a visit
    # A follow-up was overdue at a period's end when it was opened by then, due before then and not
    # closed by then.
    since = min(dt.date.fromisoformat(s.end) for s in slots)
    for due in store.open_follow_ups(conn, form, since, last, include_all):
        closed = due.closed_on
        for slot in slots:
            if due.due_on < slot.end and due.opened_on <= slot.end and (not closed or closed > slot.end):
                slot.facts.add_overdue(due.beneficiary, due.due_on, str(due.actions).split())
    for referral in store.referrals(conn, form, first, last, include_all):
        for slot in slots:
            if slot.holds(referral.opened_on):
                slot.facts.add_referral(referral.beneficiary, referral.opened_on, str(referral.actions).split())
