"""BAB V of a report written from its numbers: for each indicator one paragraph of whole Indonesian
sentences giving the figure, how it stands against the target of the report definition (`target`,
`better`), how it moved since the previous period, and which area lies furthest from the target;
then one recommendation per shortfall, taken from the definition's `recommendation` text. Pure
functions of the tables, so the sentences can never quote a number the tables do not show."""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from server.domain.indicators import Measure, Spec, Table
from server.domain.report_format import decimal, number, rupiah

FALLBACK = (
    "Koordinator menelaah penyebabnya bersama petugas di wilayah tersebut dan menetapkan langkah "
    "perbaikan yang dipantau pada periode berikutnya."
)


class Context(msgspec.Struct, frozen=True, kw_only=True):
    period: str  # "Triwulan I Tahun 2026"
    previous: str  # "Triwulan IV Tahun 2025"
    numbers: dict[str, str] = {}  # table key -> "3.4", for the tables printed in BAB III


class Conclusions(msgspec.Struct, frozen=True, kw_only=True):
    summary: str  # how many targeted indicators met their target
    paragraphs: list[str]  # one per indicator, in the order of the tables
    recommendations: list[str]  # one per indicator that missed its target


def conclude(tables: Iterable[Table], specs: Iterable[Spec], context: Context) -> Conclusions:
    by_key = {spec.key: spec for spec in specs}
    paragraphs, recommendations, met, judged = [], [], 0, 0
    for table in tables:
        spec = by_key[table.key]
        paragraphs.append(" ".join(_sentences(table, spec, context)))
        verdict = _verdict(table, spec)
        if verdict is None:
            continue
        judged += 1
        met += verdict
        if not verdict:
            recommendations.append(_recommendation(table, spec))
    return Conclusions(summary=_summary(judged, met), paragraphs=paragraphs, recommendations=recommendations)


def _summary(judged: int, met: int) -> str:
    if not judged:
        return "Tidak ada indikator bertarget yang dapat dinilai pada periode ini."
    if met == judged:
        return f"Semua {number(judged)} indikator bertarget yang dapat dinilai memenuhi targetnya."
    return (
        f"Dari {number(judged)} indikator bertarget yang dapat dinilai, {number(met)} memenuhi targetnya "
        f"dan {number(judged - met)} belum."
    )


def _sentences(table: Table, spec: Spec, context: Context) -> list[str]:
    subject = _capital(table.subject)
    where = f" (Tabel {context.numbers[table.key]})" if table.key in context.numbers else ""
    overall = table.overall
    if table.empty or overall is None or overall.value is None:
        unjudged = f" Capaian terhadap target {_target(table, spec)} belum dapat dinilai." if _has_target(spec) else ""
        return [f"{subject} tidak dapat dihitung untuk {context.period} karena tidak ada data.{unjudged}"]
    first = f"{subject}{where} pada {context.period} adalah {_figure(overall, table)}"
    if _has_target(spec) and overall.base < table.small:
        first += (
            f"; dengan dasar kurang dari {number(table.small)} {table.base_unit}, capaian terhadap target "
            f"{_target(table, spec)} tidak dinilai"
        )
    elif _has_target(spec):
        first += ", " + _against_target(overall, table, spec)
    said = [first + ".", _against_previous(table, spec, context)]
    furthest = _furthest(table, spec)
    if furthest:
        said.append(furthest)
    return said


def _has_target(spec: Spec) -> bool:
    return spec.target is not None


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _scaled(value: float, table: Table) -> float:
    """A share (0..1) in percent, as targets of shares are written; other units as they are."""
    return value * 100 if table.unit == "percent" else value


def _figure(measure: Measure, table: Table) -> str:
    """'78,0% (39 dari 50 penerima)'; on a small base the count leads: '3 dari 8 penerima (37,5%)'."""
    if table.unit == "percent" and measure.count is not None:
        out_of = f"{number(measure.count)} dari {number(measure.base)} {table.base_unit}"
        if measure.base < table.small:
            return f"{out_of} ({decimal(_scaled(measure.value or 0.0, table))}%)"
        return f"{measure.text} ({out_of})"
    if table.unit == "rupiah":
        return f"{measure.text} (dari {number(measure.base)} {table.base_unit})"
    return measure.text


