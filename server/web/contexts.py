"""One typed context per page (STYLE.md 8): a Struct lists exactly what its template may use, and a
builder function makes it from domain/storage values, testable without HTTP."""

from __future__ import annotations

import msgspec

from server.storage.forms import FormSummary


class FormLink(msgspec.Struct, frozen=True):
    form_id: str
    title: str
    versions: int


class HomeContext(msgspec.Struct, frozen=True):
    lang: str
    forms: list[FormLink]


def home_context(forms: list[FormSummary], lang: str) -> HomeContext:
    links = [
        FormLink(f.form_id, (f.title_en if lang == "en" and f.title_en else f.title_id) or f.form_id, f.versions)
        for f in forms
        if f.status == "published"
    ]
    return HomeContext(lang=lang, forms=links)
