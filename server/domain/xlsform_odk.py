"""Pantau's own question types and parameters in ODK's terms, shared by the XLSForm export (which
writes them) and the import (which reads them back). ODK Collect knows neither `nik` nor `rupiah`,
so the export writes the nearest ODK type with a constraint, a constraint message and a hint that
carry Pantau's rules, and names the Pantau type in the `pantau::type` column, which pyxform ignores.
The import strips exactly what the export added, so YAML -> XLSForm -> YAML keeps the content hash;
a constraint the author rewrote in Excel is kept as written."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lokal import PROVINCES

from server.domain.form import Text, is_dynamic_default

# The column holding what ODK has no word for; pyxform ignores a column it does not know.
PANTAU = "pantau"
TYPE_COLUMN = f"{PANTAU}::type"
PARAMETERS_COLUMN = f"{PANTAU}::parameters"
MIN_COUNT_COLUMN = f"{PANTAU}::min_count"
MAX_COUNT_COLUMN = f"{PANTAU}::max_count"
DEFAULT_COLUMN = f"{PANTAU}::default"
# Between the author's own hint or constraint message and the one the export adds.
JOIN = " — "


def _id_number(date: bool) -> str:
    """16 digits: a province code, kabupaten and kecamatan codes other than 00, for a NIK a birth date
    DDMMYY (day + 40 for women), and a serial other than 0000 (docs/forms.md, NIK and No. KK)."""
    province = "|".join(sorted(PROVINCES))
    region = "(0[1-9]|[1-9][0-9])"
    day = "(0[1-9]|[12][0-9]|3[01]|4[1-9]|[56][0-9]|7[01])(0[1-9]|1[0-2])[0-9]{2}" if date else "[0-9]{6}"
    serial = "([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})"
    return f"^({province}){region}{region}{day}{serial}$"


NIK_PATTERN = _id_number(date=True)
KK_PATTERN = _id_number(date=False)
# lokal-id's mobile number: 0, 62 or +62 (or nothing), then 8 and 8 to 11 digits, with the spaces,
# dots and dashes people write between them (0812-3456-7890) as the server accepts them.
PHONE_PATTERN = r"^(\+62|62|0)?[ .-]*8([ .-]*[0-9]){8,11}$"


@dataclass(frozen=True)
class OdkType:
    type: str  # the ODK type in the `type` column
    constraint: str  # ANDed with the question's own constraint; "" for none
    message: Text  # the constraint message: the checks, per language
    hint: Text


ODK_TYPES: dict[str, OdkType] = {
    "nik": OdkType(
        "text", f"regex(., '{NIK_PATTERN}')",
        {"id": "NIK: 16 angka tanpa spasi; 2 angka pertama kode provinsi, kode kabupaten dan kecamatan bukan 00, "
               "lalu tanggal lahir DDMMYY (perempuan: tanggal + 40), nomor urut bukan 0000.",
         "en": "NIK: 16 digits without spaces; the first 2 a province code, regency and district codes other than "
               "00, then the birth date DDMMYY (women: day + 40), a serial other than 0000."},
        {"id": "16 angka NIK dari KTP atau Kartu Keluarga.", "en": "The 16-digit NIK from the ID or family card."}),
    "no_kk": OdkType(
        "text", f"regex(., '{KK_PATTERN}')",
        {"id": "No. KK: 16 angka tanpa spasi; 2 angka pertama kode provinsi, kode kabupaten dan kecamatan bukan "
               "00, nomor urut bukan 0000.",
         "en": "Family card number: 16 digits without spaces; the first 2 a province code, regency and district "
               "codes other than 00, a serial other than 0000."},
        {"id": "16 angka nomor Kartu Keluarga.", "en": "The 16-digit family card number."}),
    "phone": OdkType(
        "text", f"regex(., '{PHONE_PATTERN}')",
        {"id": "Nomor HP Indonesia: 08..., 628... atau +628..., 10–13 angka.",
         "en": "An Indonesian mobile number: 08..., 628... or +628..., 10–13 digits."},
        {"id": "Nomor HP, misalnya 081234567890.", "en": "A mobile number, e.g. 081234567890."}),
    "rupiah": OdkType(
        "integer", ". >= 0",
        {"id": "Rupiah: bilangan bulat, tidak negatif, tanpa titik.",
         "en": "Rupiah: a whole number, not negative, without dots."},
        {"id": "Jumlah dalam rupiah, tanpa titik: 1250000.", "en": "An amount in rupiah, without dots: 1250000."}),
    "beneficiary": OdkType(
        "select_one_from_file", "", {},
        {"id": "Pilih penerima manfaat dari wilayah Anda.", "en": "Choose a beneficiary of your areas."}),
}

# Pantau's parameter -> its ODK spellings. Pantau's `max_accuracy` warns above the limit, which is
# ODK's `warning-accuracy`; `capture-accuracy` makes Collect take the point as soon as it is that good.
ODK_PARAMETERS: dict[str, tuple[str, ...]] = {
    "max_accuracy": ("capture-accuracy", "warning-accuracy"),
    "max_pixels": ("max-pixels",),
}
# Pantau's parameters ODK has no spelling for; pyxform refuses them, so an export keeps them in Pantau's column.
PANTAU_PARAMETERS = frozenset({"max_size"})
FROM_ODK_PARAMETER = {odk: name for name, spellings in ODK_PARAMETERS.items() for odk in spellings}


def beneficiary_file(programme: str | None) -> str:
    """The CSV of the enumerator's slice of the registry a `beneficiary` question chooses from, as
    `select_one_from_file` names it. Served with the form to ODK Collect (OpenRosa) with
    the columns name (the beneficiary's id), label (name, masked NIK, desa), nik (masked), nama,
    desa (code) and desa_nama; only the programme's beneficiaries when the form has one."""
    if not programme:
        return "penerima.csv"
    return f"penerima_{re.sub(r'[^A-Za-z0-9_]', '_', programme)}.csv"


# --- a literal default ODK would read as an expression --------------------------------------------
def odk_default(default: str, odk_type: str) -> str:
    """The default as ODK should read it. pyxform takes a default with an operator or a bracket for an
    expression where Pantau sees a literal ("-", "a/b"), and "-" is no valid XPath: such a literal is
    written as the string expression concat('-'); the literal itself goes in `pantau::default`."""
    from pyxform.utils import default_is_dynamic  # pyxform's own rule; loaded only when converting

    if is_dynamic_default(default) or not default_is_dynamic(default, odk_type):
        return default
    if re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", default):
        return default  # the same number as an expression
    pieces = default.split("'")
    return "concat(" + ", \"'\", ".join(f"'{piece}'" for piece in pieces) + ")"


# --- the constraint: (own) and added ---------------------------------------------------------------
def with_constraint(own: str | None, added: str) -> str:
    if not added:
        return own or ""
    return f"({own}) and {added}" if own else added


def without_constraint(text: str, added: str) -> str | None:
    """The author's own constraint from what the export wrote; a rewritten one is kept whole."""
    if not added:
        return text or None
    if text == added:
        return None
    suffix = f") and {added}"
    if text.startswith("(") and text.endswith(suffix):
        return text[1:-len(suffix)]
    return text or None


# --- hints and constraint messages: own — added, per language ------------------------------------
def with_text(own: Text, added: Text, languages: list[str]) -> Text:
    if not added:
        return dict(own)
    out = dict(own)
    for lang in languages:
        extra = added.get(lang, added["en"])
        out[lang] = f"{own[lang]}{JOIN}{extra}" if own.get(lang) else extra
    return out


def without_text(text: Text, added: Text) -> Text:
    if not added:
        return text
    out: Text = {}
    for lang, value in text.items():
        extra = added.get(lang, added["en"])
        if value == extra:
            continue
        out[lang] = value.removesuffix(JOIN + extra) if value.endswith(JOIN + extra) else value
    return out
