"""The shop's canonical format: orders and order events as JSON, an array or NDJSON."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import msgspec

from services.ingest import parsing
from services.ingest.model import Order, OrderEvent, Rejection

_order = msgspec.json.Decoder(Order)
_event = msgspec.json.Decoder(OrderEvent)
_any = msgspec.json.Decoder()


def record(raw: bytes) -> Order | OrderEvent | Rejection:
    """Decode one record: an order, or an event row (it has an "event" field)."""
    found: Order | Rejection = parsing.decode(raw, _order)
    if isinstance(found, Order):
        return found
    # Orders are the common case and are tried first; only a failure looks closer.
    try:
        data: Any = _any.decode(raw)
    except msgspec.DecodeError:
        return found
    if isinstance(data, dict) and "event" in data:
        event: Order | OrderEvent | Rejection = parsing.decode(raw, _event)
        return event
    return found


def parse(body: bytes, content_type: str) -> list[tuple[int, Order | OrderEvent | Rejection]]:
    """Read a request body into (index, record) pairs."""
    return list(enumerate(record(raw) for raw in parsing.split(body, content_type)))


def chunks(
    stream: IO[bytes], size: int
) -> Iterator[list[tuple[int, Order | OrderEvent | Rejection]]]:
    """Read an NDJSON file, `size` records at a time, indexed from its first line."""
    start = 0
    for chunk in parsing.ndjson_chunks(stream, size):
        yield list(enumerate((record(raw) for raw in chunk), start))
        start += len(chunk)
