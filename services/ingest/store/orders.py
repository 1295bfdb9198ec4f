"""Ingest's SQL for orders: stored once per (channel, order id), with their events in the outbox.

Everything is done in bulk, so a batch of thousands costs a few round trips: the same code
serves the HTTP API and the ten-year backfill.
"""

from __future__ import annotations

from datetime import datetime

import msgspec

from services.ingest import publishing
from services.ingest.normalize import Prepared
from services.ingest.store import customers
from shared.db import Conn
from shared.outbox import enqueue_encoded

# The whole batch travels as one JSON document: msgspec encodes it far faster than asyncpg
# encodes a dozen arrays element by element, and PostgreSQL parses it on its own core. It
# goes as UTF-8 bytes: as text, Python would decode it only for asyncpg to encode it again.
_INSERT_ORDERS = """
INSERT INTO orders (channel, order_id, customer_id, placed_at, country, region, postal_code,
                    lat, lon, geo_source, lines)
SELECT * FROM json_to_recordset(convert_from($1::bytea, 'UTF8')::json) AS t(channel text,
    order_id text, customer_id text, placed_at timestamptz, country text, region text,
    postal_code text, lat float8, lon float8, geo_source text, lines json)
ON CONFLICT DO NOTHING
RETURNING channel, order_id
"""


class StoredLine(msgspec.Struct, kw_only=True, gc=False):
    """A line as the orders table keeps it, with how its categories were found."""

    line_no: int
    sku: str
    gtin: str | None
    title: str
    quantity: int
    categories: list[str]
    categorized_by: str


class _Row(msgspec.Struct, kw_only=True, gc=False):
    channel: str
    order_id: str
    customer_id: str
    placed_at: datetime
    country: str
    region: str | None
    postal_code: str | None
    lat: float | None
    lon: float | None
    geo_source: str
    lines: list[StoredLine]


_encode = msgspec.json.Encoder().encode


async def customers_by_email(conn: Conn, email_keys: list[bytes]) -> dict[bytes, list[str]]:
    """Return the customer ids known for each e-mail key, the first seen first."""
    rows = await conn.fetch(
        "SELECT email_key, customer_id FROM customers"
        " WHERE email_key = ANY($1::bytea[]) ORDER BY email_key, seen_at, customer_id",
        email_keys,
    )
    known: dict[bytes, list[str]] = {}
    for r in rows:
        known.setdefault(bytes(r["email_key"]), []).append(r["customer_id"])
    return known


async def accept_orders(
    conn: Conn, batch: list[Prepared], *, trusted: bool = False
) -> tuple[list[bool], list[tuple[int, str]]]:
    """Store new orders with their events in the outbox; return, per order, whether it was
    new, and (position, field) of those whose customer's contact was kept (store.customers).

    Call inside a transaction; `trusted` for the shop's own writers (operator, backfill).
    Orders are taken in key order, so that concurrent batches lock rows in the same order
    and cannot deadlock.
    """
    document = _encode([_row(p) for p in sorted(batch, key=_order_key)])
    fresh = {(r["channel"], r["order_id"]) for r in await conn.fetch(_INSERT_ORDERS, document)}
    new = [False] * len(batch)
    for i, p in enumerate(batch):
        key = (p.order.channel, p.order.order_id)
        if key in fresh:  # the first of twins in one batch is the new one
            fresh.discard(key)
            new[i] = True
    accepted = [p for p, is_new in zip(batch, new, strict=True) if is_new]
    outbox = publishing.placed_many(accepted)
    contacts, kept = await customers.upsert(conn, accepted, trusted=trusted)
    await enqueue_encoded(conn, outbox + contacts)
    positions = [i for i, is_new in enumerate(new) if is_new]
    return new, [(positions[k.position], k.field) for k in kept]


def _order_key(p: Prepared) -> tuple[str, str]:
    return p.order.channel, p.order.order_id


_STORED_LINES = """
SELECT channel, order_id, lines FROM orders
WHERE (channel, order_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
"""


class _Content(msgspec.Struct, gc=False):
    """What makes two versions of an order the same order: the products and quantities."""

    sku: str
    quantity: int = 1


_lines = msgspec.json.Decoder(list[_Content])


async def conflicting(conn: Conn, batch: list[Prepared], new: list[bool]) -> list[int]:
    """Positions of the orders already known under their key but with other lines.

    Such an order is not the same order sent again: reported as a duplicate, its lines
    would be lost without a word (a CSV order whose rows are not together, a changed order
    re-sent under its old id). The lines of the order first accepted are the reference.
    """
    repeated = {_order_key(p) for p, is_new in zip(batch, new, strict=True) if not is_new}
    if not repeated:
        return []  # the usual batch: nothing to compare
    reference: dict[tuple[str, str], list[tuple[str, int]]] = {
        _order_key(p): _content(p)
        for p, is_new in zip(batch, new, strict=True)
        if is_new and _order_key(p) in repeated
    }
    earlier = [key for key in repeated if key not in reference]
    if earlier:
        rows = await conn.fetch(_STORED_LINES, *(list(c) for c in zip(*earlier, strict=True)))
        for r in rows:
            lines = _lines.decode(r["lines"])
            reference[r["channel"], r["order_id"]] = [(x.sku, x.quantity) for x in lines]
    return [
        i
        for i, (p, is_new) in enumerate(zip(batch, new, strict=True))
        if not is_new and _order_key(p) in reference and reference[_order_key(p)] != _content(p)
    ]


def _content(p: Prepared) -> list[tuple[str, int]]:
    return [(line.sku, line.quantity) for line in p.order.lines]


def _row(p: Prepared) -> _Row:
    o, s = p.order, p.order.ship_to
    return _Row(
        channel=o.channel,
        order_id=o.order_id,
        customer_id=o.customer.id,
        placed_at=o.placed_at,
        country=s.country,
        region=s.region,
        postal_code=s.postal_code,
        lat=s.lat,
        lon=s.lon,
        geo_source=p.geo_source,
        lines=[
            StoredLine(
                line_no=n,
                sku=line.sku,
                gtin=line.gtin,
                title=line.title,
                quantity=line.quantity,
                categories=cats,
                categorized_by=how,
            )
            for n, (line, (cats, how)) in enumerate(zip(o.lines, p.categories, strict=True), 1)
        ],
    )
