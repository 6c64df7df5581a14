"""Errors found while reading an expression, with the column and a fix in Indonesian and English.

Every message is built from a template here and from the same table in static/js/expr.js, so the
staff editor (JS, as the author types) and the server (Python, on upload) say the same words."""

from __future__ import annotations

from collections.abc import Mapping

SYNTAX = "expr.syntax"
UNKNOWN_FUNCTION = "expr.unknown_function"
ARITY = "expr.arity"
TOO_LONG = "expr.too_long"

# kind -> (code, Bahasa Indonesia, English). {text} is the offending text; other {keys} as named.
TEMPLATES: Mapping[str, tuple[str, str, str]] = {
    "empty": (
        SYNTAX,
        "Ekspresi kosong. Tulis sebuah ekspresi, misalnya ${umur} >= 17.",
        "The expression is empty. Write one, for example ${umur} >= 17.",
    ),
    "too_long": (
        TOO_LONG,
        "Ekspresi terlalu panjang ({n} karakter, batas {max}). "
        "Pecah menjadi beberapa pertanyaan calculate.",
        "The expression is too long ({n} characters, limit {max}). "
        "Split it into several calculate questions.",
    ),
    "too_deep": (
        TOO_LONG,
        "Ekspresi terlalu bertingkat (lebih dari {max} tingkat kurung, fungsi atau tanda minus). "
        "Sederhanakan atau pecah menjadi beberapa pertanyaan calculate.",
        "The expression is nested too deeply (more than {max} levels of brackets, functions or minus signs). "
        "Simplify it or split it into several calculate questions.",
    ),
    "bad_char": (
        SYNTAX,
        "Karakter '{text}' tidak dikenal. Hapus atau ganti karakter itu.",
        "Unknown character '{text}'. Remove or replace it.",
    ),
    "unterminated": (
        SYNTAX,
        "Teks yang dibuka dengan {text} tidak ditutup. Tambahkan {text} penutup.",
        "The text opened with {text} is not closed. Add the closing {text}.",
    ),
    "bad_ref": (
        SYNTAX,
        "Rujukan tidak lengkap. Tulis nama pertanyaan seperti ${nama_pertanyaan}.",
        "Incomplete reference. Write a question name like ${question_name}.",
    ),
    "path": (
        SYNTAX,
        "Jalur XPath seperti '{text}' tidak didukung. Rujuk pertanyaan dengan ${nama}.",
        "XPath paths such as '{text}' are not supported. Refer to a question with ${name}.",
    ),
    "use": (
        SYNTAX,
        "Tanda '{text}' tidak dipakai dalam ekspresi. Gunakan '{fix}'.",
        "'{text}' is not used in expressions. Use '{fix}'.",
    ),
    "bare_name": (
        SYNTAX,
        "'{text}' tidak dikenal. Untuk merujuk pertanyaan tulis ${{text}}; "
        "untuk fungsi tambahkan kurung: {text}().",
        "'{text}' is unknown. To refer to a question write ${{text}}; for a function add brackets: {text}().",
    ),
    "operator_word": (
        SYNTAX,
        "'{text}' adalah operator dan perlu nilai di kedua sisinya, misalnya ${a} {text} ${b}.",
        "'{text}' is an operator and needs a value on both sides, for example ${a} {text} ${b}.",
    ),
    "expected_operator": (
        SYNTAX,
        "Ada '{text}' yang tidak diharapkan; mungkin kurang operator (misalnya and, or, =, +) sebelumnya.",
        "Unexpected '{text}'; perhaps an operator (such as and, or, =, +) is missing before it.",
    ),
    "expected_value": (
        SYNTAX,
        "Di sini seharusnya ada nilai (angka, 'teks', ${nama} atau fungsi), bukan '{text}'.",
        "A value (a number, 'text', ${name} or a function) is expected here, not '{text}'.",
    ),
    "end": (
        SYNTAX,
        "Ekspresi berakhir terlalu cepat. Lengkapi bagian terakhirnya.",
        "The expression ends too early. Complete its last part.",
    ),
    "unclosed": (
        SYNTAX,
        "Kurung '(' ini tidak ditutup. Tambahkan ')'.",
        "This '(' is not closed. Add a ')'.",
    ),
    "unexpected": (
        SYNTAX,
        "Tanda '{text}' tidak diharapkan di sini. Periksa kurung dan koma di sekitarnya.",
        "'{text}' is not expected here. Check the brackets and commas around it.",
    ),
    "dotdot": (
        SYNTAX,
        "'..' hanya boleh dipakai sebagai position(..).",
        "'..' can only be used as position(..).",
    ),
    "position_arg": (
        SYNTAX,
        "position() hanya menerima '..'; tulis position(..).",
        "position() only accepts '..'; write position(..).",
    ),
    "instance_name": (
        SYNTAX,
        "instance() perlu nama daftar pilihan atau berkas CSV sebagai teks, misalnya instance('desa').",
        "instance() takes the name of a choice list or CSV file as text, for example instance('desa').",
    ),
    "instance_path": (
        SYNTAX,
        "Setelah instance('...') tulis /root/item, lalu [syarat] dan /kolom bila perlu, "
        "misalnya instance('desa')/root/item[name = ${desa}]/label.",
        "After instance('...') write /root/item, then [condition] and /column if needed, "
        "for example instance('desa')/root/item[name = ${desa}]/label.",
    ),
    "unclosed_bracket": (
        SYNTAX,
        "Kurung '[' ini tidak ditutup. Tambahkan ']'.",
        "This '[' is not closed. Add a ']'.",
    ),
    "indexed_repeat": (
        SYNTAX,
        "indexed-repeat() perlu ${pertanyaan}, lalu pasangan ${grup_berulang} dan nomor, "
        "misalnya indexed-repeat(${nama}, ${anggota}, 2).",
        "indexed-repeat() takes ${question}, then pairs of ${repeat} and a number, "
        "for example indexed-repeat(${nama}, ${anggota}, 2).",
    ),
    "choice_name": (
        SYNTAX,
        "Argumen kedua jr:choice-name() adalah nama pertanyaan pilihan sebagai teks, "
        "misalnya jr:choice-name(${jk}, '${jk}').",
        "The second argument of jr:choice-name() is the select question's name as text, "
        "for example jr:choice-name(${jk}, '${jk}').",
    ),
    "digest_algorithm": (
        SYNTAX,
        "digest() mengenal 'MD5', 'SHA-1', 'SHA-256', 'SHA-384' dan 'SHA-512' (huruf besar, seperti ODK).",
        "digest() knows 'MD5', 'SHA-1', 'SHA-256', 'SHA-384' and 'SHA-512' (upper case, as ODK).",
    ),
    "digest_encoding": (
        SYNTAX,
        "Penulisan hasil digest() adalah 'base64' (bawaan) atau 'hex'.",
        "digest() writes its result as 'base64' (the default) or 'hex'.",
    ),
    "ast": (
        SYNTAX,
        "AST tidak valid: {text}",
        "Invalid AST: {text}",
    ),
    "number_too_big": (
        SYNTAX,
        "Angka '{text}' terlalu besar.",
        "The number '{text}' is too large.",
    ),
    "regex": (
        SYNTAX,
        "Pola regex tidak didukung: {reason_id}.",
        "The regex pattern is not supported: {reason_en}.",
    ),
    "regex_too_long": (
        TOO_LONG,
        "Pola regex terlalu panjang ({n} karakter, batas {max}). Persingkat polanya.",
        "The regex pattern is too long ({n} characters, limit {max}). Shorten it.",
    ),
    "unknown_function_hint": (
        UNKNOWN_FUNCTION,
        "Fungsi '{text}' tidak dikenal. Maksud Anda '{fix}'?",
        "Unknown function '{text}'. Did you mean '{fix}'?",
    ),
    "unknown_function": (
        UNKNOWN_FUNCTION,
        "Fungsi '{text}' tidak dikenal. Periksa ejaannya; daftar fungsi ada di panduan ekspresi.",
        "Unknown function '{text}'. Check the spelling; the functions are listed in the expression guide.",
    ),
    "arity_exact": (
        ARITY,
        "Fungsi {text}() perlu {min} argumen, tetapi diberi {n}.",
        "Function {text}() takes {min} argument(s) but was given {n}.",
    ),
    "arity_range": (
        ARITY,
        "Fungsi {text}() perlu {min} sampai {max} argumen, tetapi diberi {n}.",
        "Function {text}() takes {min} to {max} arguments but was given {n}.",
    ),
    "arity_min": (
        ARITY,
        "Fungsi {text}() perlu paling sedikit {min} argumen, tetapi diberi {n}.",
        "Function {text}() takes at least {min} argument(s) but was given {n}.",
    ),
}


def fill(template: str, params: Mapping[str, object]) -> str:
    # Plain replacement, not str.format: templates contain ${...} and the JS side does the same.
    for key, value in params.items():
        template = template.replace("{" + key + "}", str(value))
    return template


class ExprError(Exception):
    """An expression that cannot be read. `column` is 1-based (0 when there is no text, from_json)."""

    def __init__(self, code: str, message_id: str, message_en: str, column: int) -> None:
        super().__init__(f"{code} at column {column}: {message_en}")
        self.code = code
        self.message_id = message_id
        self.message_en = message_en
        self.column = column

    @classmethod
    def of(cls, kind: str, column: int, **params: object) -> ExprError:
        code, message_id, message_en = TEMPLATES[kind]
        return cls(code, fill(message_id, params), fill(message_en, params), column)
