"""Piccolo tables: the shape of every row Pantau stores. The schema itself is created by the
hand-written migrations in storage/migrations (a test checks the two agree on both engines);
rows become domain Structs at the storage boundary and never reach templates or JSON directly."""

from __future__ import annotations

from typing import Any

from piccolo.columns import (
    JSONB,
    UUID,
    BigInt,
    Boolean,
    Bytea,
    ForeignKey,
    Integer,
    Serial,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.engine.base import Engine
from piccolo.table import Table


class User(Table, tablename="pantau_user"):
    id = Serial(primary_key=True)
    username = Varchar(length=40, unique=True)
    display_name = Varchar(length=100, default="")
    password_hash = Varchar(length=255)
    role = Varchar(length=20)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class Form(Table, tablename="form"):
    id = Serial(primary_key=True)
    form_id = Varchar(length=64, unique=True)
    title_id = Varchar(length=200, default="")
    title_en = Varchar(length=200, default="")
    status = Varchar(length=16, default="published")
    created_at = Timestamptz(default=TimestamptzNow())


class FormVersion(Table, tablename="form_version"):
    id = Serial(primary_key=True)
    form = ForeignKey(references=Form, null=False)
    version = Varchar(length=64)
    content_hash = Varchar(length=64)
    compiled = JSONB()
    source = Text()
    source_name = Varchar(length=200, default="")
    published_at = Timestamptz(default=TimestamptzNow())


class Submission(Table, tablename="submission"):
    id = UUID(primary_key=True)  # the instance id the phone made when the form opened
    form_version = ForeignKey(references=FormVersion, null=False)
    form_id = Varchar(length=64)
    enumerator = ForeignKey(references=User, null=True)
    area_code = Varchar(length=20, default="")
    content_hash = Varchar(length=64)
    answers = JSONB()
    sealed = Text(default="")  # m0025: the sealed NIK/KK answers, storage/pii.held
    revision = Integer(default=1)
    review_status = Varchar(length=20, default="received")
    received_at = Timestamptz(default=TimestamptzNow())
    # m0027: the address a creation was sent from ('' unknown); NULL before m0027 and for imported rows
    sent_from = Varchar(length=64, null=True, default=None)


class UserArea(Table, tablename="user_area"):
    id = Serial(primary_key=True)
    user_id = ForeignKey(references=User, null=False)
    area_code = Varchar(length=20)


class UserSession(Table, tablename="user_session"):
    token_hash = Varchar(length=64, primary_key=True)
    user_id = ForeignKey(references=User, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    expires_at = Timestamptz(default=TimestamptzNow())
    address = Varchar(length=64, default="")


class LoginFailure(Table, tablename="login_failure"):
    id = Serial(primary_key=True)
    username = Varchar(length=80)
    address = Varchar(length=64)
    at = Timestamptz(default=TimestamptzNow())


class AuditLog(Table, tablename="audit_log"):
    id = Serial(primary_key=True)
    at = Timestamptz(default=TimestamptzNow())
    actor_id = Integer(null=True, default=None)
    actor = Varchar(length=80, default="")
    action = Varchar(length=40)
    target_type = Varchar(length=40, default="")
    target_id = Varchar(length=80, default="")
    area_code = Varchar(length=20, default="")
    detail = Text(default="")
    address = Varchar(length=64, default="")




TABLES: tuple[type[Table], ...] = (User, Form, FormVersion, Submission, UserArea, UserSession, LoginFailure, AuditLog)


class LoginAddress(Table, tablename="login_address"):
    """An address a person signed in from (domain/sign_in.py: guesses from elsewhere do not lock it)."""

    id = Serial(primary_key=True)
    user_id = ForeignKey(references=User, null=False)
    address = Varchar(length=64)
    first_at = Timestamptz(default=TimestamptzNow())
    last_at = Timestamptz(default=TimestamptzNow())


TABLES = (*TABLES, LoginAddress)


def bind(engine: Engine[Any] | None) -> Engine[Any] | None:
    """Point every table at this engine (settings choose it, not piccolo_conf); returns the engine
    they used before, so a short-lived Database (a CLI step, a test helper) can put it back."""
    previous: Engine[Any] | None = User._meta._db
    for table in TABLES:
        table._meta.db = engine  # type: ignore[assignment]  # None: back to no engine, as before the first bind
    return previous


class SubmissionRevision(Table, tablename="submission_revision"):
    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, null=False)
    revision = Integer()
    form_version = ForeignKey(references=FormVersion, null=False)
    content_hash = Varchar(length=64)
    answers = JSONB()
    replaced_at = Timestamptz(default=TimestamptzNow())
    replaced_by = ForeignKey(references=User, null=True)


class Attachment(Table, tablename="attachment"):
    sha256 = Varchar(length=64, primary_key=True)
    size = Integer()
    content_type = Varchar(length=40)
    uploaded_by = ForeignKey(references=User, null=True)
    uploaded_at = Timestamptz(default=TimestamptzNow())


class SubmissionAttachment(Table, tablename="submission_attachment"):
    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, null=False)
    sha256 = ForeignKey(references=Attachment, null=False)


