"""The shop's canonical format: orders and order events as JSON, an array or NDJSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import msgspec

from services.ingest import parsing
from services.ingest.model import Order, OrderEvent, Rejection
from shared.errors import field_error

_order = msgspec.json.Decoder(Order)
_event = msgspec.json.Decoder(OrderEvent)
_any = msgspec.json.Decoder()
NO_CHANNEL = "missing: the record must name its channel where no channel key names it"


def record(raw: bytes, channel: str) -> Order | OrderEvent | Rejection:
    """Decode one record: an order, or an event row (it has an "event" field).

    A record that names no channel is `channel`'s; where that is "" too, it is rejected.
    """
    found: Order | Rejection = parsing.decode(raw, _order)
    if isinstance(found, Order):
        return _owned(found, channel)
    # Orders are the common case and are tried first; only a failure looks closer.
    try:
        data: Any = _any.decode(raw)
    except msgspec.DecodeError:
        return found
    if isinstance(data, dict) and "event" in data:
        event: OrderEvent | Rejection = parsing.decode(raw, _event)
        return event if isinstance(event, Rejection) else _owned(event, channel)
    return found


def _owned(found: Order | OrderEvent, channel: str) -> Order | OrderEvent | Rejection:
    if not found.channel:
        if not channel:
            return Rejection([field_error("channel", NO_CHANNEL)])
        found.channel = channel
    return found


def parse(
    body: bytes, content_type: str, channel: str
) -> list[tuple[int, Order | OrderEvent | Rejection]]:
    """Read a request body into (index, record) pairs."""
    return list(enumerate(record(raw, channel) for raw in parsing.split(body, content_type)))


def chunks(
    stream: IO[bytes], size: int, channel: str
) -> Iterator[list[tuple[int, Order | OrderEvent | Rejection]]]:
    """Read an NDJSON file, `size` records at a time, indexed from its first line."""
    start = 0
    for chunk in parsing.ndjson_chunks(stream, size):
        yield list(enumerate((record(raw, channel) for raw in chunk), start))
        start += len(chunk)
