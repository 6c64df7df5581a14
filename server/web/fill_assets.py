"""What a fill page loads besides its HTML: the static files' content-hashed URLs, the runtime's
UI texts and message codes (part of that hash), the rules URL and the JSON safe inside <script>."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec

from server.domain.compile import CompiledForm
from server.domain.expr.odk import MORE_JS
from server.domain.problems import messages

STATIC = Path(__file__).resolve().parents[2] / "static"

# UI text, Indonesian first. The template uses these for its buttons; the runtime gets them in its JSON.
UI: dict[str, tuple[str, str]] = {
    "choose": ("— Pilih —", "— Choose —"), "next": ("Lanjut", "Next"), "back": ("Kembali", "Back"),
    "send": ("Kirim", "Submit"), "add": ("Tambah", "Add"), "remove": ("Hapus", "Remove"),
    "recount": ("Sesuaikan jumlah isian", "Adjust the number of entries"),
    "confirm": ("Sudah dicek dengan KTP/KK/dokumen", "Checked against the ID card/documents"),
    "gps": ("Ambil lokasi GPS", "Get GPS location"), "gps_wait": ("Mencari lokasi…", "Finding location…"),
    "gps_acc": ("Akurasi ±{m} m", "Accuracy ±{m} m"), "gps_fail": ("Lokasi tidak didapat: {why}", "No location: {why}"),
    "gps_hint": ("Tanpa GPS: tulis lintang bujur, mis. -0.4195 116.9856", "Without GPS: type latitude longitude"),
    "photo_wait": ("Mengirim foto…", "Uploading photo…"),
    "photo_ok": ("Foto tersimpan ({kb} KB)", "Photo saved ({kb} KB)"),
    "photo_fail": ("Foto gagal dikirim: {why}", "Photo upload failed: {why}"),
    "photo_kept": ("Foto tersimpan", "Photo saved"),
    "no_choices": ("Daftar pilihannya belum diunggah bersama formulir.",
                   "Its list of choices was not uploaded with the form."),
    "file_kept": ("Berkas tersimpan", "File saved"),
    "sig_clear": ("Ulangi tanda tangan", "Clear signature"),
    "sig_help": ("Tanda tangan di kotak ini", "Sign in this box"),
    "step": ("Langkah {n} dari {m}", "Step {n} of {m}"), "sending": ("Mengirim…", "Sending…"),
    "fix": ("Ada {n} isian yang perlu diperbaiki.", "{n} answers need fixing."),
    "tick": ("Periksa peringatan lalu centang konfirmasinya.", "Check the warning, then tick the confirmation."),
    "offline": ("Tidak tersambung ke server; data belum terkirim. Coba lagi.",
                "Cannot reach the server; nothing was sent. Try again."),
    "signin": ("Sesi berakhir: masuk lagi di tab lain, lalu kirim ulang.",
               "Your session ended: sign in again in another tab, then submit again."),
    "sent": ("Terkirim", "Sent"), "number": ("Nomor data", "Record id"), "received": ("Diterima", "Received"),
    "again": ("Isi formulir baru", "Fill in a new form"), "same": ("Sudah diterima sebelumnya", "Already received"),
    "female": ("Perempuan", "Female"), "male": ("Laki-laki", "Male"), "born": ("lahir", "born"),
    "refresh": ("Tampilkan pilihan sesuai jawaban di atas", "Show the choices for the answers above"),
    "place": ("Urutan ke-{n}", "Place {n}"),
    "entry": ("Isian", "Entry"), "lang": ("English", "Bahasa Indonesia"),
    "pick_search": ("Cari nama, desa atau NIK", "Search name, village or NIK"),
    "pick_chosen": ("Dipilih", "Chosen"), "pick_nothing": ("Tidak ditemukan", "Not found"),
    "pick_count": ("Daftar penerima di HP: {n} orang (diperbarui {when}).",
                   "Beneficiaries on this phone: {n} (updated {when})."),
    "pick_none": ("Daftar penerima belum ada di HP ini; sambungkan ke internet.",
                  "No beneficiary list on this phone yet; connect to the internet."),
    "pick_offline": ("Tidak tersambung: memakai daftar yang tersimpan.", "Offline: using the saved list."),
    "refer": ("Anak perlu dirujuk: {reasons}.", "The child must be referred: {reasons}."),
    "outside_area": ("Wilayah ini di luar wilayah tugas Anda. Pilih wilayah Anda sendiri.",
                     "This area is outside your assigned areas. Choose one of your own."),
}
# The UI texts the runtime shows itself; the others are the template's.
# What static/js/files.js shows (audio, video and file questions), sent only with forms that have them.
FILE_TEXTS = {
    "wait": ("Menyimpan berkas…", "Saving the file…"),
    "ok": ("Berkas tersimpan di HP ({kb} KB); terkirim bersama isian.",
           "File kept on the phone ({kb} KB); sent with the form."),
    "fail": ("Berkas tidak disimpan: {why}", "File not kept: {why}"),
    "big": ("lebih dari {mb} MB", "larger than {mb} MB"),
}


def file_texts(lang: str) -> dict[str, str]:
    return {key: pair[1 if lang == "en" else 0] for key, pair in FILE_TEXTS.items()}


RUNTIME_TEXTS = frozenset({"confirm", "gps_wait", "gps_acc", "gps_fail", "photo_wait", "photo_ok", "photo_fail",
                           "photo_kept", "sig_clear", "sig_help", "step", "sending", "fix", "tick", "offline",
                           "signin", "sent", "number", "received", "again", "same", "female", "male", "born",
                           "pick_search", "pick_chosen", "pick_nothing", "pick_count", "pick_none", "pick_offline",
                           "outside_area", "refer"})
MESSAGE_CODES = ("answer.required", "answer.constraint", "answer.integer", "answer.decimal", "answer.rupiah",
                 "answer.geopoint", "answer.geopoint_accuracy", "answer.repeat_min", "answer.repeat_max",
                 "answer.repeat_count", "nik.length", "nik.date", "nik.outside_kukar", "nik.sex_mismatch",
                 "nik.dob_mismatch", "kk.length", "growth.referral_required")


def ui_texts(lang: str) -> dict[str, str]:
    return {k: v[1] if lang == "en" else v[0] for k, v in UI.items()}


@lru_cache(maxsize=1)
def asset_version() -> str:
    """A hash of every static file and of the runtime's messages: part of each asset and rules URL,
    so a year-long cache never serves a stale file after an upgrade (a change is a new URL)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in STATIC.rglob("*") if p.is_file()):
        digest.update(path.relative_to(STATIC).as_posix().encode() + b"\0" + path.read_bytes())
    digest.update(msgspec.json.encode([UI, [messages(code) for code in MESSAGE_CODES]]))
    return digest.hexdigest()[:12]


