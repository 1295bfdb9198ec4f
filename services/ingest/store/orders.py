"""Ingest's SQL for orders: stored once per (channel, order id), with their events in the outbox.

Everything is done in bulk (unnest and COPY), so a batch of thousands costs a few round
trips: the same code serves the HTTP API and the ten-year backfill.
"""

from __future__ import annotations

from services.ingest import publishing
from services.ingest.normalize import Prepared
from shared.db import Conn
from shared.outbox import enqueue_encoded

_INSERT_ORDERS = """
INSERT INTO orders (channel, order_id, customer_id, placed_at, country, region, postal_code,
                    lat, lon, geo_source)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],
                     $6::text[], $7::text[], $8::float8[], $9::float8[], $10::text[])
ON CONFLICT DO NOTHING
RETURNING channel, order_id
"""

# A customer's contact data is replaced only by that of a newer order, and only reported
# (RETURNING) where it changed: a backfill of old orders never overwrites newer data.
_UPSERT_CUSTOMERS = """
INSERT INTO customers AS c (customer_id, email_key, contact_key, seen_at)
SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::timestamptz[])
ON CONFLICT (customer_id) DO UPDATE
    SET email_key = excluded.email_key, contact_key = excluded.contact_key,
        seen_at = excluded.seen_at, updated_at = now()
    WHERE c.contact_key <> excluded.contact_key AND c.seen_at <= excluded.seen_at
RETURNING customer_id
"""

_LINE_COLUMNS = [
    "channel",
    "order_id",
    "line_no",
    "sku",
    "gtin",
    "title",
    "quantity",
    "categories",
    "categorized_by",
]


async def linked_customers(conn: Conn, email_keys: list[bytes]) -> dict[bytes, str]:
    """Return the shop's customer id known for each e-mail key (the first one seen)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (email_key) email_key, customer_id FROM customers"
        " WHERE email_key = ANY($1::bytea[]) ORDER BY email_key, seen_at",
        email_keys,
    )
    return {bytes(r["email_key"]): r["customer_id"] for r in rows}


async def accept_orders(conn: Conn, batch: list[Prepared]) -> list[bool]:
    """Store new orders with their events in the outbox; return, per order, whether it was new.

    Call inside a transaction. Orders are taken in key order, so that concurrent batches
    lock rows in the same order and cannot deadlock.
    """
    ordered = sorted(
        range(len(batch)), key=lambda i: (batch[i].order.channel, batch[i].order.order_id)
    )
    orders = [batch[i].order for i in ordered]
    inserted = await conn.fetch(
        _INSERT_ORDERS,
        [o.channel for o in orders],
        [o.order_id for o in orders],
        [o.customer.id for o in orders],
        [o.placed_at for o in orders],
        [o.ship_to.country for o in orders],
        [o.ship_to.region for o in orders],
        [o.ship_to.postal_code for o in orders],
        [o.ship_to.lat for o in orders],
        [o.ship_to.lon for o in orders],
        [batch[i].geo_source for i in ordered],
    )
    fresh = {(r["channel"], r["order_id"]) for r in inserted}
    new = [False] * len(batch)
    for i, p in enumerate(batch):
        key = (p.order.channel, p.order.order_id)
        if key in fresh:  # the first of twins in one batch is the new one
            fresh.discard(key)
            new[i] = True
    accepted = [p for p, is_new in zip(batch, new, strict=True) if is_new]
    records = []
    for p in accepted:
        channel, order_id = p.order.channel, p.order.order_id
        for n, (line, (cats, how)) in enumerate(zip(p.order.lines, p.categories, strict=True), 1):
            records.append(
                (channel, order_id, n, line.sku, line.gtin, line.title, line.quantity, cats, how)
            )
    await conn.copy_records_to_table("order_lines", records=records, columns=_LINE_COLUMNS)
    outbox = publishing.placed_many(accepted)
    outbox += await _changed_customers(conn, accepted)
    await enqueue_encoded(conn, outbox)
    return new


async def _changed_customers(conn: Conn, accepted: list[Prepared]) -> list[tuple[str, str, bytes]]:
    latest: dict[str, Prepared] = {}
    for p in accepted:
        seen = latest.get(p.order.customer.id)
        if seen is None or seen.order.placed_at <= p.order.placed_at:
            latest[p.order.customer.id] = p
    people = [latest[k] for k in sorted(latest)]
    changed = await conn.fetch(
        _UPSERT_CUSTOMERS,
        [p.order.customer.id for p in people],
        [p.email_key for p in people],
        [p.contact_key for p in people],
        [p.order.placed_at for p in people],
    )
    return [publishing.customer(latest[r["customer_id"]]) for r in changed]
