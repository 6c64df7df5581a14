"""The built-in functions, with ODK JavaRosa semantics for empty answers, numbers and dates.

Each registers itself with its arity and one-line docs; static/js/expr.js implements the same list
(the parity test compares the two registries) and docs/expressions.md describes each in full."""

from __future__ import annotations

import math
from collections.abc import Sequence

from server.domain.expr import dates, safe_regex
from server.domain.expr.context import Context
from server.domain.expr.functions import Compiled, Problem, function, lazy_function
from server.domain.expr.nodes import Expr, Parent, Str
from server.domain.expr.values import (
    NAN,
    Scalar,
    Value,
    first,
    normalize,
    to_boolean,
    to_number,
    to_string,
)

Args = list[Value]
_JAVA_TRIM = "".join(chr(c) for c in range(0x21))
_INT_MAX, _INT_MIN = 2_147_483_647, -2_147_483_648


def java_int(number: float) -> int:
    """Java's (int) cast, which JavaRosa applies to indexes and places: NaN -> 0, saturating."""
    if number != number:
        return 0
    if number >= _INT_MAX:
        return _INT_MAX
    if number <= _INT_MIN:
        return _INT_MIN
    return math.trunc(number)


def _items(value: Value) -> list[Scalar]:
    return value if isinstance(value, list) else [value]


# --- logic -----------------------------------------------------------------------------------


@lazy_function(
    "if",
    3,
    3,
    "Nilai kedua jika syarat benar, nilai ketiga jika tidak.",
    "The second value if the condition is true, else the third.",
)
def _if(args: Sequence[Compiled], ctx: Context) -> Value:
    return args[1](ctx) if to_boolean(args[0](ctx)) else args[2](ctx)


@lazy_function("coalesce", 2, None, "Nilai pertama yang tidak kosong.", "The first value that is not empty.")
def _coalesce(args: Sequence[Compiled], ctx: Context) -> Value:
    value: Scalar = ""
    for arg in args:
        value = first(arg(ctx))
        if not (value == "" or (isinstance(value, float) and value != value)):
            return value
    return value


@function("not", 1, 1, "Kebalikan dari nilai benar/salah.", "The opposite of a true/false value.")
def _not(args: Args, ctx: Context) -> Value:
    return not to_boolean(args[0])


@function("true", 0, 0, "Nilai benar.", "The value true.")
def _true(args: Args, ctx: Context) -> Value:
    return True


@function("false", 0, 0, "Nilai salah.", "The value false.")
def _false(args: Args, ctx: Context) -> Value:
    return False


@function("boolean", 1, 1, "Mengubah nilai menjadi benar/salah.", "Converts a value to true/false.")
def _boolean(args: Args, ctx: Context) -> Value:
    return to_boolean(args[0])


# --- select_multiple -------------------------------------------------------------------------


def _choices(value: Value) -> list[str]:
    return [part for part in to_string(value).split(" ") if part]


@function(
    "selected",
    2,
    2,
    "Benar jika pilihan itu dipilih pada pertanyaan pilihan ganda.",
    "True if the choice is selected in a multiple-choice answer.",
)
def _selected(args: Args, ctx: Context) -> Value:
    return to_string(args[1]).strip(_JAVA_TRIM) in _choices(args[0])


@function("count-selected", 1, 1, "Jumlah pilihan yang dipilih.", "The number of choices selected.")
def _count_selected(args: Args, ctx: Context) -> Value:
    return float(len(_choices(args[0])))


@function(
    "selected-at",
    2,
    2,
    "Pilihan ke-n (mulai 0) dari jawaban pilihan ganda.",
    "The n-th selected choice (from 0) of a multiple-choice answer.",
)
def _selected_at(args: Args, ctx: Context) -> Value:
    choices = _choices(args[0])
    index = java_int(to_number(args[1]))
    return choices[index] if 0 <= index < len(choices) else ""


# --- text ------------------------------------------------------------------------------------


@function(
    "string-length",
    0,
    1,
    "Jumlah karakter teks (tanpa argumen: jawaban ini).",
    "The number of characters (no argument: this answer).",
)
def _string_length(args: Args, ctx: Context) -> Value:
    return float(len(to_string(args[0] if args else normalize(ctx.current))))


