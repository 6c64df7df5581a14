"""One typed context per page (STYLE.md 8): a Struct lists exactly what its template may use, and a
builder function makes it from domain/storage values, testable without HTTP."""

from __future__ import annotations

import msgspec

from server.clock import WITA
from server.domain.access import Principal, has
from server.storage.audit import Entry
from server.storage.forms import FormSummary
from server.storage.users import Account
from server.web.fill_assets import safe_json
from server.web.offline_context import phone_assets
from server.web.viewer import Viewer, viewer_of


class FormLink(msgspec.Struct, frozen=True):
    form_id: str
    title: str
    versions: int


class HomeContext(msgspec.Struct, frozen=True):
    lang: str
    forms: list[FormLink]
    viewer: Viewer | None = None
    # For whoever fills forms: the phone's offline runtime starts here too, right after signing in,
    # so every form and the beneficiaries are on the phone before the first trip upriver.
    offline_js: str = ""
    phone_config: str = ""


def home_context(forms: list[FormSummary], lang: str, principal: Principal | None = None) -> HomeContext:
    links = [
        FormLink(f.form_id, (f.title_en if lang == "en" and f.title_en else f.title_id) or f.form_id, f.versions)
        for f in forms
        if f.status == "published"
    ]
    if principal is None or not has(principal, "fill"):
        return HomeContext(lang=lang, forms=links, viewer=viewer_of(principal) if principal else None)
    return HomeContext(lang=lang, forms=links, viewer=viewer_of(principal), offline_js=phone_assets()["offline"],
                       phone_config=safe_json({"lang": lang, "page": "home", "user": principal.username}))


class SignInContext(msgspec.Struct, frozen=True):
    lang: str
    username: str
    next_path: str
    error: str = ""
    error_code: str = ""


class UserRow(msgspec.Struct, frozen=True):
    id: int
    username: str
    display_name: str
    role: str
    areas: str
    active: bool


class AppKeyRow(msgspec.Struct, frozen=True):
    id: int
    name: str
    prefix: str
    created: str
    last_used: str
    active: bool


class AccountContext(msgspec.Struct, frozen=True):
    lang: str
    viewer: Viewer
    areas: list[str]
    message: str = ""
    error: str = ""
    app_keys: list[AppKeyRow] = []  # ODK Collect / KoboCollect keys
    new_key_url: str = ""  # the server URL of a key just made, shown once
    new_key_qr: str = ""  # its QR code as inline SVG (segno; no text from the person in it)
    error_code: str = ""  # the catalogue code, on the alert as data-code


class UsersContext(msgspec.Struct, frozen=True):
    lang: str
    viewer: Viewer
    users: list[UserRow]
    roles: list[str]
    message: str = ""
    error: str = ""
    error_code: str = ""  # the catalogue code, on the alert as data-code


class UserEditContext(msgspec.Struct, frozen=True):
    lang: str
    viewer: Viewer
    user: UserRow
    roles: list[str]
    message: str = ""
    error: str = ""
    error_code: str = ""  # the catalogue code, on the alert as data-code
    new_password: str = ""
    failed_sign_ins: int = 0  # within the last window_minutes, from every address
    window_minutes: int = 15
    locked_for_new_addresses: bool = False


class AuditRow(msgspec.Struct, frozen=True):
    at: str
    actor: str
    action: str
    target: str
    area_code: str
    detail: str
    address: str


class AuditContext(msgspec.Struct, frozen=True):
    lang: str
    viewer: Viewer
    rows: list[AuditRow]
    actions: list[str]
    action: str
    actor: str
    target: str
    since: str
    until: str
    next_cursor: str


def user_row(account: Account) -> UserRow:
    return UserRow(account.id, account.username, account.display_name, account.role,
                   " ".join(account.areas), account.active)


def audit_row(entry: Entry) -> AuditRow:
    target = f"{entry.target_type}:{entry.target_id}" if entry.target_type else entry.target_id
    return AuditRow(at=entry.at.astimezone(WITA).strftime("%Y-%m-%d %H:%M:%S WITA"), actor=entry.actor,
                    action=entry.action, target=target, area_code=entry.area_code, detail=entry.detail,
                    address=entry.address)
