"""Which address a request came from, trusting X-Forwarded-For only from our proxies.

ZHILI_TRUSTED_PROXIES lists the reverse proxies (addresses or CIDR networks)
allowed to say who their client was; by default none is. uvicorn trusts
X-Forwarded-For from 127.0.0.1 unless told otherwise, so any local process
could forge the address the audit log records and the login throttle counts.
`server_options()` is what `zhili demo` passes to uvicorn: proxy headers off
without trusted proxies, else trusted from those only. The application reads
the address through `client_address()`, which applies the same list to what
the server hands it (so a server run with proxy headers off still gets the
client behind a trusted proxy). Whoever starts uvicorn by hand must pass the
same: `--no-proxy-headers`, or `--forwarded-allow-ips=$ZHILI_TRUSTED_PROXIES`;
the application cannot undo what the server already rewrote.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def trusted_networks() -> tuple:
    return _networks(tuple(getattr(settings, "ZHILI_TRUSTED_PROXIES", ())))


def _address(value: str | None):
    try:
        return ipaddress.ip_address((value or "").strip()) if value else None
    except ValueError:
        return None


def _trusted(address, networks) -> bool:
    return any(address in network for network in networks)


def client_address(request) -> str | None:
    """The peer's address; behind a trusted proxy, the nearest untrusted hop of
    X-Forwarded-For (read right to left: only the entries our proxies appended
    are believed)."""
    peer = _address(request.META.get("REMOTE_ADDR"))
    if peer is None:
        return None
    networks = trusted_networks()
    if not networks or not _trusted(peer, networks):
        return str(peer)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")):
        address = _address(hop)
        if address is None:
            break  # garbled: stop at the last hop we could read
        if not _trusted(address, networks):
            return str(address)
        peer = address
    return str(peer)


def server_options() -> dict:
    """uvicorn's proxy options from ZHILI_TRUSTED_PROXIES: off unless proxies are set."""
    proxies = list(getattr(settings, "ZHILI_TRUSTED_PROXIES", ()))
    if not proxies:
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": proxies}
