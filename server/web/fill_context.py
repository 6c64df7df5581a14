"""The fill page's context (STYLE.md 8): a CompiledForm plus the answers so far become a tree of
Items, one per field and repeat instance, that fill.html renders, and the JSON the phone's runtime
(static/js/form.js) reads. Pure: tests build pages from inline YAML without HTTP."""

from __future__ import annotations

import datetime as dt
import re
from collections import ChainMap
from collections.abc import Iterator, Mapping
from typing import Any

import msgspec

from server.domain.access import reachable
from server.domain.answers import CONFIRM_KEY, validate
from server.domain.answers_plan import CONFIRMABLE, repeat_offered
from server.domain.compile import CompiledForm
from server.domain.expr import Context, Ref, evaluate, to_boolean, to_string
from server.domain.exprtree import CHOICE_PREFIX
from server.domain.form import Choice, ChoiceList, Field, Group, Question, Repeat, repeat_choices, text_of, walk
from server.domain.form_media import shown as shown_media
from server.domain.instances import secondary
from server.domain.questions import LIST_TYPES, QUESTION_TYPES, UPLOAD_TYPES
from server.web.fill_assets import (
    asset_urls,
    expr_assets,
    media_assets,
    picker_assets,
    rules_url,
    safe_json,
    ui_texts,
)
from server.web.fill_runtime import computed_input, lazy_modules

# A select_one with more choices than this is a dropdown; fewer are radio buttons (one tap each).
MAX_RADIOS = 12
# A phone offers its recorder for capture=: the microphone for audio, the back camera for video.
CAPTURE = {"audio": "user", "video": "environment"}
MAX_TEXT = 4000  # characters per typed answer; the inputs say so (maxlength) and the post checks it
_REF = re.compile(r"\$\{([^}]*)\}")
WIDGETS = {"text": "text", "integer": "int", "decimal": "dec", "rupiah": "rupiah", "date": "date", "time": "time",
           "datetime": "datetime", "geopoint": "geo", "image": "image", "note": "note", "calculate": "calc",
           "acknowledge": "ack", "hidden": "hidden", "nik": "nik", "no_kk": "nik", "phone": "phone",
           "select_multiple": "checks", "barcode": "text", "range": "dec", "geotrace": "textarea",
           "geoshape": "textarea", "csv_external": "calc", "xml_external": "calc",
           "audio": "upload", "video": "upload", "file": "upload",  # a file input; static/js/files.js keeps it offline
           # The beneficiary's id: a text input that static/js/picker.js turns into a search
           # over the phone's offline copy; the server checks the id exists, in one's areas and programme.
           "beneficiary": "bnf",
           # One drop-down per place without JavaScript; static/js/rank.js makes it a list with
           # Naik/Turun (up/down) buttons.
           "rank": "rank"}

class Media(msgspec.Struct, frozen=True):
    """An image, audio or video file a question or choice shows (domain/form_media.py)."""

    kind: str  # image, audio, video
    url: str


class Option(msgspec.Struct, frozen=True):
    value: str
    label: str
    on: bool = False  # selected or ticked
    media: list[Media] = []
    # Not offered now, but drawn hidden: a filtered list whose choices show media keeps every choice
    # in the page, so that form.js shows a choice again with its media when the filter lets it in.
    hidden: bool = False


class OptionGroup(msgspec.Struct, frozen=True):
    label: str
    options: list[Option]


