"""Review of submissions: the four states and who may move a record between them, the flags a record
can carry, the filters of the submissions list with its tamper-evident page cursor, and what changed
between two revisions. Pure rules; storage/review.py applies them to rows."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

import msgspec

from server.domain.nik import mask as nik_mask

RECEIVED, APPROVED, NEEDS_CORRECTION, REJECTED = "received", "approved", "needs_correction", "rejected"
STATUSES: dict[str, tuple[str, str]] = {  # code -> (Indonesian, English)
    RECEIVED: ("Masuk", "Received"),
    APPROVED: ("Disetujui", "Approved"),
    NEEDS_CORRECTION: ("Perlu perbaikan", "Needs correction"),
    REJECTED: ("Ditolak", "Rejected"),
}
# Who may go where by a reviewer's decision. "received" as a target is an undo (un-approve, withdraw
# a request for correction, reopen a rejection); a corrected revision from the phone also lands there.
TRANSITIONS: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({APPROVED, NEEDS_CORRECTION, REJECTED}),
    APPROVED: frozenset({RECEIVED, NEEDS_CORRECTION, REJECTED}),
    NEEDS_CORRECTION: frozenset({RECEIVED, APPROVED, REJECTED}),
    REJECTED: frozenset({RECEIVED}),
}
# The enumerator must be told what to fix, and a rejection must say why (it is final for reports).
COMMENT_REQUIRED = frozenset({NEEDS_CORRECTION, REJECTED})
MAX_COMMENT = 2000

# Flags a record can be filtered by. The registry adds its own (e.g. a duplicate NIK) by
# registering a name here and writing submission_flag rows; storage/review.py knows how to query each.
FLAGS: dict[str, tuple[str, str]] = {
    "warning": ("Ada peringatan yang dikonfirmasi", "Has confirmed warnings"),
    "nik_warning": ("Peringatan NIK/KK", "NIK/KK warning"),
    "edited": ("Pernah direvisi", "Edited (more than one revision)"),
    "corrected": ("Pernah dikembalikan untuk perbaikan", "Was sent back for correction"),
    # The registry's, about the beneficiary a record registers or visits, as they are now
    # (a merge clears a duplicate): registry.DUPLICATE_NIK, registry.SHARED_KK, and confirmed NIK/KK
    # warnings kept on the beneficiary's record.
    "nik_ganda": ("Penerima dengan NIK ganda", "Beneficiary with a duplicate NIK"),
    "kk_ganda": ("Penerima dengan KK sama dengan penerima lain", "Beneficiary sharing a family card"),
    "penerima_nik": ("Penerima dengan peringatan NIK/KK", "Beneficiary with NIK/KK warnings"),
}
ID_TYPES = frozenset({"nik", "no_kk"})
CONFIRM_KEY = "_konfirmasi"  # answers.CONFIRM_KEY; repeated to keep this module free of the validator


def transition_problem(current: str, wanted: str, comment: str) -> str | None:
    """The catalogue code that refuses this decision, or None when it is allowed."""
    if wanted not in STATUSES:
        return "review.bad_status"
    if wanted not in TRANSITIONS.get(current, frozenset()):
        return "review.bad_transition"
    if wanted in COMMENT_REQUIRED and not comment.strip():
        return "review.comment_required"
    if len(comment) > MAX_COMMENT:
        return "review.comment_too_long"
    return None


def status_label(code: str, lang: str) -> str:
    labels = STATUSES.get(code)
    return (labels[1] if lang == "en" else labels[0]) if labels else code


# --- what a stored record is flagged for and searched by ---------------------------------------------
def confirmed_names(answers: Mapping[str, Any]) -> set[str]:
    """Every field whose warning the enumerator ticked, inside repeats too."""
    found: set[str] = set()
    ticked = answers.get(CONFIRM_KEY)
    if isinstance(ticked, list):
        found.update(str(name) for name in ticked)
    for value in answers.values():
        if isinstance(value, list):
            for instance in value:
                if isinstance(instance, dict):
                    found |= confirmed_names(instance)
    return found


def flags_of(answers: Mapping[str, Any], field_types: Mapping[str, str]) -> set[str]:
    """The flags stored with a record (the derived ones, edited and corrected, come from SQL)."""
    confirmed = confirmed_names(answers)
    if not confirmed:
        return set()
    flags = {"warning"}
    if any(field_types.get(name) in ID_TYPES for name in confirmed):
        flags.add("nik_warning")
    return flags


def name_field(compiled: Any) -> str | None:
    """The answer that names the person a record is about: the registry block's `creates.name` when
    the form declares one, else a text question called `nama` outside repeats."""
    registry = getattr(compiled.definition.settings, "registry", None)
    creates = getattr(registry, "creates", None) if registry is not None else None
    if creates is not None and getattr(creates, "name", None):
        return str(creates.name)
    info = compiled.fields.get("nama")
    if info is not None and info.type == "text" and not info.repeat:
        return "nama"
    return None


_NOT_WORD = re.compile(r"[^\w]+")
_APOSTROPHES = re.compile(r"['’`]")


def name_key(name: str) -> str:
    """The form a name is searched in: no accents, case or punctuation ("Nur'aini" ~ "nuraini"); the
    same rule as the registry's, so one search box can ask both."""
    if name.isascii():  # most names: NFKD leaves ASCII as it is, it has no combining marks, and casefold is lower
        plain = name.lower()
    else:
        plain = unicodedata.normalize("NFKD", name)
        plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    return " ".join(_NOT_WORD.sub(" ", _APOSTROPHES.sub("", plain)).split())


