"""Wire Structs of the JSON API: what a client sends and gets back. Decoding is strict (unknown
fields, wrong types and over-long strings are a 400 naming the field), so nothing malformed reaches
the domain."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class SubmissionIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    instance_id: uuid.UUID
    form_id: Name
    form_version: Name
    answers: dict[str, Any]
    # Set when editing: the revision the client changed. Absent on a first submission.
    base_revision: Annotated[int, msgspec.Meta(ge=1)] | None = None


class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    """POST /api/v1/penerima/cek: a whole NIK or No. KK, in the body, never in a URL."""

    nomor: str


class FieldProblem(msgspec.Struct, frozen=True):
    path: str
    code: str
    message: str
    message_en: str


class ReceiptOut(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    form_id: str
    form_version: str
    revision: int
    received_at: dt.datetime
    outcome: str
    warnings: list[FieldProblem] = []


class AttachmentOut(msgspec.Struct, frozen=True):
    sha256: str
    size: int
    content_type: str


class SentItem(msgspec.Struct, frozen=True, kw_only=True):
    instance_id: str
    form_id: str
    form_version: str
    revision: int
    review_status: str
    received_at: dt.datetime
