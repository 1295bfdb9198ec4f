"""Mailer's SQL for returned mail: the mail a report names, what it did, soft-bounce counts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.mailer.store.ledger import Key
from shared.db import Conn

_ROWS = (
    "SELECT d.advisory_id, d.event_id, d.customer_id, c.email FROM deliveries d"
    " LEFT JOIN contacts c ON c.customer_id = d.customer_id"
)


async def first_report(conn: Conn, event_id: str, intake: str) -> bool:
    """Note a report by its intake's id; False if it was taken before (a retry, a replay)."""
    found = await conn.fetchval(
        "INSERT INTO feedback_events (id, intake) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        event_id[:500],
        intake,
    )
    return bool(found)


async def mail_rows(conn: Conn, ref: bytes) -> list[asyncpg.Record]:
    """The ledger rows of the mail a VERP token names, with their contact's address now."""
    return await conn.fetch(_ROWS + " WHERE d.mail_ref = $1 FOR UPDATE OF d", ref)


async def rows_to(conn: Conn, email: str, message_id: str) -> list[asyncpg.Record]:
    """The rows of the mail with this Message-ID to this address; else of the latest mail sent
    to it (a relay's webhook names the address, and its own id more often than ours)."""
    if message_id:
        rows = await conn.fetch(
            _ROWS + " WHERE d.message_id = $2 AND c.email = $1 FOR UPDATE OF d", email, message_id
        )
        if rows:
            return rows
    return await conn.fetch(
        _ROWS + " WHERE c.email = $1 AND d.message_id = (SELECT d2.message_id FROM deliveries d2"
        " JOIN contacts c2 ON c2.customer_id = d2.customer_id WHERE c2.email = $1"
        " AND d2.state = 'sent' ORDER BY d2.sent_at DESC LIMIT 1) FOR UPDATE OF d",
        email,
    )


async def record(conn: Conn, keys: Sequence[Key], kind: str, detail: str, now: datetime) -> None:
    """Write what came back about a mail on its ledger rows."""
    await conn.execute(
        "UPDATE deliveries d SET feedback = $4, feedback_detail = $5, feedback_at = $6"
        " FROM unnest($1::text[], $2::text[], $3::text[]) AS u(a, e, c)"
        " WHERE d.advisory_id = u.a AND d.event_id = u.e AND d.customer_id = u.c",
        [k[0] for k in keys],
        [k[1] for k in keys],
        [k[2] for k in keys],
        kind,
        detail[:500],
        now,
    )


async def soft_bounces(conn: Conn, email: str, detail: str, now: datetime, since: datetime) -> int:
    """Count one more soft bounce of an address; return how many it had since `since`."""
    await conn.execute(
        "INSERT INTO soft_bounces (email, at, detail) VALUES ($1, $2, $3)", email, now, detail[:500]
    )
    # Older ones no longer count: forgotten, so the table keeps only the window.
    await conn.execute("DELETE FROM soft_bounces WHERE email = $1 AND at <= $2", email, since)
    count: int = await conn.fetchval(
        "SELECT count(*) FROM soft_bounces WHERE email = $1 AND at > $2", email, since
    )
    return count


async def suppress_complaint(conn: Conn, email: str, detail: str) -> None:
    """Never mail an address whose owner called our mail spam (a bounce becomes a complaint)."""
    await conn.execute(
        "INSERT INTO suppressions (email, reason, detail) VALUES ($1, 'complaint', $2)"
        " ON CONFLICT (email) DO UPDATE SET reason = 'complaint', detail = $2"
        " WHERE suppressions.reason = 'bounce'",
        email,
        detail[:500],
    )
