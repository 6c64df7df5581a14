"""The signed-in person as every page's header shows them: a module of its own so that page contexts
(offline_context, review_context, ...) and contexts.py can all use it without importing each other."""

from __future__ import annotations

import msgspec

from server.domain.access import Principal, has


class Viewer(msgspec.Struct, frozen=True):
    """The signed-in person as every page's header shows them."""

    username: str
    display_name: str
    role: str
    can_manage_users: bool
    can_view_audit: bool


def viewer_of(principal: Principal) -> Viewer:
    return Viewer(principal.username, principal.display_name, principal.role,
                  can_manage_users=has(principal, "manage_users"), can_view_audit=has(principal, "view_audit"))
