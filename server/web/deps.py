"""Shared per-request accessors: the process's Database, Writer and Settings live on app.state."""

from __future__ import annotations

from server.settings import Settings
from server.storage.db import Database
from server.storage.writer import Writer
from server.web.http import Request


def db_of(request: Request) -> Database:
    return request.app.state.db  # type: ignore[no-any-return]


def writer_of(request: Request) -> Writer:
    return request.app.state.writer  # type: ignore[no-any-return]


def settings_of(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def lang_of(request: Request) -> str:
    """Bahasa Indonesia unless the visitor asked for English (?lang=en, or the `lang` cookie)."""
    wanted = request.query_params.get("lang") or request.cookies.get("lang") or "id"
    return "en" if wanted == "en" else "id"
