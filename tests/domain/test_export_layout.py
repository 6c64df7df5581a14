"""The export layout without a database: versions merged by field name (removed fields kept, the
newest order and labels winning), rows per table with join keys, and the XLSX pieces."""

from __future__ import annotations

from server.domain import exports as layout
from server.domain import xlsx
from server.domain.compile import compile_source

V1 = b"""
settings: {id: uji, version: "1"}
choices:
  jk: {L: {id: Laki-laki, en: Male}, P: {id: Perempuan, en: Female}, X: {id: Lainnya, en: Other}}
fields:
  - {type: text, name: nama, label: {id: Nama, en: Name}}
  - {type: select_one jk, name: jk, label: {id: Jenis kelamin, en: Sex}}
  - {type: text, name: lama, label: {id: Isian lama, en: Old field}}
  - type: repeat
    name: anggota
    fields:
      - {type: text, name: nama_art, label: Nama}
      - type: repeat
        name: sekolah
        fields:
          - {type: text, name: nama_sekolah, label: Sekolah}
"""
V2 = b"""
settings: {id: uji, version: "2"}
choices:
  jk: {L: {id: Pria, en: Man}, P: {id: Wanita, en: Woman}}
fields:
  - {type: integer, name: umur, label: {id: Umur, en: Age}}
  - {type: text, name: nama, label: {id: Nama, en: Name}}
  - {type: select_one jk, name: jk, label: {id: Jenis kelamin, en: Sex}}
"""


def merged() -> layout.Layout:
    return layout.merge([("1", compile_source(V1, "v1.yaml").compiled), ("2", compile_source(V2, "v2.yaml").compiled)])


def test_versions_merge_by_name_with_removed_fields_after_the_newest() -> None:
    found = merged()
    assert [t.name for t in found.tables] == ["", "anggota", "sekolah"]
    main = {c.name: c for c in found.tables[0].columns}
    assert list(main) == ["umur", "nama", "jk", "lama"]
    assert (main["lama"].removed, main["lama"].versions) == (True, ("1",))
    assert (main["jk"].removed, main["jk"].versions) == (False, ("1", "2"))
    assert found.tables[2].parent == "anggota"
    # newest wording wins; a choice later removed keeps its old label
    assert found.choice_labels["jk"]["P"] == {"id": "Wanita", "en": "Woman"}
    assert found.choice_labels["jk"]["X"] == {"id": "Lainnya", "en": "Other"}


def test_rows_carry_join_keys_down_nested_repeats() -> None:
    plan = layout.plan(merged(), layout.Options(values="labels", lang="en"))
    answers = {"nama": "Siti", "jk": "X", "anggota": [{"nama_art": "Rudi", "sekolah": [{"nama_sekolah": "SDN"}]}]}
    rows = list(layout.rows(plan, ["id1", "1", 1, "approved", "64.02.06", "citra", "t"], answers))
    assert rows[0] == ("", ["id1", "1", 1, "approved", "64.02.06", "citra", "t", None, "Siti", "Other", None])
    assert rows[1] == ("anggota", ["id1", "id1", "id1/anggota[1]", 1, "Rudi"])
    assert rows[2] == ("sekolah", ["id1", "id1/anggota[1]", "id1/anggota[1]/sekolah[1]", 1, "SDN"])
    assert layout.header(plan.layout, "sekolah") == ["_id", "_parent_key", "_key", "_index", "nama_sekolah"]
    record = layout.record(plan, ["id1", "1", 1, "approved", "64.02.06", "citra", "t"], answers)
    assert record["anggota"] == [{"nama_art": "Rudi", "sekolah": [{"nama_sekolah": "SDN"}]}]


def test_xlsx_pieces() -> None:
    assert [xlsx.column_letter(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert xlsx.sheet_names(["a" * 40, "a" * 40, "x/y"]) == ["a" * 31, "a" * 29 + "~2", "x_y"]
    row = xlsx.row(3, ["<b>&", 12, None, "", 1.5, "\x00ok"], ["A", "B", "C", "D", "E", "F"])
    assert row == ('<row r="3"><c r="A3" t="inlineStr"><is><t xml:space="preserve">&lt;b&gt;&amp;</t></is></c>'
                   '<c r="B3"><v>12</v></c><c r="E3"><v>1.5</v></c>'
                   '<c r="F3" t="inlineStr"><is><t xml:space="preserve">ok</t></is></c></row>')


def test_photos_become_links_when_an_address_is_given_and_stay_sha256_otherwise() -> None:
    form = compile_source(b"""
settings: {id: foto, version: "1"}
fields:
  - {type: image, name: foto, label: Foto}
""", "foto.yaml").compiled
    merged_photo = layout.merge([("1", form)])
    sha = "ab" * 32
    meta = ["id1", "1", 1, "received", "", "citra", "t"]
    linked = layout.plan(merged_photo, layout.Options(photo_url="https://pantau.example/api/v1/attachments/"))
    [(_, row)] = list(layout.rows(linked, meta, {"foto": sha}))
    assert row[-1] == f"https://pantau.example/api/v1/attachments/{sha}" and isinstance(row[-1], xlsx.Link)
    [(_, odd)] = list(layout.rows(linked, meta, {"foto": "not-a-sha"}))
    assert odd[-1] == "not-a-sha" and not isinstance(odd[-1], xlsx.Link)  # only a real sha256 names a photo
    [(_, bare)] = list(layout.rows(layout.plan(merged_photo, layout.Options()), meta, {"foto": sha}))
    assert bare[-1] == sha
    cell = xlsx.row(2, [xlsx.Link('https://x/"a"&b')], ["A"])
    assert cell == ('<row r="2"><c r="A2" t="str"><f>HYPERLINK("https://x/""a""&amp;b")</f>'
                    '<v>https://x/"a"&amp;b</v></c></row>')
