"""Which peers are trusted proxies: by address and network, never by coincidence of versions."""

from __future__ import annotations

from shared.forwarded import TrustedProxies
from shared.setting_lists import proxy_networks


def test_only_the_listed_proxies_are_trusted() -> None:
    proxies = TrustedProxies(proxy_networks("10.0.0.0/8, 192.168.1.7, fd00::/8"))
    assert proxies.trusts("10.42.0.3") and proxies.trusts("192.168.1.7")
    assert proxies.trusts("fd00::1")
    assert not proxies.trusts("192.168.1.8") and not proxies.trusts("11.0.0.1")
    # ::a00:3 is 10.0.0.3 as an integer; an IPv6 peer is no IPv4 proxy.
    assert not proxies.trusts("::a00:3")
    for peer in (None, "", "unix-socket"):
        assert not proxies.trusts(peer)


def test_no_proxies_trusts_nobody() -> None:
    assert not TrustedProxies([]).trusts("127.0.0.1")
