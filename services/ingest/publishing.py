"""The bus messages of ingest's facts, encoded for the outbox as (subject, msg_id, payload)."""

from __future__ import annotations

from datetime import datetime

from services.ingest.normalize import Prepared
from shared import messages as m
from shared.bus import Subjects

Outgoing = tuple[str, str, bytes]


def placed(p: Prepared) -> Outgoing:
    """orders.placed: customer id, time, location and every line with its categories (none
    for a product in no safety category: a recall by SKU or GTIN still needs it); no e-mail."""
    o, s = p.order, p.order.ship_to
    event = m.OrderPlaced(
        channel=o.channel,
        order_id=o.order_id,
        customer_id=o.customer.id,
        placed_at=o.placed_at,
        location=m.Location(
            country=s.country, region=s.region, postal_code=s.postal_code, lat=s.lat, lon=s.lon
        ),
        lines=[
            m.OrderLine(
                line_no=n,
                sku=line.sku,
                gtin=line.gtin,
                title=line.title,
                quantity=line.quantity,
                categories=cats,
            )
            for n, (line, (cats, _)) in enumerate(zip(o.lines, p.categories, strict=True), 1)
        ],
    )
    return Subjects.ORDERS_PLACED, f"order:{o.channel}:{o.order_id}:placed", m.encode(event)


def customer(p: Prepared) -> Outgoing:
    """customers.upserted: the contact data, for the mailer only."""
    o, c = p.order, p.order.customer
    event = m.CustomerUpserted(
        customer_id=c.id,
        email=c.email,
        locale=c.locale,
        timezone=c.timezone,
        name=c.name,
        updated_at=o.placed_at,
    )
    msg_id = f"customer:{c.id}:{o.channel}:{o.order_id}"
    return Subjects.CUSTOMERS_UPSERTED, msg_id, m.encode(event)


def order_event(
    event: str, channel: str, order_id: str, customer_id: str, at: datetime, line_nos: list[int]
) -> Outgoing:
    """orders.cancelled or orders.returned; empty `line_nos` means the whole order."""
    lines = f":{','.join(map(str, line_nos))}" if line_nos else ""
    msg_id = f"order:{channel}:{order_id}:{event}{lines}"
    kind = m.OrderCancelled if event == "cancelled" else m.OrderReturned
    subject = Subjects.ORDERS_CANCELLED if event == "cancelled" else Subjects.ORDERS_RETURNED
    fact = kind(
        channel=channel, order_id=order_id, customer_id=customer_id, at=at, line_nos=line_nos
    )
    return subject, msg_id, m.encode(fact)
