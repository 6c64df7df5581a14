"""The error catalogue: every error a person can see has a stable code, an HTTP status and a
message template in Indonesian and English. Tests assert on codes, never on message text, so
wording can improve without breaking them (STYLE.md 2)."""

from __future__ import annotations

from typing import Any

import msgspec


class ErrorDef(msgspec.Struct, frozen=True):
    code: str
    status: int
    id: str
    en: str


CATALOGUE: dict[str, ErrorDef] = {}


def define(code: str, status: int, id: str, en: str) -> ErrorDef:
    if code in CATALOGUE:
        raise ValueError(f"error code {code!r} defined twice")
    entry = ErrorDef(code=code, status=status, id=id, en=en)
    CATALOGUE[code] = entry
    return entry


class PantauError(Exception):
    """An error with a catalogue entry. `params` fill the message templates."""

    def __init__(self, error_code: str, /, **params: Any) -> None:
        self.entry = CATALOGUE[error_code]
        self.params = params
        super().__init__(f"{error_code}: {self.message('en')}")

    @property
    def code(self) -> str:
        return self.entry.code

    @property
    def status(self) -> int:
        return self.entry.status

    def message(self, lang: str = "id") -> str:
        template = self.entry.id if lang == "id" else self.entry.en
        try:
            return template.format_map(self.params)
        except (KeyError, IndexError, ValueError):
            return template


def too_large(limit_bytes: int, code: str = "attachment.too_large", **params: Any) -> PantauError:
    """A photo (or with code, a recording or file) over the limit, which people read in MB ("Foto
    lebih dari 5 MB"), never in bytes."""
    return PantauError(code, limit_mb=megabytes(limit_bytes), limit=limit_bytes, **params)


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".removesuffix(".0").replace(".", ",")


# How the messages name what an audio, video or file question takes (attachment.wrong_kind).
KIND_NAMES = {
    "image": ("foto JPEG, PNG atau WebP", "a JPEG, PNG or WebP photo"),
    "audio": ("rekaman suara (MP3, Ogg, M4A, AAC, WAV, AMR, 3GP)",
              "an audio recording (MP3, Ogg, M4A, AAC, WAV, AMR, 3GP)"),
    "video": ("video (MP4, 3GP, WebM)", "a video (MP4, 3GP, WebM)"),
    "file": ("berkas", "a file"),
}


def wrong_kind(kind: str, code: str = "attachment.wrong_kind", **params: Any) -> PantauError:
    kind_id, kind_en = KIND_NAMES[kind]
    return PantauError(code, kind_id=kind_id, kind_en=kind_en, **params)


# --- settings and start-up -------------------------------------------------------------------
define("settings.invalid", 2, "Pengaturan {name} tidak valid: {reason}", "Setting {name} is invalid: {reason}")
define(
    "db.not_migrated",
    503,
    "Basis data belum dimigrasi ({pending} migrasi tertunda). Jalankan: pantau db migrate",
    "The database is not migrated ({pending} pending migrations). Run: pantau db migrate",
)
define(
    "db.unreachable",
    503,
    "Basis data tidak dapat dihubungi ({reason}). Coba lagi sebentar lagi.",
    "The database cannot be reached ({reason}). Try again shortly.",
)
define(
    "db.dir_missing",
    2,
    "Folder basis data {path} tidak ada. Buat foldernya atau ubah PANTAU_DATABASE_URL.",
    "The database folder {path} does not exist. Create it or change PANTAU_DATABASE_URL.",
)
define(
    "serve.too_many_connections",
    2,
    "PostgreSQL menerima {available} koneksi lagi, {workers} proses Pantau memerlukan {needed} "
    "(max_connections = {max_connections}). Kurangi PANTAU_WORKERS atau PANTAU_DB_POOL_SIZE, atau naikkan "
    "max_connections PostgreSQL.",
    "PostgreSQL accepts {available} more connections; {workers} Pantau processes need {needed} "
    "(max_connections = {max_connections}). Lower PANTAU_WORKERS or PANTAU_DB_POOL_SIZE, or raise "
    "PostgreSQL's max_connections.",
)
define(
    "serve.port_in_use",
    2,
    "Alamat {host}:{port} sudah dipakai program lain. Hentikan program itu atau ubah PANTAU_PORT.",
    "Address {host}:{port} is already in use. Stop that program or change PANTAU_PORT.",
)

