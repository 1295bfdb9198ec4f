"""The bus messages of ingest's facts, encoded for the outbox as (subject, msg_id, payload)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from services.ingest.normalize import Prepared
from shared import bus
from shared import messages as m
from shared.bus import Subjects

if TYPE_CHECKING:  # the store imports this module
    from services.ingest.store.order_events import Resolved

Outgoing = tuple[str, str, bytes]

# Orders per `orders.batch` message and customers per `customers.batch`; either is split
# further while it takes more than half of NATS's max_payload (shared.bus.split).
BATCH_ORDERS = 500
BATCH_CUSTOMERS = 500


def placed(p: Prepared) -> Outgoing:
    """orders.placed: customer id, time, location and every line with its categories (none
    for a product in no safety category: a recall by SKU or GTIN still needs it); no e-mail."""
    o = p.order
    return Subjects.ORDERS_PLACED, f"order:{o.channel}:{o.order_id}:placed", m.encode(_fact(p))


def placed_many(batch: Sequence[Prepared]) -> list[Outgoing]:
    """The orders of a batch: one `orders.placed` alone, more in `orders.batch` messages.

    Publishing costs per message, not per order: a backfill of millions of orders would
    otherwise spend most of its time waiting for JetStream acks.
    """
    if len(batch) == 1:
        return [placed(batch[0])]
    facts = [_fact(p) for p in batch]
    return _in_messages(
        lambda _: Subjects.ORDERS_BATCH,
        "order-batch",
        [(f"{o.channel}:{o.order_id}", o) for o in facts],
        lambda part: m.OrderBatch(orders=part),
        BATCH_ORDERS,
    )


def _in_messages(
    subject: Callable[[str], str],
    kind: str,
    facts: Sequence[tuple[str, msgspec.Struct]],
    wrap: Callable[[list[Any]], m.Message],
    most: int,
) -> list[Outgoing]:
    """The (key, fact) pairs in messages of at most `most` facts, split further while one
    is too large (very long texts).

    A message's id is a hash of its facts' keys: the same facts make the same message again.
    """
    found = []
    for part, payload in bus.split(facts, lambda p: m.encode(wrap([f for _, f in p])), most=most):
        digest = hashlib.blake2b("\n".join(k for k, _ in part).encode(), digest_size=16)
        found.append((subject(digest.hexdigest()), f"{kind}:{digest.hexdigest()}", payload))
    return found


def _fact(p: Prepared) -> m.OrderPlaced:
    o, s = p.order, p.order.ship_to
    return m.OrderPlaced(
        channel=o.channel,
        order_id=o.order_id,
        customer_id=o.customer.id,
        placed_at=o.placed_at,
        location=_coarse(s.country, s.region, s.lat, s.lon, p.area),
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


def _coarse(
    country: str, region: str | None, lat: float | None, lon: float | None, area: str | None
) -> m.Location:
    """Where an order ships to, as coarse as DESIGN promises: the region, the municipality or
    county, and coordinates to two decimals (about 1 km); the postal code and the exact point
    stay in ingest."""
    return m.Location(
        country=country,
        region=region,
        lat=None if lat is None else round(lat, 2),
        lon=None if lon is None else round(lon, 2),
        area_code=area,
    )


def customer(p: Prepared) -> Outgoing:
    """customers.upserted: the contact data, for the mailer only."""
    subject = Subjects.customer_upserted(p.order.customer.id)
    return subject, _customer_key(p), m.encode(_contact(p))


def customers_many(people: Sequence[Prepared]) -> list[Outgoing]:
    """Contact data of many customers: one `customers.upserted` alone, more in `customers.batch`.

    A backfill brings a new customer every few orders: one message each cost it more than
    storing their orders.
    """
    if len(people) == 1:
        return [customer(people[0])]
    return _in_messages(
        Subjects.customer_batch,
        "customer-batch",
        [(_customer_key(p), _contact(p)) for p in people],
        lambda part: m.CustomerBatch(customers=part),
        BATCH_CUSTOMERS,
    )


def _contact(p: Prepared) -> m.CustomerUpserted:
    o, c = p.order, p.order.customer
    return m.CustomerUpserted(
        customer_id=c.id,
        email=c.email,
        locale=c.locale,
        timezone=c.timezone,
        name=c.name,
        updated_at=o.placed_at,
    )


def _customer_key(p: Prepared) -> str:
    o = p.order
    return f"customer:{o.customer.id}:{o.channel}:{o.order_id}"


def order_event(e: Resolved) -> Outgoing:
    """orders.cancelled or orders.returned; empty `line_nos` means the whole order.

    The message id names the fact: the lines, the quantities where part of a line is meant,
    and the channel's ref where it gave one, so two returns of one unit each are two facts.
    """
    lines = f":{','.join(map(str, e.line_nos))}" if e.line_nos else ""
    lines += f":q{','.join(map(str, e.quantities))}" if e.quantities else ""
    lines += f":r{e.ref}" if e.ref else ""
    msg_id = f"order:{e.channel}:{e.order_id}:{e.event}{lines}"
    kind = m.OrderCancelled if e.event == "cancelled" else m.OrderReturned
    subject = Subjects.ORDERS_CANCELLED if e.event == "cancelled" else Subjects.ORDERS_RETURNED
    fact = kind(
        channel=e.channel,
        order_id=e.order_id,
        customer_id=e.customer_id,
        at=e.at,
        line_nos=e.line_nos,
        quantities=e.quantities,
        ref=e.ref,
    )
    return subject, msg_id, m.encode(fact)
