"""Settings whose value is a list: trusted proxies and disaster feeds, parsed and checked."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

import msgspec

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def proxy_networks(text: str) -> list[Network]:
    """`10.0.0.7, 10.1.0.0/16` as networks (an address alone is one host); a bad entry raises
    ValueError naming the setting and the entry."""
    networks = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry))
        except ValueError as exc:
            raise ValueError(
                f"ANSHIN_TRUSTED_PROXIES: {entry!r} is not an address or network ({exc})"
            ) from None
    return networks


FEED_KINDS = ("jma", "usgs", "nws")
_FEED = re.compile(r"^([a-z0-9_]{1,40})=(jma|usgs|nws):(https?://\S+)$")


class Feed(msgspec.Struct, frozen=True):
    """One disaster feed the advisory service polls: its name, its kind, its URL."""

    name: str
    kind: Literal["jma", "usgs", "nws"]
    url: str


def feed_list(text: str) -> list[Feed]:
    """`jma_eqvol=jma:https://…, usgs=usgs:https://…` as feeds; a bad entry or a name given
    twice raises ValueError naming the setting and the entry."""
    feeds: list[Feed] = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        match = _FEED.match(entry)
        if match is None:
            raise ValueError(
                f"ANSHIN_FEEDS: {entry!r} is not name=kind:url (name a-z0-9_, kind one"
                f" of {', '.join(FEED_KINDS)}, an http or https URL)"
            )
        name, kind, url = match.groups()
        if any(feed.name == name for feed in feeds):
            raise ValueError(f"ANSHIN_FEEDS: the name {name!r} is given twice")
        feeds.append(Feed(name, kind, url))  # type: ignore[arg-type]
    return feeds