class Item(msgspec.Struct, kw_only=True):
    """One field (or repeat instance) as the page shows it. `key` names its input: "nama", or inside
    a repeat "anggota[0].nama"; the element ids are "f-", "w-", "h-" and "e-" + key."""

    widget: str  # text, int, dec, rupiah, date, time, datetime, radio, select, checks, rank, geo, image,
    # sig, note, calc, ack, hidden, nik, phone, textarea, upload; group, page, repeat, instance
    name: str
    key: str
    label: str = ""
    label_template: str = ""  # the raw label when it shows answers (${...}); the runtime refills it
    hint: str = ""
    required: bool = False
    # "nr": not relevant now (hidden once the runtime runs; shown without JavaScript, which cannot
    # show it later); "hidden": a note whose condition is false; "": shown, or hidden by its parent.
    hide: str = ""
    readonly: bool = False
    page: int | None = None
    value: str = ""
    options: list[Option] = []
    groups: list[OptionGroup] = []
    accept: str = ""  # an audio, video or file question: the file input's accept=
    capture: str = ""  # and its capture= where the phone records it (audio, video)
    kind: str = ""  # audio, video or file (static/js/files.js uploads with ?jenis=kind)
    filtered: bool = False  # a choice_filter: without JavaScript, a button shows the choices anew
    error: str = ""
    warnings: list[str] = []
    confirmable: bool = False
    confirmed: bool = False
    media: list[Media] = []  # shown after the label and hint, in the page's language
    children: list[Item] = []  # a group's fields; a repeat's instances; an instance's fields
    template: list[Item] = []  # a repeat: one instance numbered "{name}", cloned by the runtime
    number: int = 0  # an instance: 1-based
    counted: bool = False  # a repeat whose count comes from repeat_count (no add/remove)
    can_add: bool = True
    can_remove: bool = True


class FillContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    title: str
    form_id: str
    version: str
    instance_id: str
    action: str
    switch_url: str  # the same page in the other language
    viewer: str
    items: list[Item]
    pages: int
    has_repeats: bool
    ui: dict[str, str]
    assets: dict[str, str]
    rules_url: str
    config: str  # JSON for <script type="application/json">, safe inside HTML
    message: str = ""
    error: str = ""
    error_code: str = ""  # the catalogue code, on the alert as data-code
    summary: list[tuple[str, str]] = []  # (key, message) of each field error, linked from the top
    comment: str = ""  # a record sent back for correction: the reviewer's comment
    base_revision: int | None = None  # ... and the revision the correction replaces (posted as _revisi)


class ReceiptContext(msgspec.Struct, frozen=True, kw_only=True):
    lang: str
    title: str
    viewer: str
    instance_id: str
    received_at: str
    revision: int
    identical: bool
    again_url: str
    warnings: list[str]
    ui: dict[str, str]
    assets: dict[str, str]


class Shown(msgspec.Struct, frozen=True, kw_only=True):
    """What the page shows besides the answers themselves, keyed by input key."""

    errors: dict[str, str] = {}
    warnings: dict[str, list[str]] = {}
    message: str = ""
    error: str = ""
    error_code: str = ""


# --- small helpers ---------------------------------------------------------------------------------
def key_of(position: tuple[tuple[str, int], ...], name: str) -> str:
    return ".".join([*(f"{repeat}[{index}]" for repeat, index in position), name])


def key_of_path(path: str) -> str:
    """A validation path ("anggota[2]/umur", 1-based as in ODK) -> the input key ("anggota[1].umur")."""
    parts = []
    for part in path.split("/"):
        found = re.fullmatch(r"(.+)\[([0-9]+)\]", part)
        parts.append(f"{found.group(1)}[{int(found.group(2)) - 1}]" if found else part)
    return ".".join(parts)


def _instances(values: Mapping[str, Any], scope: tuple[str, ...]) -> Iterator[
        tuple[tuple[tuple[str, int], ...], list[Mapping[str, Any]]]]:
    found: list[tuple[tuple[tuple[str, int], ...], list[Mapping[str, Any]]]] = [((), [values])]
    for repeat in scope:
        found = [((*pos, (repeat, i)), [*chain, item]) for pos, chain in found
                 for i, item in enumerate(chain[-1].get(repeat) or []) if isinstance(item, dict)]
    return iter(found)


class Clock(msgspec.Struct, frozen=True):
    today: dt.date
    now: dt.datetime