def mask_id(value: Any) -> str:
    """The one mask (domain/nik.mask): NIK and KK are personal data (UU 27/2022), shown whole only
    to those who may reveal them."""
    return nik_mask(value)


def mask_answers(answers: Mapping[str, Any], ids: set[str]) -> dict[str, Any]:
    """A copy with every NIK/KK answer masked, inside repeats too."""
    out: dict[str, Any] = {}
    for name, value in answers.items():
        if name in ids:
            out[name] = mask_id(value) if value not in (None, "") else value
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out[name] = [mask_answers(v, ids) for v in value]
        else:
            out[name] = value
    return out


def unmask(answers: Mapping[str, Any], values: Mapping[str, str], prefix: str = "") -> dict[str, Any]:
    """A copy with the whole NIK/KK put back at their paths ("nik", "anggota[2]/nik_art"): stored
    answers hold them masked, the registry keeps them sealed beside (storage/pii.py)."""
    out: dict[str, Any] = {}
    for name, value in answers.items():
        path = prefix + name
        if path in values:
            out[name] = values[path]
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            out[name] = [unmask(v, values, f"{path}[{i}]/") for i, v in enumerate(value, 1)]
        else:
            out[name] = value
    return out


def id_fields(compiled: Any) -> set[str]:
    return {name for name, info in compiled.fields.items() if info.type in ID_TYPES}


def question_types(compiled: Any) -> dict[str, str]:
    return {name: info.type for name, info in compiled.fields.items()}


