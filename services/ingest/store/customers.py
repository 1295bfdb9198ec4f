"""Ingest's SQL for customers: their contact data as hashes, and who may change it.

Customer ids are shop-wide, so any channel may name any customer; but the contact (the
address the safety mail goes to) of an existing customer is changed only by a channel that
ordered for them with their contact accepted (`customers.channels`), or by a trusted writer
(the operator's key, the backfill). Another channel's order still counts as a purchase;
its contact is kept, and the caller names it in the answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from services.ingest import publishing
from services.ingest.normalize import Prepared
from services.ingest.people import KEY_BYTES
from shared.db import Conn

_HELD = """
SELECT customer_id, email_key, contact_key, channels FROM customers
WHERE customer_id = ANY($1::text[])
"""

# A customer's contact data is replaced only by that of a newer order, and only reported
# (RETURNING) where it changed: a backfill of old orders never overwrites newer data.
# The keys travel packed end to end and the times as microseconds since the epoch: asyncpg
# encodes an array element by element, and bytea and timestamptz arrays were most of the
# Python time of this statement (and cost PostgreSQL more to decode as well).
# The channel test ($6) repeats the caller's decision inside the statement: a customer
# created by another batch since the caller read them is not taken over either.
_UPSERT_CUSTOMERS = f"""
INSERT INTO customers AS c (customer_id, email_key, contact_key, seen_at, channels)
SELECT t.customer_id,
    substring($2::bytea FROM t.n::int * {KEY_BYTES} - {KEY_BYTES - 1} FOR {KEY_BYTES}),
    substring($3::bytea FROM t.n::int * {KEY_BYTES} - {KEY_BYTES - 1} FOR {KEY_BYTES}),
    timestamptz 'epoch' + t.us * interval '1 microsecond',
    ARRAY[t.channel]
FROM unnest($1::text[], $4::int8[], $5::text[])
    WITH ORDINALITY AS t(customer_id, us, channel, n)
ON CONFLICT (customer_id) DO UPDATE
    SET email_key = excluded.email_key, contact_key = excluded.contact_key,
        seen_at = excluded.seen_at, updated_at = now()
    WHERE c.contact_key <> excluded.contact_key AND c.seen_at <= excluded.seen_at
        AND ($6 OR excluded.channels[1] = ANY(c.channels))
RETURNING customer_id
"""

_GRANT = """
UPDATE customers c SET channels = ARRAY(SELECT DISTINCT x FROM unnest(c.channels || g.channels) x
                                        ORDER BY 1)
FROM (SELECT customer_id, array_agg(channel) AS channels
      FROM unnest($1::text[], $2::text[]) AS t(customer_id, channel) GROUP BY customer_id) g
WHERE c.customer_id = g.customer_id
"""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class _Held(msgspec.Struct, frozen=True, gc=False):
    email_key: bytes
    contact_key: bytes
    channels: list[str]


class Kept(msgspec.Struct, frozen=True):
    """An accepted order whose customer's contact was kept: its position, what differed."""

    position: int
    field: str


async def upsert(
    conn: Conn, accepted: list[Prepared], *, trusted: bool
) -> tuple[list[publishing.Outgoing], list[Kept]]:
    """Store the contacts of new orders' customers where they may change; the events of
    those that changed, and the orders whose customer's contact was kept as it was."""
    ids = sorted({p.order.customer.id for p in accepted})
    rows = await conn.fetch(_HELD, ids) if ids else []
    held = {
        r["customer_id"]: _Held(bytes(r["email_key"]), bytes(r["contact_key"]), r["channels"])
        for r in rows
    }
    kept: list[Kept] = []
    grants: set[tuple[str, str]] = set()
    latest: dict[str, Prepared] = {}  # the newest order of each customer that may change it
    for i, p in enumerate(accepted):
        customer = p.order.customer.id
        was = held.get(customer)
        if was is not None and p.order.channel not in was.channels:
            if not trusted and was.contact_key != p.contact_key:
                differs = "customer.email" if was.email_key != p.email_key else "customer"
                kept.append(Kept(i, differs))
                continue
            # The shop's own writer, or a channel that knows the contact exactly as it is:
            # from now on this channel may change it.
            grants.add((customer, p.order.channel))
        seen = latest.get(customer)
        if seen is None or seen.order.placed_at <= p.order.placed_at:
            latest[customer] = p
    if len({p.order.channel for p in accepted}) > 1:  # an operator's batch of many channels
        grants |= {(k, p.order.channel) for p in accepted if (k := p.order.customer.id) not in held}
    people = [latest[k] for k in sorted(latest)]
    changed = await conn.fetch(
        _UPSERT_CUSTOMERS,
        [p.order.customer.id for p in people],
        b"".join(p.email_key for p in people),
        b"".join(p.contact_key for p in people),
        [(p.order.placed_at - _EPOCH) // _MICROSECOND for p in people],
        [p.order.channel for p in people],
        trusted,
    )
    # A new customer's channel comes with the insert: the usual batch grants nothing more.
    grants -= {(k, p.order.channel) for k, p in latest.items() if k not in held}
    if grants:
        await conn.execute(_GRANT, *(list(c) for c in zip(*sorted(grants), strict=True)))
    return publishing.customers_many([latest[r["customer_id"]] for r in changed]), kept
