"""Who may do what, where. A Principal is a signed-in user with a role and the Kemendagri areas
they hold (kecamatan "64.02.06" or desa "64.02.06.2001"). Rules are pure functions so that every
handler, export and report asks the same question the same way."""

from __future__ import annotations

import msgspec

ROLES = ("admin", "staff", "coordinator", "enumerator")
# What people read: the codes stay in URLs, forms and the database (Indonesian, English).
ROLE_NAMES = {"admin": ("Admin", "Administrator"), "staff": ("Staf dinas", "Office staff"),
              "coordinator": ("Koordinator", "Coordinator"), "enumerator": ("Petugas lapangan", "Field enumerator")}


def role_name(role: str, en: bool = False) -> str:
    names = ROLE_NAMES.get(role)
    return names[1 if en else 0] if names else role

# need -> roles that have it. Area scoping is applied on top for coordinators and enumerators.
NEEDS: dict[str, frozenset[str]] = {
    "manage_users": frozenset({"admin"}),
    "view_audit": frozenset({"admin", "staff"}),
    "edit_forms": frozenset({"admin", "staff"}),
    "view_data": frozenset({"admin", "staff", "coordinator", "enumerator"}),
    "review": frozenset({"admin", "staff", "coordinator"}),
    "fill": frozenset({"admin", "staff", "enumerator"}),
    "download_reports": frozenset({"admin", "staff", "coordinator"}),
    "reveal_nik": frozenset({"admin", "staff"}),
    # Probable duplicates (storage/duplicates.py): a coordinator decides the pairs of their areas.
    "decide_duplicates": frozenset({"admin", "staff", "coordinator"}),
    "import_outbox": frozenset({"admin", "staff"}),
    # A beneficiary list from a file: the whole kabupaten's registry, so area-free roles.
    "import_registry": frozenset({"admin", "staff"}),
    # The API's full description (every route, parameter and schema) is a map for an attacker too.
    "read_api_schema": frozenset({"admin", "staff"}),  # an outbox file from a phone
}
AREA_FREE_ROLES = frozenset({"admin", "staff"})  # they see the whole kabupaten


class Principal(msgspec.Struct, frozen=True):
    id: int
    username: str
    display_name: str
    role: str
    areas: tuple[str, ...] = ()

    @property
    def is_area_free(self) -> bool:
        return self.role in AREA_FREE_ROLES


def has(principal: Principal, need: str) -> bool:
    return principal.role in NEEDS[need]


def covers(areas: tuple[str, ...], area_code: str) -> bool:
    """True when area_code is one of the areas or lies inside one (64.02.06 covers 64.02.06.2001)."""
    return any(area_code == a or area_code.startswith(a + ".") for a in areas)


def reachable(areas: tuple[str, ...], region_code: str) -> bool:
    """May a region be picked on a form by someone working in `areas`: it lies inside one of them, or
    one of them lies inside it (the kecamatan of an enumerator who works in one of its desa)."""
    return covers(areas, region_code) or any(a.startswith(region_code + ".") for a in areas)


def pickable_areas(principal: Principal) -> tuple[str, ...] | None:
    """The areas that limit the regions a person's forms offer; None: the whole kabupaten."""
    return None if principal.is_area_free or not principal.areas else principal.areas


def sees_area(principal: Principal, area_code: str) -> bool:
    return principal.is_area_free or covers(principal.areas, area_code)


def may(principal: Principal, need: str, area_code: str | None = None) -> bool:
    """The one question handlers ask: may this person do `need` (on a record of `area_code`)?"""
    if not has(principal, need):
        return False
    return area_code is None or sees_area(principal, area_code)


def owns(principal: Principal, enumerator_id: int | None) -> bool:
    """The record was sent by this person (its `enumerator`)."""
    return enumerator_id is not None and enumerator_id == principal.id


def sees_record(principal: Principal, enumerator_id: int | None, area_code: str) -> bool:
    """May this person see a submission (and what hangs off it: its photos, its history)? An
    enumerator sees the records they sent, wherever they are; anyone else the records of their
    areas. A record they may not see does not exist for them (404). List queries apply the same
    rule in SQL (storage/review.scope)."""
    if principal.role == "enumerator":
        return owns(principal, enumerator_id)
    return sees_area(principal, area_code)


def may_revise(principal: Principal, enumerator_id: int | None) -> bool:
    """May this person send a new revision of an existing record (same instance id)? Its own
    enumerator, or staff and admins; anyone else's retry is answered as a conflict that reveals
    nothing about the record."""
    return owns(principal, enumerator_id) or principal.is_area_free


def assigned(principal: Principal, roles: tuple[str, ...], areas: tuple[str, ...]) -> bool:
    """May this person see and fill a form assigned to these roles and areas? No roles and
    no areas: everyone. Form editors always may (they check what they publish). An area assignment
    holds for a person whose areas overlap it either way (kecamatan ⊃ desa, desa ⊂ kecamatan)."""
    if has(principal, "edit_forms"):
        return True
    if roles and principal.role not in roles:
        return False
    if not areas or principal.is_area_free:
        return True
    return any(covers(areas, mine) or covers((mine,), area) for mine in principal.areas for area in areas)


def sees_duplicate(principal: Principal, area_code: str) -> bool:
    """May this person see the other record behind a duplicate flag (same NIK, or same KK)? A flag
    tells an enumerator that a duplicate exists, never where or who: that would let them probe any
    number's registration by registering it. A reviewer sees the duplicates of their own areas, and
    staff all of them (they merge)."""
    return has(principal, "review") and sees_area(principal, area_code)
