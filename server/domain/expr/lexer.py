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
    while True:
        while i < len(text) and text[i] in _WHITESPACE:
            i += 1
        if i >= len(text):
            tokens.append(Token("end", "", i + 1))
            return tokens
        token, i = _next(text, i)
        tokens.append(token)
        if token.kind == "error":
            return tokens


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


def _reference(text: str, i: int) -> tuple[Token, int]:
    column = i + 1
    if text.startswith("${", i) and i + 2 < len(text) and _is_name_start(text[i + 2]):
        end = _scan(text, i + 2, "_.-")
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
