"""Form media: the image, audio and video files an XLSForm's media columns name (`image`,
`media::image`, `image::English (en)`, `big-image`, `audio`, `video`) on a question or a choice.
The definition keeps the names as written (Question.xlsform, Choice.columns); the files are uploaded
with the form or later and kept apart from the definition (storage/form_media.py), by form and
file name, content-addressed. Here: which names a form uses, what a file is (by its bytes, never its
name or the client's content type), and which file a question or choice shows in a language.

SVG is refused: it is an image that can carry script. Names are file names only: a path, "..", a
NUL or a control character is refused."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from server.domain import media
from server.domain.form import Choice, Form, Question, walk

MEDIA_KINDS = ("image", "big-image", "audio", "video")
# What each column may hold: the first part of the sniffed content type.
COLUMN_FAMILY = {"image": "image", "big-image": "image", "audio": "audio", "video": "video"}
ACCEPT = "image/jpeg,image/png,image/webp,image/gif,audio/mpeg,audio/ogg,audio/mp4,audio/wav,video/mp4,video/webm"
MAX_NAME = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_IMAGES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"RIFF", "image/webp"),
           (b"GIF87a", "image/gif"), (b"GIF89a", "image/gif"))
# The recordings a form may show: the players of a phone's browser (a 3GP video plays on Android).
_PLAYED = frozenset(ACCEPT.split(",")) | {"video/3gpp"}


def media_kind(column: str) -> str | None:
    """'image::en' -> 'image'; None for a column that is not a media column."""
    base = column.split("::", 1)[0]
    return base if base in MEDIA_KINDS else None


def column_language(column: str) -> str:
    """'image::en' -> 'en'; '' for the column without a language (every language's fallback)."""
    return column.split("::", 1)[1] if "::" in column else ""


def _columns(form: Form) -> Iterator[tuple[str, str]]:
    for field, _ in walk(form.fields):
        if isinstance(field, Question):
            yield from field.xlsform.items()
    for choices in form.choices.values():
        for choice in choices.choices:
            yield from choice.columns.items()


def named_files(form: Form) -> dict[str, str]:
    """Every media file the form names -> the column kind that names it first (image, audio, ...)."""
    out: dict[str, str] = {}
    for column, value in _columns(form):
        kind = media_kind(column)
        if kind is not None and value.strip():
            out.setdefault(value.strip(), kind)
    return dict(sorted(out.items()))


def shown(columns: Mapping[str, str], lang: str) -> list[tuple[str, str]]:
    """(kind, file name) a question or choice shows in `lang`: per kind, the column in that language,
    else the one without a language. big-image stands in for image when there is no image."""
    out: list[tuple[str, str]] = []
    for kind in ("image", "audio", "video"):
        chosen = ""
        for candidate in ((kind, "big-image") if kind == "image" else (kind,)):
            chosen = (columns.get(f"{candidate}::{lang}") or columns.get(candidate) or "").strip()
            if chosen:
                break
        if chosen:
            out.append((kind, chosen))
    return out


def question_media(question: Question, lang: str) -> list[tuple[str, str]]:
    return shown(question.xlsform, lang)


def choice_media(choice: Choice, lang: str) -> list[tuple[str, str]]:
    return shown(choice.columns, lang)


def bad_name(name: str) -> bool:
    """A name that is not a plain file name: empty, too long, a path, '..', NUL or a control character."""
    return (not name or len(name) > MAX_NAME or "/" in name or "\\" in name or name in (".", "..")
            or name.startswith(".") or ".." in name or bool(_CONTROL.search(name)) or name != name.strip())


def sniff(data: bytes) -> str | None:
    """The content type the bytes are, among those a phone's browser shows (ACCEPT); None for
    anything else (SVG included). Sound and video are told apart as answers' recordings are
    (domain/media.sniff); video first, since an MP4 of sound only says so in its brand."""
    head = data[:64]
    for signature, content_type in _IMAGES:
        if head.startswith(signature) and (content_type != "image/webp" or head[8:12] == b"WEBP"):
            return content_type
    for kind in ("video", "audio"):
        found = media.sniff(head[:media.HEAD], kind)
        if found in _PLAYED:
            return found
    return None


def fits(kind: str, content_type: str) -> bool:
    """An image column takes an image, an audio column audio, a video column video."""
    return content_type.split("/", 1)[0] == COLUMN_FAMILY.get(kind, "")