# --- HTTP in general ---------------------------------------------------------------------------
define("http.not_found", 404, "Halaman atau data tidak ditemukan.", "Page or record not found.")
define("http.forbidden", 403, "Anda tidak berhak melakukan ini.", "You are not allowed to do this.")
define("http.unauthorized", 401, "Silakan masuk terlebih dahulu.", "Please sign in first.")
define("http.bad_request", 400, "Permintaan tidak valid: {detail}", "Invalid request: {detail}")
define(
    "http.too_large",
    413,
    "Data yang dikirim terlalu besar (batas {limit}).",
    "The data sent is too large (limit {limit}).",
)
define(
    "http.method_not_allowed",
    405,
    "Metode ini tidak didukung untuk alamat ini.",
    "This method is not supported for this address.",
)
define("http.csrf", 403, "Formulir kedaluwarsa. Muat ulang halaman lalu coba lagi.",
       "The form has expired. Reload the page and try again.")
define("http.nul_character", 400,
       "Isian {field} berisi karakter NUL (U+0000) yang tidak diizinkan. Hapus karakter itu lalu kirim lagi.",
       "The field {field} contains a NUL character (U+0000), which is not allowed. Remove it and send again.")
define("http.internal", 500, "Terjadi kesalahan di server. Kejadian ini sudah dicatat.",
       "Something went wrong on the server. It has been logged.")
define("http.unavailable", 503, "Layanan belum siap: {detail}", "Service not ready: {detail}")

# --- storage -----------------------------------------------------------------------------------
define(
    "backup.not_sqlite",
    2,
    "Cadangan langsung hanya untuk SQLite. Untuk PostgreSQL jalankan (kata sandi dari ~/.pgpass atau PGPASSWORD): "
    "{command}",
    "Direct backup is for SQLite only. For PostgreSQL run (the password from ~/.pgpass or PGPASSWORD): {command}",
)
define("backup.failed", 2, "Cadangan gagal, tidak ada berkas yang ditulis: {reason}",
       "The backup failed and no file was written: {reason}")
define(
    "restore.not_sqlite",
    2,
    "Pemulihan langsung hanya untuk SQLite. Untuk PostgreSQL pulihkan ke basis data baru (kata sandi dari "
    "~/.pgpass atau PGPASSWORD): {command}",
    "Direct restore is for SQLite only. For PostgreSQL restore into a new database (the password from "
    "~/.pgpass or PGPASSWORD): {command}",
)
define("restore.in_use", 2, "Basis data {path} sedang dipakai (server masih berjalan?). Hentikan server dulu.",
       "The database {path} is in use (is the server still running?). Stop the server first.")
define("blobs.not_moved", 2, "Berkas {path} tidak lolos pemeriksaan ({reason}); tidak ada berkas yang dipindahkan "
       "ke basis data atau dihapus.", "File {path} failed its check ({reason}); no file was moved into the database "
       "or removed.")
define("blob.damaged", 500, "Berkas {key} di basis data tidak utuh.",
       "Stored file {key} in the database is incomplete.")
define("restore.damaged", 2, "Cadangan {path} rusak, tidak ada yang diganti: {reason}",
       "The backup {path} is damaged; nothing was replaced: {reason}")
define("restore.newer_schema", 2,
       "Cadangan {path} dibuat oleh versi Pantau yang lebih baru (migrasi {names}). Pasang versi itu dulu.",
       "The backup {path} was made by a newer Pantau (migrations {names}). Install that version first.")
define("restore.wrong_key", 2,
       "Kunci registri (PANTAU_NIK_KEY / PANTAU_SECRET_KEY, sidik {fingerprint}) tidak membuka {failed} dari {tried} "
       "NIK/KK dalam cadangan; tidak ada yang diganti. Pasang kunci yang dipakai saat cadangan dibuat.",
       "The registry key (PANTAU_NIK_KEY / PANTAU_SECRET_KEY, fingerprint {fingerprint}) does not open {failed} of "
       "{tried} NIK/KK in the backup; nothing was replaced. Set the key in use when the backup was made.")
define("backup.target_exists", 2, "Berkas tujuan {path} sudah ada; pilih nama lain.",
       "Target file {path} already exists; choose another name.")