# --- the state of the answers: cleaned values, relevance, defaults ----------------------------------
class State:
    """The answers as the server sees them (validate: cleaned, calculated, non-relevant dropped) and
    which fields are relevant, so the page starts in the state the runtime would compute."""

    def __init__(self, compiled: CompiledForm, raw: dict[str, Any], clock: Clock) -> None:
        self.compiled, self.clock = compiled, clock
        self.scope = {name: info.repeat for name, info in compiled.fields.items() if info.repeat}
        self.result = validate(compiled, raw, today=clock.today, now=clock.now)
        self.values = self.result.answers
        self.parents = {f.name: (ps[-1].name if ps else None) for f, ps in walk(compiled.definition.fields)}
        self.own: dict[str, bool] = {}  # each field's own `relevant`, without its parents
        self.relevant = self._relevance()

    def context(self, position: tuple[tuple[str, int], ...], current: Any = "") -> Context:
        found = secondary(self.compiled, self.compiled.default_language)
        return Context(answers=self.values, today=self.clock.today, now=self.clock.now, scope=self.scope,
                       position=position, current="" if current is None else current,
                       instances=found.instances, lists=found.lists)

    def _relevance(self) -> dict[str, bool]:
        out: dict[str, bool] = {}
        fields = self.compiled.fields
        for name in self.compiled.order:
            rule, parent = self.compiled.expr(name, "relevant"), self.parents.get(name)
            for position, chain in _instances(self.values, fields[name].repeat):
                key = key_of(position, name)
                own = rule is None or to_boolean(evaluate(rule, self.context(position, chain[-1].get(name))))
                self.own[key] = own
                out[key] = own and (parent is None or out.get(self.parent_key(name, position) or "", True))
        return out

    def parent_key(self, name: str, position: tuple[tuple[str, int], ...]) -> str | None:
        parent = self.parents.get(name)
        return None if parent is None else key_of(position[: len(self.compiled.fields[parent].repeat)], parent)

    def hide(self, name: str, key: str, position: tuple[tuple[str, int], ...], note: bool = False) -> str:
        if note and not self.own.get(key, True):
            return "hidden"
        if self.relevant.get(key, True) or not self.relevant.get(self.parent_key(name, position) or "", True):
            return ""
        return "nr"

    def shown_text(self, text: str, position: tuple[tuple[str, int], ...]) -> str:
        if any(index < 0 for _, index in position):  # the runtime's template: no answers yet
            return _REF.sub("", text)
        return _REF.sub(lambda m: to_string(evaluate(Ref(m.group(1)), self.context(position))), text)

    def offered(self, q: Question, chosen: ChoiceList, position: tuple[tuple[str, int], ...]) -> list[Choice]:
        """The choices a choice_filter lets through for the answers so far: the page (and the post
        without JavaScript) offers only these; the runtime filters again from the rules JSON."""
        rule = self.compiled.expr(q.name, "choice_filter")
        if rule is None or any(index < 0 for _, index in position):
            return [] if rule is not None else chosen.choices
        language = self.compiled.default_language
        out = []
        for choice in chosen.choices:
            overlay = {CHOICE_PREFIX + k: v for k, v in
                       {"name": choice.name, "label": text_of(choice.label, language), **choice.columns}.items()}
            ctx = msgspec.structs.replace(self.context(position), answers=ChainMap(overlay, self.values))
            if to_boolean(evaluate(rule, ctx)):
                out.append(choice)
        return out

    def count_of(self, repeat: Repeat, position: tuple[tuple[str, int], ...]) -> int | None:
        rule = self.compiled.expr(repeat.name, "repeat_count")
        if rule is None or any(index < 0 for _, index in position):
            return None
        try:
            number = float(to_string(evaluate(rule, self.context(position))))
        except ValueError:
            return None
        return max(0, min(int(number), 200)) if number == number else None


def defaults(compiled: CompiledForm, fields: list[Field], clock: Clock) -> dict[str, Any]:
    """The starting answers of one level (the form, or a new repeat instance): literal defaults as
    written, expression defaults (today()) evaluated now; a repeat with min_count starts with that
    many instances."""
    out: dict[str, Any] = {}
    ctx = Context(answers={}, today=clock.today, now=clock.now)
    for field in fields:
        if isinstance(field, Group):
            out |= defaults(compiled, field.fields, clock)
        elif isinstance(field, Repeat) and field.min_count and field.repeat_count is None:
            out[field.name] = [defaults(compiled, field.fields, clock) for _ in range(min(field.min_count, 200))]
        elif isinstance(field, Question) and field.default is not None:
            rule = compiled.expr(field.name, "default")
            value = to_string(evaluate(rule, ctx)) if rule is not None else field.default
            if value != "":
                out[field.name] = value.split() if field.type in LIST_TYPES else value
    return out


