"""What a feed lists, read without I/O: JMA's Atom feeds (entries linking to XML documents)
and USGS's and NWS's GeoJSON FeatureCollections (each Feature a document in itself)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import msgspec

from services.advisory.disasters import xmldoc
from shared.errors import Invalid, field_error

ATOM = "{http://www.w3.org/2005/Atom}"
# The JMA documents /v1/events reads, by the type code JMA puts in each document's file
# name: `20240101071953_0_VXSE53_010000.xml` on the feeds, `32-35_06_03_240613_VXSE53.xml`
# in JMA's samples.
JMA_TYPES = ("VXSE51", "VXSE53", "VPWW54")
_JMA_TYPE = re.compile(r"_(VXSE51|VXSE53|VPWW54)(?:_[0-9]+)?\.xml$")
MAX_ENTRIES = 2_000  # JMA's long feeds list about 1,000; USGS's month of M2.5+ some 2,000


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """One report a feed lists: its key (what the reader remembers), and either the URL of
    its document (JMA) or the document itself (a GeoJSON Feature)."""

    key: str
    url: str = ""
    document: bytes = b""
    content_type: str = "application/xml"


def entries(kind: str, body: bytes, feed_url: str) -> list[Entry]:
    """The entries of a feed's body that /v1/events reads, oldest first."""
    found = _atom(body, feed_url) if kind == "jma" else _features(body)
    if len(found) > MAX_ENTRIES:
        raise Invalid("feed too long", [field_error("entry", f"at most {MAX_ENTRIES} entries")])
    return found


def jma_type(url: str) -> str:
    """The JMA type code a document's URL names ('' for one /v1/events does not read)."""
    match = _JMA_TYPE.search(urlsplit(url).path)
    return match.group(1) if match else ""


def _atom(body: bytes, feed_url: str) -> list[Entry]:
    root = xmldoc.parse(body)
    if root.tag != f"{ATOM}feed":
        raise Invalid("not an Atom feed", [field_error("$", f"the root is {root.tag[:80]}")])
    found: list[tuple[str, Entry]] = []
    for item in root.iter(f"{ATOM}entry"):
        key = (item.findtext(f"{ATOM}id") or "").strip()
        links = [link.get("href", "") for link in item.iter(f"{ATOM}link")]
        url = urljoin(feed_url, next((href for href in links if href), ""))
        # A document elsewhere than the feed's own host is not followed: a feed cannot make
        # the service fetch an address of the operator's network.
        if not key or not jma_type(url) or not _same_origin(url, feed_url):
            continue
        updated = (item.findtext(f"{ATOM}updated") or "").strip()
        found.append((updated, Entry(key=key[:500], url=url)))
    # JMA lists the newest first; a report is applied after the ones it follows.
    return [entry for _, entry in sorted(found, key=lambda pair: pair[0])]


def _same_origin(url: str, feed_url: str) -> bool:
    a, b = urlsplit(url), urlsplit(feed_url)
    return a.scheme in ("http", "https") and (a.scheme, a.netloc) == (b.scheme, b.netloc)


class _Collection(msgspec.Struct):
    type: str
    features: list[msgspec.Raw] = []


class _Feature(msgspec.Struct):
    id: str | None = None
    properties: dict[str, Any] = {}


def _features(body: bytes) -> list[Entry]:
    try:
        collection = msgspec.json.decode(body, type=_Collection)
        if collection.type != "FeatureCollection":
            raise Invalid("not a FeatureCollection", [field_error("type", collection.type[:80])])
        found = []
        for raw in collection.features:
            feature = msgspec.json.decode(raw, type=_Feature)
            ident = feature.id or str(feature.properties.get("id") or "")
            if not ident:
                continue
            # USGS revises a quake in place (`updated`); each revision is a report.
            stamp = feature.properties.get("updated") or ""
            key = f"{ident}@{stamp}" if stamp else ident
            found.append((str(feature.properties.get("sent") or stamp), key, bytes(raw)))
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise Invalid("malformed GeoJSON feed", [xmldoc.bad("$", exc)]) from exc
    found.sort(key=lambda item: item[0])
    return [
        Entry(key=key[:500], document=doc, content_type="application/geo+json")
        for _, key, doc in found
    ]
