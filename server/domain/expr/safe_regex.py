"""regex(): the subset of regular expressions that Python `re` and JavaScript `RegExp` read alike.

A pattern is checked and rewritten before either engine sees it: \\d \\w \\s '.' and '$' become
explicit ASCII classes (the engines disagree on Unicode digits, '\\r' and a trailing newline), and
patterns that can backtrack for minutes, such as (a+)+, are refused. static/js/expr.js mirrors this."""

from __future__ import annotations

import re

MAX_PATTERN = 200  # code points
MAX_INPUT = 1000  # longer text never matches: bounds the polynomial backtracking that remains
MAX_COUNT = 1000  # largest n in {n} / {n,m}

_WS = r"\u0020\u0009\u000a\u000d\u000c\u000b"
_CLASS_ESCAPES = {"d": "0-9", "w": "A-Za-z0-9_", "s": _WS}
_ESCAPES = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "s": f"[{_WS}]",
    "S": f"[^{_WS}]",
}
_CONTROL = {"n": "\n", "t": "\t", "r": "\r"}
_PUNCT = "\\^$.|?*+()[]{}/-"
_DOT = r"[^\u000a\u000d\u2028\u2029]"
_COUNT = re.compile(r"\{([0-9]{1,4})(,([0-9]{0,4}))?\}")

# Why each refusal, in the words shown to form authors (id, en).
REASONS = {
    "paren": ("kurung '(' tidak ditutup", "an opening '(' is not closed"),
    "close": ("kurung ')' tidak punya pasangan '('", "a ')' has no matching '('"),
    "nothing": ("tanda pengulang tidak punya sesuatu untuk diulang", "a repeat sign has nothing to repeat"),
    "nested": (
        "pengulangan bertingkat seperti (a+)+ bisa membuat ponsel macet; "
        "tulis tanpa pengulangan di dalam kurung",
        "nested repetition such as (a+)+ can freeze the phone; "
        "write it without repetition inside the brackets",
    ),
    "count": (
        "jumlah ulang {n,m} tidak valid atau lebih dari 1000",
        "invalid repeat count {n,m} or more than 1000",
    ),
    "literal": (
        "tanda [ ] { } harus ditulis dengan \\ di depannya",
        "the signs [ ] { } must be written with a \\ before them",
    ),
    "escape": (
        "hanya \\d \\w \\s \\D \\W \\S \\n \\t \\r dan \\ sebelum tanda baca yang didukung",
        "only \\d \\w \\s \\D \\W \\S \\n \\t \\r and \\ before punctuation are supported",
    ),
    "class": (
        "kelompok [...] kosong, tidak ditutup, atau rentangnya terbalik",
        "a [...] class is empty, not closed, or has a reversed range",
    ),
    "group": (
        "hanya (...), (?:...), (?=...) dan (?!...) yang didukung",
        "only (...), (?:...), (?=...) and (?!...) are supported",
    ),
}


class Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _Frame:
    """One open group: lookarounds cannot be repeated; `complex` = it holds a repeat or a '|'."""

    __slots__ = ("complex", "lookaround")

    def __init__(self, lookaround: bool) -> None:
        self.lookaround = lookaround
        self.complex = False


def literal(char: str) -> str:
    """A character that must match itself, escaped in a way both engines (and JS 'u' mode) accept."""
    if char.isascii() and not char.isalnum():
        return f"\\u{ord(char):04x}"
    return char


def translate(pattern: str, dollar: str = r"\Z") -> str:
    """The pattern rewritten for one engine: Python gets '$' as \\Z, JavaScript keeps '$'."""
    if len(pattern) > MAX_PATTERN:
        raise Rejected("too_long")
    out: list[str] = []
    frames: list[_Frame] = [_Frame(False)]
    last: bool | None = None  # None: nothing to repeat; else whether the last atom is a complex group
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "(":
            kind = next((k for k in ("?:", "?=", "?!") if pattern.startswith(k, i + 1)), "")
            if not kind and pattern.startswith("?", i + 1):
                raise Rejected("group")
            frames.append(_Frame(kind in ("?=", "?!")))
            out.append("(" + kind)
            i += 1 + len(kind)
            last = None
            continue
        if char == ")":
            if len(frames) == 1:
                raise Rejected("close")
            frame = frames.pop()
            frames[-1].complex = frames[-1].complex or frame.complex
            out.append(")")
            last = None if frame.lookaround else frame.complex
            i += 1
            continue
        if char in "*+?{":
            i = _quantifier(pattern, i, last, frames[-1], out)
            last = None
            continue
        if char == "|":
            frames[-1].complex = True
            out.append("|")
            last = None
        elif char in "^$":
            out.append("^" if char == "^" else dollar)
            last = None
        elif char == ".":
            out.append(_DOT)
            last = False
        elif char == "[":
            i = _char_class(pattern, i, out)
            last = False
            continue
        elif char == "\\":
            out.append(_escape(pattern, i))
            i += 2
            last = False
            continue
        elif char in "]}":
            raise Rejected("literal")
        else:
            out.append(literal(char))
            last = False
        i += 1
    if len(frames) > 1:
        raise Rejected("paren")
    return "".join(out)


