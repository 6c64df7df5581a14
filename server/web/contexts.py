"""One typed context per page (STYLE.md 8): a Struct lists exactly what its template may use, and a
builder function makes it from domain/storage values, testable without HTTP."""

from __future__ import annotations

import re

import msgspec

from server.clock import WITA
from server.domain.access import Principal, has
from server.domain.review import status_label
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


# Each audit action as people read it (Indonesian, English); a test holds it to storage/audit.ACTIONS.
ACTION_LABELS: dict[str, tuple[str, str]] = {
    "auth.sign_in": ("Masuk ke Pantau", "Signed in"), "auth.sign_in_failed": ("Gagal masuk", "Sign-in failed"),
    "auth.sign_out": ("Keluar", "Signed out"), "auth.password_change": ("Ganti kata sandi", "Password changed"),
    "user.create": ("Pengguna dibuat", "User created"), "user.role": ("Peran diubah", "Role changed"),
    "user.password_reset": ("Kata sandi diatur ulang", "Password reset"),
    "user.deactivate": ("Pengguna dinonaktifkan", "User deactivated"),
    "user.activate": ("Pengguna diaktifkan", "User activated"), "user.unlock": ("Kunci dibuka", "User unlocked"),
    "form.publish": ("Formulir diterbitkan", "Form published"),
    "submission.create": ("Data dikirim", "Record sent"), "submission.edit": ("Data diubah", "Record edited"),
    "submission.review": ("Data ditinjau", "Record reviewed"),
    "export.download": ("Ekspor diunduh", "Export downloaded"),
    "report.download": ("Laporan diunduh", "Report downloaded"),
    "report.abandon": ("Laporan dihentikan: prosesnya berulang kali mati", "Report given up: its process kept dying"),
    "nik.reveal": ("NIK dibuka", "NIK revealed"),
    "nik.search": ("NIK dicari", "NIK searched"), "beneficiary.merge": ("Penerima digabung", "Beneficiaries merged"),
    "duplicate.same": ("Ganda: orang yang sama", "Duplicate: same person"),
    "duplicate.different": ("Ganda: orang berbeda", "Duplicate: different people"),
    "token.create": ("Token dibuat", "Token created"), "token.revoke": ("Token dicabut", "Token revoked"),
    "app_key.create": ("Kunci aplikasi dibuat", "App key created"),
    "app_key.revoke": ("Kunci aplikasi dicabut", "App key revoked"),
    "form.draft_save": ("Draf formulir disimpan", "Form draft saved"),
    "form.draft_delete": ("Draf formulir dihapus", "Form draft deleted"),
    "form.archive": ("Formulir diarsipkan", "Form archived"), "form.restore": ("Formulir dipulihkan", "Form restored"),
    "form.assign": ("Penugasan formulir", "Form assigned"),
    "form.media_upload": ("Media formulir diunggah", "Form media uploaded"),
    "outbox.import": ("Kotak keluar diimpor", "Outbox imported"),
    "registry.import": ("Daftar penerima diimpor", "Registry imported"),
}
_REVIEW_DETAIL = re.compile(r"^(\w+)->(\w+)")


def action_label(action: str, lang: str) -> str:
    labels = ACTION_LABELS.get(action, (action, action))
    return labels[1] if lang == "en" else labels[0]


def audit_detail(entry: Entry, lang: str) -> str:
    """The stored detail, a review's "received->approved" in the states' labels."""
    if entry.action != "submission.review":
        return entry.detail
    return _REVIEW_DETAIL.sub(lambda m: f"{status_label(m[1], lang)} → {status_label(m[2], lang)}", entry.detail)


class AuditRow(msgspec.Struct, frozen=True):
    at: str
    actor: str
    action: str  # the code, shown as code beside its label and used by the filter
    action_label: str
    target: str
    area_code: str
    detail: str
    address: str


class AuditContext(msgspec.Struct, frozen=True):
    lang: str
    viewer: Viewer
    rows: list[AuditRow]
    actions: list[tuple[str, str]]  # (code, label)
    action: str
    actor: str
    target: str
    since: str
    until: str
    next_cursor: str


def user_row(account: Account) -> UserRow:
    return UserRow(account.id, account.username, account.display_name, account.role,
                   " ".join(account.areas), account.active)


def audit_row(entry: Entry, lang: str = "id") -> AuditRow:
    target = f"{entry.target_type}:{entry.target_id}" if entry.target_type else entry.target_id
    return AuditRow(at=entry.at.astimezone(WITA).strftime("%Y-%m-%d %H:%M:%S WITA"), actor=entry.actor,
                    action=entry.action, action_label=action_label(entry.action, lang), target=target,
                    area_code=entry.area_code, detail=audit_detail(entry, lang), address=entry.address)
