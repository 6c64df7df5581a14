"""Slow clients are timed out (PANTAU_CLIENT_HEADER_TIMEOUT, PANTAU_CLIENT_BODY_TIMEOUT): a real
`pantau serve` and real sockets that send a byte a second, or nothing at all; each is answered 408
or closed within the limit, and the server keeps answering everyone else meanwhile."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from server.settings import Settings
from tests.web.live import serving

LIMIT = 2  # seconds, for headers and for the body


async def _dribble(host: str, port: int, request: bytes, head_first: bool) -> tuple[float, bytes]:
    """Send `request` a byte a second (after the headers at once when head_first); return when the
    server closed the connection and what it said."""
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()
    head, _, body = request.partition(b"\r\n\r\n")
    if head_first:
        writer.write(head + b"\r\n\r\n")
        request = body
    answer = b""

    async def send() -> None:
        for byte in request:
            writer.write(bytes([byte]))
            await asyncio.sleep(1)

    sender = asyncio.create_task(send())
    try:
        while chunk := await asyncio.wait_for(reader.read(4096), timeout=30):
            answer += chunk
    except (ConnectionError, TimeoutError):
        pass
    finally:
        sender.cancel()
        writer.close()
    return time.monotonic() - started, answer


async def _crowd(url: str) -> tuple[list[tuple[float, bytes]], list[tuple[float, bytes]], float]:
    host, port = url.removeprefix("http://").split(":")
    slow_head = b"GET /healthz HTTP/1.1\r\nHost: pantau\r\nX-Lambat: " + b"a" * 40 + b"\r\n\r\n"
    slow_body = b"POST /masuk HTTP/1.1\r\nHost: pantau\r\nContent-Length: 60\r\n\r\n" + b"u" * 60
    heads = [_dribble(host, int(port), slow_head, False) for _ in range(60)]
    silent = [_dribble(host, int(port), b"", False) for _ in range(20)]
    bodies = [_dribble(host, int(port), slow_body, True) for _ in range(40)]
    crowd = asyncio.gather(*heads, *silent, *bodies)
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(base_url=url) as client:
        started = time.monotonic()
        assert (await client.get("/healthz")).status_code == 200
        healthy = time.monotonic() - started
    done = await crowd
    return done[:80], done[80:], healthy


def test_clients_sending_a_byte_a_second_are_closed(settings: Settings, tmp_path: Path) -> None:
    with serving(settings, tmp_path, PANTAU_CLIENT_HEADER_TIMEOUT=str(LIMIT),
                 PANTAU_CLIENT_BODY_TIMEOUT=str(LIMIT)) as live:
        slow_heads, slow_bodies, healthy = asyncio.run(_crowd(live.url))
        log = live.log.read_text()
    assert healthy < 2, "the server must keep answering others while slow clients wait"
    for seconds, answer in slow_heads:
        assert seconds < LIMIT + 3, seconds
        assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    for seconds, answer in slow_bodies:
        assert seconds < LIMIT + 3, seconds
        assert b" 200 " not in answer[:20] and b" 302 " not in answer[:20], answer[:80]
    assert "request headers not received within 2 s" in log and "request body not received within 2 s" in log