def _check_regex(args: Sequence[Expr]) -> Problem | None:
    pattern = args[1]
    if not isinstance(pattern, Str):
        return None  # a computed pattern is checked when evaluated: outside the subset, no match
    if len(pattern.v) > safe_regex.MAX_PATTERN:
        return Problem(
            1, "regex_too_long", (("n", str(len(pattern.v))), ("max", str(safe_regex.MAX_PATTERN)))
        )
    try:
        safe_regex.translate(pattern.v)
    except safe_regex.Rejected as rejected:
        reason_id, reason_en = safe_regex.REASONS[rejected.reason]
        return Problem(1, "regex", (("reason_id", reason_id), ("reason_en", reason_en)))
    return None


@function(
    "regex",
    2,
    2,
    "Benar jika teks cocok dengan pola regex.",
    "True if the text matches the regex pattern.",
    check=_check_regex,
)
def _regex(args: Args, ctx: Context) -> Value:
    return safe_regex.matches(to_string(args[0]), to_string(args[1]))


@function("contains", 2, 2, "Benar jika teks memuat potongan teks.", "True if the text contains the part.")
def _contains(args: Args, ctx: Context) -> Value:
    return to_string(args[1]) in to_string(args[0])


@function(
    "starts-with", 2, 2, "Benar jika teks diawali potongan teks.", "True if the text starts with the part."
)
def _starts_with(args: Args, ctx: Context) -> Value:
    return to_string(args[0]).startswith(to_string(args[1]))


@function(
    "ends-with", 2, 2, "Benar jika teks diakhiri potongan teks.", "True if the text ends with the part."
)
def _ends_with(args: Args, ctx: Context) -> Value:
    return to_string(args[0]).endswith(to_string(args[1]))


@function(
    "substr",
    2,
    3,
    "Potongan teks dari posisi awal (mulai 0) sampai sebelum posisi akhir.",
    "The part of a text from start (from 0) up to, not including, end.",
)
def _substr(args: Args, ctx: Context) -> Value:
    text = to_string(args[0])
    length = len(text)
    start = java_int(to_number(args[1]))
    end = java_int(to_number(args[2])) if len(args) > 2 else length
    start = start + length if start < 0 else start  # negative counts from the end, as JavaRosa
    end = end + length if end < 0 else end
    start, end = min(max(0, start), length), min(max(0, end), length)
    return text[start:end] if start <= end else ""


@function("concat", 1, None, "Menggabungkan teks.", "Joins texts together.")
def _concat(args: Args, ctx: Context) -> Value:
    return "".join(to_string(item) for arg in args for item in _items(arg))


@function("string", 1, 1, "Mengubah nilai menjadi teks.", "Converts a value to text.")
def _string(args: Args, ctx: Context) -> Value:
    return to_string(args[0])


# --- numbers ---------------------------------------------------------------------------------


@function(
    "number",
    1,
    1,
    "Mengubah nilai menjadi angka (NaN jika bukan angka).",
    "Converts a value to a number (NaN if it is not one).",
)
def _number(args: Args, ctx: Context) -> Value:
    return to_number(args[0])


@function("int", 1, 1, "Membuang pecahan (ke arah nol).", "Drops the fraction (toward zero).")
def _int(args: Args, ctx: Context) -> Value:
    number = to_number(args[0])
    if not math.isfinite(number):
        return number
    whole = float(math.trunc(number))
    return math.copysign(whole, number) if whole == 0 else whole  # -0.5 -> -0, as Java and JS


@function(
    "round",
    1,
    2,
    "Membulatkan ke sejumlah angka di belakang koma (default 0).",
    "Rounds to a number of decimal places (default 0).",
)
def _round(args: Args, ctx: Context) -> Value:
    return round_decimal(to_number(args[0]), java_int(to_number(args[1])) if len(args) > 1 else 0)


