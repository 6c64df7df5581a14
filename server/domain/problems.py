"""The catalogue of everything the form pipeline can complain about: form problems (load, check,
XLSForm) and answer errors/warnings (validate, NIK rules). Each code is stable, has a severity and
an Indonesian and English template; tests assert on codes, so wording can change (STYLE.md 2)."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

import msgspec

Severity = Literal["error", "warning"]


class ProblemDef(msgspec.Struct, frozen=True):
    severity: Severity
    id: str
    en: str
    hint_id: str = ""
    hint_en: str = ""


class Loc(msgspec.Struct, frozen=True):
    """A place in a source file: 1-based line and column. For a workbook, file names the sheet."""

    file: str
    line: int = 1
    column: int = 1


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    severity: Severity
    file: str
    line: int
    column: int
    message_id: str
    message_en: str
    hint_id: str = ""
    hint_en: str = ""

    def format(self, lang: str = "en") -> str:
        message = self.message_id if lang == "id" else self.message_en
        return f"{self.file}:{self.line}:{self.column} {self.code} {message}"


CATALOGUE: dict[str, ProblemDef] = {}


def _define(code: str, severity: Severity, id_: str, en: str, hint_id: str = "", hint_en: str = "") -> None:
    if code in CATALOGUE:
        raise ValueError(f"problem code {code!r} defined twice")
    CATALOGUE[code] = ProblemDef(severity, id_, en, hint_id, hint_en)


class _Params(dict[str, Any]):
    # A template naming a parameter the caller did not pass shows "{name}" instead of crashing
    # the whole check run over one message.
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Said(NamedTuple):
    """A parameter in words rather than a name or number ("the settings sheet"): the Indonesian
    message takes `id`, the English one `en`, so no message mixes the two languages."""

    id: str
    en: str


def render(template: str, params: dict[str, Any], lang: str = "en") -> str:
    if not template:
        return ""
    said = {k: getattr(v, lang) for k, v in params.items() if isinstance(v, Said)}
    return template.format_map(_Params(params | said))


def problem(code: str, loc: Loc, /, **params: Any) -> Problem:
    entry = CATALOGUE[code]
    return Problem(
        code=code,
        severity=entry.severity,
        file=loc.file,
        line=loc.line,
        column=loc.column,
        message_id=render(entry.id, params, "id"),
        message_en=render(entry.en, params),
        hint_id=render(entry.hint_id, params, "id"),
        hint_en=render(entry.hint_en, params),
    )


def messages(code: str, /, **params: Any) -> tuple[str, str]:
    """The (Indonesian, English) message of a code, for answer errors that have no file place."""
    entry = CATALOGUE[code]
    return render(entry.id, params, "id"), render(entry.en, params)


def has_errors(problems: list[Problem]) -> bool:
    return any(p.severity == "error" for p in problems)


# --- reading the file ----------------------------------------------------------------------------
_define("form.unknown_format", "error",
        "Jenis berkas '{suffix}' tidak dikenal.", "The file type '{suffix}' is not known.",
        "Formulir ditulis sebagai .yaml, .yml, .json atau .xlsx (XLSForm).",
        "Forms are .yaml, .yml, .json or .xlsx (XLSForm) files.")
_define("form.unreadable", "error",
        "Berkas tidak dapat dibaca: {reason}.", "The file cannot be read: {reason}.",
        "Periksa nama dan izin berkasnya.", "Check the file name and its permissions.")
_define("form.too_large", "error",
        "Berkas {size} bita, melebihi batas {limit} bita.",
        "The file is {size} bytes, over the limit of {limit} bytes.",
        "Pecah formulir menjadi beberapa formulir, atau hapus daftar pilihan yang tidak dipakai.",
        "Split the form, or remove unused choice lists.")
_define("form.encoding", "error",
        "Berkas bukan teks UTF-8 (bita {offset}).",
        "The file is not UTF-8 text (byte {offset}).",
        "Simpan ulang berkas sebagai UTF-8.", "Save the file again as UTF-8.")
_define("form.yaml", "error",
        "YAML/JSON tidak dapat dibaca: {reason}.",
        "The YAML/JSON cannot be read: {reason}.",
        "Periksa indentasi, titik dua dan tanda kutip di sekitar baris ini. Di dalam {{...}} satu baris, "
        "beri tanda kutip pada teks yang memuat ${{...}}, koma atau titik dua.",
        "Check indentation, colons and quotes around this line. Inside a one-line {{...}}, put text "
        "containing ${{...}}, commas or colons in quotes.")
_define("form.yaml_alias", "error",
        "Anchor/alias YAML (& dan *) tidak didukung.",
        "YAML anchors and aliases (& and *) are not supported.",
        "Tulis nilainya lengkap di setiap tempat.", "Write the value out in full at each place.")
_define("form.duplicate_key", "error",
        "Kunci '{key}' ditulis dua kali (juga di baris {first_line}).",
        "The key '{key}' is written twice (also on line {first_line}).",
        "Hapus salah satu; YAML diam-diam hanya memakai yang terakhir.",
        "Remove one; YAML would silently keep only the last.")
_define("form.unknown_key", "error",
        "Kunci '{key}' tidak dikenal untuk {owner}.",
        "The key '{key}' is not known for {owner}.",
        "Kunci yang dikenal: {known}.", "Known keys: {known}.")
_define("form.missing_key", "error",
        "{owner} tidak punya '{key}'.",
        "{owner} has no '{key}'.",
        "Tambahkan '{key}:'.", "Add '{key}:'.")
_define("form.bad_value", "error",
        "Nilai '{key}' harus {expected}, bukan {got}.",
        "'{key}' must be {expected}, not {got}.",
        "Contoh: {example}", "Example: {example}")
_define("form.bad_name", "error",
        "Nama '{name}' tidak sah.",
        "The name '{name}' is not valid.",
        "Nama diawali huruf, lalu huruf, angka, _ atau - (paling panjang 64), misalnya tgl_lahir.",
        "Start with a letter, then letters, digits, _ or - (at most 64), e.g. tgl_lahir.")
_define("form.unknown_type", "error",
        "Jenis pertanyaan '{type}' tidak dikenal.",
        "The question type '{type}' is not known.",
        "Jenis yang dikenal: {known}.", "Known types: {known}.")
_define("form.too_deep", "error",
        "Grup/ulangan bersarang lebih dari {limit} tingkat.",
        "Groups or repeats are nested deeper than {limit} levels.",
        "Ratakan strukturnya; formulir yang sedalam ini sulit diisi.",
        "Flatten the structure; a form this deep is hard to fill in.")
_define("form.no_fields", "error",
        "{owner} tidak punya pertanyaan.", "{owner} has no fields.",
        "Tambahkan minimal satu pertanyaan di bawah 'fields:'.", "Add at least one field under 'fields:'.")
_define("form.unknown_wilayah", "error",
        "Sumber wilayah '{spec}' tidak dikenal: {reason}.",
        "The region source '{spec}' is not valid: {reason}.",
        "Tulis '<tingkat> <kode induk>', misalnya 'kecamatan 64.02' atau 'desa 64.02'.",
        "Write '<level> <parent code>', e.g. 'kecamatan 64.02' or 'desa 64.02'.")
_define("form.duplicate_choice_list", "error",
        "Daftar pilihan '{name}' didefinisikan dua kali.",
        "The choice list '{name}' is defined twice.",
        "Pilihan yang ditulis langsung di pertanyaan memakai nama pertanyaannya; ganti salah satu nama.",
        "Choices written inline on a question take the question's name; rename one.")
_define("form.duplicate_choice", "error",
        "Pilihan '{choice}' muncul dua kali di daftar '{list}'.",
        "The choice '{choice}' appears twice in the list '{list}'.",
        "Nama pilihan adalah nilai yang disimpan; harus unik dalam daftarnya.",
        "A choice name is the stored value; it must be unique within its list.")
_define("form.empty_file_list", "warning",
        "Daftar pilihan '{name}' kosong: berkasnya belum diunggah bersama formulir.",
        "The choice list '{name}' is empty: its file was not uploaded with the form.",
        "Unggah workbook lagi bersama '{name}'.", "Upload the workbook again with '{name}'.")
_define("form.missing_media", "warning",
        "Berkas media '{name}' ({kind}) disebut formulir tetapi belum diunggah; formulir tampil tanpa berkas itu.",
        "The media file '{name}' ({kind}) is named by the form but not uploaded; the form shows without it.",
        "Unggah '{name}' di halaman terbit atau bersama workbook.",
        "Upload '{name}' on the publish page or with the workbook.")
_define("form.bad_repeat_choices", "error",
        "Pilihan '{name}' diambil dari jawaban ${{{ref}}}, tetapi itu bukan pertanyaan di dalam ulangan.",
        "The choices of '{name}' are the answers to ${{{ref}}}, but that is not a question inside a repeat.",
        "Tulis select_one ${{nama}} dengan nama pertanyaan teks atau angka di dalam begin repeat.",
        "Write select_one ${{name}} with the name of a text or number question inside a begin repeat.")
_define("form.repeat_choices_multiple", "error",
        "'{name}' memilih beberapa dari jawaban ${{{ref}}} dalam ulangan; Pantau hanya mendukung select_one di sini.",
        "'{name}' picks several of the answers to ${{{ref}}} in a repeat; Pantau supports only select_one here.",
        "pyxform tidak bisa mengubahnya ke XForm untuk ODK Collect. Pakai select_one ${{{ref}}}, atau daftar pilihan.",
        "pyxform cannot convert it to an XForm for ODK Collect. Use select_one ${{{ref}}}, or a choice list.")
_define("form.empty_choice_list", "error",
        "Daftar pilihan '{name}' kosong.", "The choice list '{name}' is empty.",
        "Tambahkan pilihan, atau hapus daftarnya.", "Add choices, or remove the list.")

# --- static checks -------------------------------------------------------------------------------
_define("form.duplicate_name", "error",
        "Nama '{name}' dipakai lebih dari sekali (juga di baris {other_line}).",
        "The name '{name}' is used more than once (also on line {other_line}).",
        "Setiap pertanyaan, grup dan ulangan perlu nama yang unik di seluruh formulir.",
        "Every field, group and repeat needs a name unique in the whole form.")
_define("form.unknown_reference", "error",
        "${{{name}}} di '{attribute}' tidak merujuk ke pertanyaan mana pun.",
        "${{{name}}} in '{attribute}' does not refer to any field.",
        "{suggestion}", "{suggestion_en}")
_define("form.calculation_cycle", "error",
        "Aturan saling bergantung melingkar ({cycle}): {links}.",
        "Rules depend on each other in a cycle ({cycle}): {links}.",
        "Putus lingkarannya: salah satu aturan tidak boleh bergantung pada yang lain.",
        "Break the cycle: one of these rules must not depend on the other.")
_define("form.unknown_choice_list", "error",
        "Daftar pilihan '{name}' tidak ada.", "The choice list '{name}' does not exist.",
        "Tambahkan di bawah 'choices:', atau perbaiki namanya. Yang ada: {known}.",
        "Add it under 'choices:', or fix the name. Lists: {known}.")
_define("form.missing_choices", "error",
        "Pertanyaan '{name}' ({type}) tidak punya pilihan.",
        "The question '{name}' ({type}) has no choices.",
        "Tambahkan 'choices: <nama daftar>' atau tulis pilihannya langsung.",
        "Add 'choices: <list name>' or write the choices inline.")
_define("form.last_saved", "warning",
        "${{last-saved#{name}}} di '{attribute}' dibaca kosong: Pantau belum mengisinya dari data terakhir "
        "yang disimpan di HP.",
        "${{last-saved#{name}}} in '{attribute}' reads as empty: Pantau does not fill it from the last record "
        "saved on the phone yet.",
        "Isian pertama ODK Collect juga kosong; rumus yang memakainya harus tahan nilai kosong.",
        "ODK Collect's first record reads it empty too; an expression using it must cope with empty.")
_define("form.bad_choice_filter", "warning",
        "choice_filter '{name}' memakai kolom '{column}' yang tidak ada di daftar '{list}'; "
        "seperti di ODK, kolom itu dibaca kosong.",
        "The choice_filter of '{name}' uses the column '{column}', which the list '{list}' does not have; "
        "as in ODK, that column reads as empty.",
        "Kolom yang ada: {known}. Periksa ejaannya.", "Columns: {known}. Check the spelling.")
_define("form.choice_name_field", "error",
        "jr:choice-name() di '{attribute}' dari '{name}' menyebut '{field}', yang bukan pertanyaan pilihan.",
        "jr:choice-name() in '{attribute}' of '{name}' names '{field}', which is not a select question.",
        "Argumen kedua adalah nama pertanyaan select_one/select_multiple sebagai teks: '${{jk}}'.",
        "The second argument is a select_one/select_multiple question's name as text: '${{jk}}'.")
_define("form.indexed_repeat", "error",
        "indexed-repeat() di '{attribute}' dari '{name}': ${{{ref}}} tidak berada di dalam ulangan '{repeat}'.",
        "indexed-repeat() in '{attribute}' of '{name}': ${{{ref}}} is not inside the repeat '{repeat}'.",
        "Setiap ${{ulangan}} yang disebut harus grup berulang yang memuat pertanyaan pertama.",
        "Every ${{repeat}} named must be a repeat that holds the first question.")
_define("form.instance_column", "error",
        "'{attribute}' dari '{name}' memakai kolom '{column}' yang tidak ada di daftar pilihan '{list}'.",
        "'{attribute}' of '{name}' uses the column '{column}', which the choice list '{list}' does not have.",
        "Kolom yang ada: {known}.", "Columns: {known}.")
_define("form.instance_file", "warning",
        "'{attribute}' dari '{name}' membaca berkas '{file}.csv', yang harus diunggah bersama formulir.",
        "'{attribute}' of '{name}' reads the file '{file}.csv', which must be uploaded with the form.",
        "'{file}' bukan daftar pilihan formulir ini; tanpa berkasnya hasilnya kosong.",
        "'{file}' is not a choice list of this form; without the file the result is empty.")
_define("form.bad_expression", "error",
        "Ekspresi '{attribute}' salah: {reason}.",
        "The expression in '{attribute}' is wrong: {reason}.",
        "Periksa tanda kurung, tanda kutip dan operator di kolom {column} ekspresi.",
        "Check brackets, quotes and operators at column {column} of the expression.")
_define("form.unknown_function", "error",
        "Ekspresi '{attribute}' memakai fungsi yang tidak dikenal: {reason}.",
        "The expression in '{attribute}' uses an unknown function: {reason}.",
        "Daftar fungsi ada di docs/expressions.md.", "The functions are listed in docs/expressions.md.")
_define("form.bad_arity", "error",
        "Ekspresi '{attribute}': jumlah argumen salah: {reason}.",
        "The expression in '{attribute}' has the wrong number of arguments: {reason}.",
        "Periksa jumlah argumen fungsi di docs/expressions.md.",
        "Check the function's arguments in docs/expressions.md.")
_define("form.expression_too_long", "error",
        "Ekspresi '{attribute}' terlalu panjang: {reason}.",
        "The expression in '{attribute}' is too long: {reason}.",
        "Pecah menjadi beberapa pertanyaan calculate.", "Split it into several calculate fields.")
_define("form.attribute_not_for_type", "error",
        "'{attribute}' tidak berlaku untuk pertanyaan jenis {type}.",
        "'{attribute}' does not apply to a {type} field.",
        "Hapus '{attribute}' dari '{name}'.", "Remove '{attribute}' from '{name}'.")
_define("form.missing_calculation", "error",
        "Pertanyaan calculate '{name}' tidak punya 'calculation'.",
        "The calculate field '{name}' has no 'calculation'.",
        "Tambahkan rumusnya, misalnya calculation: ${{omzet}} - ${{biaya}}.",
        "Add its formula, e.g. calculation: ${{omzet}} - ${{biaya}}.")
_define("form.bad_trigger", "error",
        "Pemicu (trigger) '{trigger}' dari '{name}' harus satu pertanyaan lain, ditulis ${{nama}}.",
        "The trigger '{trigger}' of '{name}' must be one other question, written ${{name}}.",
        "Tulis nama satu pertanyaan, misalnya trigger: ${{tanggal_kunjungan}}.",
        "Write the name of one question, e.g. trigger: ${{visit_date}}.")
_define("form.unknown_parameter", "error",
        "Parameter '{parameter}' tidak dikenal untuk jenis {type}.",
        "The parameter '{parameter}' is not known for the type {type}.",
        "Parameter yang dikenal: {known}.", "Known parameters: {known}.")
_define("form.bad_parameter", "error",
        "Parameter '{parameter}' dari '{name}' salah: {reason}.",
        "The parameter '{parameter}' of '{name}' is wrong: {reason}.",
        "Lihat docs/forms.md bagian jenis {type}.", "See docs/forms.md, the {type} type.")
_define("form.repeat_bounds", "error",
        "Ulangan '{name}': min_count {min} lebih besar dari max_count {max}, atau negatif.",
        "The repeat '{name}': min_count {min} is greater than max_count {max}, or negative.",
        "Pastikan 0 <= min_count <= max_count.", "Make sure 0 <= min_count <= max_count.")
_define("form.repeat_count_self", "error",
        "repeat_count dari '{name}' merujuk ${{{ref}}} di dalam ulangan itu sendiri.",
        "The repeat_count of '{name}' refers to ${{{ref}}}, inside the same repeat.",
        "Jumlah ulangan harus diketahui sebelum ulangannya diisi: rujuk pertanyaan di luar ulangan.",
        "The count must be known before the repeat is filled: refer to a field outside it.")
_define("form.repeat_reference", "error",
        "'{attribute}' dari '{name}' merujuk ${{{ref}}} di dalam ulangan '{repeat}' tanpa fungsi agregat.",
        "'{attribute}' of '{name}' refers to ${{{ref}}} inside the repeat '{repeat}' without an aggregate.",
        "Dari luar ulangan, pakai sum(), count(), min(), max() atau count-selected() atas nilainya.",
        "From outside the repeat, use sum(), count(), min(), max() or count-selected() over it.")
_define("form.repeat_count_with_bounds", "warning",
        "Ulangan '{name}' punya repeat_count sekaligus min_count/max_count.",
        "The repeat '{name}' has both repeat_count and min_count/max_count.",
        "Dengan repeat_count jumlahnya sudah pasti; batas min/max hanya diperiksa tambahan.",
        "repeat_count fixes the number; min/max are only checked in addition.")
_define("form.empty_group", "error",
        "{type} '{name}' tidak berisi pertanyaan.", "The {type} '{name}' contains no fields.",
        "Tambahkan pertanyaan di bawah 'fields:', atau hapus {type} ini.",
        "Add fields under 'fields:', or remove this {type}.")
_define("form.missing_label", "warning",
        "Pertanyaan '{name}' tidak punya label.", "The field '{name}' has no label.",
        "Petugas hanya akan melihat namanya. Tambahkan label id dan en.",
        "Enumerators would only see its name. Add an id and en label.")
_define("form.missing_translation", "warning",
        "{attribute} dari '{name}' tidak punya teks bahasa '{language}'.",
        "The {attribute} of '{name}' has no '{language}' text.",
        "Tambahkan {language}: ... agar formulir tampil lengkap dalam bahasa itu.",
        "Add {language}: ... so the form shows in full in that language.")
_define("form.unused_choice_list", "warning",
        "Daftar pilihan '{name}' tidak dipakai.", "The choice list '{name}' is not used.",
        "Hapus, atau pakai di pertanyaan select.", "Remove it, or use it on a select question.")
_define("form.self_reference", "warning",
        "'{attribute}' dari '{name}' merujuk dirinya sendiri sebagai ${{{name}}}.",
        "'{attribute}' of '{name}' refers to itself as ${{{name}}}.",
        "Di constraint, tulis '.' untuk nilai pertanyaan ini.",
        "In a constraint, write '.' for this field's own value.")

_define("form.default_reads_field", "warning",
        "Nilai awal '{name}' memakai ${{{ref}}}, yang masih kosong saat formulir dibuka.",
        "The default of '{name}' uses ${{{ref}}}, which is still empty when the form opens.",
        "Nilai awal dihitung sekali saat formulir dibuka. Hapus nilai awal (petugas memilih sendiri) "
        "atau tunjukkan aturannya dalam catatan yang relevan.",
        "A default is worked out once, when the form opens. Remove it (the enumerator chooses) or show "
        "the rule in a relevant note.")

# --- XLSForm -------------------------------------------------------------------------------------
_define("xlsform.not_workbook", "error",
        "Berkas bukan workbook Excel (.xlsx): {reason}.",
        "The file is not an Excel workbook (.xlsx): {reason}.",
        "Simpan dari Excel/LibreOffice sebagai .xlsx, atau kirim formulir YAML.",
        "Save it from Excel/LibreOffice as .xlsx, or send a YAML form.")
_define("xlsform.no_survey", "error",
        "Workbook tidak punya lembar 'survey'.", "The workbook has no 'survey' sheet.",
        "Beri nama 'survey' pada lembar pertanyaan. Lembar yang ada: {sheets}.",
        "Name the sheet of questions 'survey'. Sheets: {sheets}.")
_define("xlsform.missing_column", "error",
        "Lembar '{sheet}' tidak punya kolom '{column}'.", "The sheet '{sheet}' has no '{column}' column.",
        "Tambahkan kolom '{column}' di baris pertama.", "Add a '{column}' column in the first row.")
_define("xlsform.unsupported", "error",
        "Lembar '{sheet}' baris {row}: {what_id} belum didukung Pantau.",
        "Sheet '{sheet}' row {row}: {what_en} is not supported by Pantau yet.",
        "Hapus atau ganti dengan padanan di docs/forms.md (bagian XLSForm).",
        "Remove it or use the equivalent in docs/forms.md (XLSForm section).")
_define("xlsform.ignored", "warning",
        "Lembar '{sheet}' baris {row}: {what_id} disimpan tetapi tidak dipakai Pantau.",
        "Sheet '{sheet}' row {row}: {what_en} is kept but not used by Pantau.",
        "Formulir tetap bisa dipakai; isinya ikut ditulis kembali saat diekspor ke XLSForm.",
        "The form still works; the value is written back when it is exported to XLSForm.")
_define("xlsform.duplicate_column", "error",
        "Lembar '{sheet}': kolom '{column_name}' ada dua kali (juga kolom {first}).",
        "Sheet '{sheet}': the column '{column_name}' appears twice (also column {first}).",
        "Hapus salah satu kolom; pyxform juga menolak judul kolom ganda.",
        "Remove one of them; pyxform refuses a duplicate column header too.")
_define("xlsform.external_choices", "warning",
        "Lembar '{sheet}' baris {row}: pilihan '{name}' dari lembar external_choices (daftar '{list}') "
        "ditampilkan Pantau sebagai select_one biasa.",
        "Sheet '{sheet}' row {row}: the choices of '{name}' from the external_choices sheet (list '{list}') "
        "are offered by Pantau as a plain select_one.",
        "Ekspor menulisnya sebagai select_one dengan daftar di lembar choices.",
        "The export writes it as a select_one with the list in the choices sheet.")
_define("xlsform.path_rewritten", "warning",
        "'{attribute}' dari '{name}' memakai jalur XPath; Pantau membacanya sebagai {after}.",
        "'{attribute}' of '{name}' uses an XPath path; Pantau reads it as {after}.",
        "Ditulis: {before}. Pantau menyimpan dan mengekspor bentuk barunya.",
        "Written: {before}. Pantau keeps and exports the new form.")
_define("xlsform.missing_choices_file", "warning",
        "Lembar '{sheet}' baris {row}: berkas pilihan '{attachment}' tidak diunggah bersama formulir; "
        "pertanyaan ini tampil tanpa pilihan sampai workbook diunggah lagi bersama berkas itu.",
        "Sheet '{sheet}' row {row}: the choices file '{attachment}' was not uploaded with the form; "
        "the question shows no choices until the workbook is uploaded again with that file.",
        "Unggah '{attachment}' (kolom name dan label) bersama workbook, atau taruh di folder yang sama.",
        "Upload '{attachment}' (columns name and label) with the workbook, or put it in the same folder.")
_define("xlsform.missing_attachment", "warning",
        "Lembar '{sheet}' baris {row}: berkas '{attachment}' tidak diunggah bersama formulir.",
        "Sheet '{sheet}' row {row}: the file '{attachment}' was not uploaded with the form.",
        "pulldata() dan instance() atas berkas ini akan kosong sampai berkas diunggah.",
        "pulldata() and instance() over this file stay empty until it is uploaded.")
_define("xlsform.bad_attachment", "error",
        "Lembar '{sheet}' baris {row}: berkas '{attachment}' tidak bisa dibaca sebagai CSV: {reason}.",
        "Sheet '{sheet}' row {row}: the file '{attachment}' cannot be read as CSV: {reason}.",
        "Simpan sebagai CSV (UTF-8) dengan baris judul kolom.", "Save it as CSV (UTF-8) with a header line.")
_define("xlsform.bad_choices_file", "error",
        "Lembar '{sheet}' baris {row}: berkas pilihan '{attachment}' tidak bisa dibaca sebagai {format}: {reason}.",
        "Sheet '{sheet}' row {row}: the choices file '{attachment}' cannot be read as {format}: {reason}.",
        "XML: <root><item><name>a</name><label>A</label></item></root>, tanpa DTD. GeoJSON: FeatureCollection "
        "dengan id dan properti title per fitur.",
        "XML: <root><item><name>a</name><label>A</label></item></root>, without a DTD. GeoJSON: a "
        "FeatureCollection with an id and a title property per feature.")
_define("xlsform.metadata", "warning",
        "Lembar '{sheet}' baris {row}: jenis '{type}' disimpan sebagai pertanyaan tersembunyi yang kosong.",
        "Sheet '{sheet}' row {row}: the type '{type}' is kept as an empty hidden question.",
        "Pantau mencatat petugas, perangkat dan waktu kirim pada setiap kiriman; baris ini boleh dihapus.",
        "Pantau records the enumerator, device and time of every submission itself; this row may go.")
_define("xlsform.renamed", "warning",
        "Lembar '{sheet}' baris {row}: nama '{name}' disimpan sebagai '{new}' {why_id}.",
        "Sheet '{sheet}' row {row}: the name '{name}' is stored as '{new}' {why_en}.",
        "Formulir tetap bisa dipakai; jawaban dan ekspor memakai nama '{new}'.",
        "The form still works; answers and exports use the name '{new}'.")
_define("xlsform.ambiguous_reference", "error",
        "Lembar '{sheet}' baris {row}: ${{{name}}} bisa berarti salah satu dari beberapa pertanyaan bernama '{name}' "
        "({names}).",
        "Sheet '{sheet}' row {row}: ${{{name}}} could mean any of the fields named '{name}' ({names}).",
        "Beri setiap pertanyaan nama sendiri; pyxform juga menolak rujukan ini.",
        "Give each field its own name; pyxform refuses this reference too.")
_define("xlsform.unmatched_group", "error",
        "Lembar '{sheet}' baris {row}: {what} tanpa pasangannya.",
        "Sheet '{sheet}' row {row}: {what} without its match.",
        "Setiap begin_group/begin_repeat perlu end_group/end_repeat yang sesuai.",
        "Every begin_group/begin_repeat needs its matching end_group/end_repeat.")

# --- answers -------------------------------------------------------------------------------------
_define("answer.required", "error", "Wajib diisi.", "This is required.")
_define("answer.constraint", "error", "Jawaban tidak memenuhi syarat.", "The answer does not meet the rule.")
_define("answer.unknown_field", "error",
        "Tidak ada pertanyaan bernama '{name}' di formulir ini.", "This form has no field named '{name}'.")
_define("answer.text", "error", "Harus berupa teks.", "Must be text.")
_define("answer.integer", "error", "Harus bilangan bulat.", "Must be a whole number.")
_define("answer.decimal", "error", "Harus angka.", "Must be a number.")
_define("answer.date", "error", "Tanggal harus berformat TTTT-BB-HH dan ada.",
        "The date must be YYYY-MM-DD and exist.")
_define("answer.time", "error", "Jam harus berformat JJ:MM.", "The time must be HH:MM.")
_define("answer.datetime", "error", "Waktu harus berformat ISO 8601 dengan zona waktu.",
        "The date-time must be ISO 8601 with a time zone.")
_define("answer.geotrace", "error", "Garis harus berupa titik GPS 'lintang bujur' dipisah ';' (paling sedikit 2).",
        "A line must be GPS points 'lat lon' separated by ';' (at least 2).")
_define("answer.geoshape", "error", "Area harus berupa titik GPS 'lintang bujur' dipisah ';' (paling sedikit 3).",
        "An area must be GPS points 'lat lon' separated by ';' (at least 3).")
_define("answer.range", "error", "Nilai harus dari {start} sampai {end} dengan langkah {step}.",
        "The value must be from {start} to {end} in steps of {step}.")
_define("answer.geopoint", "error", "Lokasi harus 'lintang bujur [tinggi [akurasi]]'.",
        "The location must be 'latitude longitude [altitude [accuracy]]'.")
_define("answer.geopoint_accuracy", "warning",
        "Akurasi GPS {accuracy} m, lebih buruk dari {limit} m.",
        "GPS accuracy is {accuracy} m, worse than {limit} m.")
_define("answer.choice", "error", "'{value}' bukan pilihan yang ada.", "'{value}' is not one of the choices.")
_define("answer.choice_filtered", "error", "'{value}' tidak termasuk pilihan yang berlaku di sini.",
        "'{value}' is not among the choices that apply here.")
_define("answer.select_multiple", "error", "Harus daftar pilihan.", "Must be a list of choices.")
_define("answer.rank", "error", "Urutkan semua pilihan, masing-masing sekali: {missing} belum ada di urutan.",
        "Put every choice in order, each once: {missing} is missing from the order.")
_define("answer.acknowledge", "error", "Harus dicentang (OK).", "Must be ticked (OK).")
_define("answer.rupiah", "error", "Harus jumlah rupiah bulat, tidak negatif.",
        "Must be a whole, non-negative rupiah amount.")
_define("answer.repeat", "error", "Harus daftar isian.", "Must be a list of entries.")
_define("answer.repeat_min", "error", "Minimal {min} isian.", "At least {min} entries.")
_define("answer.repeat_max", "error", "Maksimal {max} isian.", "At most {max} entries.")
_define("answer.repeat_count", "error", "Harus tepat {count} isian, ada {got}.",
        "Must have exactly {count} entries, got {got}.")
_define("answer.bad_confirmation", "error",
        "_konfirmasi harus daftar nama pertanyaan.", "_konfirmasi must be a list of field names.")

# --- NIK, No. KK, phone (domain.md 1.2, 1.3) ---------------------------------------------------
_define("nik.length", "error", "NIK harus 16 digit angka.", "A NIK has exactly 16 digits.")
_define("nik.excel", "error",
        "NIK rusak oleh Excel (ditulis sebagai {value}); digit terakhir hilang.",
        "The NIK was damaged by Excel (written as {value}); its last digits are lost.")
_define("nik.placeholder", "error", "NIK ini isian contoh/palsu ({value}).",
        "This NIK is a placeholder ({value}).")
_define("nik.province", "error", "Kode provinsi NIK '{code}' tidak dikenal.",
        "The NIK's province code '{code}' is not known.")
_define("nik.region_zero", "error", "Kode kabupaten/kecamatan NIK tidak boleh 00.",
        "The NIK's regency and district codes cannot be 00.")
_define("nik.date", "error", "Tanggal lahir di NIK tidak ada (HHBBTT = {ddmmyy}).",
        "The birth date in the NIK does not exist (DDMMYY = {ddmmyy}).")
_define("nik.future_birth", "error", "Tanggal lahir di NIK ({birth}) setelah tanggal pendataan ({registered}).",
        "The NIK's birth date ({birth}) is after the registration date ({registered}).")
_define("nik.serial_zero", "error", "Nomor urut NIK tidak boleh 0000.", "The NIK's serial cannot be 0000.")
_define("nik.is_kk", "error", "NIK tidak boleh sama dengan No. KK.", "The NIK cannot equal the family card number.")
_define("nik.prefix_unknown", "warning",
        "Kode wilayah {prefix} tidak ada di daftar Kemendagri terbaru (mungkin kode lama sebelum pemekaran).",
        "The region code {prefix} is not in the current Kemendagri list (maybe a pre-split code).")
_define("nik.outside_kukar", "warning", "NIK diterbitkan di luar Kutai Kartanegara ({prefix}).",
        "The NIK was issued outside Kutai Kartanegara ({prefix}).")
_define("nik.sex_mismatch", "warning", "Jenis kelamin di NIK ({nik_sex}) berbeda dengan isian ({entered}).",
        "The sex in the NIK ({nik_sex}) differs from the answer ({entered}).")
_define("nik.dob_mismatch", "warning", "Tanggal lahir di NIK ({nik_dob}) berbeda dengan isian ({entered}).",
        "The birth date in the NIK ({nik_dob}) differs from the answer ({entered}).")
_define("kk.length", "error", "No. KK harus 16 digit angka.", "A family card number has exactly 16 digits.")
_define("kk.excel", "error", "No. KK rusak oleh Excel (ditulis sebagai {value}).",
        "The family card number was damaged by Excel (written as {value}).")
_define("kk.placeholder", "error", "No. KK ini isian contoh/palsu ({value}).",
        "This family card number is a placeholder ({value}).")
_define("kk.province", "error", "Kode provinsi No. KK '{code}' tidak dikenal.",
        "The family card's province code '{code}' is not known.")
_define("kk.region_zero", "error", "Kode kabupaten/kecamatan No. KK tidak boleh 00.",
        "The family card's regency and district codes cannot be 00.")
_define("kk.serial_zero", "error", "Nomor urut No. KK tidak boleh 0000.",
        "The family card's serial cannot be 0000.")
_define("kk.is_nik", "error", "No. KK tidak boleh sama dengan NIK.", "The family card number cannot equal the NIK.")
_define("kk.date", "warning", "Tanggal di No. KK tidak ada (HHBBTT = {ddmmyy}); periksa kartunya.",
        "The date in the family card number does not exist (DDMMYY = {ddmmyy}); check the card.")
_define("kk.prefix_unknown", "warning", "Kode wilayah No. KK {prefix} tidak ada di daftar Kemendagri terbaru.",
        "The family card's region code {prefix} is not in the current Kemendagri list.")
_define("phone.invalid", "error", "Nomor HP tidak valid; tulis seperti 0812-3456-7890.",
        "Not a valid mobile number; write it like 0812-3456-7890.")
_define("phone.not_mobile", "error", "Harus nomor HP (08...), bukan telepon rumah.",
        "Must be a mobile number (08...), not a landline.")
_define("phone.prefix_unknown", "warning", "Awalan {prefix} bukan awalan operator seluler yang dikenal.",
        "{prefix} is not a known mobile operator prefix.")

# --- the beneficiary registry: the registry block, references, growth results ------------
_define("form.registry_role", "error",
        "Blok registry: {reason}.", "The registry block: {reason}.",
        "Formulir pendaftaran memakai 'creates:', formulir kunjungan 'refers:' (docs/forms.md, Registri).",
        "An intake form uses 'creates:', a visit form 'refers:' (docs/forms.md, Registry).")
_define("form.registry_field", "error",
        "Blok registry: '{key}' menunjuk '{name}', {reason}.",
        "The registry block: '{key}' names '{name}', {reason}.",
        "Tulis nama pertanyaan di luar repeat dengan jenis yang cocok: {expected}.",
        "Name a question outside any repeat, of a fitting type: {expected}.")
_define("answer.beneficiary", "error", "Pilih penerima dari daftar penerima terdaftar.",
        "Choose the beneficiary from the list of registered beneficiaries.")
_define("growth.result", "warning", "Hasil: {summary_id}.", "Result: {summary_en}.")
_define("growth.implausible", "warning",
        "Ukur ulang: nilai {index_id} tidak masuk akal (z = {z}). Periksa berat, panjang/tinggi dan tanggal lahir.",
        "Measure again: the {index_en} value is implausible (z = {z}). Check weight, length/height and birth date.")

# --- changing a published form (domain/evolution.py) --------------------------------------
_define("form.retyped", "error",
        "Pertanyaan '{name}' sudah terbit sebagai {old}; jenisnya tidak boleh menjadi {new}.",
        "The question '{name}' was published as {old}; its type cannot become {new}.",
        "Kembalikan jenisnya, atau buat pertanyaan baru bernama '{suggestion}' (data lama '{name}' tetap ada).",
        "Restore its type, or make a new question named '{suggestion}' (the old '{name}' data is kept).")
_define("form.choice_reused", "warning",
        "Pilihan '{value}' di daftar '{list}' dulu berarti '{old}', sekarang '{new}'.",
        "The choice '{value}' in list '{list}' used to mean '{old}', now '{new}'.",
        "Data lama dengan nilai '{value}' akan terbaca dengan arti baru. Pakai nilai baru bila artinya berubah.",
        "Old data with the value '{value}' will read with the new meaning. Use a new value if the meaning changed.")
_define("form.id_mismatch", "error",
        "Formulir ini bernama '{expected}', bukan '{found}'.",
        "This form is named '{expected}', not '{found}'.",
        "Nama formulir (settings.id) tidak dapat diubah; buat formulir baru untuk nama lain.",
        "A form's name (settings.id) cannot change; make a new form for another name.")
_define("growth.referral_required", "error",
        "Anak perlu dirujuk ({reason_id}): pilih tujuan rujukan, bukan '{none_id}'.",
        "The child must be referred ({reason_en}): choose where to, not '{none_en}'.")
_define("form.moved_repeat", "error",
        "Pertanyaan '{name}' sudah terbit {old_id}; tidak boleh dipindah {new_id}.",
        "The question '{name}' was published {old_en}; it cannot move {new_en}.",
        "Jawabannya disimpan per ulangan, jadi data lama tidak terbaca lagi. Kembalikan ke tempatnya, atau buat "
        "pertanyaan baru bernama '{suggestion}' (data lama '{name}' tetap ada). Pindah antar-grup boleh.",
        "Its answers are kept per repeat, so old data would no longer read. Move it back, or make a new question "
        "named '{suggestion}' (the old '{name}' data is kept). Moving between groups is fine.")
_define("answer.text_long", "error", "Teks terlalu panjang: paling banyak {max} karakter.",
        "The text is too long: at most {max} characters.")
