"""Matcher's SQL: purchase history, rules, matches and delivery requests through the outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg
import msgspec

from shared import messages as m
from shared.bus import Subjects
from shared.db import Conn
from shared.outbox import enqueue_encoded

BATCH_RECIPIENTS = 500


async def record_purchases(conn: Conn, order: m.OrderPlaced) -> None:
    """Add an order's categorized lines to the purchase history (idempotent)."""
    loc = order.location
    await conn.executemany(
        "INSERT INTO purchases (channel, order_id, line_no, category, customer_id, sku, gtin,"
        " title, placed_at, country, region, lat, lon)"
        " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13) ON CONFLICT DO NOTHING",
        [
            (
                order.channel,
                order.order_id,
                line.line_no,
                category,
                order.customer_id,
                line.sku,
                line.gtin,
                line.title,
                order.placed_at,
                loc.country,
                loc.region,
                loc.lat,
                loc.lon,
            )
            for line in order.lines
            for category in line.categories
        ],
    )


async def deactivate(conn: Conn, channel: str, order_id: str, line_nos: Sequence[int]) -> None:
    """Mark cancelled or returned lines (all lines when `line_nos` is empty) as not owned."""
    await conn.execute(
        "UPDATE purchases SET active = false WHERE channel = $1 AND order_id = $2"
        " AND (cardinality($3::int[]) = 0 OR line_no = ANY($3::int[]))",
        channel,
        order_id,
        list(line_nos),
    )


async def save_rule(conn: Conn, event: m.AdvisoryPublished) -> bool:
    """Store or update a rule; return False when it was withdrawn or is older than the one kept."""
    row = await conn.fetchrow(
        "INSERT INTO rules (advisory_id, version, kind, rule, published_at, expires_at)"
        " VALUES ($1, $2, $3, $4::jsonb, $5, $6)"
        " ON CONFLICT (advisory_id) DO UPDATE SET version = excluded.version,"
        " rule = excluded.rule, expires_at = excluded.expires_at"
        " WHERE rules.version < excluded.version AND rules.withdrawn_at IS NULL"
        " RETURNING withdrawn_at",
        event.advisory_id,
        event.version,
        event.rule.kind,
        msgspec.json.encode(event.rule).decode(),
        event.published_at,
        event.expires_at,
    )
    if row is not None:
        return True
    withdrawn = await conn.fetchval(
        "SELECT withdrawn_at FROM rules WHERE advisory_id = $1", event.advisory_id
    )
    return withdrawn is None


async def withdraw_rule(conn: Conn, advisory_id: str, at: datetime) -> None:
    """Mark a rule withdrawn, remembering it even if its publication arrives later."""
    await conn.execute(
        "INSERT INTO rules (advisory_id, version, kind, rule, published_at, withdrawn_at)"
        " VALUES ($1, 0, 'withdrawn', '{}'::jsonb, $2, $2)"
        " ON CONFLICT (advisory_id) DO UPDATE SET withdrawn_at = excluded.withdrawn_at",
        advisory_id,
        at,
    )


async def active_rules(
    conn: Conn, kinds: Sequence[str], now: datetime
) -> list[tuple[str, str, m.AdvisoryRule]]:
    """Return (advisory_id, kind, rule) of every live rule of the given kinds."""
    rows = await conn.fetch(
        "SELECT advisory_id, kind, rule FROM rules WHERE kind = ANY($1) AND withdrawn_at IS NULL"
        " AND (expires_at IS NULL OR expires_at > $2)",
        list(kinds),
        now,
    )
    decode = msgspec.json.Decoder(m.AdvisoryRule).decode
    return [(r["advisory_id"], r["kind"], decode(r["rule"])) for r in rows]


async def short_term_audience(
    conn: Conn, rule: m.AdvisoryRule, now: datetime
) -> list[asyncpg.Record]:
    """Each customer's latest purchase in the categories still inside the window."""
    return await conn.fetch(
        "SELECT DISTINCT ON (customer_id) customer_id, channel, order_id, sku, title, placed_at"
        " FROM purchases WHERE active AND category = ANY($1) AND placed_at >= $2"
        " AND placed_at <= $3 ORDER BY customer_id, placed_at DESC",
        rule.categories,
        now - timedelta(days=rule.window_days),
        now,
    )


async def request_deliveries(
    conn: Conn,
    advisory_id: str,
    kind: str,
    priority: int,
    recipients: list[m.Recipient],
    now: datetime,
) -> int:
    """Record new matches and put delivery batches for them in the outbox; return how many.

    Customers already matched for this advisory are skipped: the matches table, not the
    broker, is what makes a redelivered order or publication harmless.
    """
    if not recipients:
        return 0
    new_ids = {
        r["customer_id"]
        for r in await conn.fetch(
            "INSERT INTO matches (advisory_id, customer_id, matched_at)"
            " SELECT $1, unnest($2::text[]), $3 ON CONFLICT DO NOTHING RETURNING customer_id",
            advisory_id,
            [r.customer_id for r in recipients],
            now,
        )
    }
    fresh = [r for r in recipients if r.customer_id in new_ids]
    events = []
    for start in range(0, len(fresh), BATCH_RECIPIENTS):
        chunk = fresh[start : start + BATCH_RECIPIENTS]
        batch_id = f"{advisory_id}:{chunk[0].customer_id}:{len(chunk)}"
        batch = m.DeliveryBatch(
            batch_id=batch_id,
            advisory_id=advisory_id,
            kind=kind,
            priority=priority,
            requested_at=now,
            recipients=chunk,
        )
        events.append((Subjects.DELIVERIES_REQUESTED, f"deliveries:{batch_id}", m.encode(batch)))
    await enqueue_encoded(conn, events)
    return len(fresh)
