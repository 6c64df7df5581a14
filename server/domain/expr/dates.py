"""Dates as ODK forms use them: ISO strings that turn into days since 1970-01-01, and format-date().

Everything is computed from the digits written in the string (proleptic Gregorian calendar, no time
zone database, no `datetime.now()`), so the server and the phone agree whatever zone each runs in."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

_ISO = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?(Z|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
MAX_ISO = 64  # longer text is never a date; keeps long answers out of the parse cache
DAY_MS = 86_400_000
FIRST_DAY = -719_162  # 0001-01-01
LAST_DAY = 2_932_896  # 9999-12-31

MONTHS = {
    "id": ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des"),
    "en": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
}
WEEKDAYS = {  # Sunday first, as ODK's %a
    "id": ("Min", "Sen", "Sel", "Rab", "Kam", "Jum", "Sab"),
    "en": ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"),
}


class Moment(NamedTuple):
    days: int  # the date as written, in days since 1970-01-01
    ms: int  # the wall-clock time as written, in milliseconds since midnight
    offset: int  # minutes east of UTC as written (0 when absent)


def days_from_civil(year: int, month: int, day: int) -> int:
    # Howard Hinnant's algorithm: exact integer arithmetic, identical in the JS evaluator.
    year -= 1 if month <= 2 else 0
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def civil_from_days(days: int) -> tuple[int, int, int]:
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + (3 if mp < 10 else -9)
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def _days_in_month(year: int, month: int) -> int:
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def parse(text: str) -> Moment | None:
    """'YYYY-MM-DD' or 'YYYY-MM-DDTHH:MM[:SS[.fff]][Z|+HH[:MM]]' -> Moment; anything else -> None."""
    return None if len(text) > MAX_ISO else _parse(text)


@lru_cache(maxsize=2048)  # the same answers are read by many expressions of a form
def _parse(text: str) -> Moment | None:
    match = _ISO.fullmatch(text)
    if match is None:
        return None
    year, month, day = int(match[1]), int(match[2]), int(match[3])
    if year < 1 or not 1 <= month <= 12 or not 1 <= day <= _days_in_month(year, month):
        return None
    hour, minute, second = (int(match[i] or 0) for i in (4, 5, 6))
    if hour > 23 or minute > 59 or second > 59:
        return None
    millis = int(((match[7] or "") + "000")[:3])
    offset = 0
    zone = match[8]
    if zone and zone != "Z":
        hours, minutes = int(zone[1:3]), int(zone[-2:]) if len(zone) > 3 else 0
        if hours > 23 or minutes > 59:
            return None
        offset = (hours * 60 + minutes) * (-1 if zone[0] == "-" else 1)
    ms = ((hour * 60 + minute) * 60 + second) * 1000 + millis
    return Moment(days_from_civil(year, month, day), ms, offset)


def date_days(text: str) -> int | None:
    moment = parse(text)
    return None if moment is None else moment.days


def decimal_days(text: str) -> float | None:
    """The instant in days since 1970-01-01T00:00Z; a date alone counts from its UTC midnight."""
    moment = parse(text)
    if moment is None:
        return None
    return moment.days + (moment.ms - moment.offset * 60_000) / DAY_MS


def iso_date(days: float) -> str:
    """Days since 1970-01-01 -> 'YYYY-MM-DD' (fractions dropped toward zero); "" outside years 1-9999."""
    if not FIRST_DAY <= days <= LAST_DAY:  # also false for NaN
        return ""
    year, month, day = civil_from_days(math.trunc(days))
    return f"{year:04d}-{month:02d}-{day:02d}"


def iso_datetime(value: dt.datetime) -> str:
    return value.isoformat(timespec="milliseconds")


def moment_of_number(days: float) -> Moment | None:
    # ODK turns a number into an instant (days * 86 400 000 ms, truncated); we read it in UTC.
    if not FIRST_DAY - 1 <= days <= LAST_DAY + 1:
        return None
    total = math.trunc(days * DAY_MS)
    whole = total // DAY_MS
    if not FIRST_DAY <= whole <= LAST_DAY:
        return None
    return Moment(whole, total - whole * DAY_MS, 0)


# format-date's fields, each from (year, month, day, days since 1970-01-01, ms since midnight, language).
_FIELDS: dict[str, Callable[[int, int, int, int, int, str], str]] = {
    "Y": lambda y, m, d, days, ms, lang: f"{y:04d}",
    "y": lambda y, m, d, days, ms, lang: f"{y % 100:02d}",
    "m": lambda y, m, d, days, ms, lang: f"{m:02d}",
    "n": lambda y, m, d, days, ms, lang: str(m),
    "b": lambda y, m, d, days, ms, lang: MONTHS[lang][m - 1],
    "d": lambda y, m, d, days, ms, lang: f"{d:02d}",
    "e": lambda y, m, d, days, ms, lang: str(d),
    "a": lambda y, m, d, days, ms, lang: WEEKDAYS[lang][(days + 4) % 7],  # 1970-01-01 was a Thursday
    "H": lambda y, m, d, days, ms, lang: f"{ms // 3_600_000:02d}",
    "h": lambda y, m, d, days, ms, lang: str(ms // 3_600_000),
    "M": lambda y, m, d, days, ms, lang: f"{ms // 60_000 % 60:02d}",
    "S": lambda y, m, d, days, ms, lang: f"{ms // 1000 % 60:02d}",
    "3": lambda y, m, d, days, ms, lang: f"{ms % 1000:03d}",
    "%": lambda y, m, d, days, ms, lang: "%",
}


@lru_cache(maxsize=512)  # a form has a handful of patterns, read on every submission
def _format_tokens(pattern: str) -> tuple[str, ...]:
    """The pattern as tokens: "%Y" for a field, any other text as it is written (an unknown %x too)."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern[i] == "%" and i + 1 < len(pattern) and pattern[i + 1] in _FIELDS:
            out.append(pattern[i : i + 2])
            i += 2
        else:
            out.append(pattern[i])
            i += 1
    return tuple(out)


def format_moment(moment: Moment, pattern: str, lang: str) -> str:
    """Only the fields the pattern names are formatted (building all of them for every call was a
    third of the time of a form's age calculation)."""
    year, month, day = civil_from_days(moment.days)
    tokens = _format_tokens(pattern) if len(pattern) <= MAX_ISO else _format_tokens.__wrapped__(pattern)
    return "".join(token if len(token) == 1 else _FIELDS[token[1]](year, month, day, moment.days, moment.ms, lang)
                   for token in tokens)
