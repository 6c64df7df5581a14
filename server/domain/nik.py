"""Indonesian identifiers and values: NIK and No. KK rules (domain.md 1.2/1.3), mobile numbers
normalised to +62, and rupiah shown as "Rp 1.250.000". lokal-id parses the structure; Pantau adds
what it lacks: placeholders, Excel damage, KK = NIK, births after registration, and the soft
warnings (region outside Kukar or missing from the Kemendagri list, sex/DOB differing from answers)."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any, Literal

import lokal
import msgspec
from babel import Locale
from babel.numbers import format_decimal, get_group_symbol, get_minus_sign_symbol
from lokal.wilayah import wilayah_name

KUKAR_PREFIX = "6402"
Sex = Literal["L", "P"]

_SEPARATORS = re.compile(r"[\s.\-]")
_SIXTEEN = re.compile(r"[0-9]{16}\Z")
# "6.40206E+15": Excel keeps 15 significant digits, so the number is already damaged.
_EXCEL = re.compile(r"[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+\Z")
_ASCENDING = "01234567890123456789012345"
_DESCENDING = _ASCENDING[::-1]


class Finding(msgspec.Struct, frozen=True):
    code: str
    params: dict[str, Any] = {}


class IdCheck(msgspec.Struct, kw_only=True):
    """The outcome of one NIK or KK check: the cleaned digits and what is wrong with them."""

    digits: str | None = None
    errors: list[Finding] = []
    warnings: list[Finding] = []
    sex: Sex | None = None
    birth_date: dt.date | None = None


# How many leading digits a masked NIK or No. KK shows: the province only. Whoever sees a masked
# number can also see the birth date and sex (digits 7-12 of a NIK), so every digit more a mask
# shows divides what is left to guess: with the province shown, the kecamatan of issue (105 in
# Kalimantan Timur) and the serial (0001-9999) remain, 1,049,895 candidates; with the whole region
# code and the last two digits shown, only 99 (docs/privacy.md has the arithmetic).
MASK_SHOWN = 2
MASK_LENGTH = 16


def mask(value: Any) -> str:
    """64**************: the one mask of a NIK or No. KK wherever one is shown without being revealed
    (lists, pages, the API, exports, report PDFs, the phone's copy). It also masks a number stored
    under an older, wider mask ("640206********01"), so those rows read the same as new ones."""
    text = "" if value is None else str(value)
    if not text:
        return ""
    if len(text) != MASK_LENGTH:
        return "*" * MASK_LENGTH  # not a number at all: nothing of it is shown
    return text[:MASK_SHOWN] + "*" * (MASK_LENGTH - MASK_SHOWN)


def is_masked(value: Any) -> bool:
    """A value as a mask leaves it (stars where digits were): what a phone sends back unchanged."""
    return isinstance(value, str) and len(value) == MASK_LENGTH and "*" in value


def clean_digits(text: str) -> str:
    return _SEPARATORS.sub("", text)


def is_placeholder(digits: str) -> bool:
    """All-same digits or a counting run: what enumerators type to get past a required NIK."""
    return len(set(digits)) == 1 or digits in _ASCENDING or digits in _DESCENDING


def _shape(text: str, kind: Literal["nik", "kk"]) -> IdCheck | None:
    """Errors that make every later rule meaningless; None when the value is 16 real digits."""
    stripped = text.strip()
    if _EXCEL.match(stripped):
        return IdCheck(errors=[Finding(f"{kind}.excel", {"value": stripped})])
    digits = clean_digits(stripped)
    if not _SIXTEEN.match(digits):
        return IdCheck(errors=[Finding(f"{kind}.length")])
    if is_placeholder(digits):
        return IdCheck(digits=digits, errors=[Finding(f"{kind}.placeholder", {"value": digits})])
    return None


def _region(digits: str, kind: Literal["nik", "kk"], result: IdCheck) -> bool:
    """Region and serial rules; True when the region part is well-formed."""
    codes, unknown = _region_issues(digits[:6], digits[12:] == "0000")
    if "province" in codes:
        result.errors.append(Finding(f"{kind}.province", {"code": digits[:2]}))
    if "wilayah" in codes:
        result.errors.append(Finding(f"{kind}.region_zero"))
    if "serial" in codes:
        result.errors.append(Finding(f"{kind}.serial_zero"))
    region_ok = not codes & {"province", "wilayah"}
    if region_ok and unknown:
        # The NIK keeps the code it was issued with, so a pre-pemekaran code is possible: warn only.
        result.warnings.append(Finding(f"{kind}.prefix_unknown", {"prefix": _dotted(digits[:6])}))
    return region_ok


@lru_cache(maxsize=4096)
def _region_issues(prefix: str, serial_zero: bool) -> tuple[frozenset[str], bool]:
    """lokal-id's region and serial findings, which depend only on the first six digits and on whether
    the serial is 0000: asked once per region (an imported list of 100,000 NIKs has a few hundred)."""
    info = lokal.parse_nik(f"{prefix}010190{'0000' if serial_zero else '0001'}", lookup_wilayah=wilayah_name)
    codes = frozenset(issue.code for issue in info.errors) & {"province", "wilayah", "serial"}
    return codes, any(w.code == "wilayah_unknown" for w in info.warnings)


def _dotted(prefix: str) -> str:
    return f"{prefix[:2]}.{prefix[2:4]}.{prefix[4:6]}"


def _encoded_date(
    digits: str, registered: dt.date, entered: dt.date | None, plus40: bool
) -> tuple[dt.date | None, Sex]:
    day, month, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    sex: Sex = "L"
    if plus40 and day > 40:
        day, sex = day - 40, "P"
    if entered is not None and entered.year % 100 == yy:
        year = entered.year  # the entered DOB settles the century (domain.md 1.1)
    else:
        year = 2000 + yy if yy <= registered.year % 100 else 1900 + yy
    try:
        return dt.date(year, month, day), sex
    except ValueError:
        return None, sex


def check_nik(
    text: str,
    *,
    registered: dt.date,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    kk: str | None = None,
) -> IdCheck:
    """`registered` is the registration date (or today); `sex`, `birth_date` and `kk` are the
    answers the NIK is compared with, when the form has them."""
    early = _shape(text, "nik")
    if early is not None:
        return early
    digits = clean_digits(text.strip())
    result = IdCheck(digits=digits)
    region_ok = _region(digits, "nik", result)
    encoded, nik_sex = _encoded_date(digits, registered, birth_date, plus40=True)
    if encoded is None:
        result.errors.append(Finding("nik.date", {"ddmmyy": digits[6:12]}))
    elif encoded > registered:
        dates = {"birth": encoded.isoformat(), "registered": registered.isoformat()}
        result.errors.append(Finding("nik.future_birth", dates))
    if kk and clean_digits(kk) == digits:
        result.errors.append(Finding("nik.is_kk"))
    if region_ok and not digits.startswith(KUKAR_PREFIX):
        result.warnings.append(Finding("nik.outside_kukar", {"prefix": _dotted(digits[:6])}))
    if encoded is not None:
        result.sex, result.birth_date = nik_sex, encoded
        _compare_answers(result, sex, birth_date)
    return result


def _compare_answers(result: IdCheck, sex: str | None, birth_date: dt.date | None) -> None:
    # Dukcapil does not reissue a NIK after a corrected DOB, so a difference is a warning to
    # confirm against the KTP, never a rejection (domain.md 1.1).
    entered_sex = sex_code(sex)
    if entered_sex is not None and entered_sex != result.sex:
        result.warnings.append(Finding("nik.sex_mismatch", {"nik_sex": result.sex, "entered": entered_sex}))
    if birth_date is not None and result.birth_date is not None and birth_date != result.birth_date:
        result.warnings.append(
            Finding("nik.dob_mismatch", {"nik_dob": result.birth_date.isoformat(), "entered": birth_date.isoformat()})
        )


def sex_code(value: str | None) -> Sex | None:
    """'L'/'P' from a sex answer ('L', 'laki-laki', 'P', 'perempuan'); None when it is neither."""
    if not value:
        return None
    first = value.strip()[:1].upper()
    return "L" if first == "L" else "P" if first == "P" else None


def check_kk(text: str, *, registered: dt.date, nik: str | None = None) -> IdCheck:
    early = _shape(text, "kk")
    if early is not None:
        return early
    digits = clean_digits(text.strip())
    result = IdCheck(digits=digits)
    _region(digits, "kk", result)
    if nik and clean_digits(nik) == digits:
        result.errors.append(Finding("kk.is_nik"))
    recorded, _ = _encoded_date(digits, registered, None, plus40=False)
    if recorded is None:
        # Old pre-SIAK family cards vary in layout (domain.md 1.3): warn, do not block.
        result.warnings.append(Finding("kk.date", {"ddmmyy": digits[6:12]}))
    return result


class PhoneCheck(msgspec.Struct, kw_only=True, frozen=True):
    e164: str | None = None
    errors: list[Finding] = []
    warnings: list[Finding] = []


# The checks of the numbers checked last, by their +62 form. An answer is cleaned to that form and
# its rule checks that form again in the same request: parsed once, the rule finds it here (parsing
# was a twentieth of a registration's validation). A number's +62 form parses exactly as the number
# did (the same digits after the prefix). Read by callers, never changed: the struct is frozen.
_CHECKED: dict[str, PhoneCheck] = {}
CHECKED_MAX = 1024


def check_phone(text: str) -> PhoneCheck:
    """An Indonesian mobile number in any common writing, normalised to +62..."""
    known = _CHECKED.get(text)
    if known is not None:
        return known
    info = lokal.parse_phone(text)
    if not info.valid:
        return PhoneCheck(errors=[Finding("phone.invalid")])
    if info.type != "mobile":
        return PhoneCheck(errors=[Finding("phone.not_mobile")])
    warnings = []
    if any(w.code == "prefix_unknown" for w in info.warnings) and info.national:
        warnings.append(Finding("phone.prefix_unknown", {"prefix": info.national[:4]}))
    result = PhoneCheck(e164=info.e164, warnings=warnings)
    if info.e164 is not None:
        if len(_CHECKED) >= CHECKED_MAX:
            _CHECKED.clear()
        _CHECKED[info.e164] = result
    return result


def normalize_phone(text: str) -> str | None:
    return check_phone(text).e164


# Parsed once: Babel re-parses a locale given by name on every call (half the cost of a format).
ID_LOCALE = Locale.parse("id_ID")
EN_LOCALE = Locale.parse("en")


def format_rupiah(amount: int) -> str:
    """1250000 -> "Rp 1.250.000" (Indonesian grouping, from Babel's id locale)."""
    return f"Rp {format_integer(amount, ID_LOCALE)}"


# Keyed by the locale's id, the locale kept beside its symbols (so an id is never reused while it is
# a key): Babel's Locale hashes in Python, which cost more than the formatting itself.
_INTEGER_SYMBOLS: dict[int, tuple[Locale, tuple[str, str]]] = {}
_SAMPLES = (0, 7, -7, 999, 1000, -1000, 12345, 123456, -1234567, 1250000, 10**12 + 1)


def format_integer(value: int, locale: Locale) -> str:
    """format_decimal(value, locale=locale) for a whole number, with the locale's group and minus
    symbols read from Babel once: a submission formats several amounts, and Babel's general path
    (pattern, quantize, Decimal) cost about 10 us each on the busiest request. A locale is taken on
    this path only when Babel itself agrees on sample numbers (grouping in threes, no minimum
    grouping digits, as for id and en); any other keeps Babel's own path."""
    known = _INTEGER_SYMBOLS.get(id(locale))
    if known is not None and known[0] is locale:
        symbols = known[1]
    else:
        symbols = (get_group_symbol(locale), get_minus_sign_symbol(locale))
        if any(_grouped(n, *symbols) != format_decimal(n, locale=locale) for n in _SAMPLES):
            symbols = ("", "")
        _INTEGER_SYMBOLS[id(locale)] = (locale, symbols)
    if not symbols[0] or isinstance(value, bool):
        return format_decimal(value, locale=locale)
    return _grouped(value, *symbols)


def _grouped(value: int, group: str, minus: str) -> str:
    digits = f"{abs(value):,}".replace(",", group)
    return minus + digits if value < 0 else digits
