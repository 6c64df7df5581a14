"""Run pyxform's own test forms (tests/data/pyxform_corpus, vendored by its extract.py) through
pyxform and through Pantau's import, and sort each form pyxform converts into accepted, refused
with named features, or a traceback.

    .venv/bin/python -m tests.corpus.pyxform_corpus [-v]

prints the figures (and with -v every refused form with its messages)."""

from __future__ import annotations

import functools
import io
import sys
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pyxform.xls2json_backends import md_table_to_workbook
from pyxform.xls2xform import convert

from server.domain.compile import CompileResult, compile_source

CORPUS = Path(__file__).parent.parent / "data" / "pyxform_corpus"


@dataclass
class Outcome:
    name: str
    pyxform_ok: bool
    result: CompileResult | None = None
    traceback: str = ""

    @property
    def accepted(self) -> bool:
        return self.result is not None and self.result.compiled is not None


@dataclass
class Figures:
    outcomes: list[Outcome] = field(default_factory=list)
    data: dict[str, bytes] = field(default_factory=dict)  # the workbook of each form, by name

    @property
    def converted(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.pyxform_ok]

    def share(self) -> float:
        return sum(o.accepted for o in self.converted) / max(len(self.converted), 1)


@functools.cache
def forms() -> tuple[tuple[str, bytes], ...]:
    """(file name as Pantau sees it, workbook bytes): markdown forms become .xlsx as pyxform's
    own tests make them; a form's file name is its test's name, as a form_id would be. Made once
    per process: the corpus tests and the export's round trip all read them."""
    out = [(p.name, p.read_bytes()) for p in sorted((CORPUS / "example_xls").iterdir())]
    for path in sorted((CORPUS / "md").glob("*.md")):
        buffer = io.BytesIO()
        try:
            md_table_to_workbook(path.read_text(encoding="utf-8")).save(buffer)
        except Exception:  # a table pyxform itself cannot read is not part of the corpus
            continue
        out.append((path.stem + ".xlsx", buffer.getvalue()))
    return tuple(out)


@functools.cache
def compiled(name: str) -> CompileResult:
    """Pantau's import of one corpus form, once per process (a traceback is raised each time)."""
    return compile_source(_by_name()[name], name)


@functools.cache
def _by_name() -> dict[str, bytes]:
    return dict(forms())


def pyxform_converts(name: str, data: bytes) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            convert(xlsform=io.BytesIO(data), form_name=name.rsplit(".", 1)[0], file_type="." + name.rsplit(".", 1)[1],
                    warnings=[])
    except Exception:
        return False
    return True


def run(only_converted: bool = True) -> Figures:
    figures = Figures()
    for name, data in forms():
        outcome = Outcome(name, pyxform_converts(name, data))
        figures.outcomes.append(outcome)
        figures.data[name] = data
        if only_converted and not outcome.pyxform_ok:
            continue
        try:
            outcome.result = compiled(name)
        except Exception:
            outcome.traceback = traceback.format_exc()
    return figures


def report(figures: Figures, verbose: bool = False) -> str:
    converted = figures.converted
    accepted = [o for o in converted if o.accepted]
    crashed = [o for o in converted if o.traceback]
    refused = [o for o in converted if not o.accepted and not o.traceback]
    codes = Counter(p.code + " " + p.message_en.split(": ", 1)[-1][:70] for o in refused
                    for p in o.result.problems if p.severity == "error")  # type: ignore[union-attr]
    lines = [f"{len(figures.outcomes)} forms, pyxform converts {len(converted)}: accepted {len(accepted)} "
             f"({figures.share():.1%}), refused {len(refused)}, tracebacks {len(crashed)}"]
    lines += [f"  {n:4d} {text}" for text, n in codes.most_common(None if verbose else 25)]
    for o in crashed:
        lines.append(f"TRACEBACK {o.name}\n{o.traceback}")
    if verbose:
        for o in refused:
            lines.append(o.name + "".join(f"\n    {p.format()}" for p in o.result.problems  # type: ignore[union-attr]
                                          if p.severity == "error"))
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run(), verbose="-v" in sys.argv))
