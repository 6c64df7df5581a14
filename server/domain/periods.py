"""Reporting periods: a month (2026-07), a triwulan (2026-Q3), a semester (2026-S2) or a year (2026).
A period knows its first and last day, the one before it (for the period-on-period change), its
Indonesian name for covers ("Triwulan III Tahun 2026") and when it has closed (the scheduler's test)."""

from __future__ import annotations

import datetime as dt
import re

import msgspec

KINDS = ("monthly", "quarterly", "semester", "yearly")
MONTHS_OF = {"monthly": 1, "quarterly": 3, "semester": 6, "yearly": 12}
ROMAN = ("I", "II", "III", "IV")
MONTH_NAMES = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
_PATTERNS = (
    ("quarterly", re.compile(r"^(\d{4})-Q([1-4])$")),
    ("semester", re.compile(r"^(\d{4})-S([12])$")),
    ("monthly", re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")),
    ("yearly", re.compile(r"^(\d{4})$")),
)


class BadPeriod(ValueError):
    """The text is not a period of a kind Pantau knows (the caller raises the catalogue error)."""


class Period(msgspec.Struct, frozen=True):
    kind: str
    year: int
    index: int  # month 1-12, triwulan 1-4, semester 1-2; 1 for a year

    @property
    def code(self) -> str:
        if self.kind == "quarterly":
            return f"{self.year}-Q{self.index}"
        if self.kind == "semester":
            return f"{self.year}-S{self.index}"
        if self.kind == "monthly":
            return f"{self.year}-{self.index:02d}"
        return str(self.year)

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, (self.index - 1) * MONTHS_OF[self.kind] + 1, 1)

    @property
    def end(self) -> dt.date:
        """The last day of the period (inclusive)."""
        return _first_after(self) - dt.timedelta(days=1)

    def previous(self) -> Period:
        per_year = 12 // MONTHS_OF[self.kind]
        if self.index > 1:
            return Period(self.kind, self.year, self.index - 1)
        return Period(self.kind, self.year - 1, per_year)

    def following(self) -> Period:
        per_year = 12 // MONTHS_OF[self.kind]
        if self.index < per_year:
            return Period(self.kind, self.year, self.index + 1)
        return Period(self.kind, self.year + 1, 1)

    def title(self) -> str:
        """'Triwulan III Tahun 2026', 'Juli 2026', 'Semester II Tahun 2026', 'Tahun 2026'."""
        if self.kind == "quarterly":
            return f"Triwulan {ROMAN[self.index - 1]} Tahun {self.year}"
        if self.kind == "semester":
            return f"Semester {ROMAN[self.index - 1]} Tahun {self.year}"
        if self.kind == "monthly":
            return f"{MONTH_NAMES[self.index - 1]} {self.year}"
        return f"Tahun {self.year}"

    def short_title(self) -> str:
        """'Tw III 2026', 'Jul 2026', 'Smt II 2026', '2026': a chart's label for the period."""
        if self.kind == "quarterly":
            return f"Tw {ROMAN[self.index - 1]} {self.year}"
        if self.kind == "semester":
            return f"Smt {ROMAN[self.index - 1]} {self.year}"
        if self.kind == "monthly":
            return f"{MONTH_NAMES[self.index - 1][:3]} {self.year}"
        return str(self.year)

    def closed_by(self, today: dt.date) -> bool:
        return today > self.end


def _first_after(period: Period) -> dt.date:
    month0 = (period.index - 1) * MONTHS_OF[period.kind] + MONTHS_OF[period.kind]
    return dt.date(period.year + month0 // 12, month0 % 12 + 1, 1)


def parse(text: str) -> Period:
    """'2026-Q3' -> Period('quarterly', 2026, 3); BadPeriod for anything else."""
    for kind, pattern in _PATTERNS:
        found = pattern.match(text.strip())
        if found:
            year = int(found[1])
            if not 2000 <= year <= 2100:
                break
            return Period(kind, year, int(found[2]) if found.lastindex and found.lastindex > 1 else 1)
    raise BadPeriod(text)


def containing(kind: str, day: dt.date) -> Period:
    months = MONTHS_OF[kind]
    return Period(kind, day.year, (day.month - 1) // months + 1)


def last_closed(kind: str, today: dt.date) -> Period:
    """The most recent period of this kind that ended before today."""
    return containing(kind, today).previous()
