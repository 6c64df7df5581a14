"""The spellings pyxform accepts for XLSForm headers, settings and types, mapped to Pantau's. Kept
apart from the reader (xlsform.py) because the table follows pyxform (its aliases.py and
question_type_dictionary.py) while the reader follows Pantau's form model."""

from __future__ import annotations

import re
from dataclasses import dataclass

LANGUAGE_NAMES = {"id": "Indonesian", "en": "English"}
_LANGUAGE = re.compile(r"^(?P<name>.*?)\s*\((?P<code>[A-Za-z-]+)\)\s*$")

# Survey and choices headers pyxform takes for the columns Pantau reads.
COLUMN_ALIASES = {
    "readonly": "read_only", "jr:count": "repeat_count", "count": "repeat_count",
    "required message": "required_message", "requiredmsg": "required_message",
    "constraint message": "constraint_message",
    "constraining_message": "constraint_message", "choice filter": "choice_filter", "list name": "list_name",
    "relevance": "relevant", "calculate": "calculation", "caption": "label", "media::image": "image",
    "media::audio": "audio", "media::video": "video", "media::big-image": "big-image",
}
# Columns whose header may carry a language after "::" (or pyxform's older single ":").
TRANSLATABLE = frozenset({"label", "hint", "guidance_hint", "required_message", "constraint_message", "image",
                          "big-image", "audio", "video", "media"})
MEDIA_COLUMNS = frozenset({"image", "big-image", "audio", "video"})
SETTINGS_ALIASES = {"title": "form_title", "set_form_title": "form_title", "id_string": "form_id",
                    "set_form_id": "form_id"}

# pyxform's question types -> Pantau's. Metadata types become hidden questions (see METADATA).
TYPE_ALIASES = {
    "text": "text", "string": "text", "add text prompt": "text", "q string": "text", "tel": "text",
    "integer": "integer", "int": "integer", "add integer prompt": "integer", "q int": "integer",
    "decimal": "decimal", "add decimal prompt": "decimal", "q decimal": "decimal",
    "date": "date", "add date prompt": "date", "q date": "date", "time": "time",
    "datetime": "datetime", "date time": "datetime", "add date time prompt": "datetime",
    "add datetime prompt": "datetime", "q date time": "datetime", "q datetime": "datetime",
    "geopoint": "geopoint", "gps": "geopoint", "location": "geopoint", "add location prompt": "geopoint",
    "q geopoint": "geopoint", "q location": "geopoint",
    "image": "image", "photo": "image", "add image prompt": "image", "add photo prompt": "image",
    "q image": "image", "q picture": "image",
    "audio": "audio", "add audio prompt": "audio", "q audio": "audio",
    "video": "video", "add video prompt": "video", "q video": "video", "file": "file", "add file prompt": "file",
    "barcode": "barcode", "add barcode prompt": "barcode", "q barcode": "barcode",
    "geotrace": "geotrace", "q geotrace": "geotrace", "geoshape": "geoshape", "q geoshape": "geoshape",
    "range": "range", "note": "note", "add note prompt": "note", "q note": "note",
    "calculate": "calculate", "add calculate prompt": "calculate", "q calculate": "calculate",
    "acknowledge": "acknowledge", "trigger": "acknowledge", "add acknowledge prompt": "acknowledge",
    "q acknowledge": "acknowledge", "hidden": "hidden",
    "csv-external": "csv_external", "xml-external": "xml_external",
}
# The survey sheet's columns as the reader keys them (column_name), by what Pantau does with them.
TEXT_COLUMNS = ("label", "hint", "required_message", "constraint_message")
PLAIN_COLUMNS = ("required", "relevant", "constraint", "calculation", "trigger", "default", "read_only", "appearance",
                 "choice_filter", "parameters", "repeat_count", "min_count", "max_count")
# (ODK's entities, `save_to` and the entities sheet, are kept and ignored: the form still asks the
# same questions; Pantau's registry block is its way to keep people across forms.)
SETTINGS_COLUMNS = frozenset({"form_id", "form_title", "version", "default_language", "instance_name", "registry"})
TITLE_COLUMN = "pantau_title"  # the title in other languages: see _title()
# Attributes an XLSForm row may carry where Pantau's type takes none: kept and ignored (see fitted()).
FITTED_ATTRIBUTES = ("hint", "required", "required_message", "constraint", "constraint_message", "default",
                     "read_only", "appearance", "choice_filter", "trigger")
