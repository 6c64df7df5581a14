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
    conn = store.open_reader(url)
    try:
        say("data periode ini dan sebelumnya", 0.05)
        now, before = _facts(conn, definition, period, scope, include_all)
        say("indikator", 0.4)
        tables = indicators.tables(definition.indicators, now, before, area_name)
        flagged = indicators.attention(now, definition.attention.figures)
        shown = flagged[: definition.attention.limit]
        found = store.named(conn, [pid for pid, _ in shown])
        people = [
            Person(found[pid][0], found[pid][1], area_name(found[pid][2]), reason)
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


def tables_of(
    url: str, definition: Definition, period: periods.Period, scope: str, include_all: bool, keys: list[str]
) -> list[indicators.Table]:
    """The report's tables named by `keys` (in that order), made exactly as build() makes them: the
    home page shows these, so its numbers are the report's for the same period, scope and basis."""
    conn = store.open_reader(url)
    try:
        now, before = _facts(conn, definition, period, scope, include_all)
    finally:
        conn.close()
    specs = {spec.key: spec for spec in definition.indicators}
    return indicators.tables([specs[key] for key in keys if key in specs], now, before, area_name)


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

    def record(self, answers: dict[str, Any], row: tuple[Any, ...], visit: bool, location: str) -> indicators.Record:
        ticked = answers.get(CONFIRM_KEY)
        return indicators.Record(
            enumerator=str(row[3]),
            visit=visit,
            revision=int(row[4] or 1),
            photo=bool(row[5]),
            received_on=str(row[6] or "")[:10],
            location=str(answers.get(location) or "") if location else "",
            complete=all(answers.get(name) not in (None, "", []) for name in self.complete),
            id_confirmed=isinstance(ticked, list) and any(name in self.id_fields for name in ticked),
        )


def _facts(
    conn: Any, definition: Definition, period: periods.Period, scope: str, include_all: bool
) -> tuple[indicators.Facts, indicators.Facts]:
    """The period's Facts and the previous period's, from ONE scan of each table over both periods."""
    previous = period.previous()
    now, before = _new_facts(definition, period, scope), _new_facts(definition, previous, scope)
    last_before = previous.end.isoformat()
    forms, location = definition.forms, definition.records.location
    intake = _Answers(definition, "intake")
    for pid, area, sex, born, group, registered, baseline, months, flags, last_visit, answers in store.people(
        conn, definition.programme, scope, period.end, include_all
    ):
        decoded = _decode(baseline) if baseline else []
        own = intake.read(answers)
        figures = [*(decoded if isinstance(decoded, list) else []), *intake.figures_of(own)]
        home = str(own.get(definition.records.answers.get("intake", {}).get(location, ""), "") or "")
        person = (pid, area, sex, born, group, registered, figures, int(months or 0), str(flags or ""))
        now.add_person(*person, last_visit_on=str(last_visit or ""), home=home)
        if registered <= last_before:
            before.add_person(*person, last_visit_on=str(last_visit or ""), home=home)
    if forms.intake:
        for row in store.events(conn, forms.intake, previous.start, period.end, include_all):
            target = before if row[1] <= last_before else now
            target.add_record(row[0], intake.record(intake.read(row[7]), row, False, ""))
    if forms.visit:
        _visits(conn, definition, previous, period, include_all, now, before)
    _sent_back(conn, definition, scope, previous, period, now, before)
    for pid, area in store.open_duplicates(conn, definition.programme, scope):
        if str(pid) in now.people:  # a person the basis counts
            now.add_open_duplicate(str(area))
    if forms.growth:
        growth = _Answers(definition, "growth")
        for row in store.events(conn, forms.growth, previous.start, period.end, include_all):
            pid, day, summary = row[0], row[1], row[2]
            if pid in now.people:
                found = _decode(summary)
                target = before if day <= last_before else now
                target.add_record(pid, growth.record(growth.read(row[7]), row, False, ""))
                if isinstance(found.get("growth"), dict):
                    target.add_growth(pid, str(found.get("child") or ""), day, found["growth"])
    return now, before


def _sent_back(
    conn: Any,
    definition: Definition,
    scope: str,
    previous: periods.Period,
    period: periods.Period,
    now: indicators.Facts,
    before: indicators.Facts,
) -> None:
    """Records of the report's forms sent back for correction during each period (WITA days)."""
    forms = [f for f in (definition.forms.intake, definition.forms.visit, definition.forms.growth) if f]
    for facts, bounds in ((before, previous), (now, period)):
        since, until = clock.day_start(bounds.start), clock.day_start(bounds.end + dt.timedelta(days=1))
        for area, enumerator in store.sent_back(conn, definition.programme, forms, scope, since, until):
            facts.add_sent_back(str(area), str(enumerator))


def _visits(
    conn: Any,
    definition: Definition,
    previous: periods.Period,
    period: periods.Period,
    include_all: bool,
    now: indicators.Facts,
    before: indicators.Facts,
) -> None:
    form, last_before = definition.forms.visit, previous.end.isoformat()
    visit = _Answers(definition, "visit")
    location = visit.figures.get(definition.records.location, "")
    for row in store.events(conn, form, previous.start, period.end, include_all):
        pid, day, summary = row[0], row[1], row[2]
        if pid not in now.people:
            continue
        answers = visit.read(row[7])
        figures = [*(_decode(summary).get("figures") or []), *visit.figures_of(answers)]
        target = before if day <= last_before else now
        target.add_visit(pid, day, figures, str(row[3]))
        target.add_record(pid, visit.record(answers, row, True, location))
        if target is before:
            now.saw(pid, day)
    for pid, due, actions, closed in store.open_follow_ups(conn, form, previous.end, period.end, include_all):
        if due < period.end.isoformat() and (not closed or closed > period.end.isoformat()):
            now.add_overdue(pid, due, str(actions).split())
        if due < last_before and (not closed or closed > last_before):
            before.add_overdue(pid, due, str(actions).split())
    for pid, opened, actions in store.referrals(conn, form, previous.start, period.end, include_all):
        (before if opened <= last_before else now).add_referral(pid, opened, str(actions).split())
