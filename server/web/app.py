"""create_app: the Litestar application. The app owns one Database and one Writer for the process,
opened in the lifespan; it refuses to start when migrations are pending, so it never serves from
a schema it does not know."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Litestar, Router
from litestar.config.compression import CompressionConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import NotAuthorizedException
from litestar.logging.config import LoggingConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from server.domain.access import role_name
from server.errors import PantauError
from server.settings import Settings
from server.storage import access, migrate
from server.storage.db import Database
from server.storage.writer import Writer
from server.web import csrf, import_jobs
from server.web.access_log import AccessLogMiddleware
from server.web.auth import principal_of, require_principal
from server.web.controllers import (
    account,
    api,
    audit,
    auth,
    duplicates,
    editor,
    exports,
    fill,
    health,
    home,
    icons,
    media,
    offline,
    openrosa,
    openrosa_submission,
    publishing,
    read_api,
    registry,
    registry_import,
    reports,
    review,
    users,
)
from server.web.errors import EXCEPTION_HANDLERS
from server.web.fast_route import FastRoutes
from server.web.input_guard import InputGuardMiddleware
from server.web.security_headers import SecurityHeadersMiddleware

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = Path(__file__).parent / "templates"
STATIC = ROOT / "static"
log = logging.getLogger("pantau")


# The read API takes a personal token (Bearer, GET only; made on /akun/token) or the session cookie.
API_TOKEN_COMPONENTS = Components(security_schemes={
    "api_token": SecurityScheme(type="http", scheme="bearer",
                                description="Personal API token from /akun/token; read-only (GET)."),
    "session": SecurityScheme(type="apiKey", name="pantau_sesi", security_scheme_in="cookie"),
})


async def schema_readers_only(connection: Any, _handler: Any) -> None:
    """Guard of the OpenAPI document: signed-in staff and admins only."""
    principal = await principal_of(connection)
    if principal is None:
        raise NotAuthorizedException()
    access.require(principal, "read_api_schema")


def template_environment() -> Environment:
    # Autoescape on for every template: answers and labels are user text (STYLE.md "Avoid").
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["role_name"] = role_name  # {{ role | role_name(en) }}: "Koordinator", never "coordinator"
    return environment


# One Router per controller module, each listing its own handlers.
ROUTERS: list[Router] = [
    health.router, home.router, auth.router, account.router, users.router, audit.router,
    api.router, fill.router, review.router, exports.router, read_api.router,
    registry.router,  # the beneficiary registry
    duplicates.router,  # pairs that score as one person (domain/duplicates.py)
    registry_import.router,  # a beneficiary list from a file
    offline.router,  # offline first
    editor.router,  # the form editor: drafts, preview, upload and download
    publishing.router,  # publishing a draft, archiving, and who may fill a form
    media.router,  # form media: image, audio and video files a form names
    reports.router,  # evaluation reports
    icons.router,  # /favicon.ico and the web app manifest
    openrosa.router,  # ODK Collect and KoboCollect, at / and under /key/<app key>/
    openrosa_submission.router,  # their filled forms, at the same two roots
]


def _lifespan(db: Database) -> Any:
    """Open the database and start the writer for the app's life; refuse to serve an unmigrated schema."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await db.open()
        try:
            waiting = await migrate.pending(db)
            if waiting:
                raise PantauError("db.not_migrated", pending=len(waiting))
            writer = Writer(db)
            await writer.start()
            app.state.writer = writer
            try:
                yield
            finally:
                await writer.stop()
        finally:
            await db.close()

    return lifespan


def create_app(settings: Settings, *, database: Database | None = None) -> Litestar:
    db = database or Database.from_settings(settings)

    bench_routes = [api.bench_router] if settings.bench_routes else []
    static = create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False)
    app = Litestar(
        route_handlers=[*bench_routes, *ROUTERS, static],
        lifespan=[_lifespan(db), reports.lifespan, duplicates.lifespan, home.lifespan, import_jobs.lifespan],
        state=State({"settings": settings, "db": db}),
        dependencies={"principal": Provide(require_principal)},
        # First (outermost), after routing: NUL, out-of-range ids, early size/sign-in refusal, before the
        # CSRF check reads a form body. Then CSRF: every state-changing request carries the token: form
        # posts as a field, the phone's JSON calls as the X-CSRFToken header (its runtime reads the
        # csrftoken cookie). Litestar's middleware with the session in the token's signature
        # (web/csrf.py), in place of csrf_config.
        middleware=[InputGuardMiddleware, csrf.middleware(settings)],
        # gzip for pages and assets on 2G/3G (the fill page's 30 KB budget); small bodies
        # such as receipts stay plain (minimum_size), so the submission path pays almost nothing.
        compression_config=CompressionConfig(backend="gzip", gzip_compress_level=6, minimum_size=1024,
                                             exclude_opt_key="skip_compression"),  # streamed exports
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(template_environment())),
        # JSON only: the HTML viewers load scripts from a CDN, and Pantau pages make no third-party requests.
        openapi_config=OpenAPIConfig(title="Pantau API", version="1",
                                     openapi_router=Router("/schema", route_handlers=[], include_in_schema=False,
                                                           guards=[schema_readers_only]),
                                     render_plugins=[JsonRenderPlugin()], components=API_TOKEN_COMPONENTS,
                                     use_handler_docstrings=True,
                                     security=[{"session": []}, {"api_token": []}]),
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            loggers={"pantau": {"level": settings.log_level, "propagate": True},
                     "httpx": {"level": "WARNING"},
                     # asyncpg logs a traceback each time its pool fails to reconnect during an outage;
                     # storage/faults.py logs the outage itself, once.
                     "asyncpg": {"level": "ERROR"}},
            log_exceptions="never",  # web/errors.py logs 500s itself, once, with the traceback
        ),
        request_max_body_size=10 * 1024 * 1024,
        debug=False,
    )
    # The submission route's ordinary requests skip litestar's per-request machinery (web/fast_route.py).
    fast = {**api.FAST_ROUTES, **(api.FAST_BENCH_ROUTES if settings.bench_routes else {})}
    handler = FastRoutes(app, app.asgi_handler, fast)
    # Outermost, around the router too: route-level middleware never sees a 404 or 405.
    app.asgi_handler = AccessLogMiddleware(SecurityHeadersMiddleware(handler), settings.trusted_proxies)
    return app
