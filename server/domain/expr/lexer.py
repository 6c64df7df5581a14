"""Tokens of the expression language, with their 1-based columns.

A character the language does not have becomes an "error" token instead of an exception, so the
parser reports whichever problem comes first in the text, not whichever the lexer met first."""

from __future__ import annotations

from typing import NamedTuple


class Token(NamedTuple):
    kind: str  # num str ref name op dot dotdot end error
    text: str  # the source text; for str the content; for ref the name; for error the message kind
    column: int
    detail: tuple[tuple[str, str], ...] = ()  # error tokens: the message parameters


_OPS = ("!=", "<=", ">=", "(", ")", ",", "+", "-", "*", "=", "<", ">")
# Signs people bring from other languages, and what to write instead.
_HINTS = (("==", "="), ("<>", "!="), ("&&", "and"), ("||", "or"), ("&", "and"), ("|", "or"), ("%", "mod"))
_WHITESPACE = " \t\n\r"
_REF_PATH_CHARS = "/[]@"


def _is_digit(char: str) -> bool:
    return "0" <= char <= "9"


def _is_name_start(char: str) -> bool:
    return "a" <= char <= "z" or "A" <= char <= "Z" or char == "_"


def _is_name_char(char: str, extra: str) -> bool:
    return _is_name_start(char) or _is_digit(char) or char in extra


def _scan(text: str, i: int, extra: str) -> int:
    while i < len(text) and _is_name_char(text[i], extra):
        i += 1
    return i


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    i = 0
    predicates = 0  # '[' of instance paths open: only there is ']' a token
    while True:
        while i < len(text) and text[i] in _WHITESPACE:
            i += 1
        if i >= len(text):
            tokens.append(Token("end", "", i + 1))
            return tokens
        char = text[i]
        if ((char == "/" or char == "[") and _in_path(tokens)) or (char == "]" and predicates):
            token, i = Token("op", char, i + 1), i + 1
        else:
            token, i = _next(text, i)
        predicates += (token.kind, token.text) == ("op", "[")
        predicates -= (token.kind, token.text) == ("op", "]")
        tokens.append(token)
        if token.kind == "error":
            return tokens


def _in_path(tokens: list[Token]) -> bool:
    """After instance('name'), a step name of its path or a closing ']', a '/' or '[' continues the
    path (instance('desa')/root/item[...]/label); anywhere else they are errors, as before."""
    last = [(t.kind, t.text) for t in tokens[-4:]]
    if last[-1:] == [("op", "]")]:
        return True
    if len(last) >= 2 and last[-1][0] == "name" and last[-2] == ("op", "/"):
        return True
    return len(last) == 4 and last[0] == ("name", "instance") and last[1] == ("op", "(") and last[2][0] == "str" \
        and last[3] == ("op", ")")


def _error(kind: str, column: int, **params: str) -> Token:
    return Token("error", kind, column, tuple(params.items()))


def _next(text: str, i: int) -> tuple[Token, int]:
    char, column = text[i], i + 1
    following = text[i + 1] if i + 1 < len(text) else ""
    if _is_digit(char) or (char == "." and _is_digit(following)):
        end = i
        while end < len(text) and _is_digit(text[end]):
            end += 1
        if end < len(text) and text[end] == ".":
            end += 1
            while end < len(text) and _is_digit(text[end]):
                end += 1
        return Token("num", text[i:end], column), end
    if char == ".":
        return (
            (Token("dotdot", "..", column), i + 2) if following == "." else (Token("dot", ".", column), i + 1)
        )
    if char in "'\"":
        close = text.find(char, i + 1)
        if close < 0:
            return _error("unterminated", column, text=char), len(text)
        return Token("str", text[i + 1 : close], column), close + 1
    if char == "$":
        return _reference(text, i)
    if _is_name_start(char):
        end = _scan(text, i, "_.:-")
        return Token("name", text[i:end], column), end
    return _symbol(text, i)


# ODK's ${last-saved#name}: the answer in the last saved record of this form (read as empty in
# Pantau, docs/forms.md); the reference keeps the prefix, so no field is ever named by it.
LAST_SAVED = "last-saved#"


def _reference(text: str, i: int) -> tuple[Token, int]:
    column = i + 1
    start = i + 2 + len(LAST_SAVED) if text.startswith(LAST_SAVED, i + 2) else i + 2
    if text.startswith("${", i) and start < len(text) and _is_name_start(text[start]):
        end = _scan(text, start, "_.-")
        if text.startswith("}", end):
            return Token("ref", text[i + 2 : end], column), end + 1
    return _error("bad_ref", column), len(text)


def _symbol(text: str, i: int) -> tuple[Token, int]:
    column = i + 1
    for sign, fix in _HINTS:
        if text.startswith(sign, i):
            return _error("use", column, text=sign, fix=fix), len(text)
    for op in _OPS:
        if text.startswith(op, i):
            return Token("op", op, column), i + len(op)
    char = text[i]
    if char == "!":
        return _error("use", column, text="!", fix="!= / not(...)"), len(text)
    if char == "/":
        following = text[i + 1] if i + 1 < len(text) else ""
        if _is_name_start(following) or following == "/":
            end = _scan(text, i + 1, "_.:-/")
            return _error("path", column, text=text[i:end]), len(text)
        return _error("use", column, text="/", fix="div"), len(text)
    if char in _REF_PATH_CHARS:
        return _error("path", column, text=char), len(text)
    return _error("bad_char", column, text=char), len(text)
