"""Order facts published by ingest on `orders.*`: no e-mail, a coarse location, categories."""

from __future__ import annotations

from datetime import datetime

import msgspec

from shared.messages.base import Message


class Location(msgspec.Struct, kw_only=True):
    """Where an order ships to: country, ISO 3166-2 region, postal code, coordinates, and
    `area_code`: the municipality in Japan (JIS X 0402, five digits, `17201`), the county in
    the US (FIPS, five digits, `06075`), None where the postal code names none."""

    country: str
    region: str | None = None
    postal_code: str | None = None
    lat: float | None = None
    lon: float | None = None
    area_code: str | None = None


class OrderLine(msgspec.Struct, kw_only=True):
    """One line of an order reduced to what the safety rules need."""

    line_no: int
    sku: str
    gtin: str | None = None
    title: str = ""
    quantity: int = 1
    categories: list[str] = []


class OrderPlaced(Message, tag="order.placed"):
    """An order was placed on a channel, every line listed (`categories` empty for a product
    in no safety category: only a recall by SKU or GTIN concerns it)."""

    channel: str
    order_id: str
    customer_id: str
    placed_at: datetime
    location: Location
    lines: list[OrderLine]
    v: int = 1


class OrderCancelled(Message, tag="order.cancelled"):
    """An order (or some of its lines) was cancelled; empty `line_nos` means all lines.

    `quantities` (v2) gives, per line of `line_nos`, how many were cancelled, 0 for the
    whole line; empty: each line whole, as a v1 message means. `ref` is the channel's id of
    the event: two cancellations of one unit of a line are two facts when their refs differ.
    """

    channel: str
    order_id: str
    customer_id: str
    at: datetime
    line_nos: list[int] = []
    v: int = 1
    quantities: list[int] = []
    ref: str = ""


class OrderReturned(Message, tag="order.returned"):
    """An order (or some of its lines) was returned; empty `line_nos` means all lines;
    `quantities` and `ref` as for a cancellation."""

    channel: str
    order_id: str
    customer_id: str
    at: datetime
    line_nos: list[int] = []
    v: int = 1
    quantities: list[int] = []
    ref: str = ""


class OrderBatch(Message, tag="order.batch"):
    """Many placed orders in one message, as a backfill or a large HTTP batch brings them.

    Each order is the same fact as its own `orders.placed` message would be; consumers
    record them by (channel, order id, line), so a redelivered batch is harmless.
    """

    orders: list[OrderPlaced]
    v: int = 1


OrderEvent = OrderPlaced | OrderCancelled | OrderReturned | OrderBatch
