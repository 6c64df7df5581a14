"""The JSON the phone's runtime (static/js/form.js) reads beside the fill page: the compiled rules,
the fields in order, filtered lists, messages, and which lazy widgets a form loads. Pure, like
fill_context, which renders the page itself."""

from __future__ import annotations

from typing import Any

from server.domain.compile import CompiledForm
from server.domain.form import ChoiceList, Question, repeat_choices, text_of, walk
from server.domain.instances import secondary
from server.domain.problems import CATALOGUE, messages
from server.domain.questions import UPLOAD_TYPES
from server.domain.xlsform_spelling import BACKGROUND_GEOPOINT
from server.web.fill_assets import (
    LAZY_MODULES,
    MESSAGE_CODES,
    RUNTIME_TEXTS,
    file_texts,
    growth_rules,
    ui_texts,
)


def runtime_rules(compiled: CompiledForm, lang: str) -> dict[str, Any]:
    """Everything form.js needs beside the DOM: the compiled rules (the ASTs the server runs too),
    each field's type and parent in the order relevance and calculations run, the repeats around
    each field, whole lists for filtered selects, and the messages. Served as its own immutable JSON
    (rules_url), so a repeat visit downloads only the page's HTML; form.js unfolds it."""
    form = compiled.definition
    parents = {f.name: (ps[-1].name if ps else "") for f, ps in walk(form.fields)}
    questions = [f for f, _ in walk(form.fields) if isinstance(f, Question)]
    msg = {code: messages(code)[1 if lang == "en" else 0] for code in MESSAGE_CODES}
    return {
        "id": compiled.form_id, "v": compiled.version, "lang": lang, "rules": compiled.rules,
        # The record's name (settings.instance_name), which the phone's outbox lists it by.
        "name": compiled.instance_name,
        # The programme whose beneficiaries the picker offers (static/js/picker.js).
        "program": form.settings.registry.programme if form.settings.registry else "",
        "fields": {n: [compiled.fields[n].type, parents[n]] for n in compiled.order},
        "scope": {n: list(info.repeat) for n, info in compiled.fields.items() if info.repeat},
        "params": {q.name: q.parameters for q in questions if q.parameters},
        # Region questions: the runtime keeps their answers inside the areas the page names (config.areas in form.js).
        "regions": [q.name for q in questions if q.choices in form.choices and form.choices[q.choices].wilayah],
        "lists": {q.name: _choice_list(form.choices[q.choices], lang)
                  for q in questions if q.choice_filter and q.choices in form.choices},
        # select_one ${x}: the select's name -> x, whose answers in its repeat are the choices (repchoice.js).
        **({"rc": rc} if (rc := {q.name: source for q in questions if (source := repeat_choices(q))}) else {}),
        "constraint_messages": {q.name: text_of(q.constraint_message, lang) for q in questions if q.constraint_message},
        # ODK's background-geopoint: the phone's location, taken when its trigger changes.
        **({"geo": geo} if (geo := [q.name for q in questions
                                    if q.trigger and q.xlsform.get("type") == BACKGROUND_GEOPOINT]) else {}),
        "required_messages": {q.name: text_of(q.required_message, lang) for q in questions if q.required_message},
        "msg": {**msg, **{k: v for k, v in ui_texts(lang).items() if k in RUNTIME_TEXTS}},
        # Codes the server may answer that need the tick rather than a correction.
        "warn": sorted(code for code, entry in CATALOGUE.items()
                       if entry.severity == "warning" and code.startswith(("answer.", "nik.", "kk.", "phone."))),
        **({"growth": growth} if (growth := growth_rules(compiled)) else {}),
        **({"dup": dup} if (dup := registration_checks(compiled)) else {}),
        # Audio, video and file questions (static/js/files.js, loaded only for these forms): the texts
        # it shows. A question's max_size is in `params`; the server holds uploads to its own limit too.
        **({"files": file_texts(lang)} if any(q.type in UPLOAD_TYPES for q in questions) else {}),
        # Choice lists and CSVs the expressions read (instance(), pulldata, jr:choice-name), labels in `lang`.
        **({"inst": found.instances, "cl": found.lists} if (found := secondary(compiled, lang)).instances else {}),
    }


def lazy_modules(compiled: CompiledForm) -> list[str]:
    """The widgets form.js imports for this form (fill_assets.LAZY_MODULES), named in the page's
    config so they load beside the rules: setvalue.js writes values into inputs (triggers and typed
    calculations), growth.js and dupcheck.js check growth measurements and intakes, repeat.js adds
    and removes repeat instances, rank.js orders a rank's choices, files.js keeps audio, video and file
    answers in the outbox. Other forms load none of them."""
    questions = [f for f, _ in walk(compiled.definition.fields) if isinstance(f, Question)]
    used = {"setvalue": any(q.trigger or computed_input(q) for q in questions),
            "growth": growth_rules(compiled) is not None, "dupcheck": bool(registration_checks(compiled)),
            "repeat": any(info.type == "repeat" for info in compiled.fields.values()),
            "repchoice": any(repeat_choices(q) for q in questions),
            "rank": any(info.type == "rank" for info in compiled.fields.values()),
            "files": any(q.type in UPLOAD_TYPES for q in questions)}
    return [name for name in LAZY_MODULES if used.get(name)]


def computed_input(q: Question) -> bool:
    """A typed question with a calculation and no trigger: computed like a calculate, its input
    (read-only) shows the value; static/js/setvalue.js writes it there."""
    return q.calculation is not None and q.trigger is None and q.type not in ("calculate", "hidden")


def registration_checks(compiled: CompiledForm) -> list[str]:
    """An intake's questions that static/js/dupcheck.js checks against the phone's copy of the
    programme before sending: [the KK question when the programme has one recipient per card, else
    "", the name, the birth date]; [] for other forms."""
    registry = compiled.definition.settings.registry
    creates = registry.creates if registry else None
    if registry is None or creates is None:
        return []
    return [(creates.kk or "") if registry.one_per_kk else "", creates.name, creates.birth_date or ""]


def _choice_list(chosen: ChoiceList, lang: str) -> dict[str, Any]:
    """A filtered select's whole list, for the runtime to filter as answers change. A region list
    goes by parent ({"64.02.06": [["1001", "Jahab"], ...]}: the code is the parent's plus a suffix),
    which is its `parent` column and half the bytes; other lists send their columns."""
    parents = [c.columns.get("parent", "") for c in chosen.choices]
    pairs = list(zip(chosen.choices, parents, strict=True))
    if chosen.wilayah and all(not p or c.name.startswith(p + ".") for c, p in pairs):
        by_parent: dict[str, list[list[str]]] = {}
        for c, parent in pairs:
            suffix = c.name[len(parent) + 1:] if parent else c.name
            by_parent.setdefault(parent, []).append([suffix, text_of(c.label, lang, c.name)])
        return {"w": by_parent}
    return {"c": [[c.name, text_of(c.label, lang, c.name), c.columns] for c in chosen.choices]}
