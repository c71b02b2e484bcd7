"""The one network guard: with ``STORYREEL_ALLOW_NETWORK=0`` only loopback addresses may be reached.

The decision is made on the *resolved* address, never on the host name's text: ``127.attacker.example``
is a name like any other, and it passes only if every address it resolves to is a loopback address
(127.0.0.0/8, ::1). Every HTTP client storyreel builds — the vendor JSON client and the clients handed
to pydantic-ai — checks each request's URL here (an httpx request event hook), so a redirect or an
absolute URL from a vendor's response cannot slip past it. The test suite's socket-level guard
(``tests/conftest.py``) uses :func:`is_loopback_address` too.
"""

from __future__ import annotations

import ipaddress
import socket
from functools import lru_cache
from urllib.parse import urlsplit

from storyreel.core.errors import ConfigError


def is_loopback_address(address: str) -> bool:
    """True for an IP address literal in 127.0.0.0/8 or ::1 (also IPv4-mapped ``::ffff:127.x``)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@lru_cache(maxsize=256)
def resolves_to_loopback(host: str) -> bool:
    """True when ``host`` (a name or an address literal) resolves only to loopback addresses; a name
    that does not resolve is not loopback."""
    host = host.strip("[]")
    if not host:
        return False
    if is_loopback_address(host):
        return True
    try:
        ipaddress.ip_address(host)
        return False  # an address literal that is not loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(is_loopback_address(a) for a in addresses)


def check_url(url: str, allow_network: bool, who: str) -> None:
    """Raise :class:`ConfigError` when ``allow_network`` is False and ``url``'s host is not loopback.
    ``who`` names the caller in the message (e.g. ``openai``)."""
    if allow_network:
        return
    host = urlsplit(url).hostname or ""
    if not resolves_to_loopback(host):
        raise ConfigError(
            f"{who}: network calls are disabled (STORYREEL_ALLOW_NETWORK=0) and {host or url!r} is not loopback",
            hint="unset STORYREEL_ALLOW_NETWORK, or point the base URL at a local server",
        )


def httpx_hooks(allow_network: bool, who: str) -> dict:
    """``event_hooks`` for an ``httpx.Client``/``AsyncClient``: every request (redirects included) is
    checked with :func:`check_url` before a connection is opened."""

    def check(request) -> None:  # noqa: ANN001 - httpx.Request
        check_url(str(request.url), allow_network, who)

    async def acheck(request) -> None:  # noqa: ANN001
        check_url(str(request.url), allow_network, who)

    return {"sync": {"request": [check]}, "async": {"request": [acheck]}}
