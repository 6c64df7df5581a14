"""Slow clients: uvicorn waits for a request's headers and body as long as the client likes (200
connections sending a byte a second stayed open and unanswered). This HTTP protocol (uvicorn's
httptools one, which `pantau serve` uses) gives a client PANTAU_CLIENT_HEADER_TIMEOUT seconds from
connecting, or from the first byte of its next request on a kept-alive connection, to send the
headers (then 408 and the connection is closed), and PANTAU_CLIENT_BODY_TIMEOUT seconds after them
for the body (then the connection is closed; the handler sees the client gone). Idle kept-alive
connections are uvicorn's own keep-alive timeout. nginx in front does the same (docs/deploy.md)."""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from server.settings import load_settings

log = logging.getLogger("pantau.access")
_REQUEST_TIMEOUT = (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                    b"content-length: 16\r\nconnection: close\r\n\r\nRequest Timeout\n")


@lru_cache(maxsize=1)
def _limits() -> tuple[float, float]:
    """From the environment every `pantau serve` process gets (worker processes build their app from it too)."""
    settings = load_settings()
    return float(settings.client_header_timeout), float(settings.client_body_timeout)


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_limit, self.body_limit = _limits()
        self._receive_timer: asyncio.TimerHandle | None = None

    def _arm(self, seconds: float, handler: Any) -> None:
        self._disarm()
        self._receive_timer = self.loop.call_later(seconds, handler)

    def _disarm(self) -> None:
        if self._receive_timer is not None:
            self._receive_timer.cancel()
            self._receive_timer = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_limit, self._headers_too_slow)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self.header_limit, self._headers_too_slow)

    def on_headers_complete(self) -> None:
        self._arm(self.body_limit, self._body_too_slow)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._receive_timer = None
        if self.transport.is_closing():
            return
        log.info("%s closed: request headers not received within %g s", _peer(self.client), self.header_limit)
        self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()

    def _body_too_slow(self) -> None:
        self._receive_timer = None
        if self.transport.is_closing():
            return
        log.info("%s closed: request body not received within %g s", _peer(self.client), self.body_limit)
        self.transport.close()  # the handler reading the body sees the client gone (logged 499)


def _peer(client: tuple[str, int] | None) -> str:
    return f"{client[0]}:{client[1]}" if client else "a client"
