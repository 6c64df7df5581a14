"""Reporting periods and the Indonesian formats of report figures (pure functions)."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain import indicators, periods


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "title", "previous"),
    [
        ("2026-Q3", "quarterly", "2026-07-01", "2026-09-30", "Triwulan III Tahun 2026", "2026-Q2"),
        ("2026-Q1", "quarterly", "2026-01-01", "2026-03-31", "Triwulan I Tahun 2026", "2025-Q4"),
        ("2026-07", "monthly", "2026-07-01", "2026-07-31", "Juli 2026", "2026-06"),
        ("2026-01", "monthly", "2026-01-01", "2026-01-31", "Januari 2026", "2025-12"),
        ("2024-02", "monthly", "2024-02-01", "2024-02-29", "Februari 2024", "2024-01"),
        ("2026-S2", "semester", "2026-07-01", "2026-12-31", "Semester II Tahun 2026", "2026-S1"),
        ("2026", "yearly", "2026-01-01", "2026-12-31", "Tahun 2026", "2025"),
    ],
)
def test_periods(text: str, kind: str, start: str, end: str, title: str, previous: str) -> None:
    period = periods.parse(text)
    assert (period.kind, period.code, period.start.isoformat(), period.end.isoformat()) == (kind, text, start, end)
    assert period.title() == title and period.previous().code == previous
    assert period.previous().following() == period


@pytest.mark.parametrize("text", ["2026-Q5", "2026-Q0", "2026-13", "2026-00", "2026-S3", "26-Q1", "1999", "x", ""])
def test_bad_periods(text: str) -> None:
    with pytest.raises(periods.BadPeriod):
        periods.parse(text)


def test_the_last_closed_period() -> None:
    assert periods.last_closed("quarterly", dt.date(2026, 4, 1)).code == "2026-Q1"
    assert periods.last_closed("quarterly", dt.date(2026, 3, 31)).code == "2025-Q4"
    assert periods.last_closed("monthly", dt.date(2026, 1, 15)).code == "2025-12"
    assert periods.parse("2026-Q1").closed_by(dt.date(2026, 4, 1))
    assert not periods.parse("2026-Q1").closed_by(dt.date(2026, 3, 31))


def test_indonesian_formats() -> None:
    assert indicators.number(1234567) == "1.234.567"
    assert indicators.percent(0.125) == "12,5%"
    assert indicators.percent(None) == "–"
    assert indicators.rupiah(1500000) == "Rp 1.500.000"
    assert indicators.rupiah(-25000) == "-Rp 25.000"
    assert indicators.long_date(dt.date(2026, 3, 31)) == "31 Maret 2026"
    assert indicators.change(0.30, 0.275, points=True) == "+2,5 poin"
    assert indicators.change(12, 15) == "-3"


def test_median_not_mean_and_suppression_below_30() -> None:
    assert indicators.median([1, 2, 100]) == 2
    assert indicators.median([1, 2, 3, 100]) == 2.5
    assert indicators.median([]) is None
    assert indicators.share(5, 29, indicators.MIN_CHILDREN) is None
    assert indicators.share(6, 30, indicators.MIN_CHILDREN) == 0.2


def test_facts_keep_the_latest_visit_per_person_and_only_areas_with_people_get_a_row() -> None:
    facts = indicators.Facts(dt.date(2026, 1, 1), dt.date(2026, 3, 31), lambda code: code[:8], ["64.02.06", "64.02.13"])
    facts.add_person("a", "64.02.06.1001", "P", "1980-05-01", "prse", "2025-01-01", [{"key": "p", "value": 100}], 3)
    facts.add_visit("a", "2026-03-01", [{"key": "status_usaha", "value": "berhenti_permanen"}])
    facts.add_visit("a", "2026-01-01", [{"key": "status_usaha", "value": "berkembang"}])  # older, synced late
    facts.add_visit("ghost", "2026-02-01", [])  # outside the scope: ignored
    spec = indicators.Spec(key="k", kind="share", title="Usaha bertahan", figure="status_usaha", values=["berkembang"])
    table = indicators.INDICATORS["share"](spec, facts, None, str)
    assert [r.label for r in table.rows] == ["64.02.06"] and facts.absent() == ["64.02.13"]
    assert table.headline == "0 (0,0%)"  # 0 of 1 person: the count leads (the small-base rule)
    assert indicators.tables([spec], facts, None, str)[0].omitted == ["64.02.13"]
    assert facts.visits["64.02.06"] == 2


def test_geopoints_distances_and_months_since_aid() -> None:
    assert indicators.geopoint("-0.4123 116.9856 12 8") == (-0.4123, 116.9856, 8.0)
    assert indicators.geopoint("-0.4123 116.9856") == (-0.4123, 116.9856, None)
    assert indicators.geopoint("bukan lokasi") is None and indicators.geopoint(None) is None
    assert indicators.geopoint("95 116 0 5") is None  # not on Earth
    # One degree of latitude is about 111.2 km; Tenggarong to Samarinda about 25 km.
    assert abs(indicators.distance_km((0.0, 117.0), (1.0, 117.0)) - 111.19) < 0.01
    assert 20 < indicators.distance_km((-0.4123, 116.9856), (-0.5022, 117.1536)) < 25
    assert indicators.months_between(dt.date(2026, 1, 15), dt.date(2026, 4, 14)) == 2
    assert indicators.months_between(dt.date(2026, 1, 15), dt.date(2026, 4, 15)) == 3
    assert indicators.months_between(dt.date(2025, 3, 31), dt.date(2026, 3, 31)) == 12


def test_a_visit_far_from_home_with_poor_gps_counts_for_its_petugas() -> None:
    facts = indicators.Facts(dt.date(2026, 1, 1), dt.date(2026, 3, 31), str, ["64.02.06.1001"], accuracy_m=50)
    facts.add_person("a", "64.02.06.1001", "P", "1980-05-01", "prse", "2025-01-01", [], 3, home="-0.4 117.0 0 5")
    far = indicators.Record(enumerator="citra", visit=True, photo=True, location="-0.43 117.0 0 80", revision=2)
    facts.add_record("a", far)
    facts.add_record("ghost", far)  # outside the scope: ignored
    assert +facts.work["citra"] == {"records": 1, "visits": 1, "photo": 1, "located": 1, "compared": 1, "far": 1}
    assert facts.quality[("64.02.06.1001", "edited")] == 1 and facts.quality[("64.02.06.1001", "records")] == 1
