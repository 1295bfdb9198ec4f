"""Mailer's SQL for an advisory's evidence: its ledger rows in key order, a page at a time."""

from __future__ import annotations

import asyncpg

from shared.db import Conn

_PAGE = (
    "SELECT event_id, customer_id, state, requested_at, queued_at, claimed_at, sent_at,"
    " message_id, feedback, feedback_at, read_at, acted, acted_at, notice FROM deliveries"
    " WHERE advisory_id = $1 AND (event_id, customer_id) > ($2, $3)"
    " ORDER BY event_id, customer_id LIMIT $4"
)


async def rows_after(
    conn: Conn, advisory_id: str, after: tuple[str, str], limit: int
) -> list[asyncpg.Record]:
    """Up to `limit` ledger rows of an advisory after the key (event, customer) `after`."""
    return await conn.fetch(_PAGE, advisory_id, after[0], after[1], limit)
