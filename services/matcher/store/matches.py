"""Matcher's SQL for matches: each (advisory, event, customer) requested once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from shared.db import Conn

if TYPE_CHECKING:
    from services.matcher.audience import Where


async def new_matches(
    conn: Conn, advisory_id: str, event_id: str, customer_ids: Sequence[str], now: datetime
) -> set[str]:
    """Record the matches not made before; return the customers new to them."""
    rows = await conn.fetch(
        "INSERT INTO matches (advisory_id, event_id, customer_id, matched_at)"
        " SELECT $1, $2, unnest($3::text[]), $4 ON CONFLICT DO NOTHING RETURNING customer_id",
        advisory_id,
        event_id,
        list(customer_ids),
        now,
    )
    return {r["customer_id"] for r in rows}


# The audience, the new matches and each recipient's JSON in one statement: PostgreSQL builds
# the recipients, so a shard of thousands costs no Python object per customer.
_MATCHING = """
WITH audience AS (
    SELECT DISTINCT ON (customer_id) customer_id, channel, order_id, sku, title, placed_at
    FROM {source} WHERE {where} ORDER BY customer_id, placed_at DESC
), fresh AS (
    INSERT INTO matches (advisory_id, event_id, customer_id, matched_at)
    SELECT {advisory}, {event}, customer_id, {now} FROM audience
    ON CONFLICT DO NOTHING RETURNING customer_id
)
SELECT a.customer_id, json_build_object('customer_id', a.customer_id, 'reason', {reason}::text,
    'purchases', json_build_array(json_build_object('channel', a.channel, 'order_id', a.order_id,
    'sku', a.sku, 'title', a.title, 'placed_at', a.placed_at)))::text AS recipient
FROM audience a JOIN fresh USING (customer_id) ORDER BY a.customer_id
"""


async def match_all(
    conn: Conn, advisory_id: str, event_id: str, w: Where, reason: str, now: datetime
) -> list[tuple[str, msgspec.Raw]]:
    """Match every customer under the clause not matched yet; return each new one with its
    recipient (their latest purchase) as JSON, in customer order."""
    sql = _MATCHING.format(
        source=w.source,
        where=w.sql,
        advisory=w.p(advisory_id),
        event=w.p(event_id),
        now=w.p(now),
        reason=w.p(reason),
    )
    rows = await conn.fetch(sql, *w.params)
    return [(r["customer_id"], msgspec.Raw(r["recipient"].encode())) for r in rows]
