"""The one path of every order into ingest, for the HTTP API and the backfill alike.

Records are normalized, categorized and stored with their bus events in one transaction;
the answer counts what was new, what was a duplicate, and names each rejected record.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from services.ingest import areas, store, voids
from services.ingest.categorize import categorize
from services.ingest.formats import Indexed
from services.ingest.metrics import AREAS, CONTACTS_KEPT, RECORDS
from services.ingest.model import Order, OrderEvent, Rejection
from services.ingest.normalize import Prepared, prepare
from shared.db import Conn, unit_of_work
from shared.errors import field_error

UNKNOWN_ORDER = "no such order"
CONFLICT = (
    "an order of this id was accepted with other lines, and an order is kept as first"
    " accepted: cancel or return its lines, or send the new order under a new id"
    " (in a CSV file, keep the rows of one order together)"
)
KEPT = (
    "customer {}'s contact is kept: only a channel with orders of this customer,"
    " or the operator, may change it"
)
# A channel's clock may run a little ahead of ours, or an offset be off by hours; an order
# stamped days ahead is a wrong date (a year typed wrong), never a purchase yet to happen.
AHEAD = timedelta(days=1)


class Outcome(msgspec.Struct, kw_only=True):
    """What became of a batch: new, already known, rejected by index, and the new orders
    whose postal code named no municipality or county (accepted all the same), and those
    whose customer's contact was kept (a channel that never ordered for them changes none)."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = []
    unlocated: list[dict[str, Any]] = []
    # Only where there are any, so that the usual answer stays as it was.
    contacts_kept: list[dict[str, Any]] | msgspec.UnsetType = msgspec.UNSET


def email_secret(secret_key: str) -> bytes:
    """The key of the e-mail hashes, derived from the service secret."""
    return hmac.new(secret_key.encode(), b"anshin:ingest:email", hashlib.sha256).digest()


async def ingest(
    pool: asyncpg.Pool,
    records: Indexed,
    *,
    secret: bytes,
    now: datetime,
    link_by_email: bool = False,
    trusted: bool = False,
) -> Outcome:
    """Normalize, categorize and store a batch of orders and order events.

    `trusted` for the shop's own writers (the operator's key, the backfill): their orders
    may change the contact of any customer, a channel's only of its own (store.customers).
    """
    rejected: list[tuple[int, list[dict[str, str]]]] = []
    orders: list[tuple[int, Prepared]] = []
    order_events: list[tuple[int, OrderEvent]] = []
    for index, record in records:
        if isinstance(record, Order) and record.placed_at > now + AHEAD:
            rejected.append((index, [field_error("placed_at", _ahead(record.placed_at, now))]))
        elif isinstance(record, Order):
            ready = prepare(record, secret, link_by_email=link_by_email)
            if isinstance(ready, Prepared):
                orders.append((index, ready))
            else:
                rejected.append((index, ready.errors))
        elif isinstance(record, Rejection):
            rejected.append((index, record.errors))
        else:
            order_events.append((index, record))
    batch = [p for _, p in orders]
    async with unit_of_work(pool) as conn:
        await categorize(conn, batch)
        if link_by_email:
            await _link(conn, batch)
        new, kept = await store.accept_orders(conn, batch, trusted=trusted)
        placed = [o for o, is_new in zip(orders, new, strict=True) if is_new]
        clashes = await store.conflicting(conn, batch, new)
        resolved, refused = await _resolve(conn, order_events, now)
        new += await store.record_events(conn, [e for _, e in resolved])
    rejected += refused
    rejected += [(orders[i][0], [field_error("order_id", CONFLICT)]) for i in clashes]
    accepted = sum(new)
    duplicates = len(new) - accepted - len(clashes)
    RECORDS.labels("accepted").inc(accepted)
    RECORDS.labels("duplicate").inc(duplicates)
    RECORDS.labels("rejected").inc(len(rejected))
    return Outcome(
        accepted=accepted,
        duplicates=duplicates,
        rejected=[{"index": i, "errors": e} for i, e in sorted(rejected, key=lambda r: r[0])],
        unlocated=_areas(placed),
        contacts_kept=_kept([(orders[k][0], orders[k][1], f) for k, f in kept]) or msgspec.UNSET,
    )


def _kept(kept: list[tuple[int, Prepared, str]]) -> list[dict[str, Any]]:
    """Count and name the orders whose customer's contact was kept as it was."""
    for _, p, _ in kept:
        CONTACTS_KEPT.labels(p.order.channel).inc()
    return [
        {"index": index, "field": field, "problem": KEPT.format(p.order.customer.id)}
        for index, p, field in kept
    ]


def _areas(accepted: list[tuple[int, Prepared]]) -> list[dict[str, Any]]:
    """Count the new orders' areas by outcome; name those whose postal code gave none."""
    unlocated = []
    counts: Counter[tuple[str, str]] = Counter()
    for index, p in accepted:
        s = p.order.ship_to
        counts[s.country, p.area_outcome] += 1
        problem = areas.problem(p.area_outcome, s.country, s.postal_code, s.region)
        if problem:
            unlocated.append({"index": index, "field": "ship_to.postal_code", "problem": problem})
    for (country, outcome), n in counts.items():
        if country in areas.COUNTRIES:  # the countries whose data we have
            AREAS.labels(country, outcome).inc(n)
    return unlocated


def _ahead(placed_at: datetime, now: datetime) -> str:
    return (
        f"{placed_at.isoformat()} is more than a day after our clock ({now.isoformat()}):"
        " an order's time is when it was placed; check its date and UTC offset"
    )


async def _link(conn: Conn, batch: list[Prepared]) -> None:
    """Give a marketplace buyer the shop's customer id of the same e-mail address.

    The shop's own id wins over a buyer id of the channel (`marketplace:…`), even one seen
    first: a buyer who ordered on the marketplace before the shop knew them is linked from
    the shop's first order on. Where only buyer ids are known, the first one seen.
    """
    keys = [p.email_key for p in batch if p.link_by_email]
    known = await store.customers_by_email(conn, keys) if keys else {}
    for p in batch:
        ids = known.get(p.email_key, [])
        own = [i for i in ids if not i.startswith(f"{p.order.channel}:")]
        shop_id = (own or ids or [""])[0]
        if p.link_by_email and shop_id and shop_id != p.order.customer.id:
            customer = msgspec.structs.replace(p.order.customer, id=shop_id)
            p.order = msgspec.structs.replace(p.order, customer=customer)


async def _resolve(
    conn: Conn, rows: list[tuple[int, OrderEvent]], now: datetime
) -> tuple[list[tuple[int, store.Resolved]], list[tuple[int, list[dict[str, str]]]]]:
    """Find each event's order and name its lines; refuse events of unknown orders or lines."""
    known = await store.known_orders(conn, list({(e.channel, e.order_id) for _, e in rows}))
    resolved: list[tuple[int, store.Resolved]] = []
    refused: list[tuple[int, list[dict[str, str]]]] = []
    for index, e in rows:
        order = known.get((e.channel, e.order_id))
        if order is None:
            refused.append((index, [field_error("order_id", f"{UNKNOWN_ORDER} on {e.channel}")]))
            continue
        named = voids.resolve(e, order)
        if not isinstance(named, voids.Voided):
            refused.append((index, named))
            continue
        event = store.Resolved(
            event=e.event,
            channel=e.channel,
            order_id=e.order_id,
            customer_id=order.customer_id,
            at=e.at or now,
            line_nos=named.line_nos,
            quantities=named.quantities,
            ref=e.ref,
        )
        resolved.append((index, event))
    return resolved, refused
