"""ODK's trigger and calculations on typed questions. A trigger sets a question to its
calculation when another answer changes: read from XLSForm's `trigger` column and from YAML,
checked, kept by the server as the phone sent it, handed to the phone's runtime, and written back by
the export so pyxform converts it. Without a trigger, a typed question's calculation is its value,
recomputed by the server and shown read-only."""

from __future__ import annotations

import datetime as dt
import io
import textwrap
import xml.etree.ElementTree as ET

import pytest
from pyxform.xls2xform import convert

from server.domain.answers import validate
from server.domain.compile import CompiledForm, compile_source
from server.domain.form import Question
from server.domain.xlsform_export import export_xlsform
from server.web.fill_context import Clock, fill_context
from server.web.fill_runtime import lazy_modules, runtime_rules
from tests.domain.test_xlsform import compile_book, where

NOW = dt.datetime(2026, 8, 17, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def yaml_form(body: str) -> CompiledForm:
    result = compile_source(('settings: {id: t, version: "1"}\n' + textwrap.dedent(body)).encode(), "t.yaml")
    assert result.compiled is not None, [(p.code, p.message_en) for p in result.problems]
    return result.compiled


TRIGGERED = """
fields:
  - {type: integer, name: suhu, label: {id: Suhu}}
  - {type: datetime, name: diukur, label: {id: Diukur}, calculation: "now()", trigger: "${suhu}"}
  - {type: text, name: catatan, label: {id: Catatan}, trigger: "${suhu}"}
  - {type: hidden, name: lokasi, trigger: "${suhu}"}
"""


def test_the_trigger_column_is_read_and_a_calculation_is_what_it_sets() -> None:
    result = compile_book([["type", "name", "label", "calculation", "trigger"],
                           ["integer", "suhu", "Suhu"],
                           ["dateTime", "diukur", "Diukur", "now()", "${suhu}"],
                           ["background-geopoint", "lokasi", "", "", "${suhu}"]])
    assert result.compiled is not None, where(result)
    diukur, lokasi = result.compiled.definition.fields[1:]
    assert isinstance(diukur, Question) and (diukur.calculation, diukur.trigger) == ("now()", "${suhu}")
    assert isinstance(lokasi, Question) and lokasi.type == "hidden" and lokasi.trigger == "${suhu}"
    rules = runtime_rules(result.compiled, "id")
    assert rules["rules"]["diukur"]["trigger"] == {"t": "ref", "name": "suhu"}
    # the phone takes its location when suhu changes (setvalue.js)
    assert rules["geo"] == ["lokasi"] and lazy_modules(result.compiled) == ["setvalue"]
    assert lazy_modules(compile_book([["type", "name", "label"], ["text", "a", "A"]]).compiled) == []  # type: ignore[arg-type]


def test_a_calculation_on_a_typed_question_is_its_value_shown_read_only() -> None:
    result = compile_book([["type", "name", "label", "calculation"], ["integer", "a", "A"],
                           ["integer", "b", "B", "${a} * 2"], ["note", "n", "N", "${a}"]])
    # A note with a calculation shows it and keeps it in the record, as ODK does: a computed text.
    assert [p for p in result.problems if p.severity == "error"] == []
    assert result.compiled is not None and result.compiled.fields["n"].type == "text"
    compiled = yaml_form("""
        fields:
          - {type: integer, name: a, label: {id: A}}
          - {type: integer, name: b, label: {id: B}, calculation: "${a} * 2"}
        """)
    result = validate(compiled, {"a": 21, "b": 5}, today=NOW.date(), now=NOW)
    assert result.errors == [] and result.answers == {"a": 21, "b": 42}  # what was sent for b does not count
    assert lazy_modules(compiled) == ["setvalue"]  # the phone writes the value into b's input
    page = fill_context(compiled, lang="id", instance_id="x", viewer="citra", clock=Clock(today=NOW.date(), now=NOW))
    readonly = {it.name: it.readonly for it in page.items if it.name in ("a", "b")}
    assert readonly == {"a": False, "b": True}


def test_a_trigger_names_one_other_question() -> None:
    for trigger in ("${a} + 1", "${b}", "${a} ${c}"):
        bad = compile_book([["type", "name", "label", "trigger"], ["integer", "a", "A"], ["integer", "c", "C"],
                            ["text", "b", "B", trigger]])
        assert bad.compiled is None, trigger
        codes = {p.code for p in bad.problems if p.severity == "error"}
        assert codes & {"form.bad_trigger", "form.bad_expression"}, (trigger, codes)
    self_trigger = next(p for p in compile_book([["type", "name", "label", "trigger"], ["text", "b", "B", "${b}"]])
                        .problems if p.severity == "error")
    assert self_trigger.code == "form.bad_trigger" and "trigger" in self_trigger.message_id
    assert self_trigger.file == "tes.xlsx[survey]" and self_trigger.line == 2
    unknown = compile_book([["type", "name", "label", "trigger"], ["text", "b", "B", "${tidak_ada}"]])
    assert [p.code for p in unknown.problems if p.severity == "error"] == ["form.unknown_reference"]
    on_calculate = compile_book([["type", "name", "label", "calculation", "trigger"], ["integer", "a", "A"],
                                 ["calculate", "b", "", "now()", "${a}"]])
    # A calculate is recomputed from its calculation: its trigger is kept for the export and reported as ignored.
    assert [(p.code, p.severity, p.line) for p in on_calculate.problems] == [("xlsform.ignored", "warning", 3)]


def test_the_server_keeps_what_the_phone_set_rather_than_recomputing_a_triggered_calculation() -> None:
    compiled = yaml_form(TRIGGERED)
    sent = {"suhu": 37, "diukur": "2026-08-17T08:12:00+08:00", "catatan": "demam", "lokasi": "-0.4 117.1 0 5"}
    result = validate(compiled, sent, today=NOW.date(), now=NOW)
    assert result.errors == []
    assert result.answers == sent  # now() at sending would be 09:00, the phone set 08:12 when suhu changed
    bad = validate(compiled, {"suhu": 37, "diukur": "kemarin"}, today=NOW.date(), now=NOW)
    assert [e.path for e in bad.errors] == ["diukur"]  # still checked by its type


def test_the_export_writes_the_trigger_and_pyxform_makes_it_a_setvalue(tmp_path) -> None:  # type: ignore[no-untyped-def]
    compiled = yaml_form(TRIGGERED)
    book = export_xlsform(compiled.definition)
    back = compile_source(book, "t.xlsx").compiled
    assert back is not None and back.content_hash == compiled.content_hash
    xform = ET.fromstring(convert(xlsform=io.BytesIO(book), form_name="t", file_type=".xlsx",
                                  warnings=[]).xform)
    setvalues = [e.attrib for e in xform.iter() if e.tag.endswith("setvalue")]
    assert {(s["ref"].rsplit("/", 1)[1], s.get("value", "")) for s in setvalues} >= {("diukur", "now()"),
                                                                                     ("catatan", "")}
    assert all(s["event"] == "xforms-value-changed" for s in setvalues)


@pytest.mark.parametrize("attribute", ["trigger", "calculation"])
def test_the_evolution_diff_names_a_changed_trigger(attribute: str) -> None:
    from server.domain.evolution import diff

    before = yaml_form(TRIGGERED)
    after = yaml_form(TRIGGERED.replace('calculation: "now()", trigger: "${suhu}"',
                                        'calculation: "today()", trigger: "${catatan}"'))
    changes = diff(before, after).changes
    assert any(c.field == "diukur" and c.kind == "rules" and attribute in c.detail for c in changes)
