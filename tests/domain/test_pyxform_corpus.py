"""pyxform's own test forms (tests/data/pyxform_corpus, pinned commit in its README) against Pantau's
import: of the forms pyxform converts, the share Pantau accepts, the rest refused with messages
that name the feature, sheet and row in both languages, and never a traceback. None of this touches
a database, so it runs in CI's SQLite pass only; tests/web/test_pyxform_corpus.py opens the accepted
forms on /f/<id> on both databases."""

from __future__ import annotations

import pytest

from tests.corpus.pyxform_corpus import Figures, report, run

pytestmark = pytest.mark.no_database

# The share of the forms pyxform converts that Pantau accepts as they are. The issue asks for 90 %;
# this floor is what the import reaches today (see the report of the test run), so it cannot slip back.
FLOOR = 0.956


@pytest.fixture(scope="module")
def figures() -> Figures:
    return run()


def test_no_form_of_the_corpus_gives_a_traceback(figures: Figures) -> None:
    crashed = [o.name for o in figures.outcomes if o.traceback]
    assert crashed == [], report(figures)
    assert len(figures.converted) > 500  # the corpus is there: the workbooks and the markdown forms


def test_the_share_accepted_does_not_fall_below_the_floor(figures: Figures) -> None:
    print(report(figures))
    assert figures.share() >= FLOOR, report(figures)


def test_every_refusal_names_the_feature_sheet_and_row_in_both_languages(figures: Figures) -> None:
    for outcome in figures.converted:
        if outcome.accepted or outcome.result is None:
            continue
        errors = [p for p in outcome.result.problems if p.severity == "error"]
        assert errors, outcome.name
        for p in errors:
            assert "[" in p.file and p.line >= 1, (outcome.name, p.format())  # file.xlsx[sheet]:row
            assert p.message_id and p.message_en and p.message_id != p.message_en, (outcome.name, p.format())