def asset_urls() -> dict[str, str]:
    base = f"/aset/{asset_version()}"
    return {"css": f"{base}/css/pantau.css", "form_css": f"{base}/css/form.css", "js": f"{base}/js/form.js",
            "expr": f"{base}/js/expr-eval.js", "dom": f"{base}/js/dom.js", "nik": f"{base}/js/nik.js",
            "boot": f"{base}/js/boot.js"}


# The widgets form.js imports only for forms that use them: fill_runtime.lazy_modules lists a form's
# in the page's config (`mods`), form.js imports static/js/NAME.js for each beside the rules and calls
# its attach(spec, F) before the form is ready. A new one is a file there, a name here and its
# condition in lazy_modules (offline_context caches every one of them for offline filling), at no
# cost to the forms that do not use it.
LAZY_MODULES = ("setvalue", "growth", "dupcheck", "repeat", "repchoice", "rank", "files")


def media_assets(media: Mapping[str, str] | None) -> dict[str, str]:
    """The media stylesheet, only for a form with uploaded media files: the other forms' first load
    stays as it was (bench/page_weight.py)."""
    return {"media_css": f"/aset/{asset_version()}/css/media.css"} if media else {}


def picker_assets(compiled: CompiledForm) -> dict[str, str]:
    """The beneficiary picker and its IndexedDB helper, only for forms with a beneficiary question:
    the other forms' first load stays within its weight budget (bench/page_weight.py)."""
    if not any(info.type == "beneficiary" for info in compiled.fields.values()):
        return {}
    base = f"/aset/{asset_version()}"
    return {"picker": f"{base}/js/picker.js", "idb": f"{base}/vendor/idb.js"}


def expr_assets(compiled: CompiledForm) -> dict[str, str]:
    """The JavaScript of the functions few forms call (domain/expr/odk.MORE_JS; digest() on its own),
    only for forms that call one: the other forms' first load stays within its weight budget."""
    called, base = compiled.functions(), f"/aset/{asset_version()}/js"
    return {**({"expr_more": f"{base}/expr-more.js"} if called & MORE_JS else {}),
            **({"expr_digest": f"{base}/expr-digest.js"} if "digest" in called else {})}


def growth_tables_url() -> str:
    return f"/aset/{asset_version()}/data/who-growth.json"


def growth_rules(compiled: CompiledForm) -> dict[str, Any] | None:
    """The answers a growth check's z-scores come from, for static/js/growth.js: the phone computes
    the verdict as the enumerator types and asks for the referral the server would insist on."""
    registry = compiled.definition.settings.registry
    refers = registry.refers if registry else None
    spec = refers.growth if refers else None
    if refers is None or spec is None:
        return None
    return {"sex": spec.sex, "birth_date": spec.birth_date, "date": refers.date or "",
            "weight": spec.weight, "length": spec.length, "position": spec.position or "", "oedema": spec.oedema or "",
            "referral": spec.referral or "", "no_referral": spec.no_referral, "tables": growth_tables_url()}


def rules_url(compiled: CompiledForm, lang: str) -> str:
    # A published version never changes, so its rules are cached for good under this URL.
    return f"/f/{compiled.form_id}/aturan?v={compiled.version}&lang={lang}&r={asset_version()}"


def safe_json(data: Any) -> str:
    # Inside <script>, "</script>" in a label would end the element: escape <, > and & in the JSON.
    raw = msgspec.json.encode(data).decode()
    return raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
