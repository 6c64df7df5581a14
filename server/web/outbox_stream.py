"""An exported outbox file read a chunk at a time. The file is one JSON object: a few small fields,
the items (what the phone would have posted, small) and `photos`, an object of sha256 -> the bytes
in base64, each as large as the photo, recording or file it holds. The small fields and the items
are copied as JSON text and decoded strictly by msgspec as before (offline_context.OutboxFile); each
base64 string is handed on in pieces of at most CHUNK bytes as it is read, never whole.

No JSON library streams a single string value (ijson and the parsers under it hand over each string
whole, and a 50 MB recording is a 67 MB string), so this reads the outer object itself: it finds the
end of each top-level value (strings, escapes, nesting) and leaves checking the values to msgspec
and the base64 decoder. Anything else (a truncated file, bytes after the object, a value that is not
what the format says) is outbox.bad_file, a 400."""

from __future__ import annotations

import binascii
import re
from collections.abc import Iterator
from typing import BinaryIO

import msgspec

from server.errors import PantauError

CHUNK = 64 * 1024
_SPACE = b" \t\r\n"
_STRUCTURE = re.compile(rb'["{}\[\]]')
_QUOTE_OR_ESCAPE = re.compile(rb'["\\]')
_SCALAR_END = re.compile(rb"[,}\]\s]")
SCALAR_MAX = 64  # no number, true, false or null of the format is longer


def bad(detail: str) -> PantauError:
    return PantauError("outbox.bad_file", detail=detail[:200])


class Field(msgspec.Struct, frozen=True):
    """A top-level member other than photos: its key and its value as JSON text."""

    key: bytes
    value: bytes


class PhotoStart(msgspec.Struct, frozen=True):
    sha256: str


class PhotoPiece(msgspec.Struct, frozen=True):
    data: bytes  # base64 text, its JSON escapes (only \/ is base64) left as they are


class PhotoEnd(msgspec.Struct, frozen=True):
    sha256: str


Event = Field | PhotoStart | PhotoPiece | PhotoEnd


class _Reader:
    """The file's bytes with a small window kept: `buf[pos:]` is what is not consumed yet."""

    def __init__(self, source: BinaryIO) -> None:
        self.source, self.buf, self.pos, self.offset = source, b"", 0, 0

    def more(self) -> bool:
        piece = self.source.read(CHUNK)
        if not piece:
            return False
        self.offset += self.pos
        self.buf, self.pos = self.buf[self.pos:] + piece, 0
        return True

    def where(self) -> str:
        return f"byte {self.offset + self.pos}"

    def truncated(self) -> PantauError:
        return bad(f"{self.where()}: berkas terpotong / truncated")

    def _past_space(self) -> bool:
        """Past any white space; False at the end of the file."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return True
            if not self.more():
                return False

    def next_byte(self) -> int:
        """The next byte that is not white space, not consumed."""
        if not self._past_space():
            raise self.truncated()
        return self.buf[self.pos]

    def expect(self, byte: bytes) -> None:
        if self.next_byte() != byte[0]:
            raise bad(f"{self.where()}: expected {byte.decode()}")
        self.pos += 1

    def at_end(self) -> bool:
        return not self._past_space()

    def string_pieces(self) -> Iterator[bytes]:
        """A string's text between its quotes, in pieces (the opening quote already consumed); an
        escape is never split between two pieces."""
        while True:
            found = _QUOTE_OR_ESCAPE.search(self.buf, self.pos)
            if found is None:
                if self.pos < len(self.buf):
                    yield self.buf[self.pos:]
                    self.pos = len(self.buf)
                if not self.more():
                    raise self.truncated()
                continue
            if self.buf[found.start()] == ord('"'):
                if found.start() > self.pos:
                    yield self.buf[self.pos:found.start()]
                self.pos = found.end()
                return
            rest = len(self.buf) - found.end()  # the escape's rest: one byte, or u and four hex digits
            if rest < 1 or (self.buf[found.end()] == ord("u") and rest < 5):
                if not self.more():
                    raise self.truncated()
                continue  # the same backslash is found again in the longer window
            end = found.end() + (5 if self.buf[found.end()] == ord("u") else 1)
            yield self.buf[self.pos:end]
            self.pos = end

    def value(self, limit: int) -> bytes:
        """The next JSON value's text, whole (its content is checked later by msgspec)."""
        first = self.next_byte()
        out = bytearray()
        if first not in b'{["':
            return self._scalar()
        depth = 0
        while True:
            found = _STRUCTURE.search(self.buf, self.pos)
            if found is None:
                out += self.buf[self.pos:]
                self.pos = len(self.buf)
                if not self.more():
                    raise self.truncated()
                continue
            out += self.buf[self.pos:found.end()]
            self.pos = found.end()
            mark = self.buf[found.start()]
            if mark == ord('"'):
                for piece in self.string_pieces():
                    out += piece
                    if len(out) > limit:
                        raise bad(f"{self.where()}: too large / terlalu besar")
                out += b'"'
            elif mark in b"{[":
                depth += 1
            else:
                depth -= 1
            if len(out) > limit:
                raise bad(f"{self.where()}: too large / terlalu besar")
            if depth <= 0:
                return bytes(out)

    def _scalar(self) -> bytes:
        while True:
            found = _SCALAR_END.search(self.buf, self.pos)
            if found is not None or len(self.buf) - self.pos > SCALAR_MAX or not self.more():
                end = found.start() if found is not None else len(self.buf)
                text = self.buf[self.pos:end]
                if not text or len(text) > SCALAR_MAX:
                    raise bad(f"{self.where()}: value")
                self.pos = end
                return text