define("backup.target_dir", 2, "Folder tujuan {path} tidak ada.", "Target folder {path} does not exist.")

# --- users -------------------------------------------------------------------------------------
define("user.exists", 409, "Pengguna {username} sudah ada.", "User {username} already exists.")
define("user.bad_username", 400,
       "Nama pengguna harus 3-40 huruf kecil, angka, titik, garis bawah atau tanda hubung.",
       "Username must be 3-40 lowercase letters, digits, dots, underscores or hyphens.")
define("user.bad_role", 400, "Peran {role} tidak dikenal. Pilihan: {choices}.",
       "Unknown role {role}. Choices: {choices}.")
define("user.weak_password", 400, "Kata sandi minimal {min} karakter.",
       "Password must be at least {min} characters.")
define("user.not_found", 404, "Pengguna {username} tidak ditemukan.", "User {username} not found.")

# --- forms -------------------------------------------------------------------------------------
define(
    "form.version_changed",
    409,
    "Formulir {form_id} versi {version} sudah diterbitkan dengan isi lain. Versi yang terbit tidak "
    "pernah berubah: naikkan nomor versi di berkas lalu muat lagi.",
    "Form {form_id} version {version} was already published with other content. Published versions "
    "never change: raise the version in the file and load it again.",
)
define("form.invalid", 400, "Formulir {name} berisi {count} kesalahan.", "Form {name} has {count} errors.")
define("form.file_missing", 2, "Berkas {path} tidak ditemukan.", "File {path} not found.")
define("user.bad_area", 400,
       "Kode wilayah {area} tidak dikenal. Gunakan kode kecamatan (64.02.06) atau desa/kelurahan (64.02.06.1001).",
       "Unknown area code {area}. Use a kecamatan (64.02.06) or desa/kelurahan (64.02.06.1001) code.")
define("user.inactive", 403, "Akun ini dinonaktifkan. Hubungi admin.", "This account is deactivated. Contact an admin.")
define("user.self_deactivate", 400, "Anda tidak dapat menonaktifkan akun Anda sendiri.",
       "You cannot deactivate your own account.")
define("user.last_admin", 400, "Ini admin aktif terakhir; angkat admin lain dulu.",
       "This is the last active admin; make another admin first.")
define("auth.bad_credentials", 401, "Nama pengguna atau kata sandi salah.", "Wrong username or password.")
define("auth.rate_limited", 429,
       "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit, masuk dari tempat Anda "
       "biasa masuk, atau minta admin membuka kuncinya.",
       "Too many failed sign-ins. Try again in {minutes} minutes, sign in from where you usually do, or ask an "
       "admin to unlock your account.")
define("auth.wrong_password", 400, "Kata sandi lama salah.", "The current password is wrong.")
define("auth.password_mismatch", 400, "Kedua kata sandi baru tidak sama.", "The two new passwords differ.")
define("http.field_too_long", 400, "Isian {field} terlalu panjang (maksimal {max} karakter).",
       "Field {field} is too long (at most {max} characters).")
define("audit.bad_filter", 400, "Filter log audit tidak valid: {detail}", "Invalid audit log filter: {detail}")

# --- submissions and attachments ---------------------------------------------------------------
define("submission.conflict", 409,
       "Data dengan id {instance_id} sudah diterima dengan isi lain. Buka data itu untuk mengubahnya.",
       "A record with id {instance_id} was already received with other content. Open that record to edit it.")
define("submission.stale", 409,
       "Data {instance_id} sudah diubah di tempat lain (revisi {current}). Muat ulang lalu ubah lagi.",
       "Record {instance_id} was changed elsewhere (revision {current}). Reload it and edit again.")
define("submission.invalid", 422, "Isian belum benar: {count} masalah. Periksa pesan di setiap isian.",
       "The answers are not valid yet: {count} problems. See the message at each field.")
define("submission.unknown_form", 404, "Formulir {form_id} versi {version} tidak ada atau tidak boleh Anda isi.",
       "Form {form_id} version {version} does not exist or is not yours to fill.")
define("submission.outside_area", 403, "Wilayah {area} di luar wilayah tugas Anda.",
       "Area {area} is outside the areas assigned to you.")
