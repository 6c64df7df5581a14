"""docs/architecture.md's table "Where each rule lives" sends a newcomer to a module: every path it
names must exist, or the map leads nowhere after a file moves."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def named_paths(text: str) -> list[str]:
    """The `paths` in the module column of the table under '## Where each rule lives'."""
    section = text.split("## Where each rule lives", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| rule ")]
    return [path for row in rows for path in re.findall(r"`([\w./-]+\.(?:py|toml)|[\w./-]+/)`", row.split(" | ")[-1])]


def test_every_module_in_the_rule_table_exists() -> None:
    paths = named_paths((REPO / "docs" / "architecture.md").read_text(encoding="utf-8"))
    assert len(paths) >= 30, "the table is there and read"
    assert [p for p in paths if not (REPO / p).exists()] == []


def test_the_check_notices_a_module_that_moved() -> None:
    text = "## Where each rule lives\n\n| rule | module |\n| --- | --- |\n| x | `server/domain/gone.py` (`f`) |\n"
    assert named_paths(text) == ["server/domain/gone.py"]
    assert not (REPO / "server/domain/gone.py").exists()
