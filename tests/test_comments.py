"""Comments and docstrings speak of the code: a tracker's number in parentheses sends a reader to a
tracker they may not have; say what the code guards against instead (STYLE.md)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"\bissues? #?\d+", re.IGNORECASE)
ROOTS = ("server", "tests", "bench", "static/js", "forms", "reports", "docs")


def citations(root: Path) -> list[str]:
    found = []
    for top in ROOTS:
        for path in sorted((root / top).rglob("*")):
            if path.suffix not in (".py", ".js", ".mjs", ".md", ".yaml", ".html", ".css") or "vendor" in path.parts:
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if CITATION.search(line):
                    found.append(f"{path.relative_to(root)}:{number}: {line.strip()[:80]}")
    return found


def test_no_comment_cites_an_issue_number() -> None:
    assert citations(REPO) == []


def test_the_check_finds_a_citation(tmp_path: Path) -> None:
    (tmp_path / "server").mkdir()
    text = '"""The editor (Issue {})."""\nx = 1  # see issue #{}\n'.format(8, 12)  # noqa: UP032  the literal would match
    (tmp_path / "server" / "a.py").write_text(text)
    assert [line.split(":")[1] for line in citations(tmp_path)] == ["1", "2"]
