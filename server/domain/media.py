"""Recordings and files a form's audio, video and file questions hold (a photo is storage/attachments'
re-encoded image). The bytes decide what an upload is, never its name or the client's content type:
an audio question takes what ODK Collect and a phone's recorder write (MP3, Ogg, M4A/AAC, WAV, AMR,
3GP), a video question MP4, 3GP or WebM, and a file question anything, kept and served as
application/octet-stream so a browser never renders it as a page of our origin."""

from __future__ import annotations

from collections.abc import Mapping

KINDS = ("audio", "video", "file")
OCTET = "application/octet-stream"
# What the start of a file must show; 16 bytes decide every format below.
HEAD = 16
# The `accept` of the phone's file input per question type ("" = any file).
ACCEPT = {"audio": "audio/*", "video": "video/*", "file": ""}
EXTENSIONS = {"audio/mpeg": "mp3", "audio/ogg": "ogg", "audio/mp4": "m4a", "audio/aac": "aac", "audio/wav": "wav",
              "audio/amr": "amr", "audio/3gpp": "3gp", "audio/webm": "webm", "video/mp4": "mp4",
              "video/3gpp": "3gp", "video/webm": "webm", OCTET: "bin"}

# An ISO media file (MP4, M4A, 3GP) says which in its `ftyp` box's brand.
_AUDIO_BRANDS = ("M4A ", "M4B ", "M4P ", "F4A ")
_3GP_BRANDS = ("3gp", "3g2")


def _iso_brand(head: bytes) -> str | None:
    return head[8:12].decode("latin-1") if head[4:8] == b"ftyp" else None


def _audio(head: bytes) -> str | None:
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                                    and head[1] & 0x06 != 0):
        # MPEG audio frame sync with a layer set; an ADTS AAC stream has layer bits 00.
        return "audio/mpeg"
    if len(head) > 1 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio/aac"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "audio/webm"  # Chrome's MediaRecorder writes WebM/Opus
    brand = _iso_brand(head)
    if brand is None:
        return None
    if brand.startswith(_3GP_BRANDS):
        return "audio/3gpp"
    return "audio/mp4"  # M4A, or an MP4 holding sound only: the audio element plays both


def _video(head: bytes) -> str | None:
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    brand = _iso_brand(head)
    if brand is None or brand in _AUDIO_BRANDS:
        return None
    return "video/3gpp" if brand.startswith(_3GP_BRANDS) else "video/mp4"


def sniff(head: bytes, kind: str) -> str | None:
    """The content type the upload is kept as for a question of this kind, from its first bytes;
    None when they are not a recording of that kind. A file question keeps anything, as octet-stream."""
    if kind == "audio":
        return _audio(head)
    if kind == "video":
        return _video(head)
    return OCTET if kind == "file" else None


def fits(kind: str, content_type: str) -> bool:
    """May an answer of this question type cite an upload stored with this content type? Sound may
    come in any video container (MP4, 3GP, WebM: a phone's recorder writes them too); a video may be
    a 3GP that was first kept as sound, never an M4A or MP3."""
    if kind == "image":
        return content_type.startswith("image/")
    if kind == "audio":
        return content_type.startswith(("audio/", "video/"))
    if kind == "video":
        return content_type.startswith("video/") or content_type == "audio/3gpp"
    return kind == "file"


def cap_bytes(parameters: Mapping[str, str], default: int) -> int:
    """A question's limit: its `max_size` parameter in megabytes (decimals allowed), never above the
    server's (PANTAU_MAX_FILE_BYTES)."""
    written = parameters.get("max_size")
    if not written:
        return default
    return min(default, int(float(written) * 1024 * 1024))
