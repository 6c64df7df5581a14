"""The one registry of question types (STYLE.md 9). Each type says which attributes and parameters
it takes, its XLSForm name, how a raw answer is cleaned and which extra rules (NIK, phone, GPS
accuracy) it runs. Loaders, checks, validation, XLSForm and the docs test all read this table, so
adding a type is one `register(...)` here plus its section in docs/forms.md."""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from server.domain import nik as idrules
from server.domain.nik import Finding


class BadAnswer(Exception):
    """A raw answer that is not a value of its type; `code` is a catalogue code."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


# Extra rules get the cleaned value, the answers named by the field's parameters (already cleaned,
# None when empty), the field's literal parameters, and today's date.
Outcome = tuple[list[Finding], list[Finding]]  # (errors, warnings)
Rules = Callable[[Any, Mapping[str, Any], Mapping[str, str], dt.date], Outcome]

BASE_ATTRIBUTES = frozenset({"label", "hint", "relevant", "appearance"})
INPUT_ATTRIBUTES = BASE_ATTRIBUTES | {
    "required", "required_message", "constraint", "constraint_message", "default", "read_only", "parameters",
}
SELECT_ATTRIBUTES = INPUT_ATTRIBUTES | {"choices", "choice_filter"}
# Types whose answer is a list of choice names (an ordered one for rank).
LIST_TYPES = frozenset({"select_multiple", "rank"})


@dataclass(frozen=True)
class QuestionType:
    name: str
    xlsform: str
    summary: str
    attributes: frozenset[str] = INPUT_ATTRIBUTES
    holds_value: bool = True
    has_choices: bool = False
    computed: bool = False  # the value comes from `calculation`, not from the enumerator
    # Parameters whose value names another field (checked like ${references}) / takes a literal.
    field_parameters: frozenset[str] = frozenset()
    literal_parameters: frozenset[str] = frozenset()
    clean: Callable[[Any], Any] | None = None
    rules: Rules | None = None


QUESTION_TYPES: dict[str, QuestionType] = {}


def register(qtype: QuestionType) -> QuestionType:
    if qtype.name in QUESTION_TYPES:
        raise ValueError(f"question type {qtype.name!r} registered twice")
    QUESTION_TYPES[qtype.name] = qtype
    return qtype


def by_xlsform_name(name: str) -> QuestionType | None:
    for qtype in QUESTION_TYPES.values():
        if qtype.xlsform == name:
            return qtype
    return None


# --- cleaners: raw JSON/form-post value -> the value expressions and storage see ---------------
_INT = re.compile(r"[+-]?[0-9]+\Z")
_DEC = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-][0-9]{2}:[0-9]{2})?\Z")
_RUPIAH_NOISE = re.compile(r"^\s*Rp\.?\s*|\s|\.(?=[0-9]{3}(?:[.,]|\Z))", re.IGNORECASE)


# A free-text answer longer than a page is not field data; the body limit alone would let one
# answer take megabytes of every export and report.
TEXT_MAX_CHARS = 10_000


def clean_text(raw: Any) -> str:
    if not isinstance(raw, str):
        raise BadAnswer("answer.text")
    text = raw.strip()
    if len(text) > TEXT_MAX_CHARS:
        raise BadAnswer("answer.text_long", max=TEXT_MAX_CHARS)
    return text


def clean_integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise BadAnswer("answer.integer")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float) and raw.is_integer():
        return int(raw)
    if isinstance(raw, str) and _INT.match(raw.strip()):
        return int(raw.strip())
    raise BadAnswer("answer.integer")


def clean_decimal(raw: Any) -> float:
    if isinstance(raw, bool):
        raise BadAnswer("answer.decimal")
    if isinstance(raw, float):
        value = raw
    elif isinstance(raw, int):  # a JSON integer of any size: float() of 10**400 raises OverflowError
        value = float(raw) if -(2**1000) < raw < 2**1000 else math.inf
    elif isinstance(raw, str):
        text = raw.strip()
        # Indonesian keyboards write 12,5; accept one decimal comma when there is no dot.
        if text.count(",") == 1 and "." not in text:
            text = text.replace(",", ".")
        if not _DEC.match(text):
            raise BadAnswer("answer.decimal")
        value = float(text)
    else:
        raise BadAnswer("answer.decimal")
    if not math.isfinite(value):
        raise BadAnswer("answer.decimal")
    return value


def clean_rupiah(raw: Any) -> int:
    if isinstance(raw, str):
        text = _RUPIAH_NOISE.sub("", raw)
        text = text[:-3] if text.endswith((",00", ".00")) else text
        raw = text
    try:
        value = clean_integer(raw)
    except BadAnswer:
        raise BadAnswer("answer.rupiah") from None
    if value < 0:
        raise BadAnswer("answer.rupiah")
    return value


def clean_choice(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int):
        raise BadAnswer("answer.choice", value=str(raw))
    return str(raw).strip()


def clean_choices(raw: Any) -> list[str]:
    items = raw.split() if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise BadAnswer("answer.select_multiple")
    names: dict[str, None] = {}  # in order, each once
    for item in items:  # a loop, not all() and a generator: this runs for every select_multiple answer
        name = item.strip() if isinstance(item, str) else ""
        if not name:
            raise BadAnswer("answer.select_multiple")
        names[name] = None
    return list(names)


def clean_date(raw: Any) -> str:
    if isinstance(raw, str) and _DATE.match(raw.strip()):
        try:
            return dt.date.fromisoformat(raw.strip()).isoformat()
        except ValueError:
            pass
    raise BadAnswer("answer.date")


def clean_time(raw: Any) -> str:
    if isinstance(raw, str) and _TIME.match(raw.strip()):
        return raw.strip()
    raise BadAnswer("answer.time")


def clean_datetime(raw: Any) -> str:
    if isinstance(raw, str) and "T" in raw:
        try:
            value = dt.datetime.fromisoformat(raw.strip())
        except ValueError:
            raise BadAnswer("answer.datetime") from None
        if value.tzinfo is not None:
            return value.isoformat()
    raise BadAnswer("answer.datetime")


def clean_geopoint(raw: Any) -> str:
    """ODK's "lat lon alt acc"; altitude and accuracy are filled with 0 when absent."""
    parts = raw.split() if isinstance(raw, str) else []
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise BadAnswer("answer.geopoint") from None
    if not 2 <= len(numbers) <= 4 or not all(math.isfinite(n) for n in numbers):
        raise BadAnswer("answer.geopoint")
    if not (-90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180) or (len(numbers) == 4 and numbers[3] < 0):
        raise BadAnswer("answer.geopoint")
    return " ".join([*parts, *["0"] * (4 - len(parts))])