TABLES = (*TABLES, SubmissionRevision, Attachment, SubmissionAttachment)


class Beneficiary(Table, tablename="beneficiary"):
    """A person a programme serves (migration m0004). NIK and KK only sealed, indexed and masked."""

    id = UUID(primary_key=True)  # the instance id of the intake that registered them
    programme = Varchar(length=64)
    status = Varchar(length=12, default="active")
    merged_into = UUID(null=True, default=None)
    nik_index = Varchar(length=64, default="")
    nik_sealed = Text(default="")
    nik_masked = Varchar(length=16, default="")
    kk_index = Varchar(length=64, default="")
    kk_sealed = Text(default="")
    kk_masked = Varchar(length=16, default="")
    name = Varchar(length=200)
    name_key = Varchar(length=200)
    sex = Varchar(length=1, default="")
    birth_date = Varchar(length=10, default="")
    area_code = Varchar(length=20)
    kecamatan = Varchar(length=20)
    target_group = Varchar(length=40, default="")
    guardian_name = Varchar(length=200, default="")  # m0012: the mother's or guardian's name
    flags = Text(default="")
    baseline = JSONB()
    registered_on = Varchar(length=10)
    last_visit_on = Varchar(length=10, default="")
    next_due_on = Varchar(length=10, default="")
    visit_months = Integer(default=0)
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class BeneficiaryEvent(Table, tablename="beneficiary_event"):
    id = Serial(primary_key=True)
    beneficiary = ForeignKey(references=Beneficiary, null=False)
    submission = ForeignKey(references=Submission, null=False)
    form_id = Varchar(length=64)
    kind = Varchar(length=12)
    happened_on = Varchar(length=10)
    summary = JSONB()
    recorded_at = Timestamptz(default=TimestamptzNow())


class FollowUp(Table, tablename="follow_up"):
    id = Serial(primary_key=True)
    beneficiary = ForeignKey(references=Beneficiary, null=False)
    submission = ForeignKey(references=Submission, null=False)
    form_id = Varchar(length=64)
    actions = Text(default="")
    detail = JSONB()
    opened_on = Varchar(length=10)
    due_on = Varchar(length=10)
    closed_on = Varchar(length=10, default="")
    closed_by = ForeignKey(references=Submission, null=True)


TABLES = (*TABLES, Beneficiary, BeneficiaryEvent, FollowUp)


class ReviewEvent(Table, tablename="review_event"):
    """One review decision (migration m0005), or a corrected revision putting a record back to received."""

    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, null=False)
    revision = Integer()
    from_status = Varchar(length=20)
    to_status = Varchar(length=20)
    comment = Text(default="")
    actor = ForeignKey(references=User, null=True)
    at = Timestamptz(default=TimestamptzNow())


class SubmissionFlag(Table, tablename="submission_flag"):
    id = Serial(primary_key=True)
    submission = ForeignKey(references=Submission, null=False)
    flag = Varchar(length=40)


class SubmissionName(Table, tablename="submission_name"):
    submission = ForeignKey(references=Submission, null=False, primary_key=True)
    name = Varchar(length=200)
    name_key = Varchar(length=200)


class ApiToken(Table, tablename="api_token"):
    id = Serial(primary_key=True)
    user_id = ForeignKey(references=User, null=False)
    name = Varchar(length=80)
    token_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


TABLES = (*TABLES, ReviewEvent, SubmissionFlag, SubmissionName, ApiToken)


class AppKey(Table, tablename="app_key"):
    """A personal key for ODK Collect or KoboCollect on one device (m0013): only its sha256 is kept."""

    id = Serial(primary_key=True)
    user_id = ForeignKey(references=User, null=False)
    name = Varchar(length=80)
    key_hash = Varchar(length=64, unique=True)
    prefix = Varchar(length=16)
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)


TABLES = (*TABLES, AppKey)


class FormDraft(Table, tablename="form_draft"):
    """The editable source of a form (migration m0007): one per form, validated before every save."""

    id = Serial(primary_key=True)
    form_id = Varchar(length=64, unique=True)
    source = Text()
    content_hash = Varchar(length=64, default="")
    updated_by = ForeignKey(references=User, null=True)
    updated_at = Timestamptz(default=TimestamptzNow())


