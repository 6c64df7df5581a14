"""Vendor pyxform's test corpus: the example workbooks of tests/example_xls/ and every markdown-table
form written in its test files (one .md file each, named after the test file and line).

    .venv/bin/python tests/data/pyxform_corpus/extract.py /path/to/pyxform/checkout

Run it again with a newer checkout to move the corpus forward; README.md names the commit."""

from __future__ import annotations

import ast
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
WORKBOOK_SUFFIXES = (".xls", ".xlsx")


def workbooks(repo: Path) -> int:
    target = HERE / "example_xls"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    count = 0
    for path in sorted((repo / "tests" / "example_xls").iterdir()):
        if path.suffix in WORKBOOK_SUFFIXES:
            shutil.copyfile(path, target / path.name)
            count += 1
    return count


def markdown_forms(repo: Path) -> int:
    target = HERE / "md"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir()
    seen: set[str] = set()
    for path in sorted((repo / "tests").rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        in_fstring = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for part in node.values}
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Constant) and isinstance(node.value, str)) or id(node) in in_fstring:
                continue
            text = node.value
            # A form has a survey sheet; f-strings and %-templates are skipped (their text is not a form).
            if "| survey" not in text or text.count("|") < 10:
                continue
            digest = hashlib.sha256(text.strip().encode()).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            name = f"{path.relative_to(repo / 'tests').with_suffix('').as_posix().replace('/', '__')}_L{node.lineno}.md"
            (target / name).write_text(text.strip() + "\n", encoding="utf-8")
    return len(seen)


def main() -> None:
    repo = Path(sys.argv[1])
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=False).stdout.strip() or "unknown"
    shutil.copyfile(repo / "LICENSE", HERE / "LICENSE")
    print(f"commit {commit}: {workbooks(repo)} workbooks, {markdown_forms(repo)} markdown forms")


if __name__ == "__main__":
    main()
