"""Shared per-request accessors: the process's Database, Writer and Settings live on app.state."""

from __future__ import annotations

from litestar import Request

from server.settings import Settings
from server.storage.db import Database
from server.storage.writer import Writer


def db_of(request: Request) -> Database:  # type: ignore[type-arg]
    return request.app.state.db  # type: ignore[no-any-return]


def writer_of(request: Request) -> Writer:  # type: ignore[type-arg]
    return request.app.state.writer  # type: ignore[no-any-return]


def settings_of(request: Request) -> Settings:  # type: ignore[type-arg]
    return request.app.state.settings  # type: ignore[no-any-return]


def lang_of(request: Request) -> str:  # type: ignore[type-arg]
    """Bahasa Indonesia unless the visitor asked for English (?lang=en, or the `lang` cookie)."""
    wanted = request.query_params.get("lang") or request.cookies.get("lang") or "id"
    return "en" if wanted == "en" else "id"