define("submission.not_yours", 404, "Data tidak ditemukan.", "Record not found.")
define("attachment.too_large", 413, "Foto lebih dari {limit_mb} MB. Ambil ulang dengan resolusi lebih kecil.",
       "The photo is larger than {limit_mb} MB. Take it again at a lower resolution.")
define("attachment.not_image", 415, "Berkas ini bukan foto JPEG, PNG atau WebP.",
       "This file is not a JPEG, PNG or WebP photo.")
define("attachment.too_many_pixels", 413,
       "Foto ini {megapixels} MP dan harus dibuka utuh untuk diperkecil (PNG, WebP, JPEG CMYK atau JPEG "
       "progresif); server hanya menerima foto seperti itu sampai {limit} MP. Kirim sebagai JPEG biasa atau "
       "perkecil dulu sampai sisi terpanjang {side} px.",
       "This photo has {megapixels} MP and must be opened whole to be scaled down (PNG, WebP, CMYK or "
       "progressive JPEG); the server takes such photos up to {limit} MP. Send it as a plain JPEG or scale it "
       "to {side} px on its longer side first.")
define("attachment.file_too_large", 413, "Berkas lebih dari {limit_mb} MB. Rekam lebih pendek atau pilih berkas lain.",
       "The file is larger than {limit_mb} MB. Record a shorter one or choose another file.")
define("attachment.wrong_kind", 415, "Berkas ini bukan {kind_id}.", "This file is not {kind_en}.")
define("attachment.empty", 400, "Berkasnya kosong (0 byte).", "The file is empty (0 bytes).")
define("attachment.unknown_kind", 400, "Jenis lampiran '{kind}' tidak dikenal; pilih audio, video atau file.",
       "Unknown attachment kind '{kind}'; use audio, video or file.")
define("attachment.not_for_question", 422, "Berkas untuk isian {field} bukan {kind_id}.",
       "The file for field {field} is not {kind_en}.")
define("attachment.over_question_limit", 422,
       "Berkas untuk isian {field} lebih dari {limit_mb} MB, batas pertanyaan ini.",
       "The file for field {field} is larger than {limit_mb} MB, this question's limit.")
define("attachment.missing", 422, "Foto untuk isian {field} belum terkirim. Kirim fotonya dulu.",
       "The photo for field {field} has not been uploaded yet. Upload it first.")

# --- a filled form from ODK Collect or KoboCollect (OpenRosa POST /submission) ---------------------
define("openrosa.no_instance_file", 400,
       "Kiriman tidak berisi berkas xml_submission_file (isian formulir). Kirim ulang dari aplikasi.",
       "The upload holds no xml_submission_file part (the filled form). Send it again from the app.")
define("openrosa.not_multipart", 400, "Kiriman harus multipart/form-data seperti yang dikirim ODK Collect.",
       "A submission must be multipart/form-data, as ODK Collect sends it.")
define("openrosa.not_xml", 400, "Berkas isian bukan XML yang dapat dibaca ({reason}).",
       "The submission file is not readable XML ({reason}).")
define("openrosa.unsafe_xml", 400,
       "Berkas isian memuat DTD atau entitas XML, yang tidak pernah dibuat ODK Collect; kiriman ditolak.",
       "The submission file holds a DTD or XML entities, which ODK Collect never writes; it is refused.")
define("openrosa.xml_too_large", 400, "Berkas isian lebih dari {max_kb} kB; itu bukan isian formulir.",
       "The submission file is larger than {max_kb} kB; that is not a filled form.")
define("openrosa.no_form_id", 400, "Berkas isian tidak menyebut formulirnya (atribut id pada elemen utama).",
       "The submission file does not name its form (the id attribute of its root element).")
define("openrosa.bad_instance_id", 400,
       "Isian tidak punya meta/instanceID berbentuk uuid:... (tertulis '{value}'). Isi ulang formulir dari "
       "daftar formulir terbaru.",
       "The instance has no meta/instanceID of the form uuid:... (found '{value}'). Fill the form again from the "
       "current form list.")
define("openrosa.edit", 400,
       "Isian yang sudah terkirim tidak dapat diubah dari aplikasi. Minta koordinator mengembalikannya untuk "
       "diperbaiki di halaman Pantau.",
       "A sent form cannot be changed from the app. Ask the coordinator to send it back for correction in Pantau.")