def round_decimal(number: float, places: int) -> float:
    """JavaRosa's round: decimal (on the shortest digits, so 2.675 -> 2.68), ties toward +infinity."""
    if not math.isfinite(number):
        return number
    if not -30 <= places <= 30:
        return NAN
    negative = number < 0
    mantissa, _, exponent = repr(abs(number)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    keep = len(whole) + (int(exponent) if exponent else 0) + places
    if keep >= len(digits):
        return number
    if keep < 0:
        return -0.0 if negative else 0.0
    tail = digits[keep:]
    tie = tail[0] == "5" and not tail[1:].strip("0")
    up = tail[0] > "5" or (tail[0] == "5" and not (tie and negative))
    result = float(f"{int(digits[:keep] or '0') + (1 if up else 0)}e{-places}")
    return -result if negative else result


# --- dates -----------------------------------------------------------------------------------


@function("today", 0, 0, "Tanggal hari ini (YYYY-MM-DD).", "Today's date (YYYY-MM-DD).")
def _today(args: Args, ctx: Context) -> Value:
    return ctx.today.isoformat()


@function("now", 0, 0, "Tanggal dan jam sekarang (ISO 8601).", "The current date and time (ISO 8601).")
def _now(args: Args, ctx: Context) -> Value:
    return dates.iso_datetime(ctx.now)


@function(
    "date",
    1,
    1,
    "Tanggal dari jumlah hari sejak 1970-01-01 atau dari teks tanggal.",
    "A date from days since 1970-01-01 or from a date text.",
)
def _date(args: Args, ctx: Context) -> Value:
    value = first(args[0])
    if isinstance(value, bool):
        return ""
    if isinstance(value, str):
        moment = dates.parse(value)
        return dates.iso_date(moment.days) if moment else ""
    return dates.iso_date(to_number(value))


@function(
    "decimal-date-time",
    1,
    1,
    "Jumlah hari (pecahan) sejak 1970-01-01T00:00Z.",
    "Days (with fraction) since 1970-01-01T00:00Z.",
)
def _decimal_date_time(args: Args, ctx: Context) -> Value:
    value = first(args[0])
    if isinstance(value, bool):
        return NAN
    if isinstance(value, str):
        if value == "":
            return ""  # JavaRosa: an unanswered date stays empty
        days = dates.decimal_days(value)
        return NAN if days is None else days
    number = to_number(value)
    return number if math.isfinite(number) else NAN


@function(
    "format-date",
    2,
    3,
    "Menulis tanggal dengan format %Y %m %d dsb.; bahasa 'id' (default) atau 'en'.",
    "Writes a date with a %Y %m %d ... format; language 'id' (default) or 'en'.",
)
def _format_date(args: Args, ctx: Context) -> Value:
    return format_date(args)


def format_date(args: Args) -> str:
    """format-date and format-date-time (odk.py): one function in ODK's spec and in JavaRosa."""
    value = first(args[0])
    moment: dates.Moment | None
    if isinstance(value, bool):
        moment = None
    elif isinstance(value, str):
        moment = dates.parse(value)
    else:
        moment = dates.moment_of_number(to_number(value))
    if moment is None:
        return ""
    lang = to_string(args[2]).strip(_JAVA_TRIM).lower() if len(args) > 2 else ""
    return dates.format_moment(moment, to_string(args[1]), "en" if lang.startswith("en") else "id")


# --- repeats ---------------------------------------------------------------------------------


@function(
    "sum",
    1,
    1,
    "Jumlah nilai di dalam grup berulang (yang kosong dilewati).",
    "The sum of values across a repeat (empty ones skipped).",
)
def _sum(args: Args, ctx: Context) -> Value:
    total = 0.0
    for item in _items(args[0]):  # a plain loop: the same order of additions as the JS evaluator
        number = to_number(item)
        if number == number:
            total += number
    return total


@function("count", 1, 1, "Jumlah isian grup berulang.", "The number of repeat instances (or values).")
def _count(args: Args, ctx: Context) -> Value:
    return float(len(_items(args[0])))


def _numbers(args: Args) -> list[float]:
    numbers = (to_number(item) for arg in args for item in _items(arg))
    return [number for number in numbers if number == number]


@function(
    "min", 1, None, "Nilai terkecil (yang kosong dilewati).", "The smallest value (empty ones skipped)."
)
def _min(args: Args, ctx: Context) -> Value:
    numbers = _numbers(args)
    return min(numbers) if numbers else NAN


@function("max", 1, None, "Nilai terbesar (yang kosong dilewati).", "The largest value (empty ones skipped).")
def _max(args: Args, ctx: Context) -> Value:
    numbers = _numbers(args)
    return max(numbers) if numbers else NAN


def _check_position(args: Sequence[Expr]) -> Problem | None:
    return None if all(isinstance(arg, Parent) for arg in args) else Problem(0, "position_arg")


@function(
    "position",
    0,
    1,
    "Nomor urut (mulai 1) isian grup berulang saat ini: position(..).",
    "The 1-based number of the current repeat instance: position(..).",
    check=_check_position,
)
def _position(args: Args, ctx: Context) -> Value:
    return float(ctx.position[-1][1] + 1) if ctx.position else 1.0
