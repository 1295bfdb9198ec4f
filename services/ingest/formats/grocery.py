"""The grocery channel's JSON: its own field names, local times with offsets, nested address.

    {"orderNo": "G-7", "orderedAt": "2024-01-01T16:10:00+09:00", "status": "ordered",
     "member": {"memberId": "c-42", "mail": "hanako@example.jp", "lang": "ja"},
     "delivery": {"address": {"country": "JP", "prefecture": "石川県", "zip": "927-1214"},
                  "geo": {"latitude": 37.39, "longitude": 136.90}},
     "items": [{"itemCode": "HNY-1", "jan": "4901234567894", "itemName": "はちみつ", "qty": 1}]}

A row whose status is "cancelled" or "returned" is an event for the order `orderNo`
(all its items, or the `itemCode`s listed in `items`), at `updatedAt`. The records name no
channel: they are the channel's of the key that posts them (in a backfill, `grocery`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Annotated, Literal

import msgspec

from services.ingest import parsing
from services.ingest.model import (
    Aware,
    Customer,
    Email,
    Line,
    NonEmpty,
    Order,
    OrderEvent,
    Quantity,
    Rejection,
    ShipTo,
)


class Member(msgspec.Struct, rename="camel", kw_only=True):
    """The buyer; `memberId` is the shop's customer id."""

    member_id: NonEmpty
    mail: Email
    lang: str = ""
    tz: str = ""
    name: str = ""


class Address(msgspec.Struct, kw_only=True):
    """The delivery address."""

    country: str = "JP"
    prefecture: str | None = None
    zip: str | None = None


class Geo(msgspec.Struct, kw_only=True):
    """Coordinates, where the channel knows them."""

    latitude: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    longitude: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class Delivery(msgspec.Struct, kw_only=True):
    """Where the order is delivered."""

    address: Address
    geo: Geo | None = None


class Item(msgspec.Struct, rename="camel", kw_only=True):
    """One item of the order."""

    item_code: NonEmpty
    item_name: str = ""
    jan: str | None = None
    qty: Quantity = 1


class GroceryOrder(msgspec.Struct, rename="camel", kw_only=True):
    """A grocery order as the channel sends it."""

    order_no: NonEmpty
    ordered_at: Aware
    member: Member
    delivery: Delivery
    items: Annotated[list[Item], msgspec.Meta(min_length=1)]
    status: Literal["ordered"] = "ordered"


class CodeOnly(msgspec.Struct, rename="camel", kw_only=True):
    """An item named in a cancellation or return."""

    item_code: NonEmpty


class GroceryEvent(msgspec.Struct, rename="camel", kw_only=True):
    """A cancellation or return as the channel sends it."""

    order_no: NonEmpty
    status: Literal["cancelled", "returned"]
    updated_at: Aware | None = None
    items: list[CodeOnly] = []


class _Status(msgspec.Struct):
    status: str = "ordered"


_order = msgspec.json.Decoder(GroceryOrder)
_event = msgspec.json.Decoder(GroceryEvent)
_status = msgspec.json.Decoder(_Status)


def to_order(g: GroceryOrder, channel: str) -> Order:
    """The canonical order of a grocery order of `channel`."""
    address, geo = g.delivery.address, g.delivery.geo
    return Order(
        order_id=g.order_no,
        channel=channel,
        placed_at=g.ordered_at,
        customer=Customer(
            id=g.member.member_id,
            email=g.member.mail,
            locale=g.member.lang,
            timezone=g.member.tz,
            name=g.member.name,
        ),
        ship_to=ShipTo(
            country=address.country,
            region=address.prefecture,
            postal_code=address.zip,
            lat=geo.latitude if geo else None,
            lon=geo.longitude if geo else None,
        ),
        lines=[
            Line(sku=i.item_code, title=i.item_name, gtin=i.jan, quantity=i.qty) for i in g.items
        ],
    )


def record(raw: bytes, channel: str) -> Order | OrderEvent | Rejection:
    """Decode one grocery record of `channel`."""
    status = parsing.decode(raw, _status)
    if not isinstance(status, Rejection) and status.status in ("cancelled", "returned"):
        event = parsing.decode(raw, _event)
        if isinstance(event, Rejection):
            return event
        return OrderEvent(
            event=event.status,
            channel=channel,
            order_id=event.order_no,
            at=event.updated_at,
            skus=[i.item_code for i in event.items],
        )
    found = parsing.decode(raw, _order)
    return found if isinstance(found, Rejection) else to_order(found, channel)


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