# --- the filters of the submissions list -------------------------------------------------------------
class BadFilter(Exception):
    """A filter the list cannot apply; `code` is a catalogue code, `detail` names the filter."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


class Filters(msgspec.Struct, frozen=True, kw_only=True):
    form_id: str = ""
    version: str = ""
    area: str = ""
    enumerator: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    statuses: tuple[str, ...] = ()  # empty: every status
    flags: tuple[str, ...] = ()
    name: str = ""  # a name_key fragment

    def fingerprint(self) -> str:
        """Binds a page cursor to the filters it was made for."""
        return hashlib.sha256(msgspec.json.encode(self)).hexdigest()[:16]


LIST_PARAMS = frozenset({"form", "version", "area", "enumerator", "since", "until", "status", "flag", "q",
                         "cursor", "lang", "cols", "limit"})
_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}\Z")
_AREA_RE = re.compile(r"[0-9]{2}(\.[0-9]{2}){0,2}(\.[0-9]{4})?\Z")
ALL = "all"


def parse_filters(params: Mapping[str, list[str]], *, default_statuses: tuple[str, ...] = (),
                  allowed: frozenset[str] = LIST_PARAMS) -> Filters:
    """Query parameters (each name -> its values) -> Filters. Anything unknown or malformed is a
    BadFilter naming it: a typo must not silently widen or empty the list."""
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise BadFilter("review.bad_filter", unknown[0])
    one = {name: _single(params, name) for name in ("form", "version", "area", "enumerator", "since", "until", "q")}
    for name in ("form", "version", "enumerator"):
        if one[name] and not _NAME_RE.match(one[name]):
            raise BadFilter("review.bad_filter", name)
    if one["version"] and not one["form"]:
        raise BadFilter("review.bad_filter", "version")
    if one["area"] and not _AREA_RE.match(one["area"]):
        raise BadFilter("review.bad_filter", "area")
    since, until = _date(one["since"], "since"), _date(one["until"], "until")
    if since and until and since > until:
        raise BadFilter("review.reversed_dates", "since > until")
    statuses = _statuses(params.get("status", []), default_statuses)
    flags = tuple(sorted({f for f in params.get("flag", []) if f}))
    if any(f not in FLAGS for f in flags):
        raise BadFilter("review.bad_filter", "flag")
    if len(one["q"]) > 100:
        raise BadFilter("review.bad_filter", "q")
    return Filters(form_id=one["form"], version=one["version"], area=one["area"], enumerator=one["enumerator"],
                   since=since, until=until, statuses=statuses, flags=flags, name=name_key(one["q"]))


def _single(params: Mapping[str, list[str]], name: str) -> str:
    values = [v for v in params.get(name, []) if v.strip()]
    if len(values) > 1:
        raise BadFilter("review.bad_filter", name)
    return values[0].strip() if values else ""


def _date(raw: str, name: str) -> dt.date | None:
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise BadFilter("review.bad_filter", name) from None


def _statuses(raw: list[str], default: tuple[str, ...]) -> tuple[str, ...]:
    wanted = {v for v in raw if v}
    if not wanted:
        return default
    if ALL in wanted:
        return ()
    if any(v not in STATUSES for v in wanted):
        raise BadFilter("review.bad_filter", "status")
    return tuple(sorted(wanted))


# --- the page cursor: opaque, and refused when changed ---------------------------------------------------
def cursor_key(secret_key: str) -> bytes:
    """A key of its own for cursors, so nothing signed elsewhere with the secret can pass as one."""
    return hmac.new(secret_key.encode(), b"pantau/cursor/v1", hashlib.sha256).digest()


def encode_cursor(key: bytes, filters: Filters, received_at: dt.datetime, instance_id: str) -> str:
    body = msgspec.json.encode([filters.fingerprint(), received_at.isoformat(), instance_id])
    tag = hmac.new(key, body, hashlib.sha256).digest()[:16]
    return _b64(body) + "." + _b64(tag)


def decode_cursor(key: bytes, filters: Filters, token: str) -> tuple[dt.datetime, str]:
    """(received_at, instance id) of the last row shown; BadFilter when the cursor was changed, made
    for other filters, or is not a cursor at all."""
    try:
        body_text, tag_text = token.split(".")
        body, tag = _unb64(body_text), _unb64(tag_text)
        if not hmac.compare_digest(tag, hmac.new(key, body, hashlib.sha256).digest()[:16]):
            raise ValueError("tag")
        fingerprint, at, instance_id = msgspec.json.decode(body, type=tuple[str, str, str])
        if fingerprint != filters.fingerprint():
            raise ValueError("filters")
        return dt.datetime.fromisoformat(at), instance_id
    except (ValueError, msgspec.DecodeError):
        raise BadFilter("review.bad_cursor", "cursor") from None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    if len(text) > 400:
        raise ValueError("long")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- what changed between two revisions --------------------------------------------------------------------
class Change(msgspec.Struct, frozen=True):
    path: str  # "nama"; inside a repeat "anggota[2]/umur" (1-based, as on the phone)
    name: str  # the field name, to find its label
    before: Any
    after: Any


def flatten(answers: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """path -> value for every answer; reserved keys (leading "_") are bookkeeping, not answers."""
    out: dict[str, Any] = {}
    for name, value in answers.items():
        if name.startswith("_"):
            continue
        if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
            for index, instance in enumerate(value, 1):
                out.update(flatten(instance, f"{prefix}{name}[{index}]/"))
        else:
            out[prefix + name] = value
    return out


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Change]:
    old, new = flatten(before), flatten(after)
    changes = [Change(path, _leaf(path), old.get(path), value) for path, value in new.items()
               if old.get(path) != value]
    changes += [Change(path, _leaf(path), value, None) for path, value in old.items() if path not in new]
    return changes


def _leaf(path: str) -> str:
    return path.rsplit("/", 1)[-1]