def _amount(value: float, table: Table) -> str:
    """A target or a gap in the table's unit: '90%', '12,0 poin', 'Rp 50.000', '3'."""
    if table.unit == "percent":
        return f"{decimal(value)} poin"
    return rupiah(value) if table.unit == "rupiah" else number(value)


def _target(table: Table, spec: Spec) -> str:
    target = spec.target or 0.0
    if table.unit == "percent":
        return f"{number(target)}%"
    return rupiah(target) if table.unit == "rupiah" else number(target)


def _short_of(value: float | None, table: Table, spec: Spec) -> float | None:
    """How far a value falls short of the target in the table's unit (0 when it meets it)."""
    if value is None or spec.target is None:
        return None
    gap = spec.target - _scaled(value, table)
    return max(0.0, gap if spec.better == "higher" else -gap)


def _verdict(table: Table, spec: Spec) -> bool | None:
    """True when the whole scope meets its target, False when not, None when it cannot be judged (no
    data, or a base too small for a percentage to mean much)."""
    overall = table.overall
    if overall is None or overall.base < table.small:
        return None
    short = _short_of(overall.value, table, spec)
    return None if short is None else short == 0


def _against_target(overall: Measure, table: Table, spec: Spec) -> str:
    short = _short_of(overall.value, table, spec) or 0.0
    bound = "paling sedikit" if spec.better == "higher" else "paling banyak"
    if short == 0:
        return f"memenuhi target {bound} {_target(table, spec)}"
    side = "di bawah" if spec.better == "higher" else "di atas"
    return f"{side} target {bound} {_target(table, spec)} (selisih {_amount(short, table)})"


def _against_previous(table: Table, spec: Spec, context: Context) -> str:
    now, before = table.overall, table.previous
    if now is None or now.value is None or before is None or before.value is None:
        return f"Belum ada data {context.previous} sebagai pembanding."
    delta = _scaled(now.value, table) - _scaled(before.value, table)
    then = f"{context.previous}, yaitu {_figure(before, table)}"
    if abs(delta) < 0.05:  # below what one decimal shows
        return f"Angka ini sama dengan {then}."
    words = ("bertambah", "berkurang") if table.unit == "count" else ("naik", "turun")
    moved = words[0] if delta > 0 else words[1]
    judged = ""
    if _has_target(spec):
        better = (delta > 0) == (spec.better == "higher")
        judged = " (membaik)" if better else " (memburuk)"
    return f"Angka ini {moved} {_amount(abs(delta), table)}{judged} dibanding {then}."


def _furthest(table: Table, spec: Spec) -> str:
    """The area furthest from the target among those with a base large enough to judge, and the
    small areas that miss it too (named, not ranked: a share of three people ranks nothing)."""
    if not _has_target(spec) or not table.by_area:
        return ""
    missing = [(m, _short_of(m.value, table, spec) or 0.0) for m in table.measures if m.value is not None]
    missing = [(m, short) for m, short in missing if short > 0]
    judged = sorted((x for x in missing if x[0].base >= table.small), key=lambda x: (-x[1], x[0].label))
    small = [m.label for m, _ in missing if m.base < table.small]
    side = "di bawah" if spec.better == "higher" else "di atas"
    said = []
    if judged:
        area, short = judged[0]
        said.append(
            f"Di antara {table.level}, yang paling jauh {side} target adalah {_capital(table.level)} "
            f"{area.label} dengan {_figure(area, table)}, selisih {_amount(short, table)}."
        )
    if small:
        said.append(
            f"{_capital(table.level)} dengan kurang dari {number(table.small)} {table.base_unit} yang juga "
            f"{side} target: {', '.join(small)}."
        )
    return " ".join(said)


def _recommendation(table: Table, spec: Spec) -> str:
    overall = table.overall
    assert overall is not None  # a verdict was given, so there is a figure
    missing = [m for m in table.measures if m.value is not None and (_short_of(m.value, table, spec) or 0) > 0]
    ranked = sorted(
        (m for m in missing if m.base >= table.small),
        key=lambda m: (-(_short_of(m.value, table, spec) or 0.0), m.label),
    )
    where = f", terutama di {_capital(table.level)} {ranked[0].label} ({ranked[0].text})" if ranked else ""
    side = "di bawah" if spec.better == "higher" else "di atas"
    return (
        f"{_capital(table.subject)} adalah {overall.text}, {side} target {_target(table, spec)}{where}. "
        f"{spec.recommendation or FALLBACK}"
    )
