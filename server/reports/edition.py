"""What makes a report edition reproducible and checkable: the canonical JSON of the dataset it was
made from (embedded in the PDF/A as an attachment, so an auditor can recompute the tables), the
fingerprint printed on its cover (the first 12 hex digits of that JSON's sha256, so two editions
are compared at a glance), and whether it is provisional (made before its period ended).

Nothing here reads the clock: the day an edition is made is part of its content (the sign-off
date), while the fingerprint covers the data only, so the same data made on two days shares it."""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import msgspec

from server.clock import WITA
from server.reports.dataset import Dataset

FINGERPRINT_HEX = 12
# Fields that describe how or when an edition was made, not the data it counts.
_NOT_DATA = ("definition", "made_on", "data_time")  # where and when it was read, not what


class Archive(msgspec.Struct, frozen=True, kw_only=True):
    """What render.py needs to write an edition as a PDF/A-3b archive."""

    identifier: str  # the PDF's /ID: the data's full sha256, not a random or clock-made value
    attachment_name: str
    attachment: bytes
    attachment_description: str
    made_at: dt.datetime  # the document's creation date: the day made, 00:00 WITA


def canonical(data: Dataset) -> bytes:
    """The dataset as sorted, indented JSON: the same data gives the same bytes, whatever the
    database engine, the row order or the day. The report's prose (the definition) is left out."""
    fields: dict[str, Any] = {
        name: getattr(data, name) for name in data.__struct_fields__ if name not in _NOT_DATA
    }
    fields["report"] = data.definition.name
    fields["period"] = data.period.code
    encoded = msgspec.json.encode(fields, order="sorted")
    return msgspec.json.format(encoded, indent=1) + b"\n"


def digest(data: Dataset) -> str:
    return hashlib.sha256(canonical(data)).hexdigest()


def fingerprint(data: Dataset) -> str:
    return digest(data)[:FINGERPRINT_HEX]


def provisional(data: Dataset) -> bool:
    """Made on or before the period's last day: its figures can still change."""
    return not data.period.closed_by(data.made_on)


def attachment_name(data: Dataset) -> str:
    return f"data-{data.definition.name}-{data.period.code}-{data.scope}.json"


def made_at(data: Dataset) -> dt.datetime:
    return dt.datetime.combine(data.made_on, dt.time(0, 0), tzinfo=WITA)


def archive(data: Dataset) -> Archive:
    return Archive(
        identifier=digest(data),
        attachment_name=attachment_name(data),
        attachment=canonical(data),
        attachment_description=(
            "Data tabel indikator laporan ini (JSON); sha256 berkas ini diawali sidik data pada sampul / "
            "the indicator tables of this report (JSON); its sha256 starts with the fingerprint on the cover"
        ),
        made_at=made_at(data),
    )