define("openrosa.invalid", 400, "Isian belum benar ({count} masalah): {problems}",
       "The answers are not valid yet ({count} problems): {problems}")
define("openrosa.missing_file", 400,
       "Berkas {file} untuk isian {field} tidak ikut terkirim. Kirim ulang isian ini dari aplikasi.",
       "The file {file} for field {field} was not sent with the form. Send this form again from the app.")
define("openrosa.file_name", 400, "Nama berkas lampiran tidak valid: {file}.", "Invalid attachment file name: {file}.")

# --- the beneficiary registry ----------------------------------------------------------
define("registry.unknown_beneficiary", 422,
       "Penerima {beneficiary} tidak ada di daftar penerima wilayah Anda. Muat ulang daftar penerima lalu pilih lagi.",
       "Beneficiary {beneficiary} is not on the list of beneficiaries of your areas. Reload the list and choose again.")
define("registry.duplicate_decided", 409, "Pasangan ini sudah diputuskan orang lain.",
       "This pair has already been decided by someone else.")
define("registry.merge_self", 400, "Data penerima tidak dapat digabung dengan dirinya sendiri.",
       "A beneficiary record cannot be merged into itself.")
define("registry.merge_merged", 409, "Data penerima {beneficiary} sudah digabung ke data lain.",
       "Beneficiary record {beneficiary} was already merged into another record.")
define("registry.merge_programme", 400,
       "Kedua data berasal dari program berbeda ({keep} dan {drop}); hanya data satu program yang dapat digabung.",
       "The two records belong to different programmes ({keep} and {drop}); only records of one programme merge.")
define("registry.bad_query", 400, "Permintaan daftar penerima tidak valid: {detail}",
       "Invalid beneficiary list request: {detail}")

# --- importing a beneficiary list ---------------------------------------------------
define("import.no_intake", 422,
       "Tidak ada formulir pendaftaran yang diterbitkan untuk program '{programme}': penerima impor dicatat "
       "sebagai pendaftaran formulir itu. Terbitkan formulir pendaftarannya dulu.",
       "No published registration form for programme '{programme}': imported people are filed as registrations "
       "of that form. Publish the registration form first.")
define("import.file", 422, "{message}", "{message_en}")
define("import.missing_columns", 422, "Kolom untuk {fields} belum dipilih: tanpa itu tidak ada yang dapat diimpor.",
       "No column is chosen for {fields}: nothing can be imported without them.")
define("import.bad_mapping", 400, "Pemetaan kolom tidak valid: {detail}", "Invalid column mapping: {detail}")
define("import.has_errors", 422,
       "Tidak ada baris yang dapat diimpor: {errors} baris bergalat{warnings_id}.",
       "No row can be imported: {errors} rows with errors{warnings_en}.")
define("import.unknown_job", 404, "Pemeriksaan berkas ini tidak ada lagi. Unggah berkasnya lagi.",
       "This file check no longer exists. Upload the file again.")
define("import.too_large", 413, "Berkas lebih dari {limit_mb} MB.", "The file is larger than {limit_mb} MB.")

define("registry.id_search_forbidden", 403,
       "Mencari dengan NIK atau No. KK lengkap hanya untuk petugas yang boleh membuka NIK. Cari dengan nama atau desa.",
       "Searching by a whole NIK or No. KK is only for those who may reveal NIKs. Search by name or desa.")
define("registry.id_search_by_post", 400,
       "NIK/No. KK lengkap tidak dicari lewat alamat (URL): gunakan formulir Cek NIK/KK.",
       "A whole NIK or No. KK is not searched through the address (URL): use the Check NIK/KK form.")
define("registry.id_search_limited", 429,
       "Terlalu banyak pencarian NIK/KK ({limit} per menit). Coba lagi sebentar lagi.",
       "Too many NIK/KK searches ({limit} a minute). Try again in a moment.")

# --- review and export -----------------------------------------------------------------
define("review.bad_filter", 400, "Filter tidak valid: {detail}. Periksa nama dan nilai filter.",
       "Invalid filter: {detail}. Check the filter's name and value.")
define("review.reversed_dates", 400, "Tanggal awal sesudah tanggal akhir. Tukar keduanya.",
       "The start date is after the end date. Swap them.")
