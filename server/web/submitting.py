"""The submission path of ARCHITECTURE.md, shared by the JSON API and the plain HTML post: load the
form version the user may fill, validate with the compiled rules, check photos and area, let
domain/intake decide and storage/writer commit."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Any

import msgspec
from litestar import Response

from server import clock
from server.domain import intake, media
from server.domain.access import Principal, sees_area
from server.domain.answers import Validation, validate
from server.domain.form import Question, walk
from server.domain.questions import ATTACHMENT_TYPES
from server.errors import PantauError, too_large, wrong_kind
from server.storage import access, attachments, registry, review, submissions
from server.web.auth import client_address
from server.web.deps import db_of, settings_of, writer_of
from server.web.http import Request
from server.web.schemas import FieldProblem

# The count says how many; the list stops here, so 3 MB of made-up answer names cannot come back as a
# 30 MB answer. A real form's problems (every field of 20 repeat entries wrong) stay well below.
MAX_LISTED_PROBLEMS = 1000


def problems_of(items: list[Any]) -> list[FieldProblem]:
    return [FieldProblem(i.path, i.code, i.message_id, i.message_en) for i in items]


def values_of_type(compiled: Any, answers: dict[str, Any], types: Collection[str]) -> list[tuple[str, Any]]:
    """(field, value) for every answer whose field has one of these types, inside repeats too."""
    memo = compiled.memo()
    key = "submitting.types:" + "|".join(sorted(types))
    wanted: dict[str, tuple[bool, bool]] | None = memo.get(key)
    if wanted is None:  # name -> (a repeat, of a wanted type): only these fields are looked at
        wanted = memo[key] = {name: (info.type == "repeat", info.type in types)
                              for name, info in compiled.fields.items() if info.type == "repeat" or info.type in types}
    out: list[tuple[str, Any]] = []
    if not wanted:
        return out
    if not any(repeat for repeat, _ in wanted.values()):  # the usual form: look up the few fields, in answer order
        out = [(name, answers[name]) for name in wanted if answers.get(name) not in (None, "")]
        if len(out) > 1:
            position = list(answers).index
            out.sort(key=lambda pair: position(pair[0]))
        return out

    def visit(values: dict[str, Any]) -> None:
        for name, value in values.items():
            kind = wanted.get(name)
            if kind is None:
                continue
            if kind[0] and isinstance(value, list):
                for instance in value:
                    if isinstance(instance, dict):
                        visit(instance)
            elif kind[1] and value not in (None, ""):
                out.append((name, value))

    visit(answers)
    return out


def region_fields(compiled: Any) -> list[str]:
    """The form's top-level region questions (select_one over a Kemendagri region list), once per
    form version."""
    memo = compiled.memo()
    found: list[str] | None = memo.get("submitting.region_fields")
    if found is None:
        lists = compiled.definition.choices
        found = memo["submitting.region_fields"] = [
            name for name, info in compiled.fields.items()
            if not info.repeat and info.choices in lists and lists[info.choices].wilayah]
    return found


def region_answers(compiled: Any, answers: dict[str, Any]) -> list[str]:
    return [str(answers[name]) for name in region_fields(compiled) if answers.get(name)]


async def checked(request: Request, principal: Principal, form_id: str, version: str,
                  answers: dict[str, Any]) -> tuple[Any, Validation]:
    loaded = await access.form_version_for(db_of(request), principal, form_id, version, need="fill",
                                           missing="submission.unknown_form")
    now = clock.now()
    result = validate(loaded.compiled, answers, today=now.astimezone(clock.WITA).date(), now=now)
    if not result.ok:  # an error, or a NIK warning nobody ticked: both stop the submission
        raise Invalid(result)
    return loaded, result


class Invalid(Exception):
    """The answers break the form's rules, or carry warnings nobody confirmed; `problems` lists each
    one at its field."""

    def __init__(self, result: Validation) -> None:
        self.result = result
        self.problems = problems_of([*result.errors, *result.unconfirmed])

    def response(self) -> Response[Any]:
        """The one 422 for answers that break the rules (the API and the editor's preview): a catalogue
        problem with each problem listed at its field."""
        error = PantauError("submission.invalid", count=len(self.problems))
        body = {"code": error.code, "status": 422, "detail": error.message("en"), "detail_id": error.message("id"),
                "errors": msgspec.to_builtins(self.problems[:MAX_LISTED_PROBLEMS])}
        return Response(body, status_code=422, media_type="application/problem+json")


async def _fit_questions(request: Request, compiled: Any, cited: list[tuple[str, Any]]) -> None:
    """Each upload is of its question's kind (a recording for audio, a photo for image, ...) and
    within its limit: the server's PANTAU_MAX_FILE_BYTES, or less by the question's max_size."""
    if not cited:
        return
    stored = await attachments.described(db_of(request), [str(v) for _, v in cited])
    default = settings_of(request).max_file_bytes
    memo = compiled.memo()
    questions: dict[str, Question] | None = memo.get("submitting.questions")
    if questions is None:  # once per form version: the walk over the whole form cost more than the check
        questions = memo["submitting.questions"] = {
            f.name: f for f, _ in walk(compiled.definition.fields) if isinstance(f, Question)}
    for field, value in cited:
        kind = compiled.fields[field].type
        content_type, size = stored.get(str(value), ("", 0))
        if not media.fits(kind, content_type):
            raise wrong_kind(kind, "attachment.not_for_question", field=field)
        if kind in media.KINDS:
            limit = media.cap_bytes(questions[field].parameters, default)
            if size > limit:
                raise too_large(limit, "attachment.over_question_limit", field=field)


async def accept(request: Request, principal: Principal, form_id: str, version: str,
                 instance_id: uuid.UUID, answers: dict[str, Any],
                 base_revision: int | None = None) -> tuple[submissions.Receipt, list[FieldProblem]]:
    if base_revision is not None:  # a correction: NIK/KK still as masked on the phone are unchanged
        answers = await review.unmask_unchanged(db_of(request), settings_of(request), principal, instance_id, answers)
    loaded, result = await checked(request, principal, form_id, version, answers)
    compiled = loaded.compiled
    photos = values_of_type(compiled, result.answers, ATTACHMENT_TYPES)
    citable = await attachments.citable(db_of(request), principal, instance_id, [str(v) for _, v in photos])
    for field, value in photos:
        if value not in citable:  # not uploaded by this sender, nor held by this record already
            raise PantauError("attachment.missing", field=field)
    await _fit_questions(request, compiled, photos)
    area = intake.area_of(region_answers(compiled, result.answers), principal.areas)
    if area and not sees_area(principal, area):
        # Named at its question, so the phone can reopen the form there rather than retry for ever.
        field = next((name for name in region_fields(compiled) if result.answers.get(name) == area), "")
        raise PantauError("submission.outside_area", area=area, field=field)
    prepared = registry.prepare(compiled, result, settings_of(request), clock.today())  # the registry step
    if prepared and prepared.intent and prepared.intent.errors:  # e.g. a referral the z-scores require
        raise Invalid(Validation(answers=result.answers, errors=prepared.intent.errors, warnings=result.warnings))
    item = submissions.Incoming(
        instance_id=instance_id, form_id=loaded.form_id, form_version=loaded.version, form_version_pk=loaded.pk,
        answers=prepared.answers if prepared else result.answers,  # NIK/KK masked; the hash is of the plain values
        content_hash=intake.content_hash(loaded.form_id, loaded.version, result.answers),
        area_code=area, attachments=tuple(str(v) for _, v in photos), base_revision=base_revision, registry=prepared)
    receipt = await submissions.store(db_of(request), writer_of(request), item, principal, client_address(request),
                                      clock.now())
    return receipt, problems_of([*result.warnings, *(prepared.intent.notices if prepared and prepared.intent else ())])
