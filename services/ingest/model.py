"""The shop's canonical order and catalog entry, as accepted on the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

NonEmpty = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Email = Annotated[str, msgspec.Meta(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=320)]
Country = Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{2}$")]


class Customer(msgspec.Struct, kw_only=True, forbid_unknown_fields=False):
    """The buyer as the channel knows them."""

    id: NonEmpty
    email: Email
    locale: str = "en"
    timezone: str = "UTC"
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
    quantity: Annotated[int, msgspec.Meta(ge=1)] = 1


class Order(msgspec.Struct, kw_only=True):
    """An order in the shop's canonical format."""

    order_id: NonEmpty
    channel: NonEmpty
    placed_at: Annotated[datetime, msgspec.Meta(tz=True)]
    customer: Customer
    ship_to: ShipTo
    lines: Annotated[list[Line], msgspec.Meta(min_length=1)]


class CatalogItem(msgspec.Struct, kw_only=True):
    """A product of the catalog and its safety categories."""

    sku: NonEmpty
    title: str
    categories: list[str]
    gtin: str | None = None
