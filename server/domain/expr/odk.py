"""The ODK functions that forms brought from XLSForm (KoboToolbox, ODK Central) use and Pantau's own
forms rarely do: count-non-empty, join, once, uuid, random, format-date-time. On the phone they live in
static/js/expr-more.js, which the fill page loads only for forms that call one of them (MORE_JS)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import uuid as uuid_module
from collections.abc import Sequence

import msgspec

from server.domain.expr.builtins import format_date, java_int
from server.domain.expr.context import Context, lookup, rows_of
from server.domain.expr.evaluate import compile_expr
from server.domain.expr.functions import Compiled, Problem, function, lazy_function, node_function
from server.domain.expr.nodes import Call, Expr, Ref, Str
from server.domain.expr.values import Scalar, Value, equals, first, normalize, to_number, to_string

# The functions whose JS lives in static/js/expr-more.js, which the fill page loads only for a form
# calling one of them: these ODK ones, the path instance('x')/root/item (not a function), and a few
# built-ins no shipped form calls (their bytes paid for the others within the page's 30 KB).
MORE_JS = frozenset({"count-non-empty", "join", "once", "uuid", "random", "format-date-time", "pulldata",
                     "jr:choice-name", "indexed-repeat", "instance", "selected-at", "substr", "date",
                     "decimal-date-time", "min", "max"})
# digest() has a file of its own (static/js/expr-digest.js, 3 KB): five hash functions in JavaScript.
# digest(): the algorithms and encodings of ODK's spec. JS: static/js/expr-digest.js.
DIGESTS = {"MD5": "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512"}
_FIELD_TEXT = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}")
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
    "random",
    0,
    0,
    "Bilangan acak dari 0 sampai kurang dari 1.",
    "A random number from 0 up to (not including) 1.",
)
def _random(args: list[Value], ctx: Context) -> Value:
    return secrets.SystemRandom().random()


@function(
    "format-date-time",
    2,
    3,
    "Menulis tanggal dan jam dengan format %Y %m %d %H %M %S dsb.",
    "Writes a date and time with a %Y %m %d %H %M %S ... format.",
)
def _format_date_time(args: list[Value], ctx: Context) -> Value:
    return format_date(args)


# --- secondary instances: choice lists and CSVs (Context.instances) --------------------------------


@function(
    "pulldata",
    4,
    4,
    "Nilai kolom dari baris pertama berkas CSV yang kolom kuncinya sama dengan nilai.",
    "A column of the first row of a CSV file whose key column equals the value.",
)
def _pulldata(args: list[Value], ctx: Context) -> Value:
    name, column, key, wanted = to_string(args[0]), to_string(args[1]), to_string(args[2]), first(args[3])
    for row in rows_of(ctx, name):
        if key in row and equals(normalize(row[key]), wanted):
            return to_string(normalize(row.get(column)))
    return ""


def _check_choice_name(args: Sequence[Expr]) -> Problem | None:
    field = args[1]
    return None if isinstance(field, Str) and _FIELD_TEXT.fullmatch(field.v) else Problem(1, "choice_name")


@function(
    "jr:choice-name",
    2,
    2,
    "Label pilihan dengan nama itu pada pertanyaan pilihan: jr:choice-name(${jk}, '${jk}').",
    "The label of the choice with that name in a select question: jr:choice-name(${jk}, '${jk}').",
    check=_check_choice_name,
)
def _choice_name(args: list[Value], ctx: Context) -> Value:
    found = _FIELD_TEXT.fullmatch(to_string(args[1]))
    chosen = to_string(args[0])
    for row in rows_of(ctx, ctx.lists.get(found.group(1), "")) if found else ():
        if to_string(normalize(row.get("name"))) == chosen:
            return to_string(normalize(row.get("label")))
    return ""


# --- repeats ----------------------------------------------------------------------------------------


def _check_indexed_repeat(args: Sequence[Expr]) -> Problem | None:
    for index, arg in enumerate(args):
        if (index == 0 or index % 2 == 1) and not isinstance(arg, Ref):
            return Problem(index, "indexed_repeat")
    return None if len(args) % 2 == 1 else Problem(len(args) - 1, "indexed_repeat")


@node_function(
    "indexed-repeat",
    3,
    7,
    "Jawaban pada isian ke-n grup berulang: indexed-repeat(${nama}, ${anggota}, n).",
    "The answer in the n-th instance of a repeat: indexed-repeat(${nama}, ${anggota}, n).",
    check=_check_indexed_repeat,
)
def _indexed_repeat(node: Call) -> Compiled:
    field = node.args[0].name if isinstance(node.args[0], Ref) else ""
    pairs = [(node.args[i], compile_expr(node.args[i + 1])) for i in range(1, len(node.args) - 1, 2)]
    repeats = [(arg.name if isinstance(arg, Ref) else "", index) for arg, index in pairs]

    def run(ctx: Context) -> Value:
        chosen = {name: java_int(to_number(index(ctx))) - 1 for name, index in repeats}
        position: list[tuple[str, int]] = []
        for depth, repeat in enumerate(ctx.scope.get(field, ())):
            if repeat in chosen:
                position.append((repeat, chosen[repeat]))
            elif depth < len(ctx.position) and ctx.position[depth][0] == repeat:
                position.append(ctx.position[depth])  # an enclosing repeat not named: the current instance
            else:
                break
        return lookup(field, msgspec.structs.replace(ctx, position=tuple(position)))

    return run


# --- digest -----------------------------------------------------------------------------------------


def _check_digest(args: Sequence[Expr]) -> Problem | None:
    algorithm = args[1]
    if isinstance(algorithm, Str) and algorithm.v not in DIGESTS:
        return Problem(1, "digest_algorithm")
    encoding = args[2] if len(args) > 2 else None
    if isinstance(encoding, Str) and encoding.v not in ("base64", "hex"):
        return Problem(2, "digest_encoding")
    return None


@function(
    "digest",
    2,
    3,
    "Sidik (hash) teks: digest(teks, 'SHA-256', 'hex'); MD5, SHA-1, SHA-256, SHA-384, SHA-512.",
    "The hash of a text: digest(text, 'SHA-256', 'hex'); MD5, SHA-1, SHA-256, SHA-384, SHA-512.",
    check=_check_digest,
)
def _digest(args: list[Value], ctx: Context) -> Value:
    algorithm = DIGESTS.get(to_string(args[1]))
    encoding = to_string(args[2]) if len(args) > 2 else "base64"
    if algorithm is None or encoding not in ("base64", "hex"):
        return ""
    hashed = hashlib.new(algorithm, to_string(args[0]).encode("utf-8"))
    return hashed.hexdigest() if encoding == "hex" else base64.b64encode(hashed.digest()).decode("ascii")
