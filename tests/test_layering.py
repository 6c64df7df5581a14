"""The rule of the house (ARCHITECTURE.md): domain imports no other layer; only storage imports
piccolo, only web imports litestar, only reports/render.py imports weasyprint."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OWNERS = {"litestar": ("server/web/",), "piccolo": ("server/storage/",), "weasyprint": ("server/reports/render.py",)}
DOMAIN_FORBIDDEN = re.compile(r"^server\.(storage|web|reports|cli)\b")


def violations(root: Path) -> list[str]:
    found = []
    for path in sorted((root / "server").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                owners = OWNERS.get(name.split(".")[0])
                if owners and not rel.startswith(owners):
                    found.append(f"{rel}:{node.lineno} imports {name}")
                if rel.startswith("server/domain/") and DOMAIN_FORBIDDEN.match(name):
                    found.append(f"{rel}:{node.lineno} imports {name}")
    return found


def test_the_code_keeps_the_layering_rule() -> None:
    assert violations(REPO) == []


def test_the_check_catches_a_violation(tmp_path: Path) -> None:
    (tmp_path / "server" / "domain").mkdir(parents=True)
    (tmp_path / "server" / "domain" / "bad.py").write_text("from server.storage import db\nimport litestar\n")
    assert violations(tmp_path) == [
        "server/domain/bad.py:1 imports server.storage",
        "server/domain/bad.py:2 imports litestar",
    ]
