"""Values of the expression language and the XPath 1.0 / ODK JavaRosa conversions between them.

A value is a str, a float, a bool, or a list of those (a nodeset: one item per repeat instance).
Dates are not a separate type: they are ISO strings ('2026-03-31', '2026-03-31T10:00:00.000+08:00')
that turn into days since 1970-01-01 wherever a number is needed, as ODK does with date values."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from functools import lru_cache

from server.domain.expr import dates

Scalar = str | float | bool
Value = Scalar | list[Scalar]

NAN = math.nan
INF = math.inf

# JavaRosa treats numbers closer than this to zero (or to an integer) as exactly that; without it
# `0.1 * 3 * 10` would print "3.0000000000000004" and `6.1 - 7.8 = -1.7` would be false.
EPSILON = 1e-12

# Java's String.trim() removes every char <= U+0020, not Unicode whitespace; both evaluators copy it.
_JAVA_TRIM = "".join(chr(c) for c in range(0x21))
# XPath 1.0 Number, after JavaRosa's ',' -> '.' (comma decimals are normal on Indonesian phones).
_NUMBER = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


def first(value: Value) -> Scalar:
    """A nodeset used where one value is needed gives its first item ("" when empty), as JavaRosa."""
    if isinstance(value, list):
        return value[0] if value else ""
    return value


def to_boolean(value: object) -> bool:
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, bool):
        return value
    if isinstance(value, float | int):
        return abs(value) > EPSILON  # NaN compares false, so NaN is false
    if isinstance(value, str):
        return value != ""
    return False


def to_number(value: object) -> float:
    if type(value) is float:  # most operands already are
        return value
    if type(value) is str:  # then texts: dates and the digits format-date() gives
        return _string_to_number(value) if len(value) <= 64 else _parse_number(value)
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, int):
        return int_to_float(value)
    if isinstance(value, str):
        return _string_to_number(value) if len(value) <= 64 else _parse_number(value)
    return NAN


def int_to_float(value: int) -> float:
    try:
        return float(value)
    except OverflowError:  # a 400-digit integer answer must not crash validation
        return INF if value > 0 else -INF


@lru_cache(maxsize=4096)
def _string_to_number(text: str) -> float:
    return _parse_number(text)


def _parse_number(text: str) -> float:
    trimmed = text.strip(_JAVA_TRIM)
    if len(trimmed) >= 10 and trimmed[4] == "-":
        days = dates.date_days(trimmed)
        if days is not None:
            return float(days)
    trimmed = trimmed.replace(",", ".")
    if _NUMBER.fullmatch(trimmed):
        return float(trimmed)
    return NAN


def to_string(value: object) -> str:
    if type(value) is str:
        return value
    if isinstance(value, list):
        value = value[0] if value else ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return format_number(value)
    if isinstance(value, int):
        return format_number(int_to_float(value))
    return ""


def format_number(number: float) -> str:
    """XPath string(): no exponent, integers without '.0', the shortest digits that round-trip."""
    if number != number:
        return "NaN"
    if number in (INF, -INF):
        return "Infinity" if number > 0 else "-Infinity"
    if abs(number) < EPSILON:
        return "0"
    nearest = float(round(number))
    if abs(number - nearest) < EPSILON:
        number = nearest
    return plain_decimal(repr(number))


def plain_decimal(shortest: str) -> str:
    """'1.23e+21' -> '1230000000000000000000', '1e-07' -> '0.0000001', '5.0' -> '5'."""
    negative = shortest.startswith("-")
    mantissa, _, exponent = shortest.lstrip("-").partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    point = len(whole) + (int(exponent) if exponent else 0)
    stripped = digits.lstrip("0")
    point -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    if not digits:
        return "0"
    if point <= 0:
        text = "0." + "0" * -point + digits
    elif point >= len(digits):
        text = digits + "0" * (point - len(digits))
    else:
        text = digits[:point] + "." + digits[point:]
    return "-" + text if negative else text


def equals(left: Value, right: Value) -> bool:
    """XPath '=': booleans if either side is boolean, else numbers if either is a number, else text."""
    a, b = first(left), first(right)
    if isinstance(a, bool) or isinstance(b, bool):
        return to_boolean(a) == to_boolean(b)
    if isinstance(a, float) or isinstance(b, float):
        x, y = to_number(a), to_number(b)
        return x == y or abs(x - y) < EPSILON
    return a == b


def normalize(raw: object) -> Value:
    """An answer as stored (JSON-ish Python) -> a value. Repeats are resolved by the caller."""
    if raw is None:
        return ""
    if isinstance(raw, (str, bool, float)):  # a tuple, not `str | bool | float`: no union made per call
        return raw
    if isinstance(raw, int):
        return int_to_float(raw)
    if isinstance(raw, (list, tuple)):
        # a select_multiple answer: its choice names joined by spaces, as in an ODK instance
        return " ".join(
            to_string(normalize(item)) for item in raw if not isinstance(item, (Mapping, list, tuple))
        )
    if isinstance(raw, dt.datetime):
        return dates.iso_datetime(raw)
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return ""