def events(source: BinaryIO, limit: int) -> Iterator[Event]:
    """The file's top-level members in order: Field for each small one (its text up to `limit`
    bytes), and for every entry of `photos` PhotoStart, its base64 in PhotoPieces, PhotoEnd."""
    reader = _Reader(source)
    reader.expect(b"{")
    if reader.next_byte() == ord("}"):
        reader.pos += 1
    else:
        while True:
            yield from _member(reader, limit)
            if reader.next_byte() == ord(","):
                reader.pos += 1
                continue
            reader.expect(b"}")
            break
    if not reader.at_end():
        raise bad(f"{reader.where()}: data after the end / data setelah akhir")


def _key(reader: _Reader) -> tuple[bytes, str]:
    if reader.next_byte() != ord('"'):
        raise bad(f"{reader.where()}: expected a key")
    text = reader.value(256)
    try:
        return text, msgspec.json.decode(text, type=str)
    except msgspec.DecodeError:
        raise bad(f"{reader.where()}: key") from None


def _member(reader: _Reader, limit: int) -> Iterator[Event]:
    raw, key = _key(reader)
    reader.expect(b":")
    if key != "photos":
        yield Field(raw, reader.value(limit))
        return
    reader.expect(b"{")
    if reader.next_byte() == ord("}"):
        reader.pos += 1
        return
    while True:
        _, sha = _key(reader)
        reader.expect(b":")
        if reader.next_byte() != ord('"'):
            raise bad(f"photos.{sha[:12]}: base64")
        reader.pos += 1
        yield PhotoStart(sha)
        for piece in reader.string_pieces():
            yield PhotoPiece(piece)
        yield PhotoEnd(sha)
        if reader.next_byte() == ord(","):
            reader.pos += 1
            continue
        reader.expect(b"}")
        return


class Base64:
    """Base64 text in pieces to bytes in pieces, as strict as base64.b64decode(validate=True): the
    alphabet only, padding only at the very end."""

    def __init__(self, sha256: str) -> None:
        self.sha256, self.carry = sha256, b""

    def _refuse(self) -> PantauError:
        return bad(f"photos.{self.sha256[:12]}: base64")

    def feed(self, piece: bytes) -> bytes:
        text = self.carry + (piece.replace(b"\\/", b"/") if b"\\" in piece else piece)
        cut = len(text) // 4 * 4
        if cut == len(text):
            cut -= 4  # the last quad may carry the padding: decoded by end()
        cut = max(cut, 0)
        self.carry = text[cut:]
        if b"=" in text[:cut]:
            raise self._refuse()
        try:
            return binascii.a2b_base64(text[:cut], strict_mode=True)
        except binascii.Error:
            raise self._refuse() from None

    def end(self) -> bytes:
        if len(self.carry) % 4:
            raise self._refuse()
        try:
            return binascii.a2b_base64(self.carry, strict_mode=True)
        except binascii.Error:
            raise self._refuse() from None