# --- the page ---------------------------------------------------------------------------------------
class Builder:
    """Walks the definition once, with the raw answers beside it, and numbers the pages: each
    `layout: page` group is one, and each run of other visible fields between them is one more."""

    def __init__(self, compiled: CompiledForm, state: State, shown: Shown, lang: str,
                 areas: tuple[str, ...] | None = None, media: Mapping[str, str] | None = None) -> None:
        self.compiled, self.state, self.shown, self.lang = compiled, state, shown, lang
        self.media = media or {}  # uploaded media file name -> its URL
        self.areas = areas  # the regions a region list may offer; None: all of them
        self.ui = ui_texts(lang)
        self.pages = 0
        self.loose: int | None = None  # the open page of fields outside any page group
        self.has_repeats = False

    def items(self, fields: list[Field], raw: Mapping[str, Any], position: tuple[tuple[str, int], ...],
              paged: bool) -> list[Item]:
        out = []
        for field in fields:
            if isinstance(field, Repeat):
                out.append(self.repeat(field, raw, position, paged))
            elif isinstance(field, Group):
                out.append(self.group(field, raw, position, paged))
            else:
                out.append(self.question(field, raw, position, paged))
        return out

    def _page_of(self, visible: bool, paged: bool) -> int | None:
        if paged or not visible:
            return None
        if self.loose is None:
            self.loose, self.pages = self.pages, self.pages + 1
        return self.loose

    def group(self, group: Group, raw: Mapping[str, Any], position: tuple[tuple[str, int], ...],
              paged: bool) -> Item:
        key = key_of(position, group.name)
        page = None
        if group.layout == "page" and not paged and not position:
            page, self.pages, self.loose = self.pages, self.pages + 1, None
        children = self.items(group.fields, raw, position, paged or page is not None)
        if page is not None:
            self.loose = None
        return Item(widget="page" if page is not None else "group", name=group.name, key=key,
                    label=text_of(group.label, self.lang), hint=text_of(group.hint, self.lang),
                    hide=self.state.hide(group.name, key, position), page=page, children=children)

    def repeat(self, repeat: Repeat, raw: Mapping[str, Any], position: tuple[tuple[str, int], ...],
               paged: bool) -> Item:
        self.has_repeats = True
        key = key_of(position, repeat.name)
        page = self._page_of(True, paged)
        given = [i for i in raw.get(repeat.name) or [] if isinstance(i, dict)]
        count = self.state.count_of(repeat, position)
        counted = repeat.repeat_count is not None
        if count is not None:
            given = given[:count] + [self._new(repeat) for _ in range(count - len(given))]
        instances = [self.instance(repeat, item, (*position, (repeat.name, i)), i) for i, item in enumerate(given)]
        template = self.instance(repeat, self._new(repeat), (*position, (repeat.name, -1)), -1)
        low, high = repeat.min_count or 0, repeat.max_count
        return Item(widget="repeat", name=repeat.name, key=key, label=text_of(repeat.label, self.lang),
                    hint=text_of(repeat.hint, self.lang), hide=self.state.hide(repeat.name, key, position), page=page,
                    children=instances, template=template.children, error=self.shown.errors.get(key, ""),
                    counted=counted, can_add=high is None or len(instances) < high,
                    can_remove=len(instances) > low)

    def _new(self, repeat: Repeat) -> dict[str, Any]:
        return defaults(self.compiled, repeat.fields, self.state.clock)

    def instance(self, repeat: Repeat, raw: Mapping[str, Any], position: tuple[tuple[str, int], ...],
                 index: int) -> Item:
        children = self.items(repeat.fields, raw, position, True)
        key = key_of(position[:-1], repeat.name) + (f"[{index}]" if index >= 0 else "[{" + repeat.name + "}]")
        if index < 0:  # the runtime's template: every key of this level carries the placeholder
            _template_keys(children, f"{key_of(position[:-1], repeat.name)}[-1]", key)
        return Item(widget="instance", name=repeat.name, key=key, label=text_of(repeat.label, self.lang),
                    number=index + 1, children=children)

    def question(self, q: Question, raw: Mapping[str, Any], position: tuple[tuple[str, int], ...],
                 paged: bool) -> Item:
        key, qtype = key_of(position, q.name), QUESTION_TYPES[q.type]
        widget = self._widget(q)
        visible = widget not in ("calc", "hidden")
        label = text_of(q.label, self.lang, q.name)
        value = raw.get(q.name)
        if qtype.computed:
            value = _find(self.state.values, position, q.name)
        item = Item(widget=widget, name=q.name, key=key, label=self.state.shown_text(label, position),
                    label_template=label if "${" in label else "", hint=text_of(q.hint, self.lang),
                    required=q.required is True, hide=self.state.hide(q.name, key, position, widget == "note"),
                    readonly=q.read_only is True or computed_input(q), page=self._page_of(visible, paged),
                    value=(" ".join(map(str, value)) if q.type == "rank" else "") if isinstance(value, list)
                    else "" if value is None else str(value),
                    error=self.shown.errors.get(key, ""), warnings=self.shown.warnings.get(key, []),
                    confirmable=q.type in CONFIRMABLE,
                    confirmed=q.name in (raw.get(CONFIRM_KEY) or ()), media=self._media(q.xlsform))
        if q.choices:
            self._choices(item, q, value, position)
        if widget == "upload":
            item.accept, item.kind = UPLOAD_TYPES[q.type], q.type
            item.capture = CAPTURE.get(q.type, "")
        if widget == "datetime":
            item.value = item.value[:16]  # datetime-local shows no offset; the post adds WITA's back
        return item

    def _media(self, columns: Mapping[str, str]) -> list[Media]:
        """The uploaded files the columns name in the page's language; a file not uploaded is left out."""
        if not self.media:
            return []
        return [Media(kind, self.media[name]) for kind, name in shown_media(columns, self.lang) if name in self.media]

    def _widget(self, q: Question) -> str:
        if q.type == "select_one" and repeat_choices(q):
            return "select"  # a repeat's answers: as many as are given, rebuilt by static/js/repchoice.js
        if q.type == "select_one":
            chosen = self.compiled.definition.choices[q.choices or ""]
            big = len(chosen.choices) > MAX_RADIOS or chosen.wilayah or q.appearance == "minimal"
            return "select" if big else "radio"
        if q.type == "text" and q.appearance == "multiline":
            return "textarea"
        if q.type == "text" and q.appearance == "numbers":
            return "int"  # the numeric keypad; the answer stays text (a code may start with 0)
        if q.type == "image" and q.appearance == "signature":
            return "sig"
        return WIDGETS.get(q.type, "text")  # a type without its own widget yet: typed as text

    def _choices(self, item: Item, q: Question, value: Any, position: tuple[tuple[str, int], ...]) -> None:
        if repeat_choices(q):
            self._repeat_choices(item, q, value, position)
            return
        chosen = self.compiled.definition.choices[q.choices or ""]
        picked = set(value) if isinstance(value, list) else {str(value)} if value not in (None, "") else set()
        offered = self.state.offered(q, chosen, position) if q.choice_filter else chosen.choices
        if chosen.wilayah and self.areas is not None:
            # A record outside one's areas would be refused on sending: never offer it.
            offered = [c for c in offered if reachable(self.areas, c.name) or c.name in picked]
        options = [Option(c.name, text_of(c.label, self.lang, c.name), c.name in picked, self._media(c.columns))
                   for c in offered]
        if q.choice_filter and item.widget in ("radio", "checks") and any(self._media(c.columns)
                                                                          for c in chosen.choices):
            shown = {o.value: o for o in options}
            options = [shown.get(c.name) or Option(c.name, text_of(c.label, self.lang, c.name), False,
                                                   self._media(c.columns), hidden=True)
                       for c in chosen.choices if c.name in shown or not chosen.wilayah]
        item.filtered = q.choice_filter is not None
        if not chosen.choices:  # select_one_from_file whose CSV was not uploaded (xlsform.missing_choices_file)
            item.hint = f"{item.hint} {self.ui['no_choices']}".strip()
        parents = {c.columns.get("parent") for c in offered} if chosen.wilayah else set()
        if item.widget == "select" and len(parents) > 1:
            item.groups = self._grouped(offered, options)
        else:
            item.options = options

    def _repeat_choices(self, item: Item, q: Question, value: Any, position: tuple[tuple[str, int], ...]) -> None:
        """select_one ${x}: the answers to x given so far (a draft, a correction, the post without
        JavaScript); in a repeat's template none yet. static/js/repchoice.js follows the typing."""
        picked = set(value) if isinstance(value, list) else {str(value)} if value not in (None, "") else set()
        clock = self.state.clock
        offered = [] if any(index < 0 for _, index in position) else repeat_offered(
            self.compiled, q.name, self.state.values, position, clock.today, clock.now)
        item.options = [Option(text, text, text in picked) for text in offered]
        item.filtered = True

    def _grouped(self, offered: list[Choice], options: list[Option]) -> list[OptionGroup]:
        # A region list offered whole (no cascade in the form): the desa under their kecamatan.
        names = {c.name: text_of(c.label, self.lang) for lst in self.compiled.definition.choices.values()
                 for c in lst.choices}
        groups: dict[str, list[Option]] = {}
        for choice, option in zip(offered, options, strict=True):
            parent = choice.columns.get("parent", "")
            groups.setdefault(parent, []).append(option)
        return [OptionGroup(names.get(parent, parent), opts) for parent, opts in groups.items()]


