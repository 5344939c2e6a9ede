"""The client's network address, for rate limits and login lockouts (docs/security.md).

Behind a reverse proxy every request comes from the proxy, so the address that counts is the
one the proxy saw. ``X-Forwarded-For`` is believed only when the request comes from one of
``settings.HABEAS_TRUSTED_PROXIES`` (``HABEAS_TRUSTED_PROXIES``: addresses or networks);
then the hops are read from the right and the first address that is not a trusted proxy is
the client (a client can write anything to the left of what its proxy appended, so the
left-most entry is never believed). With no trusted proxy the header is ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def trusted_networks() -> tuple[Network, ...]:
    """The configured trusted proxies as networks (a bad entry fails ``habeas check``)."""
    return _networks(tuple(getattr(settings, "HABEAS_TRUSTED_PROXIES", ()) or ()))


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, nets: tuple[Network, ...]) -> bool:
    return any(address.version == n.version and address in n for n in nets)


def client_address(request: Any) -> str:
    """The address of the client that sent ``request`` (see the module's docstring)."""
    remote = str(request.META.get("REMOTE_ADDR", "") or "")
    nets = trusted_networks()
    peer = _address(remote)
    if not nets or peer is None or not _trusted(peer, nets):
        return str(peer) if peer is not None else (remote or "unknown")
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", "") or "")
    hops = [h for h in (p.strip() for p in forwarded.split(",")) if h]
    client = peer
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            break  # garbage written by the client: the last trusted hop is what we know
        client = address
        if not _trusted(address, nets):
            break
    return str(client)


def client_ip(request: Any) -> str | None:
    """:func:`client_address` when it is an IP address, else None (a request made in-process,
    with no peer): what django-axes stores in its address columns (``inet`` on PostgreSQL)."""
    found = client_address(request)
    return found if _address(found) is not None else None
