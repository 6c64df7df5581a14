"""Report indicators as pure functions (domain.md 6.1). Facts (facts.py) gathers one period's rows as
they stream past; each indicator kind turns Facts into a Table with one row per area, a total row and
the change from the previous period (table.py). Kinds register in INDICATORS with @indicator, one
module per family: people.py (the registry), work.py (the petugas' work and data quality),
outcomes.py (what visits found), survival.py, growth.py. Figures are written by report_format
(Indonesian formats, the small-base rule)."""

from server.domain.indicators import growth, outcomes, people, survival, work  # noqa: F401  the kinds register
from server.domain.indicators.attention import attention
from server.domain.indicators.facts import (
    AGE_BANDS,
    Facts,
    Record,
    Visit,
    age_band,
    distance_km,
    geopoint,
    months_between,
)
from server.domain.indicators.growth import MIN_CHILDREN
from server.domain.indicators.table import (
    INDICATORS,
    UNITS,
    Figure,
    Kind,
    Measure,
    Names,
    Row,
    Spec,
    Table,
    amount,
    area_table,
    indicator,
    ratio,
    tables,
)

# Formats that callers once found here; report_format is their home.
from server.domain.report_format import (
    SUPPRESSED,
    change,
    long_date,
    median,
    number,
    percent,
    proportion,
    rupiah,
    share,
)

__all__ = [
    "AGE_BANDS", "INDICATORS", "MIN_CHILDREN", "SUPPRESSED", "UNITS", "Facts", "Figure", "Kind", "Measure",
    "Names", "Record", "Row", "Spec", "Table", "Visit", "age_band", "amount", "area_table", "attention",
    "change", "distance_km", "geopoint", "indicator", "long_date", "median", "months_between", "number",
    "percent", "proportion", "ratio", "rupiah", "share", "tables",
]  # fmt: skip