def _quantifier(pattern: str, i: int, last: bool | None, frame: _Frame, out: list[str]) -> int:
    char = pattern[i]
    if char == "{":
        match = _COUNT.match(pattern, i)
        if match is None:
            raise Rejected("literal")
        low = int(match[1])
        high = low if match[2] is None else (int(match[3]) if match[3] else None)
        if low > MAX_COUNT or (high is not None and (high > MAX_COUNT or high < low)):
            raise Rejected("count")
        text = match[0]
        end = match.end()
    else:
        high = None if char in "*+" else 1
        text, end = char, i + 1
    if last is None:
        raise Rejected("nothing")
    if last and (high is None or high > 1):
        raise Rejected("nested")  # (a+)+ and (a|ab)* backtrack exponentially in both engines
    frame.complex = True
    if pattern.startswith("?", end):  # lazy
        text += "?"
        end += 1
    out.append(text)
    return end


def _escape(pattern: str, i: int) -> str:
    if i + 1 >= len(pattern):
        raise Rejected("escape")
    char = pattern[i + 1]
    if char in _ESCAPES:
        return _ESCAPES[char]
    if char in _CONTROL:
        return literal(_CONTROL[char])
    if char in _PUNCT:
        return literal(char)
    raise Rejected("escape")


def _class_item(pattern: str, i: int) -> tuple[str | None, str, int]:
    """One member of [...]: (the literal char or None for \\d-like sets, its output, next index)."""
    char = pattern[i]
    if char == "[":
        raise Rejected("literal")
    if char != "\\":
        return char, literal(char), i + 1
    if i + 1 >= len(pattern):
        raise Rejected("class")
    escaped = pattern[i + 1]
    if escaped in _CLASS_ESCAPES:
        return None, _CLASS_ESCAPES[escaped], i + 2
    if escaped in _CONTROL:
        escaped = _CONTROL[escaped]
    elif escaped not in _PUNCT:
        raise Rejected("escape")
    return escaped, literal(escaped), i + 2


def _char_class(pattern: str, i: int, out: list[str]) -> int:
    i += 1
    negated = pattern.startswith("^", i)
    i += 1 if negated else 0
    parts: list[str] = []
    while i < len(pattern) and pattern[i] != "]":
        char, text, i = _class_item(pattern, i)
        is_range = pattern.startswith("-", i) and i + 1 < len(pattern) and pattern[i + 1] != "]"
        if char is not None and is_range:
            end_char, end_text, i = _class_item(pattern, i + 1)
            if end_char is None or ord(end_char) < ord(char):
                raise Rejected("class")
            text += "-" + end_text
        parts.append(text)
    if i >= len(pattern) or not parts:
        raise Rejected("class")
    out.append("[" + ("^" if negated else "") + "".join(parts) + "]")
    return i + 1


_compiled: dict[str, re.Pattern[str] | None] = {}


def compiled(pattern: str) -> re.Pattern[str] | None:
    """The compiled pattern, or None when it is outside the subset; cached so a form's constraint
    is translated once, not on every keystroke."""
    if pattern in _compiled:
        return _compiled[pattern]
    try:
        result: re.Pattern[str] | None = re.compile(translate(pattern))
    except (Rejected, re.error, RecursionError, OverflowError):
        result = None
    if len(_compiled) >= 512:
        _compiled.clear()
    _compiled[pattern] = result
    return result


def matches(text: str, pattern: str) -> bool:
    if len(text) > MAX_INPUT:
        return False
    regex = compiled(pattern)
    return regex is not None and regex.search(text) is not None
