"""docs/forms.md is tested (STYLE.md 13): every registered question type and every problem code is
documented, and the YAML examples in it compile."""

from __future__ import annotations

import re
from pathlib import Path

from server.domain.compile import compile_source
from server.domain.form import CONTAINER_TYPES
from server.domain.problems import CATALOGUE
from server.domain.questions import QUESTION_TYPES

DOC = (Path(__file__).resolve().parents[2] / "docs" / "forms.md").read_text(encoding="utf-8")


def test_every_question_type_has_its_section() -> None:
    headings = set(re.findall(r"^### `([a-z_]+)`$", DOC, flags=re.MULTILINE))
    missing = [name for name in [*QUESTION_TYPES, *CONTAINER_TYPES] if name not in headings]
    assert missing == [], f"document these types in docs/forms.md: {missing}"


def test_every_problem_code_is_documented() -> None:
    missing = [code for code in CATALOGUE if f"`{code}`" not in DOC and not _in_a_code_list(code)]
    assert missing == [], f"document these codes in docs/forms.md: {missing}"


def _in_a_code_list(code: str) -> bool:
    # Rows such as "`kk.length`, `kk.excel`, ..." list several codes at once.
    return any(f"`{code}`" in line for line in DOC.splitlines())


def test_the_example_form_in_the_docs_compiles_cleanly() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL)
    forms = [b for b in blocks if b.startswith("settings:")]
    assert forms, "docs/forms.md should show a complete form"
    for text in forms:
        result = compile_source(text.encode(), "docs.yaml")
        assert result.problems == [], [(p.code, p.line) for p in result.problems]


def test_the_field_snippets_in_the_docs_compile_inside_a_form() -> None:
    head = ('settings: {id: docs, version: "1"}\n'
            "choices: {kecamatan: {wilayah: kecamatan 64.02}, desa: {wilayah: desa 64.02}}\nfields:\n")
    snippets = [b for b in re.findall(r"```yaml\n(.*?)```", DOC, flags=re.DOTALL) if b.startswith("- ")]
    assert len(snippets) >= 3
    for snippet in snippets:
        body = "".join(f"  {line}\n" for line in snippet.splitlines())
        extra = "  - {type: select_one, name: jenis_kelamin, label: JK, choices: {L: L, P: P}}\n" \
                "  - {type: date, name: tgl_lahir, label: L}\n  - {type: date, name: tgl_daftar, label: D}\n" \
                "  - {type: text, name: punya_usaha, label: U}\n  - {type: integer, name: jml_art, label: J}\n"
        result = compile_source((head + extra + body).encode(), "docs.yaml")
        assert result.compiled is not None, [(p.code, p.line) for p in result.problems]
