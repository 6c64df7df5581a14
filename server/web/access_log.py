"""One line per request: method, path, status, milliseconds. A pure ASGI middleware, so it costs
microseconds. The query string is left out on purpose: tokens and search terms (names, NIKs)
must never reach a log file. A client that went away before its answer (a phone losing signal in
the middle of an upload) is logged as 499 "client closed", not as a server error: Litestar turns
the disconnect into a 500 it cannot deliver, and a 500 in the log means a bug to someone on call."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from server.web.proxies import client_address_of

log = logging.getLogger("pantau.access")
CLIENT_CLOSED = 499  # nginx's code for it; no HTTP status exists, and the client never sees it


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
        gone = False

        async def receive_wrapper() -> Any:
            nonlocal gone
            message = await receive()
            if message["type"] == "http.disconnect":
                gone = True
            return message

        async def send_wrapper(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive_wrapper, send_wrapper)
        except (asyncio.CancelledError, OSError):
            gone = True  # the server cancelled the request, or the socket broke under a write
            raise
        finally:
            if log.isEnabledFor(logging.INFO):
                client = client_address_of(scope, self.trusted_proxies)
                closed = gone and status >= 500
                log.info('%s "%s %s" %d %.1fms%s', client, scope["method"], scope["path"],
                         CLIENT_CLOSED if closed else status, (time.perf_counter() - start) * 1000,
                         " client closed" if closed else "")
