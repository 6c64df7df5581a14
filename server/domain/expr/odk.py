"""The ODK functions that forms brought from XLSForm (KoboToolbox, ODK Central) use and Pantau's own
forms rarely do: count-non-empty, join, once, uuid, format-date-time. On the phone they live in
static/js/expr-more.js, which the fill page loads only for forms that call one of them (ODK_ONLY)."""

from __future__ import annotations

import secrets
import uuid as uuid_module
from collections.abc import Sequence

from server.domain.expr.builtins import format_date, java_int
from server.domain.expr.context import Context
from server.domain.expr.functions import Compiled, function, lazy_function
from server.domain.expr.values import Scalar, Value, normalize, to_number, to_string

# The functions whose JS lives in static/js/expr-more.js: a form calling one loads that file.
ODK_ONLY = frozenset({"count-non-empty", "join", "once", "uuid", "format-date-time"})
MAX_UUID = 1000  # uuid(n) longer than this is cut: an expression must not fill the phone's memory
_ALPHANUMERIC = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _items(value: Value) -> list[Scalar]:
    return value if isinstance(value, list) else [value]


@function(
    "count-non-empty",
    1,
    1,
    "Jumlah isian yang tidak kosong (mis. di grup berulang).",
    "The number of values that are not empty (e.g. across a repeat).",
)
def _count_non_empty(args: list[Value], ctx: Context) -> Value:
    return float(sum(1 for item in _items(args[0]) if to_string(item) != ""))


@function(
    "join",
    2,
    None,
    "Menggabungkan semua nilai dengan pemisah.",
    "Joins all values with a separator.",
)
def _join(args: list[Value], ctx: Context) -> Value:
    return to_string(args[0]).join(to_string(item) for arg in args[1:] for item in _items(arg))


@lazy_function(
    "once",
    1,
    1,
    "Dihitung sekali: nilai yang sudah ada tidak diganti.",
    "Computed once: a value already there is kept.",
)
def _once(args: Sequence[Compiled], ctx: Context) -> Value:
    current = normalize(ctx.current)
    return current if current != "" else args[0](ctx)


@function(
    "uuid",
    0,
    1,
    "Kode acak unik (UUID); uuid(n): n huruf/angka acak.",
    "A random unique code (UUID); uuid(n): n random letters/digits.",
)
def _uuid(args: list[Value], ctx: Context) -> Value:
    if not args:
        return str(uuid_module.uuid4())
    length = min(max(0, java_int(to_number(args[0]))), MAX_UUID)
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


@function(
    "format-date-time",
    2,
    3,
    "Menulis tanggal dan jam dengan format %Y %m %d %H %M %S dsb.",
    "Writes a date and time with a %Y %m %d %H %M %S ... format.",
)
def _format_date_time(args: list[Value], ctx: Context) -> Value:
    return format_date(args)
