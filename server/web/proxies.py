"""Who the client is. The socket peer, unless that peer is one of PANTAU_TRUSTED_PROXIES: then the
right-most X-Forwarded-For entry that is not itself a trusted proxy. Everything left of that entry
was written by the client and can say anything; taking the first entry let anyone pick the address
the sign-in limit counted and the audit log recorded. The limiter, the audit log and the access log
all ask this one function."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_LEN = 64  # the width of every address column


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(n) for n in trusted)  # settings.py has already refused bad ones


def _ip(text: str) -> Address | None:
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = getattr(ip, "ipv4_mapped", None)  # ::ffff:10.0.0.1 from a dual-stack socket is 10.0.0.1
    return mapped or ip


def _is_trusted(ip: Address | None, networks: tuple[Network, ...]) -> bool:
    return ip is not None and any(ip in network for network in networks)


def client_address_of(scope: Any, trusted: tuple[str, ...]) -> str:
    peer = str((scope.get("client") or ("-", 0))[0] or "-")
    networks = _networks(trusted)
    if not networks or not _is_trusted(_ip(peer), networks):
        return peer[:MAX_LEN]
    # Several X-Forwarded-For headers are one list, in order (RFC 9110 5.3).
    hops = [hop for value in (v.decode("latin-1") for k, v in scope.get("headers", ()) if k == b"x-forwarded-for")
            for hop in value.split(",") if hop.strip()]
    address = peer
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:  # no proxy of ours wrote this: the last hop we trust is all we know
            break
        address = str(ip)
        if not _is_trusted(ip, networks):
            break
    return address[:MAX_LEN]
