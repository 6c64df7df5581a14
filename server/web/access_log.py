"""One line per request: method, path, status, milliseconds. A pure ASGI middleware, so it costs
microseconds. The query string is left out on purpose: tokens and search terms (names, NIKs)
must never reach a log file."""

from __future__ import annotations

import logging
import time
from typing import Any

from server.web.proxies import client_address_of

log = logging.getLogger("pantau.access")


class AccessLogMiddleware:
    def __init__(self, app: Any, trusted_proxies: tuple[str, ...] = ()) -> None:
        self.app = app
        self.trusted_proxies = trusted_proxies

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            if log.isEnabledFor(logging.INFO):
                client = client_address_of(scope, self.trusted_proxies)
                log.info('%s "%s %s" %d %.1fms', client, scope["method"], scope["path"], status,
                         (time.perf_counter() - start) * 1000)