def _template_keys(items: list[Item], old: str, new: str) -> None:
    for item in items:
        item.key = item.key.replace(old, new)
        _template_keys(item.children, old, new)
        _template_keys(item.template, old, new)


def _find(values: Mapping[str, Any], position: tuple[tuple[str, int], ...], name: str) -> Any:
    level: Any = values
    for repeat, index in position:
        items = level.get(repeat) if isinstance(level, Mapping) else None
        level = items[index] if isinstance(items, list) and 0 <= index < len(items) else {}
    return level.get(name) if isinstance(level, Mapping) else None


def fill_context(compiled: CompiledForm, *, lang: str, instance_id: str, viewer: str, clock: Clock,
                 answers: dict[str, Any] | None = None, shown: Shown | None = None,
                 base_revision: int | None = None, comment: str = "",
                 areas: tuple[str, ...] | None = None, media: Mapping[str, str] | None = None) -> FillContext:
    """The page for a new form (answers None: the defaults) or for answers posted back (kept as
    typed, with the errors and warnings of `shown` at their fields). With base_revision, a record
    sent back for correction: the runtime submits it as a new revision of that one."""
    raw = answers if answers is not None else defaults(compiled, compiled.definition.fields, clock)
    shown = shown or Shown()
    builder = Builder(compiled, State(compiled, raw, clock), shown, lang, areas, media)
    items = builder.items(compiled.definition.fields, raw, (), False)
    labels = {info.name: text_of(info.label, lang, info.name) for info in compiled.fields.values()}
    summary = [(key, f"{labels.get(key.rsplit('.', 1)[-1].split('[')[0], key)}: {message}")
               for key, message in shown.errors.items()]
    query = "?lang=en" if lang == "en" else ""
    return FillContext(
        lang=lang, title=text_of(compiled.title, lang, compiled.form_id), form_id=compiled.form_id,
        version=compiled.version, instance_id=instance_id, action=f"/f/{compiled.form_id}{query}",
        switch_url=f"/f/{compiled.form_id}?lang={'id' if lang == 'en' else 'en'}", viewer=viewer, items=items,
        pages=builder.pages, has_repeats=builder.has_repeats, ui=ui_texts(lang),
        assets={**asset_urls(), **picker_assets(compiled), **expr_assets(compiled), **media_assets(media)},
        rules_url=rules_url(compiled, lang), message=shown.message, error=shown.error,
        error_code=shown.error_code,
        config=safe_json({"id": compiled.form_id, "v": compiled.version, "i": instance_id, "lang": lang,
                          "rules": rules_url(compiled, lang), **({"b": base_revision} if base_revision else {}),
                          **({"areas": list(areas)} if areas is not None else {}),
                          **({"mods": mods} if (mods := lazy_modules(compiled)) else {})}),
        summary=summary, comment=comment, base_revision=base_revision)
