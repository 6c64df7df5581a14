"""Probable duplicates beyond the NIK: the same person registered twice without a number, or with a
typo in it. Two records of one kabupaten are compared field by field, each comparison lands on a
level (the name the same, close, different...), and the levels' weights add up to a score; a pair
at or above THRESHOLD is a candidate for a coordinator to decide. This is the Fellegi-Sunter model
of record linkage: a weight is log2(m/u), m the share of true duplicates that agree at that level
and u the share of different people who do. The m and u below are estimates for Kukar's registry
(see WEIGHTS) checked by bench/duplicates.py, whose synthetic registry measures recall and precision.

String similarity is rapidfuzz's (Jaro-Winkler and token-set ratio, C++). A probabilistic linkage
library such as splink was weighed and not taken: it brings DuckDB and pandas (over 100 MB) to a
one-box install for a model of six fields whose weights fit in a table.

Pure: the storage layer reads the records (opening sealed NIKs in memory only) and stores the pairs."""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Iterator

import msgspec
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.fuzz import token_set_ratio


class Person(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    sex: str = ""  # L or P, "" unknown
    birth_date: str = ""  # YYYY-MM-DD, or "" unknown
    area_code: str = ""  # the desa (64.02.06.1001)
    kk: str = ""  # anything equal for one family card (the blind index), "" unknown
    nik: str = ""  # the 16 digits (opened in memory by the storage layer), "" unknown
    guardian: str = ""  # the mother's or guardian's name, "" unknown


# --- names as Indonesian offices write them ---------------------------------------------------------
# Titles and honorifics that are not part of the name (H. = Haji, Hj. = Hajjah, Alm./Almh. = late).
TITLES = frozenset({"h", "hj", "haji", "hajah", "hajjah", "ibu", "bu", "bapak", "pak", "bpk", "bp", "sdr", "sdri",
                    "nyonya", "ny", "tuan", "tn", "almarhum", "almarhumah", "alm", "almh", "dr", "drs", "dra", "ir",
                    "st", "spd", "sh", "se", "amd", "skm", "sag", "ssos", "kh", "ust", "ustadz", "ustad", "hajji",
                    "nenek", "kakek", "mbah"})  # not Andi, La, Wa, Daeng: titles that are also given names
# Spellings of one name: the key on the left is written as the one on the right.
VARIANTS = {"sitti": "siti", "sity": "siti", "muhamad": "muhammad", "mohammad": "muhammad", "mohamad": "muhammad",
            "muhammmad": "muhammad", "moh": "muhammad", "mohd": "muhammad", "muh": "muhammad",
            "mochammad": "muhammad", "mochamad": "muhammad", "mokhammad": "muhammad", "md": "muhammad",
            "m": "muhammad", "achmad": "ahmad", "akhmad": "ahmad", "ahmat": "ahmad", "abd": "abdul",
            "nurul": "nurul", "noer": "nur", "nor": "nur", "yusuf": "yusuf", "jusuf": "yusuf", "yosef": "yusuf",
            "fatimah": "fatimah", "fatima": "fatimah", "aisyah": "aisyah", "aisah": "aisyah", "aishah": "aisyah"}
# Ejaan lama (before 1972) to today's spelling, then sounds written two ways: for the sound key.
_OLD_SPELLING = (("tj", "c"), ("dj", "j"), ("sj", "sy"), ("nj", "ny"), ("oe", "u"), ("ch", "kh"))
_SOUNDS = (("kh", "h"), ("sy", "s"), ("ph", "f"), ("v", "f"), ("z", "s"), ("q", "k"), ("x", "ks"), ("dh", "d"),
           ("th", "t"), ("y", "i"), ("w", "u"), ("e", "a"), ("o", "u"))
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_DOUBLE = re.compile(r"(.)\1+")


def name_key(name: str) -> str:
    """The name without accents, case, punctuation, titles or spelling variants."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)).casefold()
    words = _NOT_WORD.sub(" ", plain.replace("'", "").replace("’", "")).split()
    kept = [VARIANTS.get(w, w) for w in words if w not in TITLES]
    return " ".join(kept or words)


def sound_key(key: str) -> str:
    """How the name sounds, roughly: old and new spellings, vowels that drift (e/a, o/u) and double
    letters fold together ("Djoehana" ~ "Juhana", "Sitti Aisah" ~ "Siti Aisyah")."""
    words = []
    for word in key.split():
        for old, new in _OLD_SPELLING:
            word = word.replace(old, new)
        for old, new in _SOUNDS:
            word = word.replace(old, new)
        words.append(_DOUBLE.sub(r"\1", word.rstrip("h")))
    return " ".join(words)


# --- the comparison ---------------------------------------------------------------------------------
def _w(m: float, u: float) -> float:
    return round(math.log2(m / u), 2)


# Field -> level -> weight, each log2(m/u) with the m (share of true duplicates at this level) and u
# (share of different people of one kabupaten at it) they come from. A field unknown on either side
# weighs nothing.
WEIGHTS: dict[str, dict[str, float]] = {
    "name": {"same": _w(0.70, 0.002),  # the name key equal: most duplicates, few others
             "sound": _w(0.10, 0.002),  # equal once spelling is folded (Sitti/Siti, Djoko/Joko)
             "close": _w(0.15, 0.01),  # a typo or a word more (Jaro-Winkler >= 0.92, or one name in the other)
             "similar": _w(0.04, 0.05),  # Jaro-Winkler >= 0.85: weak
             "differ": _w(0.01, 0.94)},
    "birth": {"same": _w(0.80, 0.0005),  # one day in about 60 years of births
              "swapped": _w(0.06, 0.0005),  # day and month swapped (05/03 for 03/05)
              "year": _w(0.08, 0.02),  # the same year, not the same day
              "differ": _w(0.02, 0.98)},  # mostly an elderly person's guessed date
    "sex": {"same": _w(0.97, 0.5), "differ": _w(0.03, 0.5)},
    "desa": {"same": _w(0.85, 0.01),  # Kukar has about 240 desa
             "kecamatan": _w(0.10, 0.05), "differ": _w(0.05, 0.94)},
    # u: two different people of the registry on one card: a mother and her child are both served
    "kk": {"same": _w(0.60, 0.005), "differ": _w(0.40, 0.995)},
    "nik": {"same": _w(0.60, 0.000001), "typo": _w(0.25, 0.00001),  # one digit changed, or two swapped
            "differ": _w(0.15, 0.99999)},
    # The mother's or guardian's name: weaker than the person's own (siblings share a mother).
    "guardian": {"same": _w(0.75, 0.01), "sound": _w(0.08, 0.002), "close": _w(0.12, 0.01),
                 "similar": _w(0.03, 0.05), "differ": _w(0.02, 0.93)},
}
THRESHOLD = 9.0  # the score from which a pair is a candidate: chosen with bench/duplicates.py
MAX_BLOCK = 300  # a blocking key shared by more records than this (a very common name) is too weak alone


class Compared(msgspec.Struct, frozen=True, kw_only=True):
    score: float
    levels: dict[str, str]  # field -> level, the fields known on both sides


class _Keyed(msgspec.Struct, frozen=True):
    """A person with the name's keys worked out once, not once per comparison."""

    person: Person
    key: str
    sound: str


def _keyed(p: Person) -> _Keyed:
    key = name_key(p.name)
    return _Keyed(p, key, sound_key(key))


def compare(a: Person, b: Person) -> Compared:
    return _compare(_keyed(a), _keyed(b))


def _compare(ka: _Keyed, kb: _Keyed) -> Compared:
    a, b = ka.person, kb.person
    found = (("name", _name_level(ka, kb)), ("birth", _birth_level(a.birth_date, b.birth_date)),
             ("sex", "" if not (a.sex and b.sex) else "same" if a.sex == b.sex else "differ"),
             ("desa", _desa_level(a.area_code, b.area_code)),
             ("kk", "" if not (a.kk and b.kk) else "same" if a.kk == b.kk else "differ"),
             ("nik", _nik_level(a.nik, b.nik)), ("guardian", _guardian_level(a.guardian, b.guardian)))
    levels = {field: level for field, level in found if level}
    return Compared(score=round(sum(WEIGHTS[f][lv] for f, lv in levels.items()), 2), levels=levels)


def _name_level(ka: _Keyed, kb: _Keyed) -> str:
    a, b = ka.key, kb.key
    if not a or not b:
        return ""
    if a == b:
        return "same"
    if ka.sound == kb.sound:
        return "sound"
    similarity = JaroWinkler.normalized_similarity(a, b)
    if similarity >= 0.92 or (min(len(a), len(b)) >= 3 and token_set_ratio(a, b) >= 95):
        return "close"
    return "similar" if similarity >= 0.85 else "differ"


def _guardian_level(one: str, two: str) -> str:
    return _name_level(_keyed(Person(id="", name=one)), _keyed(Person(id="", name=two))) if one and two else ""


def _birth_level(one: str, two: str) -> str:
    if len(one) != 10 or len(two) != 10:
        return ""
    if one == two:
        return "same"
    if one[:4] == two[:4] and one[5:7] == two[8:10] and one[8:10] == two[5:7]:
        return "swapped"
    return "year" if one[:4] == two[:4] else "differ"


def _desa_level(one: str, two: str) -> str:
    if not one or not two:
        return ""
    if one == two:
        return "same"
    return "kecamatan" if one.rsplit(".", 1)[0] == two.rsplit(".", 1)[0] else "differ"


def _nik_level(one: str, two: str) -> str:
    if len(one) != 16 or len(two) != 16:
        return ""
    if one == two:
        return "same"
    differ = [i for i in range(16) if one[i] != two[i]]
    if len(differ) == 1:
        return "typo"
    swapped = len(differ) == 2 and differ[1] == differ[0] + 1 and one[differ[0]] == two[differ[1]] \
        and one[differ[1]] == two[differ[0]]
    return "typo" if swapped else "differ"


# --- blocking: which pairs to compare at all ----------------------------------------------------------
def block_keys(k: _Keyed) -> set[str]:
    """Keys two records must share one of to be compared: the first or last name's sound with the
    birth year or the desa; the birth date with the sex; the NIK with any one digit left out (a
    changed digit) or with two neighbours in order (a swap); the family card."""
    keys: set[str] = set()
    p, sound = k.person, k.sound
    first = sound.split()[0] if sound else ""
    last = sound.split()[-1] if sound else ""
    for word in {first, last} - {""}:
        if p.birth_date:
            keys.add(f"n{word}|{p.birth_date[:4]}")
        if p.area_code:
            keys.add(f"d{word}|{p.area_code}")
    if len(p.birth_date) == 10:
        keys.add(f"b{p.birth_date}|{p.sex}")
        keys.add(f"b{p.birth_date[:4]}{p.birth_date[8:10]}{p.birth_date[5:7]}|{p.sex}")  # as if swapped
    if len(p.nik) == 16:
        keys |= {f"i{i}|{p.nik[:i]}{p.nik[i + 1:]}" for i in range(16)}
        keys |= {f"s{i}|{p.nik[:i]}{''.join(sorted(p.nik[i:i + 2]))}{p.nik[i + 2:]}" for i in range(15)}
    if p.kk:
        keys.add(f"k{p.kk}")
    return keys


def kabupaten(area_code: str) -> str:
    return ".".join(area_code.split(".")[:2])


def candidate_pairs(people: Iterable[Person], threshold: float = THRESHOLD,
                    only: set[str] | None = None) -> Iterator[tuple[Person, Person, Compared]]:
    """Every pair of one kabupaten that shares a blocking key and scores at least `threshold`, once,
    the lower id first. With `only`, just the pairs with at least one of those ids (a new
    registration against the registry)."""
    blocks: dict[str, list[_Keyed]] = defaultdict(list)
    for p in people:
        k = _keyed(p)
        for key in block_keys(k):
            blocks[f"{kabupaten(p.area_code)}/{key}"].append(k)
    seen: set[tuple[str, str]] = set()
    for members in blocks.values():
        if len(members) < 2 or len(members) > MAX_BLOCK:
            continue
        for i, ka in enumerate(members):
            for kb in members[i + 1:]:
                a, b = (ka, kb) if ka.person.id < kb.person.id else (kb, ka)
                pair = (a.person.id, b.person.id)
                if pair in seen or pair[0] == pair[1] or (only is not None and not only.intersection(pair)):
                    continue
                seen.add(pair)
                found = _compare(a, b)
                if found.score >= threshold:
                    yield a.person, b.person, found
