"""The channel formats that `POST /v1/orders?format=` and `anshin orders load` read.

Each turns a body (or a stream, chunk by chunk) into (index, record) pairs: a canonical
`Order`, an `OrderEvent` (cancellation or return) or a `Rejection`, so that the answer
names each bad record by its index in the input (a CSV data row for the marketplace).
A record that names no channel (a canonical one without `channel`, every grocery and
marketplace record) takes the channel it is given: the key's over HTTP, in a backfill
`--channel` or the format's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import IO

import msgspec

from services.ingest.formats import canonical, grocery, marketplace
from services.ingest.model import Order, OrderEvent, Rejection
from shared.errors import Invalid, field_error

Record = Order | OrderEvent | Rejection
Indexed = list[tuple[int, Record]]


class Format(msgspec.Struct, frozen=True, kw_only=True):
    """A channel format: how to read a body and how to read a file in chunks."""

    name: str
    parse: Callable[[bytes, str, str], Indexed]  # body, content type, channel
    chunks: Callable[[IO[bytes], int, str], Iterator[Indexed]]  # stream, size, channel
    # The channel of its records where neither they nor the key name one: the operator's
    # requests and backfills. The canonical format has none: its records name theirs.
    channel: str = ""
    # Marketplace buyers are known by a marketplace id: link them by e-mail to the shop's id.
    link_by_email: bool = False


FORMATS: dict[str, Format] = {
    "canonical": Format(name="canonical", parse=canonical.parse, chunks=canonical.chunks),
    "grocery": Format(
        name="grocery", parse=grocery.parse, chunks=grocery.chunks, channel="grocery"
    ),
    "marketplace": Format(
        name="marketplace",
        parse=marketplace.parse,
        chunks=marketplace.chunks,
        channel="marketplace",
        link_by_email=True,
    ),
}


def get(name: str) -> Format:
    """Return a format by name; Invalid (400) for one we do not know."""
    try:
        return FORMATS[name]
    except KeyError:
        known = ", ".join(FORMATS)
        raise Invalid(
            f"unknown format; known formats: {known}",
            [field_error("format", f"{name!r} is not a known format")],
        ) from None
