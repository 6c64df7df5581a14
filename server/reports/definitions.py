"""Report definitions: reports/NAME.yaml names its forms, indicators (kinds registered in
domain/indicators.INDICATORS), period kind, scopes, template, stylesheet and sign-off block. A
definition is read and checked here once; a mistake is a report.bad_definition naming the file."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import msgspec

from server.domain import periods
from server.domain.indicators import INDICATORS, UNITS, Spec
from server.errors import PantauError

ROOT = Path(__file__).resolve().parents[2] / "reports"
TEMPLATES = ROOT / "templates"
ASSETS = ROOT / "assets"
KABUPATEN = "64.02"  # Kutai Kartanegara: the widest scope a report has
SCOPE_LEVELS = ("kabupaten", "kecamatan")
FORM_KINDS = ("intake", "visit", "growth")
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_SCOPE = re.compile(r"^64\.02(\.\d{2})?$")


class Forms(msgspec.Struct, frozen=True, kw_only=True):
    intake: str = ""
    visit: str = ""
    growth: str = ""


class Signer(msgspec.Struct, frozen=True, kw_only=True):
    heading: str = ""
    title: str
    name: str
    rank: str = ""
    nip: str = ""


class Attention(msgspec.Struct, frozen=True, kw_only=True):
    limit: int = 40
    figures: dict[str, list[str]] = {}


class Records(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the report reads from the records' own answers, per form (intake, visit, growth), beyond
    the registry's key figures: nothing about a form's field names is written into code."""

    answers: dict[str, dict[str, str]] = {}  # form -> {figure: answer}, merged into its figures
    location: str = ""  # the figure holding a GPS point: home on the intake, where the visit was
    complete: dict[str, list[str]] = {}  # form -> the answers a complete record fills
    id_fields: list[str] = []  # answers whose confirmed warning is a NIK/KK warning (_konfirmasi)
    accuracy_m: float = 50.0  # GPS at this accuracy or better counts as good
    distance_km: float = 2.0  # a visit farther than this from the registered point is flagged


class Definition(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: str
    title: str
    subtitle: str = ""
    period: str
    scopes: list[str] = msgspec.field(default_factory=lambda: ["kabupaten", "kecamatan"])
    programme: str
    forms: Forms
    template: str
    stylesheet: str
    organisation: dict[str, str] = {}
    signoff: list[Signer] = []
    indicators: list[Spec]
    attention: Attention = msgspec.field(default_factory=Attention)
    photos: int = 8
    wide_columns: int = 6  # a table with more columns than this is printed on landscape pages
    records: Records = msgspec.field(default_factory=Records)
    text: dict[str, str | list[str]] = {}
    # The indicators the home page (/) shows every day, in this order: the same tables as the
    # report's, for the same period, scope and basis.
    home: list[str] = []
    # The indicators whose main figure the home page draws over the last periods (a trend chart each).
    trend: list[str] = []


def names(root: Path = ROOT) -> list[str]:
    return sorted(p.stem for p in root.glob("*.yaml"))


def load(name: str, root: Path = ROOT) -> Definition:
    """reports/NAME.yaml, checked; report.unknown when there is no such report."""
    if not _NAME.match(name) or not (root / f"{name}.yaml").is_file():
        raise PantauError("report.unknown", name=name)
    path = root / f"{name}.yaml"
    try:
        found = msgspec.yaml.decode(path.read_bytes(), type=Definition)
    except msgspec.DecodeError as exc:  # YAML syntax, a missing key, a wrong type, an unknown key
        raise PantauError("report.bad_definition", file=str(path.name), detail=str(exc)) from None
    problems = [f"indicator {s.key}: unknown kind {s.kind!r}" for s in found.indicators if s.kind not in INDICATORS]
    if found.period not in periods.KINDS:
        problems.append(f"period: {found.period!r} is not one of {', '.join(periods.KINDS)}")
    problems += [f"{f}: missing" for f in (found.template, found.stylesheet) if not (TEMPLATES / f).is_file()]
    problems += [f"scopes: {s!r} is not kabupaten or kecamatan" for s in found.scopes if s not in SCOPE_LEVELS]
    problems += [
        f"records: {k!r} is not intake, visit or growth"
        for k in (*found.records.answers, *found.records.complete)
        if k not in FORM_KINDS
    ]
    problems += [p for spec in found.indicators for p in _target_problems(spec)]
    keys = {spec.key for spec in found.indicators}
    problems += [f"home: {key!r} is not one of the indicators" for key in found.home if key not in keys]
    problems += [f"trend: {key!r} is not one of the indicators" for key in found.trend if key not in keys]
    if found.name != name:
        problems.append(f"name: {found.name!r} differs from the file name")
    if problems:
        raise PantauError("report.bad_definition", file=path.name, detail="; ".join(problems))
    return found


def _target_problems(spec: Spec) -> list[str]:
    """A target is in the unit of the indicator's main figure: a percentage (0-100) for shares, a
    count, or rupiah; a recommendation is what to do when the target is missed, so it needs one."""
    where = f"indicator {spec.key}"
    problems = []
    if spec.better not in ("higher", "lower"):
        problems.append(f"{where}: better: {spec.better!r} is not higher or lower")
    if spec.target is None:
        if spec.recommendation:
            problems.append(f"{where}: a recommendation needs a target")
        return problems
    unit = UNITS.get(spec.kind, "")
    if unit == "percent" and not 0 <= spec.target <= 100:
        problems.append(f"{where}: target {spec.target:g} is a percentage, from 0 to 100")
    if unit == "count" and spec.target < 0:
        problems.append(f"{where}: target {spec.target:g} is a count, not below 0")
    return problems


def period_for(definition: Definition, text: str) -> periods.Period:
    try:
        period = periods.parse(text)
    except periods.BadPeriod:
        raise PantauError("report.bad_period", period=text[:20]) from None
    if period.kind != definition.period:
        raise PantauError("report.wrong_period", period=period.code, name=definition.name, kind=definition.period)
    return period


def require_started(period: periods.Period, today: dt.date) -> None:
    """A report of a period that has not begun would be a report of nothing, signed as if it were
    data: refused. A period under way may be made, but only as a provisional edition."""
    if today < period.start:
        raise PantauError("report.not_started", period=period.code, start=period.start.isoformat())


def scope_for(definition: Definition, text: str) -> str:
    """'64.02' (the kabupaten) or one of its kecamatan ('64.02.06'), as the definition allows."""
    from server.domain.registry import area_name

    scope = text.strip()
    level = "kabupaten" if scope == KABUPATEN else "kecamatan"
    if not _SCOPE.match(scope) or level not in definition.scopes or area_name(scope) == scope:
        raise PantauError("report.bad_scope", scope=scope[:20])
    return scope