# Appearances the fill page draws differently (server/web/fill_context.py); others are ignored.
HONOURED_APPEARANCES = {"select_one": ("minimal",), "text": ("multiline", "numbers"), "image": ("signature",)}
BACKGROUND_GEOPOINT = "background-geopoint"  # the location when its trigger changes (static/js/trigger.js)
# Metadata pyxform fills from the device; Pantau keeps each as a hidden question (so ${start}
# still means something) with the default the phone fills it from, when there is one.
METADATA = {
    "start": "now()", "start time": "now()", "get start time": "now()", "end": "now()", "end time": "now()",
    "get end time": "now()", "today": "today()", "get today": "today()",
    "deviceid": "", "device id": "", "get device id": "", "imei": "", "uri:deviceid": "", "username": "",
    "uri:username": "", "email": "", "uri:email": "", "phonenumber": "", "phone number": "",
    "get phone number": "", "uri:phonenumber": "", "simserial": "", "sim id": "", "get sim id": "",
    "uri:simserial": "", "subscriberid": "", "subscriber id": "", "get subscriber id": "", "uri:subscriberid": "",
    "audit": "", "start-geopoint": "", "background-geopoint": "", "background-audio": "",
}
_SELECT = re.compile(
    r"^(?P<kind>select_one_from_file|select one from file|select_multiple_from_file|select multiple from file"
    r"|select_one_external|select one external|add select one prompt using|add select multiple prompt using"
    r"|select all that apply from|select all that apply|select multiple from|select multiple using"
    r"|select one from|select one using|select_one|select one|select1|select_multiple|rank)"
    r"\s+(?P<list>\S+)(?P<other>\s+(?:or_other|or specify other))?$", re.IGNORECASE)
_CONTROL = re.compile(r"^(?P<edge>begin|end)[ _](?P<kind>group|repeat|loop|looped group|lgroup)\b\s*(?P<rest>.*)$",
                      re.IGNORECASE)


@dataclass(frozen=True)
class ParsedType:
    kind: str  # a Pantau type, "begin_group"/"end_group"/... , "metadata", or "" when unknown
    list_name: str | None = None
    from_file: bool = False
    or_other: bool = False
    rest: str = ""  # what follows "begin loop" ("over list")


def parse_type(text: str) -> ParsedType:
    spelled = " ".join(text.split())
    control = _CONTROL.match(spelled)
    if control:
        kind = {"looped group": "repeat", "lgroup": "repeat"}.get(control["kind"].lower(), control["kind"].lower())
        return ParsedType(f"{control['edge'].lower()}_{kind}", rest=control["rest"])
    select = _SELECT.match(spelled)
    if select:
        word = select["kind"].lower()
        kind = "rank" if word == "rank" else "select_external" if "external" in word else \
            "select_multiple" if ("multiple" in word or "all that apply" in word) else "select_one"
        return ParsedType(kind, select["list"], from_file="file" in word, or_other=bool(select["other"]))
    low = spelled.lower()
    if low in METADATA:
        return ParsedType("metadata")
    return ParsedType(TYPE_ALIASES.get(low, ""))


def column_name(value: object) -> str:
    """A header as the reader keys it: aliases resolved, languages as codes ('label::en')."""
    name = " ".join(str(value).split())
    base, sep, rest = name.partition("::")
    if not sep and ":" in name and name.split(":", 1)[0].strip().lower() in TRANSLATABLE:
        base, sep, rest = name.partition(":")  # pyxform's older 'label:English'
    base = base.strip().lower()
    if base in ("media", "bind", "instance", "body") and sep:
        kind, sep2, lang = rest.partition("::")
        base = COLUMN_ALIASES.get(f"{base}::{kind.strip().lower()}", f"{base}::{kind.strip()}")
        sep, rest = sep2, lang
    base = COLUMN_ALIASES.get(base, base)
    return f"{base}::{language(rest)}" if sep else base


def language(text: str) -> str:
    """'Indonesian (id)' -> 'id'; 'English' -> 'en'; 'id' -> 'id'; 'French' -> 'french'."""
    match = _LANGUAGE.match(text.strip())
    if match:
        return match["code"].lower()
    by_name = {v.lower(): k for k, v in LANGUAGE_NAMES.items()}
    return by_name.get(text.strip().lower(), text.strip().lower())
