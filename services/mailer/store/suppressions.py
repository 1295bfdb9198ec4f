"""Mailer's SQL for suppressions: addresses never mailed again, listed and lifted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from shared.db import Conn


async def suppress(conn: Conn, email: str, reason: str) -> None:
    """Never mail this address again."""
    await conn.execute(
        "INSERT INTO suppressions (email, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        email,
        reason,
    )


async def suppress_waiting(conn: Conn, email: str) -> None:
    """Suppress what still waits for this address, under every customer id that has it."""
    await conn.execute(
        "UPDATE deliveries d SET state = 'suppressed' FROM contacts c"
        " WHERE c.email = $1 AND d.customer_id = c.customer_id"
        " AND d.state IN ('queued', 'deferred')",
        email,
    )


async def suppress_bounced(conn: Conn, emails: Sequence[str], details: Sequence[str]) -> None:
    """Suppress addresses whose mailbox does not exist or is disabled, with the relay's reply."""
    if emails:
        await conn.execute(
            "INSERT INTO suppressions (email, reason, detail)"
            " SELECT DISTINCT ON (e) e, 'bounce', d FROM unnest($1::text[], $2::text[]) AS u(e, d)"
            " ON CONFLICT DO NOTHING",
            list(emails),
            [d[:500] for d in details],
        )


async def list_suppressions(
    conn: Conn, limit: int, address: str = ""
) -> tuple[int, list[asyncpg.Record]]:
    """The total, and the latest suppressions (or the one of `address`), newest first."""
    total: int = await conn.fetchval("SELECT count(*) FROM suppressions")
    rows = await conn.fetch(
        "SELECT email, reason, detail, at FROM suppressions"
        " WHERE $2 = '' OR email = $2 ORDER BY at DESC, email LIMIT $1",
        limit,
        address,
    )
    return total, rows


async def suppression_counts(conn: Conn) -> dict[str, int]:
    """Suppressions by reason."""
    rows = await conn.fetch("SELECT reason, count(*) AS n FROM suppressions GROUP BY reason")
    return {r["reason"]: r["n"] for r in rows}


async def suppression_reason(conn: Conn, email: str) -> str | None:
    """Why an address is suppressed (locked until commit); None if it is not."""
    reason: str | None = await conn.fetchval(
        "SELECT reason FROM suppressions WHERE email = $1 FOR UPDATE", email
    )
    return reason


async def lift_suppression(conn: Conn, email: str, reason: str, by: str, requeued: int) -> None:
    """Mail this address again; the audit keeps when, why, by whom, never the address."""
    await conn.execute("DELETE FROM suppressions WHERE email = $1", email)
    await conn.execute(
        "INSERT INTO suppression_lifts (reason, by, requeued) VALUES ($1, $2, $3)",
        reason,
        by,
        requeued,
    )


async def requeue_suppressed(conn: Conn, email: str, now: datetime) -> int:
    """Queue again what the suppression stopped for this address: its suppressed and failed
    deliveries of advisories neither withdrawn nor expired. The claim checks each again (the
    cap, quiet hours, a copy already sent under another customer id)."""
    status = await conn.execute(
        "UPDATE deliveries d SET state = 'queued', next_attempt_at = $2, hold = NULL"
        " FROM contacts c, advisories a"
        " WHERE c.email = $1 AND d.customer_id = c.customer_id"
        " AND a.advisory_id = d.advisory_id AND a.withdrawn_at IS NULL"
        " AND (a.expires_at IS NULL OR a.expires_at > $2)"
        " AND d.state IN ('suppressed', 'failed')",
        email,
        now,
    )
    return int(status.split()[-1])