def clean_file_name(raw: Any) -> str:
    # An attachment is referred to by its file name; a path could escape the attachment folder.
    if not isinstance(raw, str) or "/" in raw or "\\" in raw or len(raw) > 255 or raw.strip() in ("", ".", ".."):
        raise BadAnswer("answer.text")
    return raw.strip()


def _clean_points(raw: Any, code: str, least: int) -> str:
    """ODK's geotrace/geoshape: GPS points 'lat lon [alt [acc]]' separated by ';', each as clean_geopoint."""
    parts = [p.strip() for p in raw.split(";") if p.strip()] if isinstance(raw, str) else []
    try:
        points = [clean_geopoint(p) for p in parts]
    except BadAnswer:
        raise BadAnswer(code) from None
    if len(points) < least:
        raise BadAnswer(code)
    return ";".join(points)


def clean_geotrace(raw: Any) -> str:
    return _clean_points(raw, "answer.geotrace", 2)


def clean_geoshape(raw: Any) -> str:
    """A closed line: ODK Collect repeats the first point at the end; a shape sent open is closed."""
    value = _clean_points(raw, "answer.geoshape", 3)
    points = value.split(";")
    return value if points[0] == points[-1] and len(points) >= 4 else _closed(points)


def _closed(points: list[str]) -> str:
    if len(set(points)) < 3:
        raise BadAnswer("answer.geoshape")
    return ";".join([*points, points[0]]) if points[0] != points[-1] else ";".join(points)


def clean_acknowledge(raw: Any) -> str:
    if raw is True or (isinstance(raw, str) and raw.strip().upper() in ("OK", "1", "TRUE", "YA")):
        return "OK"
    raise BadAnswer("answer.acknowledge")