class DraftSubmission(Table, tablename="draft_submission"):
    """A test submission from a draft's preview: never a real record, deleted with its draft."""

    id = Serial(primary_key=True)
    draft = ForeignKey(references=FormDraft, null=False)
    instance_id = Varchar(length=36)
    answers = Text()
    submitted_by = ForeignKey(references=User, null=True)
    received_at = Timestamptz(default=TimestamptzNow())


class FormAssignment(Table, tablename="form_assignment"):
    """One role or one area a form is assigned to; a form without rows is open to everyone who fills."""

    id = Serial(primary_key=True)
    form_id = Varchar(length=64)
    role = Varchar(length=20, default="")
    area_code = Varchar(length=20, default="")


TABLES = (*TABLES, FormDraft, DraftSubmission, FormAssignment)


class ReportRun(Table, tablename="report_run"):
    """One report for one period and scope (migration m0006): unique, so scheduling happens once."""

    id = Serial(primary_key=True)
    report = Varchar(length=64)
    period = Varchar(length=10)
    scope = Varchar(length=20)
    status = Varchar(length=12)
    include_all = Boolean(default=False)
    message = Text(default="")
    scheduled = Boolean(default=False)
    requested_by = ForeignKey(references=User, null=True)
    requested_at = Timestamptz(default=TimestamptzNow())
    started_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    lost_leases = Integer(default=0)  # m0018: leases that ran out since the run was last queued by hand


class ReportEdition(Table, tablename="report_edition"):
    id = Serial(primary_key=True)
    run = ForeignKey(references=ReportRun, null=False)
    edition = Integer()
    sha256 = Varchar(length=64)
    size = Integer()
    pages = Integer()
    include_all = Boolean(default=False)
    created_by = ForeignKey(references=User, null=True)
    created_at = Timestamptz(default=TimestamptzNow())
    fingerprint = Varchar(length=64, default="")  # m0008
    provisional = Boolean(default=False)  # m0008


TABLES = (*TABLES, ReportRun, ReportEdition)


class Epoch(Table, tablename="epoch"):
    """A change counter shared by every process (m0015, storage/epochs.py)."""

    name = Varchar(length=64, primary_key=True)
    value = BigInt(default=0)


class Blob(Table, tablename="blob"):
    """A complete content-addressed blob (m0015, storage/blobs.py); its bytes are in blob_chunk."""

    sha256 = Varchar(length=64, primary_key=True)  # the key: the name the rest of Pantau uses
    content_sha256 = Varchar(length=64)  # of the stored bytes
    size = BigInt()
    chunks = Integer()
    created_at = Timestamptz(default=TimestamptzNow())


class BlobChunk(Table, tablename="blob_chunk"):
    """One chunk (about 1 MB) of a blob; primary key (sha256, n) in the migration."""

    sha256 = Varchar(length=64, primary_key=True)
    n = Integer()
    data = Bytea()


TABLES = (*TABLES, Epoch, Blob, BlobChunk)


class ImportJob(Table, tablename="import_job"):
    """A registry import's upload and its check (m0016, storage/import_jobs.py)."""

    id = Varchar(length=32, primary_key=True)
    owner = ForeignKey(references=User)
    file_name = Varchar(length=200)
    sha256 = Varchar(length=64)
    suffix = Varchar(length=8)
    intake = Text()  # storage/registry_import.IntakeForm as JSON
    area = Varchar(length=20)
    mapping = Text()  # domain/registry_import.Mapping as JSON; "" = guessed from the file
    state = Varchar(length=16)  # checking, checked, failed, interrupted, done
    generation = Integer()
    done = Integer()
    total = Integer()
    problem = Text()  # JSON [Indonesian, English]
    outcome = Text()  # storage/registry_import.Outcome as JSON once committed
    created_at = Timestamptz(default=TimestamptzNow())
    beat_at = Timestamptz(default=TimestamptzNow())


TABLES = (*TABLES, ImportJob)


class FormMedia(Table, tablename="form_media"):
    """A media file a form's media columns name (m0019, storage/form_media.py); primary key
    (form_id, name) in the migration."""

    form_id = Varchar(length=64, primary_key=True)
    name = Varchar(length=200)
    sha256 = Varchar(length=64)
    blob_key = Varchar(length=64)
    md5 = Varchar(length=32)
    size = BigInt()
    content_type = Varchar(length=40)
    uploaded_by = Varchar(length=80)
    uploaded_at = Timestamptz(default=TimestamptzNow())


TABLES = (*TABLES, FormMedia)
