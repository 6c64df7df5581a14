"""The review rules without a database: who may move a record where, what a record is flagged for,
the list's filters, the page cursor that refuses tampering, and what changed between revisions."""

from __future__ import annotations

import datetime as dt

import pytest

from server.domain import review as rules
from server.domain.compile import compile_source

FORM = b"""
settings: {id: uji, version: "1"}
fields:
  - {type: text, name: nama, label: Nama}
  - {type: nik, name: nik, label: NIK}
  - {type: integer, name: umur, label: Umur}
  - type: repeat
    name: anggota
    fields:
      - {type: nik, name: nik_art, label: NIK anggota}
"""


@pytest.mark.parametrize(("current", "wanted", "comment", "code"), [
    ("received", "approved", "", None),
    ("received", "needs_correction", "Foto buram", None),
    ("received", "needs_correction", "   ", "review.comment_required"),
    ("received", "rejected", "", "review.comment_required"),
    ("rejected", "approved", "", "review.bad_transition"),
    ("rejected", "received", "", None),
    ("approved", "approved", "", "review.bad_transition"),
    ("approved", "needs_correction", "x" * 2001, "review.comment_too_long"),
    ("received", "hilang", "", "review.bad_status"),
])
def test_transitions(current: str, wanted: str, comment: str, code: str | None) -> None:
    assert rules.transition_problem(current, wanted, comment) == code


def test_flags_come_from_confirmed_warnings_inside_repeats_too() -> None:
    compiled = compile_source(FORM, "uji.yaml").compiled
    types = rules.question_types(compiled)
    assert rules.flags_of({"nama": "x"}, types) == set()
    assert rules.flags_of({"umur": 3, "_konfirmasi": ["umur"]}, types) == {"warning"}
    assert rules.flags_of({"anggota": [{"nik_art": "1", "_konfirmasi": ["nik_art"]}]}, types) == {"warning",
                                                                                                   "nik_warning"}
    assert rules.name_field(compiled) == "nama"
    assert rules.name_key("  Nur'aini  SÉTIAWAN ") == "nuraini setiawan"


def test_masking_keeps_region_and_last_two_digits_everywhere() -> None:
    answers = {"nik": "6402064101900001", "anggota": [{"nik_art": "6402060101150003"}], "nama": "Siti"}
    masked = rules.mask_answers(answers, {"nik", "nik_art"})
    assert masked == {"nik": "64**************", "anggota": [{"nik_art": "64**************"}], "nama": "Siti"}
    assert rules.unmask(masked, {"nik": "6402064101900001", "anggota[1]/nik_art": "6402060101150003"}) == answers


def test_filters_refuse_what_they_cannot_apply() -> None:
    ok = rules.parse_filters({"form": ["uji"], "status": ["approved", "received"], "since": ["2026-03-01"],
                              "q": ["Siti  Aminah"], "flag": ["edited"]})
    assert ok.statuses == ("approved", "received") and ok.name == "siti aminah" and ok.since == dt.date(2026, 3, 1)
    assert rules.parse_filters({}, default_statuses=("approved",)).statuses == ("approved",)
    assert rules.parse_filters({"status": ["all"]}, default_statuses=("approved",)).statuses == ()
    for params, code in (({"warna": ["merah"]}, "review.bad_filter"), ({"area": ["64.02.06;--"]}, "review.bad_filter"),
                         ({"since": ["2026-03-02"], "until": ["2026-03-01"]}, "review.reversed_dates"),
                         ({"status": ["semua"]}, "review.bad_filter"), ({"version": ["1"]}, "review.bad_filter")):
        with pytest.raises(rules.BadFilter) as refused:
            rules.parse_filters(params)
        assert refused.value.code == code


def test_the_cursor_is_bound_to_its_key_and_filters() -> None:
    key, filters = rules.cursor_key("k" * 48), rules.Filters(form_id="uji")
    at = dt.datetime(2026, 3, 2, 1, 2, 3, 456, tzinfo=dt.UTC)
    cursor = rules.encode_cursor(key, filters, at, "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11")
    assert rules.decode_cursor(key, filters, cursor) == (at, "6b0f5b8e-1b7e-4a55-9d8e-6a4f7b7a1c11")
    attempts = [(rules.cursor_key("z" * 48), filters, cursor), (key, rules.Filters(form_id="lain"), cursor),
                (key, filters, cursor.replace(".", "")), (key, filters, "A" + cursor[1:]), (key, filters, "")]
    for other_key, other_filters, token in attempts:
        with pytest.raises(rules.BadFilter) as refused:
            rules.decode_cursor(other_key, other_filters, token)
        assert refused.value.code == "review.bad_cursor"


def test_diff_names_each_changed_answer_by_path() -> None:
    before = {"nama": "Siti Amina", "umur": 40, "anggota": [{"nik_art": "1"}, {"nik_art": "2"}], "_konfirmasi": []}
    after = {"nama": "Siti Aminah", "umur": 40, "anggota": [{"nik_art": "1"}], "baru": "x"}
    changes = {(c.path, c.name, c.before, c.after) for c in rules.diff(before, after)}
    assert changes == {("nama", "nama", "Siti Amina", "Siti Aminah"), ("baru", "baru", None, "x"),
                       ("anggota[2]/nik_art", "nik_art", "2", None)}


def test_an_ascii_name_gets_the_key_the_unicode_path_gives() -> None:
    """review.name_key's short way for ASCII names (lower() for NFKD and casefold) against the long way
    on the same names: underscores, digits, apostrophes, capitals and runs of punctuation."""
    import unicodedata

    from server.domain.review import _APOSTROPHES, _NOT_WORD, name_key

    def long_way(name: str) -> str:
        plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()
        return " ".join(_NOT_WORD.sub(" ", _APOSTROPHES.sub("", plain)).split())

    names = ["Siti Aminah", "NUR'AINI", "  Sri  Wati-Lestari ", "a_b c`d", "Dewi 2nd", "O'Brien, J.R.", "", "---",
             "Çağlar Öztürk", "Nur’aini"]
    for name in names:
        assert name_key(name) == long_way(name), name
