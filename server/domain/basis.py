"""The counting basis of a report: which records its figures count, the same for every indicator.
By default only records a coordinator approved; "semua data" adds those received and not yet
reviewed and those sent back for correction, but never a rejected one (a rejection says the record
is wrong, e.g. a duplicate, so no basis may count it). A beneficiary counts when the intake that
registered them is counted; a rejected intake makes no active beneficiary anywhere."""

from __future__ import annotations

from server.domain.review import APPROVED, NEEDS_CORRECTION, RECEIVED, REJECTED

APPROVED_ONLY: tuple[str, ...] = (APPROVED,)
ALL_DATA: tuple[str, ...] = (APPROVED, RECEIVED, NEEDS_CORRECTION)

# The registry's status of a beneficiary whose registering intake was rejected (beside "active"
# and "merged"): kept, so that reopening the intake restores the person with their history.
PERSON_ACTIVE, PERSON_REJECTED = "active", "rejected"

_LABELS = {
    False: (
        "Data yang disetujui koordinator",
        "Records approved by the coordinator",
    ),
    True: (
        "Semua data yang diterima, termasuk yang belum ditinjau dan yang dikembalikan untuk perbaikan; "
        "data yang ditolak tidak dihitung",
        "All records received, including those not yet reviewed and those sent back for correction; "
        "rejected records are never counted",
    ),
}


def statuses(include_all: bool) -> tuple[str, ...]:
    """The review statuses a report on this basis counts."""
    return ALL_DATA if include_all else APPROVED_ONLY


def person_status(intake_review_status: str) -> str:
    """What the registry's record of a person is while their registering intake has this review
    status: only a rejection takes them out (a record awaiting review is still someone to visit)."""
    return PERSON_REJECTED if intake_review_status == REJECTED else PERSON_ACTIVE


def label(include_all: bool, lang: str = "id") -> str:
    """The basis in words, for the cover, the approval sheet and every table's footnote."""
    found = _LABELS[include_all]
    return found[1] if lang == "en" else found[0]


def footnote(include_all: bool) -> str:
    return f"Basis penghitungan: {label(include_all)[0].lower()}{label(include_all)[1:]}."
