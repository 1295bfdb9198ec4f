"""The shop's canonical order, order events and catalog entry, as accepted on the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(pattern=r"^\s*[^@\s]+@[^@\s]+\.[^@\s]+\s*$", max_length=320)]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z]{2}$")]
Aware = Annotated[datetime, msgspec.Meta(tz=True)]
LineNo = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
# The channel's own id of a cancellation or return (an RMA number): it travels in a bus
# message id, so it is short and plain.
Ref = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9._:/-]{0,64}$")]


class Customer(msgspec.Struct, kw_only=True):
    """The buyer as the channel knows them; locale and time zone default from the ship-to."""

    id: NonEmpty
    email: Email
    locale: str = ""
    timezone: str = ""
    name: str = ""


class ShipTo(msgspec.Struct, kw_only=True):
    """Where the order ships to."""

    country: Country
    region: str | None = None
    postal_code: str | None = None
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None


class Line(msgspec.Struct, kw_only=True):
    """One product line of an order."""

    sku: NonEmpty
    title: str = ""
    gtin: str | None = None
    quantity: Quantity = 1


class Order(msgspec.Struct, kw_only=True):
    """An order in the shop's canonical format."""

    order_id: NonEmpty
    channel: NonEmpty = ""  # left out: the channel of the key that posts it
    placed_at: Aware
    customer: Customer
    ship_to: ShipTo
    lines: Annotated[list[Line], msgspec.Meta(min_length=1)]


class LineRef(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A line of a cancellation or return, by number or by SKU, and how many of it (all when
    left out)."""

    line_no: LineNo | None = None
    sku: NonEmpty | None = None
    quantity: Quantity | None = None


LineRefs = Annotated[list[LineRef], msgspec.Meta(max_length=200)]


class EventBody(msgspec.Struct, kw_only=True):
    """The body of a cancel or return request: when, which lines (none: all), how many."""

    at: Aware | None = None
    line_nos: list[LineNo] = []
    skus: list[NonEmpty] = []
    lines: LineRefs = []
    ref: Ref = ""


class OrderEvent(msgspec.Struct, kw_only=True):
    """A cancellation or return, as a row of a batch or from the cancel/return endpoints."""

    event: Literal["cancelled", "returned"]
    channel: NonEmpty = ""  # left out: the channel of the key that posts it
    order_id: NonEmpty
    at: Aware | None = None
    line_nos: list[LineNo] = []
    skus: list[NonEmpty] = []
    lines: LineRefs = []
    ref: Ref = ""


class CatalogItem(msgspec.Struct, kw_only=True):
    """A product of the catalog and its safety categories."""

    sku: NonEmpty
    title: str
    categories: list[str]
    gtin: str | None = None


class Rejection(msgspec.Struct):
    """A record that cannot be accepted, with each field and its problem."""

    errors: list[dict[str, str]]
