"""How a report writes its figures, the Indonesian way through Babel (1.234.567; 12,5%; Rp 1.500.000;
31 Maret 2026), and the one rule for percentages on a small base: fewer than SMALL_BASE people (or
records) give the count with the percentage in brackets, "3 (37,5%)", and a note under the table,
so a "100,0%" on two people never reads like a result. Every table, chart and sentence of a report
formats its shares through `proportion`, so the rule cannot differ between two places."""

from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date
from babel.numbers import format_decimal

SUPPRESSED = "–"
SMALL_BASE = 10  # a percentage on fewer than this many is shown as "n (x,x%)"
# What `proportion` writes on a small base, and nothing else does: "3 (37,5%)", "1.204 (9,1%)".
_SMALL = re.compile(r"^-?\d[\d.]* \(-?\d[\d.]*,\d%\)$")


def number(value: float) -> str:
    """1234567 -> '1.234.567'."""
    return format_decimal(value, locale="id_ID")


def decimal(value: float) -> str:
    """2.54 -> '2,5' (one decimal, the way percentages and points are written)."""
    return format_decimal(round(value, 1), format="#,##0.0", locale="id_ID")


def percent(share: float | None) -> str:
    """0.125 -> '12,5%'; None (nothing to divide) -> '–'."""
    if share is None:
        return SUPPRESSED
    return decimal(share * 100) + "%"


def proportion(count: int, total: int, small: int = SMALL_BASE) -> str:
    """count of total as a percentage: '37,5%'; on fewer than `small` the count leads, '3 (37,5%)';
    nothing to divide: '–'."""
    if total <= 0:
        return SUPPRESSED
    text = percent(count / total)
    return f"{number(count)} ({text})" if total < small else text


def is_small(cell: str) -> bool:
    """A cell written by `proportion` on a small base (the table then carries the note)."""
    return bool(_SMALL.match(cell))


def small_note(small: int = SMALL_BASE, unit: str = "orang atau data") -> str:
    return (
        f"Angka berbentuk n (x%): dasar perhitungannya kurang dari {number(small)} {unit}, sehingga jumlahnya "
        "ditulis lebih dulu dan persentase dalam kurung hanya sebagai gambaran; bacalah dengan hati-hati."
    )


def rupiah(amount: float | None) -> str:
    if amount is None:
        return SUPPRESSED
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {format_decimal(round(abs(amount)), locale='id_ID')}"


def long_date(day: dt.date) -> str:
    """31 Maret 2026."""
    return format_date(day, "d MMMM y", locale="id")


def short_date(day: str) -> str:
    """'2026-03-05' -> '05-03-2026' (a narrow column); '' -> '–'."""
    try:
        return dt.date.fromisoformat(day[:10]).strftime("%d-%m-%Y")
    except ValueError:
        return SUPPRESSED


def change(now: float | None, before: float | None, *, points: bool = False) -> str:
    """The period-on-period change: '+12', '-3', '+2,5 poin' (shares change in percentage points)."""
    if now is None or before is None:
        return SUPPRESSED
    delta = now - before
    if points:
        return ("+" if delta > 0 else "") + decimal(delta * 100) + " poin"
    return ("+" if delta > 0 else "") + number(delta)


def median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return float(ordered[mid]) if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def share(count: int, total: int, minimum: int = 1) -> float | None:
    """count/total, or None when total is below the minimum (nothing to show)."""
    return count / total if total >= max(minimum, 1) else None
