"""The README opens with the two commands a newcomer needs, and CI runs the README's test command."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_readme_opens_with_make_run_and_make_test() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    first_block = re.search(r"```sh\n(.*?)```", text, re.S)
    assert first_block is not None and text.index("```sh") < 40, "the first thing after the title is the commands"
    commands = [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]
    assert commands == ["make run", "make test"]


def test_ci_runs_the_readme_test_command_on_both_databases() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    runs = [line.strip() for line in ci.splitlines() if line.strip().endswith("make test")]
    assert len(runs) == 2 and any("PANTAU_TEST_DATABASE_URL" in line for line in runs)


def test_makefile_targets_exist_for_the_readme_commands() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test", "bench", "lint", "help"):
        assert re.search(rf"^{target}:", makefile, re.M), target


def test_docs_stand_alone_and_their_links_resolve() -> None:
    """Whoever clones Pantau has no ../shared: the README and docs/ must not send readers there, and
    every relative link in them must reach a file of the repository."""
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    assert (REPO / "docs" / "architecture.md") in pages
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text, f"{page.name} points outside the repository"
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # an absolute URL
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"
