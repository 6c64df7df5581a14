"""Running ODK's own form engine (tests/odk/client.mjs: @getodk/xforms-engine under Node with
jsdom) from a test, and making XForms the way Pantau does: the form's XLSForm rendering (`pantau
forms convert`) through pyxform."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CLIENT = REPO / "tests" / "odk" / "client.mjs"
ENGINE = REPO / "node_modules" / "@getodk" / "xforms-engine"


def need_engine() -> None:
    """Node and the engine are test requirements (package.json; `make test` installs them): a
    missing one fails loudly instead of skipping the protocol test."""
    assert shutil.which("node"), "node is needed for the ODK engine tests"
    assert ENGINE.is_dir(), "run `npm install` (package.json devDependencies: @getodk/xforms-engine, jsdom)"


def run_client(job: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    need_engine()
    done = subprocess.run(["node", str(CLIENT)], input=json.dumps(job), capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, check=False)
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"client.mjs said nothing readable: {done.stdout[:2000]}{done.stderr[-4000:]}")
    assert "fatal" not in report, report["fatal"]
    assert done.returncode == 0, done.stderr[-4000:]
    return report


def xform_of(form: Path, workdir: Path, validate: bool = False) -> Path:
    """The XForm of a form YAML as `pantau forms convert` + pyxform make it: the same calls the CLI
    makes (load_source, export_xlsform), in this process to spare a start-up per form; pyxform then
    converts the XLSForm (with ODK Validate, the JavaRosa parser, when `validate`)."""
    from pyxform.xls2xform import convert

    from server.domain.compile import load_source
    from server.domain.xlsform_export import export_xlsform

    loaded = load_source(form.read_bytes(), str(form))
    assert loaded.form is not None, loaded.problems
    xml = workdir / f"{form.stem}.xml"
    xml.write_text(convert(export_xlsform(loaded.form), validate=validate).xform, encoding="utf-8")
    return xml


def violations(form: dict[str, Any]) -> list[str]:
    return [f"{v['ref']}: {v['condition']} {v['message'] or ''}" for v in form["violations"]]