define("review.bad_cursor", 400,
       "Penanda halaman tidak valid atau dibuat untuk filter lain. Mulai lagi dari halaman pertama.",
       "The page marker is invalid or was made for other filters. Start again from the first page.")
define("review.outside_area", 403, "Wilayah {area} di luar wilayah Anda.", "Area {area} is outside your areas.")
define("review.bad_status", 400, "Status tinjauan {wanted} tidak dikenal.", "Unknown review status {wanted}.")
define("review.bad_transition", 409, "Data berstatus {current} tidak dapat diubah menjadi {wanted}.",
       "A record that is {current_en} cannot be changed to {wanted}.")
define("review.comment_required", 400, "Tulis alasannya: petugas perlu tahu apa yang harus diperbaiki.",
       "Write the reason: the enumerator needs to know what to fix.")
define("review.comment_too_long", 400, "Catatan terlalu panjang (maksimal {max} karakter).",
       "The comment is too long (at most {max} characters).")
define("review.stale", 409,
       "Data ini sudah berubah (sekarang revisi {current}) sejak Anda membukanya. Muat ulang halaman.",
       "This record changed (now revision {current}) since you opened it. Reload the page.")
define("export.unknown_form", 404, "Formulir {form_id} tidak ada.", "Form {form_id} does not exist.")
define("export.bad_option", 400, "Pilihan ekspor {name} tidak valid; pilihan: {choices}.",
       "Invalid export option {name}; choices: {choices}.")
define("export.busy", 503, "Sedang ada dua ekspor berjalan. Coba lagi sebentar lagi.",
       "Two exports are already running. Try again in a moment.")
define("export.too_many_rows", 500, "Tabel {table} melebihi {limit} baris, batas XLSX. Pilih CSV atau saring datanya.",
       "Table {table} exceeds {limit} rows, the XLSX limit. Choose CSV or filter the data.")
define("token.bad_name", 400, "Beri nama token (maksimal {max} karakter), misalnya nama skripnya.",
       "Give the token a name (at most {max} characters), e.g. the script's name.")
define("token.too_many", 400, "Anda sudah punya {max} token aktif. Cabut yang tidak dipakai dulu.",
       "You already have {max} active tokens. Revoke unused ones first.")

# --- the beneficiary registry, continued (programmes, keys) ---------------------------
define("registry.other_programme", 422,
       "Penerima {beneficiary} terdaftar di program {found}, bukan program {programme} formulir ini. "
       "Pilih penerima program {programme}.",
       "Beneficiary {beneficiary} is registered in programme {found}, not in this form's programme {programme}. "
       "Choose a beneficiary of programme {programme}.")

# --- offline first: importing an outbox file ---------------------------------------------
define("outbox.bad_file", 400, "Berkas ini bukan ekspor outbox Pantau yang utuh ({detail}).",
       "This file is not a complete Pantau outbox export ({detail}).")
define("outbox.unknown_user", 400, "Pengguna {user} dari berkas ini tidak ada atau tidak aktif.",
       "User {user} named in this file does not exist or is inactive.")
# --- the form editor ---------------------------------------------------------------------
define("editor.exists", 409, "Formulir {form_id} sudah ada. Buka dari daftar formulir untuk mengubahnya.",
       "The form {form_id} already exists. Open it from the list of forms to change it.")
define("editor.bad_name", 400,
       "Nama formulir '{form_id}' tidak valid: mulai dengan huruf, lalu huruf, angka atau _ (maks. 64).",
       "The form name '{form_id}' is invalid: start with a letter, then letters, digits or _ (max 64).")
define("editor.no_draft", 404, "Formulir {form_id} belum punya draf. Simpan perubahan dulu.",
       "The form {form_id} has no draft. Save a change first.")
define("editor.invalid", 422,
       "Draf belum dapat disimpan atau diterbitkan: {count} masalah. Perbaiki di tempat yang ditandai.",
       "The draft cannot be saved or published yet: {count} problem(s). Fix them where marked.")
define("editor.needs_confirmation", 409,
       "Ada {count} peringatan yang mengubah arti data lama. Baca lalu centang konfirmasinya sebelum menerbitkan.",
       "{count} warning(s) change the meaning of old data. Read them, then tick the confirmation before publishing.")
