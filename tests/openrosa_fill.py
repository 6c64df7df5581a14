"""A filled ODK instance as Collect would send it, made from the XForm pyxform generates for a form
(domain/xform.py: the XLSForm export, then pyxform, as the form list serves it): the primary
instance's skeleton, its leaves set from a flat answers dict, each repeat's template copied once per
entry, meta/instanceID set. Tests of the OpenRosa submission path share it."""

from __future__ import annotations

import copy
import uuid
import xml.etree.ElementTree as ET
from typing import Any

from server.domain.compile import CompiledForm
from server.domain.xform import XForm, build_xform

XF = "{http://www.w3.org/2002/xforms}"
TEMPLATE = "{http://openrosa.org/javarosa}template"


_XFORMS: dict[str, XForm] = {}


def built(compiled: CompiledForm) -> XForm:
    """The XForm the form list serves for this version (domain/xform.py: XLSForm export + pyxform)."""
    if compiled.content_hash not in _XFORMS:
        _XFORMS[compiled.content_hash] = build_xform(compiled.definition)
    return _XFORMS[compiled.content_hash]


def xform_of(compiled: CompiledForm) -> str:
    return built(compiled).xml.decode("utf-8")


def skeleton(xform: str) -> ET.Element:
    """The primary instance's root element (<data id=... version=...>) of an XForm."""
    root = ET.fromstring(xform)
    model = next(root.iter(f"{XF}model"))
    instance = next(i for i in model.findall(f"{XF}instance") if i.get("id") is None)
    return copy.deepcopy(instance[0])


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return " ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def fill(element: ET.Element, answers: dict[str, Any]) -> None:
    """Set the leaves below `element` from answers (groups dissolved, as Pantau's answers are)."""
    done: set[str] = set()
    for child in list(element):
        name = _local(child.tag)
        value = answers.get(name)
        if name in done:
            continue
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            done.add(name)
            template = next((c for c in element if _local(c.tag) == name and c.get(TEMPLATE) is not None), child)
            position = list(element).index(template)
            for other in [c for c in element if _local(c.tag) == name]:
                element.remove(other)
            for offset, entry in enumerate(value):
                item = copy.deepcopy(template)
                item.attrib.pop(TEMPLATE, None)
                fill(item, entry)
                element.insert(position + offset, item)
        elif len(child) and name != "meta":
            fill(child, answers)
        elif name in answers and value is not None:
            child.text = _text(value)


def instance_xml(xform: str, answers: dict[str, Any], instance_id: uuid.UUID | str) -> bytes:
    root = skeleton(xform)
    fill(root, answers)
    for parent in list(root.iter()):  # a repeat without entries: Collect sends none of it
        for item in [c for c in parent if c.get(TEMPLATE) is not None]:
            parent.remove(item)
    meta = next(c for c in root if _local(c.tag) == "meta")
    next(c for c in meta if _local(c.tag) == "instanceID").text = f"uuid:{instance_id}"
    return b"<?xml version='1.0' encoding='UTF-8' ?>" + ET.tostring(_plain(root), encoding="utf-8")


def _plain(root: ET.Element) -> ET.Element:
    """Collect writes the instance without the XForms namespace on its elements."""
    for element in root.iter():
        element.tag = _local(element.tag)
    return root
