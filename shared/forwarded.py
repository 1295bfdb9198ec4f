"""Who the client is behind the reverse proxies of `ANSHIN_TRUSTED_PROXIES`.

A request whose peer is a trusted proxy takes its `remote` from X-Forwarded-For and its
`scheme` (so `secure`) from X-Forwarded-Proto: aiohttp-remotes' XForwardedFiltered walks
X-Forwarded-For from the right past the trusted hops to the first address that is not one,
the client. From any other peer those headers are the client's own words and are ignored:
a forged X-Forwarded-For neither shifts the blame of refused keys onto someone else nor
escapes the key throttle, and a forged X-Forwarded-Proto earns no Secure cookie.

aiohttp-remotes' XForwardedStrict is not used: it answers 400 to every request that does
not arrive through exactly the configured chain with one X-Forwarded-For address a hop,
so to kubelet probes, Prometheus scrapes and the CLI inside a pod, and to every client
behind a proxy of its own (an ingress appends to the X-Forwarded-For that proxy sent).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp_remotes import XForwardedFiltered

from shared.setting_lists import Network, proxy_networks

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class TrustedProxies:
    """A middleware that believes the forwarding headers of trusted proxies only."""

    def __init__(self, networks: list[Network]) -> None:
        self._networks = networks
        self._forwarded = XForwardedFiltered(networks)

    def trusts(self, peer: str | None) -> bool:
        """Whether `peer` (an address as the socket reports it) is a trusted proxy."""
        try:
            address = ipaddress.ip_address(peer or "")
        except ValueError:
            return False  # a Unix socket, or no peer at all
        # `in` compares the integers only: an IPv6 address could fall in an IPv4 network.
        return any(address.version == net.version and address in net for net in self._networks)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Set the client's address and scheme from a trusted proxy's headers; else leave them."""
        if not self.trusts(request.remote):
            return await handler(request)
        return await self._forwarded.middleware(request, handler)


def install(app: web.Application, trusted_proxies: str) -> None:
    """Believe the forwarding headers of `trusted_proxies` (the setting's text); none if empty."""
    networks = proxy_networks(trusted_proxies)
    if networks:
        app.middlewares.append(TrustedProxies(networks).middleware)