define("editor.bad_upload", 400, "Pilih satu berkas formulir (.xlsx, .yaml, .yml atau .json) untuk diunggah.",
       "Choose one form file (.xlsx, .yaml, .yml or .json) to upload.")
define("editor.upload_too_large", 413,
       "Berkas terlalu besar (lebih dari {limit} bita). Formulir jauh lebih kecil dari itu.",
       "The file is too large (over {limit} bytes). Forms are far smaller than that.")
define("editor.bad_area", 400, "Kode wilayah '{area}' tidak valid; tulis kode Kemendagri seperti 64.02.06.",
       "The area code '{area}' is invalid; write a Kemendagri code such as 64.02.06.")
define("editor.bad_status", 400, "Status '{status}' tidak dikenal; pilih published atau archived.",
       "Unknown status '{status}'; choose published or archived.")

# --- periodic evaluation reports ------------------------------------------------------
define("report.unknown", 404, "Laporan {name} tidak ada. Lihat daftar laporan.",
       "There is no report {name}. See the list of reports.")
define("report.bad_definition", 400, "Definisi laporan {file} tidak valid: {detail}",
       "The report definition {file} is not valid: {detail}")
define("report.bad_period", 400,
       "Periode {period} tidak dikenal. Tulis seperti 2026-Q3 (triwulan), 2026-07 (bulan), 2026-S2 (semester) "
       "atau 2026.",
       "Unknown period {period}. Write it like 2026-Q3 (quarter), 2026-07 (month), 2026-S2 (semester) or 2026.")
define("report.wrong_period", 400, "Laporan {name} dibuat per periode {kind}; {period} bukan periode seperti itu.",
       "Report {name} is made per {kind} period; {period} is not such a period.")
define("report.bad_scope", 400,
       "Wilayah {scope} tidak dikenal. Tulis 64.02 (Kutai Kartanegara) atau kode kecamatan seperti 64.02.06.",
       "Unknown area {scope}. Write 64.02 (Kutai Kartanegara) or a kecamatan code such as 64.02.06.")
define("report.outside_area", 403, "Wilayah {scope} di luar wilayah Anda. Pilih kecamatan Anda sendiri.",
       "Area {scope} is outside your areas. Choose one of your own kecamatan.")
define("report.not_started", 422,
       "Periode {period} baru mulai {start}; laporannya belum dapat dibuat. Pilih periode yang sudah berjalan.",
       "Period {period} only starts on {start}; its report cannot be made yet. Choose a period that has begun.")
define("report.timeout", 500, "Pembuatan laporan melewati batas {seconds} detik dan dihentikan.",
       "Making the report took longer than {seconds} seconds and was stopped.")
define("report.failed", 500, "Pembuatan laporan gagal: {reason}", "Making the report failed: {reason}")
define("report.abandoned", 500,
       "Pembuatan laporan dihentikan: proses pembuatnya berhenti {count} kali tanpa selesai (server mati atau "
       "kehabisan memori saat membuatnya), jadi laporan ini tidak diantrekan lagi. Periksa log server, lalu "
       "buat laporan ini lagi.",
       "Making the report was given up: the process making it stopped {count} times without finishing (the "
       "server died or ran out of memory while making it), so it is not queued again. Check the server log, "
       "then make this report again.")

# --- the registry key: pantau keys check | rotate, and the check at start-up ----------
define("keys.wrong_key", 2,
       "PANTAU_NIK_KEY tidak cocok dengan data tersimpan: {failed} dari {tried} NIK/KK contoh tidak dapat dibuka "
       "(sidik kunci {fingerprint}). Pasang kunci yang benar, atau jalankan: pantau keys rotate --old-key-env VAR",
       "PANTAU_NIK_KEY does not open the stored data: {failed} of {tried} sample NIK/KK values failed to open "
       "(key fingerprint {fingerprint}). Set the right key, or run: pantau keys rotate --old-key-env VAR")
define("keys.same_key", 2, "Kunci lama dan kunci baru sama; tidak ada yang perlu diganti.",
       "The old and the new key are the same; there is nothing to rotate.")