def clean_hidden(raw: Any) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise BadAnswer("answer.text")
    return raw


def clean_id_number(raw: Any) -> str:
    # Keep a bad value (as typed, stripped) so its rule can name what is wrong with it.
    text = clean_text(raw)
    digits = idrules.clean_digits(text)
    return digits if digits.isdigit() else text


def clean_phone(raw: Any) -> str:
    check = idrules.check_phone(clean_text(raw))
    if check.errors:
        raise BadAnswer(check.errors[0].code)
    assert check.e164 is not None
    return check.e164


def clean_beneficiary(raw: Any) -> str:
    """A beneficiary's id (a UUID: the instance id of the intake that registered them). Whether it
    exists and lies in the enumerator's areas is checked when the submission is stored."""
    try:
        return str(uuid.UUID(raw.strip())) if isinstance(raw, str) and len(raw.strip()) == 36 else _bad_id()
    except ValueError:
        return _bad_id()


def _bad_id() -> str:
    raise BadAnswer("answer.beneficiary")


# --- extra rules ---------------------------------------------------------------------------------
def _as_date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def nik_rules(value: Any, refs: Mapping[str, Any], _lit: Mapping[str, str], today: dt.date) -> Outcome:
    result = idrules.check_nik(
        str(value),
        registered=_as_date(refs.get("registered")) or today,
        sex=refs.get("sex") if isinstance(refs.get("sex"), str) else None,
        birth_date=_as_date(refs.get("birth_date")),
        kk=refs.get("kk") if isinstance(refs.get("kk"), str) else None,
    )
    return result.errors, result.warnings


def kk_rules(value: Any, refs: Mapping[str, Any], _lit: Mapping[str, str], today: dt.date) -> Outcome:
    result = idrules.check_kk(
        str(value),
        registered=_as_date(refs.get("registered")) or today,
        nik=refs.get("nik") if isinstance(refs.get("nik"), str) else None,
    )
    return result.errors, result.warnings


def phone_rules(value: Any, _refs: Mapping[str, Any], _lit: Mapping[str, str], _today: dt.date) -> Outcome:
    return [], idrules.check_phone(str(value)).warnings


def geopoint_rules(value: Any, _refs: Mapping[str, Any], lit: Mapping[str, str], _today: dt.date) -> Outcome:
    limit = float(lit["max_accuracy"]) if "max_accuracy" in lit else None
    accuracy = float(str(value).split()[3])
    if limit is not None and accuracy > limit:
        return [], [Finding("answer.geopoint_accuracy", {"accuracy": f"{accuracy:g}", "limit": f"{limit:g}"})]
    return [], []


def range_rules(value: Any, _refs: Mapping[str, Any], lit: Mapping[str, str], _today: dt.date) -> Outcome:
    """ODK's range: start, end (defaults 1 and 10) and step (default 1); a value off the scale or
    between its steps is an error."""
    start, end, step = (float(lit.get(k, d)) for k, d in (("start", "1"), ("end", "10"), ("step", "1")))
    low, high = min(start, end), max(start, end)
    steps = (float(value) - start) / step if step else 0.0
    if not low <= float(value) <= high or abs(steps - round(steps)) > 1e-9:
        return [Finding("answer.range", {"start": f"{start:g}", "end": f"{end:g}", "step": f"{step:g}"})], []
    return [], []


# --- the registry --------------------------------------------------------------------------------
# Literal parameters whose values must be numbers; checked by check.py.
NUMERIC_PARAMETERS = frozenset({"max_accuracy", "max_pixels", "max_size", "start", "end", "step"})

register(QuestionType("text", "text", "free text", clean=clean_text))
register(QuestionType("integer", "integer", "a whole number", clean=clean_integer))
register(QuestionType("decimal", "decimal", "a number with decimals", clean=clean_decimal))
register(QuestionType("select_one", "select_one", "one choice from a list", attributes=SELECT_ATTRIBUTES,
                      has_choices=True, clean=clean_choice))
register(QuestionType("select_multiple", "select_multiple", "several choices from a list",
                      attributes=SELECT_ATTRIBUTES, has_choices=True, clean=clean_choices))
