"""Matcher's SQL for the durable schedule of long-term deliveries, claimed by any replica with
SKIP LOCKED."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from shared import messages as m
from shared.db import Conn

if TYPE_CHECKING:
    from services.matcher.audience import Where

Due = tuple[str, str, int, str, datetime]  # channel, order_id, line_no, customer_id, due_at


async def schedule_lines(conn: Conn, advisory_id: str, lines: Sequence[Due]) -> int:
    """Schedule one delivery per purchase line (idempotent); return how many are new."""
    if not lines:
        return 0
    channels, orders, line_nos, customers, dues = (list(c) for c in zip(*lines, strict=True))
    status = await conn.execute(
        "INSERT INTO schedule (advisory_id, channel, order_id, line_no, customer_id, due_at)"
        " SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[], $5::text[],"
        " $6::timestamptz[]) ON CONFLICT DO NOTHING",
        advisory_id,
        channels,
        orders,
        line_nos,
        customers,
        dues,
    )
    return int(status.rsplit(" ", 1)[-1])


async def schedule_matching(conn: Conn, advisory_id: str, after_years: int, w: Where) -> int:
    """Schedule every purchase line under the clause at its anniversary; return how many."""
    years = w.p(after_years)
    status = await conn.execute(
        "INSERT INTO schedule (advisory_id, channel, order_id, line_no, customer_id, due_at)"
        f" SELECT DISTINCT ON (channel, order_id, line_no) {w.p(advisory_id)}, channel, order_id,"
        f" line_no, customer_id, placed_at + make_interval(years => {years}::int)"
        f" FROM purchases WHERE {w.sql} ON CONFLICT DO NOTHING",
        *w.params,
    )
    return int(status.rsplit(" ", 1)[-1])


async def claim_due(conn: Conn, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Take (and remove) due entries that no other replica holds; undone if we roll back."""
    return await conn.fetch(
        "WITH due AS (SELECT advisory_id, channel, order_id, line_no FROM schedule"
        " WHERE due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
        " DELETE FROM schedule s USING due WHERE (s.advisory_id, s.channel, s.order_id,"
        " s.line_no) = (due.advisory_id, due.channel, due.order_id, due.line_no)"
        " RETURNING s.advisory_id, s.channel, s.order_id, s.line_no, s.customer_id",
        now,
        limit,
    )


async def still_due(
    conn: Conn, claimed: Sequence[asyncpg.Record], now: datetime
) -> dict[str, list[m.Recipient]]:
    """The claimed entries whose advisory is live and purchase still owned, by advisory."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (s.advisory_id, p.customer_id) s.advisory_id, p.customer_id,"
        " p.channel, p.order_id, p.sku, p.title, p.placed_at"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $6::text[])"
        " AS s(advisory_id, channel, order_id, line_no, customer_id)"
        " JOIN rules r ON r.advisory_id = s.advisory_id AND r.withdrawn_at IS NULL"
        " AND (r.expires_at IS NULL OR r.expires_at > $5)"
        " JOIN purchases p ON p.customer_id = s.customer_id"
        " AND p.bucket = customer_bucket(s.customer_id) AND (p.channel, p.order_id, p.line_no)"
        " = (s.channel, s.order_id, s.line_no) AND p.active"
        # An amended advisory may have dropped the category the entry was scheduled for.
        " AND p.category IN (SELECT jsonb_array_elements_text(r.rule->'categories'))"
        " ORDER BY s.advisory_id, p.customer_id, p.placed_at",
        [r["advisory_id"] for r in claimed],
        [r["channel"] for r in claimed],
        [r["order_id"] for r in claimed],
        [r["line_no"] for r in claimed],
        now,
        [r["customer_id"] for r in claimed],
    )
    due: dict[str, list[m.Recipient]] = defaultdict(list)
    for r in rows:
        purchase = m.Purchase(
            channel=r["channel"],
            order_id=r["order_id"],
            sku=r["sku"],
            title=r["title"],
            placed_at=r["placed_at"],
        )
        due[r["advisory_id"]].append(
            m.Recipient(customer_id=r["customer_id"], reason="anniversary", purchases=[purchase])
        )
    return due