define("keys.rotate_failed", 2,
       "Nilai di {table} baris {row} tidak terbuka dengan kunci lama maupun baru; tidak ada yang diubah. "
       "Periksa kunci lama.",
       "The value in {table} row {row} opens with neither the old nor the new key; nothing was changed. "
       "Check the old key.")
define("keys.no_old_key", 2, "Variabel {name} kosong: isi dengan kunci lama (minimal 32 karakter).",
       "Variable {name} is empty: set it to the old key (at least 32 characters).")
# --- the form editor, later additions ------------------------------------------------------
define("editor.preview_published", 409,
       "Pratinjau ini menampilkan versi terbit {version} dan hanya untuk dilihat; kiriman uji coba tidak disimpan. "
       "Ubah dan simpan formulir untuk membuat draf, lalu coba lagi.",
       "This preview shows published version {version} and is for viewing only; test submissions are not kept. "
       "Change and save the form to make a draft, then try again.")
# --- form media: the image, audio and video files a form's media columns name ---------------
define("media.bad_name", 400, "Nama berkas '{name}' tidak boleh dipakai: tulis nama berkas saja, tanpa folder, "
       "'..' atau karakter kendali.",
       "The file name '{name}' cannot be used: give a plain file name, without folders, '..' or control characters.")
define("media.not_named", 400, "Berkas '{name}' tidak disebut di kolom media formulir ini (image, audio, video).",
       "The file '{name}' is not named in this form's media columns (image, audio, video).")
define("media.bad_type", 415, "Berkas '{name}' bukan {wanted} yang diterima (gambar JPEG, PNG, WebP, GIF; "
       "suara MP3, OGG, M4A, WAV; video MP4, WebM). SVG tidak diterima.",
       "The file '{name}' is not an accepted {wanted_en} (JPEG, PNG, WebP, GIF images; MP3, OGG, M4A, WAV audio; "
       "MP4, WebM video). SVG is not accepted.")
define("media.too_large", 413, "Berkas '{name}' lebih dari {limit_mb} MB. Kecilkan dulu sebelum diunggah.",
       "The file '{name}' is larger than {limit_mb} MB. Make it smaller before uploading.")
define("media.none_chosen", 400, "Pilih berkas media untuk diunggah.", "Choose media files to upload.")
define("media.not_found", 404, "Berkas media tidak ditemukan.", "Media file not found.")
define("media.bad_range", 416, "Bagian berkas yang diminta ({range}) tidak ada; berkas ini {size} bita.",
       "The part of the file asked for ({range}) does not exist; the file is {size} bytes.")
# --- ODK Collect and KoboCollect: app keys and the OpenRosa routes -------------------------
define("app_key.bad_name", 400, "Beri nama kunci aplikasi (maksimal {max} karakter), misalnya nama HP-nya.",
       "Give the app key a name (at most {max} characters), e.g. the phone's name.")
define("app_key.too_many", 400, "Anda sudah punya {max} kunci aplikasi aktif. Cabut yang tidak dipakai dulu.",
       "You already have {max} active app keys. Revoke unused ones first.")
define("openrosa.sign_in", 401,
       "Masuk dulu: pakai nama pengguna dan kata sandi Pantau Anda, atau pindai kode QR di halaman Akun.",
       "Sign in first: use your Pantau username and password, or scan the QR code on the Account page.")
define("openrosa.bad_key", 401,
       "Kunci aplikasi ini tidak dikenal atau sudah dicabut. Buat kunci baru di halaman Akun dan pindai lagi "
       "kode QR-nya.",
       "This app key is unknown or was revoked. Make a new key on the Account page and scan its QR code again.")
define("openrosa.bad_credentials", 401, "Nama pengguna atau kata sandi salah, atau akun tidak aktif.",
       "Wrong username or password, or the account is inactive.")
define("openrosa.version", 400,
       "Permintaan ini bukan dari aplikasi OpenRosa: header X-OpenRosa-Version harus 1.0.",
       "This request is not from an OpenRosa app: the X-OpenRosa-Version header must be 1.0.")
define("openrosa.not_found", 404, "Tidak ada: {what}.", "Not found: {what}.")
define("openrosa.form_refused", 500,
       "Formulir {form_id} versi {version} tidak dapat diubah menjadi XForm: {reason}",
       "Form {form_id} version {version} cannot be turned into an XForm: {reason}")
