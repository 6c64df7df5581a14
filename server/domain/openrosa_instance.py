"""A filled form as ODK Collect sends it (an XForm instance, form-systems.md 2.3-2.5) -> the answers
the JSON and the HTML post give: which form version (the root's id and version attributes), the
instance id (meta/instanceID "uuid:..."), and the answers flat by field name as docs/forms.md says,
groups dissolved, a repeat's elements as a list. Values stay text: answers.py cleans them as it does
every other client's (select_multiple "a b", geopoint "lat lon alt acc", ISO dates and times). An
image, audio, video or file answer is its file name here; the caller swaps in the stored file's sha256.

The XML is parsed with defusedxml (expat with DTDs, entities and external references refused), so a
billion-laughs or XXE body is a 400, never a 500 or a file read."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import msgspec
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from server.domain.answers_plan import CONFIRM_KEY
from server.domain.form import Field, Form, Group, Question, Repeat, walk
from server.domain.questions import ATTACHMENT_TYPES
from server.domain.xform import CONFIRM_SUFFIX, CONFIRMED
from server.errors import PantauError

MAX_XML_BYTES = 2 * 1024 * 1024  # a filled form of many repeats is tens of kB; more is not a form
MAX_ELEMENTS = 100_000
_TEMPLATE = "{http://openrosa.org/javarosa}template"
# pyxform's scaffolding beside the answers: the meta block (instanceID, instanceName, deprecatedID...).
_META = "meta"


class Instance(msgspec.Struct, frozen=True):
    form_id: str
    version: str
    instance_id: uuid.UUID
    root: Any  # the parsed root element (xml.etree Element)


def _local(tag: Any) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def read(xml: bytes) -> Instance:
    """The instance's identity, or a catalogue error (400) saying what is wrong with the file."""
    if len(xml) > MAX_XML_BYTES:
        raise PantauError("openrosa.xml_too_large", max_kb=MAX_XML_BYTES // 1024)
    try:
        root = fromstring(xml, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise PantauError("openrosa.unsafe_xml") from None
    except (ET.ParseError, ValueError, UnicodeError) as exc:
        raise PantauError("openrosa.not_xml", reason=str(exc)[:200]) from None
    if sum(1 for _ in root.iter()) > MAX_ELEMENTS:
        raise PantauError("openrosa.xml_too_large", max_kb=MAX_XML_BYTES // 1024)
    form_id, version = root.get("id") or "", root.get("version") or ""
    if not form_id:
        raise PantauError("openrosa.no_form_id")
    return Instance(form_id=form_id, version=version, instance_id=instance_id_of(root), root=root)


def _meta(root: Any, name: str) -> str:
    for meta in (c for c in root if _local(c.tag) == _META):
        for child in meta:
            if _local(child.tag) == name:
                return (child.text or "").strip()
    return ""


def instance_id_of(root: Any) -> uuid.UUID:
    """meta/instanceID as pyxform's `uid` preload writes it ("uuid:" + a UUID): the record's id.
    An edit (meta/deprecatedID, a new instanceID replacing a sent one) is refused rather than stored
    as a second record: in Pantau a sent record is corrected through review."""
    if _meta(root, "deprecatedID"):
        raise PantauError("openrosa.edit")
    text = _meta(root, "instanceID")
    value = text.removeprefix("uuid:")
    try:
        if len(value) != 36:
            raise ValueError(value)
        return uuid.UUID(value)
    except ValueError:
        raise PantauError("openrosa.bad_instance_id", value=text[:80]) from None


def answers_of(form: Form, root: Any, added: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The instance's answers in the flat shape answers.validate() takes. `added`: the element names
    the XForm put beside the form's fields (domain/xform.py XForm.added: its notes and NIK
    calculations), dropped wherever they stand."""
    return _level(form.fields, root, added)


def _level(fields: list[Field], element: Any, added: frozenset[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    children: dict[str, list[Any]] = {}
    for child in element:
        if child.get(_TEMPLATE) is None:  # the blank repeat copy of a form, never an answer
            children.setdefault(_local(child.tag), []).append(child)
    known = set(added)
    for f in fields:
        known.add(f.name)
        found = children.get(f.name, [])
        if isinstance(f, Repeat):
            known.add(f"{f.name}_count")  # pyxform's calculate for a repeat_count expression
            if found:
                out[f.name] = [_level(f.fields, item, added) for item in found]
        elif isinstance(f, Group):
            for item in found[:1]:
                inner = _level(f.fields, item, added)
                ticked = [*out.get(CONFIRM_KEY, []), *inner.pop(CONFIRM_KEY, [])]
                out |= {k: v for k, v in inner.items() if k not in out}
                if ticked:
                    out[CONFIRM_KEY] = ticked
        elif isinstance(f, Question) and found and (text := (found[0].text or "")).strip():
            out[f.name] = text
            # The XForm's "checked against the documents" after it (domain/xform.py), ticked: the
            # fill page's tick, which keeps an answer the server warns about.
            if any((tick.text or "").strip() == CONFIRMED for tick in children.get(f"{f.name}{CONFIRM_SUFFIX}", ())):
                out.setdefault(CONFIRM_KEY, []).append(f.name)
    # An element the form does not have, holding a value: kept, so validation names it
    # (answer.unknown_field) rather than the value being dropped without a word.
    for name, items in _unknown(children, known):
        out.setdefault(name, "".join(items[0].itertext()))
    return out


def _unknown(children: dict[str, list[Any]], known: set[str]) -> Iterator[tuple[str, list[Any]]]:
    for name, items in children.items():
        if name in known or name == _META or not name:
            continue
        if any("".join(item.itertext()).strip() for item in items):
            yield name, items


def uploads_of(form: Form) -> dict[str, str]:
    """field name -> type of every question whose answer is a file (image, audio, video, file)."""
    return {f.name: f.type for f, _ in walk(form.fields) if isinstance(f, Question) and f.type in ATTACHMENT_TYPES}


def file_names(form: Form, answers: dict[str, Any]) -> list[tuple[str, str]]:
    """(field, file name) of every image, audio, video or file answer, inside repeats too, in document order."""
    images = uploads_of(form)
    repeats = {f.name for f, _ in walk(form.fields) if isinstance(f, Repeat)}
    out: list[tuple[str, str]] = []

    def visit(values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name in repeats and isinstance(value, list):
                for item in value:
                    visit(item)
            elif name in images and isinstance(value, str) and value.strip():
                out.append((name, value.strip()))

    visit(answers)
    return out


def with_files(form: Form, answers: dict[str, Any], stored: dict[str, str]) -> dict[str, Any]:
    """The answers with each upload's file name replaced by what it was stored as (its sha256).
    A file name the client did not send is left as it is; the caller refuses it (attachment.missing)."""
    images = uploads_of(form)

    def swap(values: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, value in values.items():
            if isinstance(value, list) and all(isinstance(item, dict) for item in value):
                out[name] = [swap(item) for item in value]
            elif name in images and isinstance(value, str):
                out[name] = stored.get(value.strip(), value)
            else:
                out[name] = value
        return out

    return swap(answers)