# ODK's rank: the enumerator puts every choice in order; the value is the choice names in that
# order, a list like select_multiple's (space-separated in an XForm instance). check_choices in
# answers_plan holds it to a permutation of the choices the filter shows.
register(QuestionType("rank", "rank", "every choice of a list put in order (most important first)",
                      attributes=SELECT_ATTRIBUTES, has_choices=True, clean=clean_choices))
register(QuestionType("date", "date", "a calendar date (YYYY-MM-DD)", clean=clean_date))
register(QuestionType("time", "time", "a time of day (HH:MM)", clean=clean_time))
register(QuestionType("datetime", "dateTime", "a date and time with time zone", clean=clean_datetime))
register(QuestionType("geopoint", "geopoint", "a GPS location", literal_parameters=frozenset({"max_accuracy"}),
                      clean=clean_geopoint, rules=geopoint_rules))
register(QuestionType("image", "image", "a photo or signature (file name of the attachment)",
                      literal_parameters=frozenset({"max_pixels"}), clean=clean_file_name))
register(QuestionType("note", "note", "text shown to the enumerator, no answer", attributes=BASE_ATTRIBUTES,
                      holds_value=False))
register(QuestionType("calculate", "calculate", "a value computed from other answers",
                      attributes=frozenset({"label", "hint", "relevant", "calculation"}), computed=True))
register(QuestionType("acknowledge", "acknowledge", "a tick that the enumerator saw something (OK)",
                      clean=clean_acknowledge))
register(QuestionType("hidden", "hidden", "a value set by default or calculation, never shown",
                      attributes=frozenset({"label", "relevant", "default", "calculation"}), clean=clean_hidden))
register(QuestionType("nik", "nik", "a NIK (16 digits) with the Dukcapil structure rules",
                      field_parameters=frozenset({"sex", "birth_date", "registered", "kk"}),
                      clean=clean_id_number, rules=nik_rules))
register(QuestionType("no_kk", "no_kk", "a family card number (16 digits)",
                      field_parameters=frozenset({"nik", "registered"}), clean=clean_id_number, rules=kk_rules))
register(QuestionType("phone", "phone", "an Indonesian mobile number, stored as +62...",
                      clean=clean_phone, rules=phone_rules))
register(QuestionType("rupiah", "rupiah", "a whole, non-negative rupiah amount (Rp 1.250.000)",
                      clean=clean_rupiah))
register(QuestionType("beneficiary", "beneficiary",
                      "a registered beneficiary of the enumerator's areas, chosen from the registry (their id)",
                      clean=clean_beneficiary))
register(QuestionType("barcode", "barcode", "a barcode or QR code, as text (typed, or read by the phone's camera)",
                      clean=clean_text))
register(QuestionType("range", "range", "a number on a scale from start to end in steps",
                      literal_parameters=frozenset({"start", "end", "step"}), clean=clean_decimal, rules=range_rules))
# ODK's upload questions other than a photo: the answer is the sha256 of a recording or file
# stored as it was sent (storage/attachments.save_stream; server/domain/media.py says what each takes).
# `max_size` (megabytes) caps one question below the server's PANTAU_MAX_FILE_BYTES.
UPLOAD_TYPES = {"audio": "audio/*", "video": "video/*", "file": ""}
ATTACHMENT_TYPES = frozenset({"image", *UPLOAD_TYPES})
register(QuestionType("audio", "audio", "an audio recording (the sha256 of the stored file)",
                      literal_parameters=frozenset({"max_size", "quality"}), clean=clean_file_name))
register(QuestionType("video", "video", "a video (the sha256 of the stored file)",
                      literal_parameters=frozenset({"max_size"}), clean=clean_file_name))
register(QuestionType("file", "file", "any file, kept and served as a download (the sha256 of the stored file)",
                      literal_parameters=frozenset({"max_size"}), clean=clean_file_name))
register(QuestionType("geotrace", "geotrace", "a line of GPS points", clean=clean_geotrace))
register(QuestionType("geoshape", "geoshape", "an area: a closed line of GPS points", clean=clean_geoshape))
register(QuestionType("csv_external", "csv-external",
                      "a CSV file attached to the form, for pulldata() and instance(); no question",
                      attributes=frozenset(), holds_value=False))
register(QuestionType("xml_external", "xml-external", "an XML file attached to the form, for instance(); no question",
                      attributes=frozenset(), holds_value=False))
