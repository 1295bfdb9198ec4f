"""Matcher's SQL for matches: each (advisory, event, customer) requested once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, NamedTuple

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


class Fold(NamedTuple):
    """Hold back whom the advisory reached for another disaster of `hazard` since `since`."""

    hazard: str
    since: datetime


# The audience, the new matches and each recipient's JSON in one statement: PostgreSQL builds
# the recipients, so a shard of thousands costs no Python object per customer.
_MATCHING = """
WITH audience AS (
    SELECT DISTINCT ON (customer_id) customer_id, channel, order_id, sku, title, placed_at
    FROM {source} WHERE {where} ORDER BY customer_id, placed_at DESC
){folding}, fresh AS (
    INSERT INTO matches (advisory_id, event_id, customer_id, matched_at)
    SELECT {advisory}, {event}, customer_id, {now} FROM audience{unfolded}
    ON CONFLICT DO NOTHING RETURNING customer_id
)
SELECT a.customer_id, json_build_object('customer_id', a.customer_id, 'reason', {reason}::text,
    'purchases', json_build_array(json_build_object('channel', a.channel, 'order_id', a.order_id,
    'sku', a.sku, 'title', a.title, 'placed_at', a.placed_at)))::text AS recipient
FROM audience a JOIN fresh USING (customer_id) ORDER BY a.customer_id
"""


# Aftershocks: a customer of the audience whom the advisory reached for another disaster of
# the same hazard since the fold began, and not yet for this one, is held back; each such
# customer is recorded once per event in `folds`, which the fold counts read.
_FOLDING = """, recent AS (
    SELECT a.customer_id FROM audience a
    WHERE EXISTS (SELECT 1 FROM matches p JOIN disaster_events e USING (event_id)
        WHERE p.advisory_id = {advisory} AND p.customer_id = a.customer_id
        AND p.event_id <> {event} AND e.hazard = {hazard} AND p.matched_at > {since})
    AND NOT EXISTS (SELECT 1 FROM matches q WHERE q.advisory_id = {advisory}
        AND q.event_id = {event} AND q.customer_id = a.customer_id)
), folded AS (
    INSERT INTO folds (advisory_id, event_id, customer_id, folded_at)
    SELECT {advisory}, {event}, customer_id, {now} FROM recent ON CONFLICT DO NOTHING
)"""


async def match_all(
    conn: Conn,
    advisory_id: str,
    event_id: str,
    w: Where,
    reason: str,
    now: datetime,
    fold: Fold | None = None,
) -> list[tuple[str, msgspec.Raw]]:
    """Match every customer under the clause not matched yet (nor held back by `fold`);
    return each new one with its recipient (their latest purchase) as JSON, in customer
    order."""
    advisory, event, at = w.p(advisory_id), w.p(event_id), w.p(now)
    folding = unfolded = ""
    if fold is not None:
        folding = _FOLDING.format(
            advisory=advisory, event=event, now=at, hazard=w.p(fold.hazard), since=w.p(fold.since)
        )
        unfolded = " WHERE customer_id NOT IN (SELECT customer_id FROM recent)"
    sql = _MATCHING.format(
        source=w.source,
        where=w.sql,
        folding=folding,
        unfolded=unfolded,
        advisory=advisory,
        event=event,
        now=at,
        reason=w.p(reason),
    )
    rows = await conn.fetch(sql, *w.params)
    return [(r["customer_id"], msgspec.Raw(r["recipient"].encode())) for r in rows]


async def record_event(conn: Conn, event_id: str, hazard: str, at: datetime) -> None:
    """Remember a declared disaster's hazard (what folding compares)."""
    await conn.execute(
        "INSERT INTO disaster_events (event_id, hazard, declared_at) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
        event_id,
        hazard,
        at,
    )


async def folds_of(conn: Conn, advisory_id: str) -> dict[str, int]:
    """How many customers folding held back for each disaster, of one advisory."""
    rows = await conn.fetch(
        "SELECT event_id, count(*) AS n FROM folds WHERE advisory_id = $1 GROUP BY event_id",
        advisory_id,
    )
    return {r["event_id"]: r["n"] for r in rows}
