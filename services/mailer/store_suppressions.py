"""The mailer's SQL for suppressions: addresses never mailed again, listed and lifted."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from shared.db import Conn


async def bounced(conn: Conn, emails: Sequence[str], details: Sequence[str]) -> None:
    """Suppress addresses whose mailbox does not exist or is disabled, with the relay's reply."""
    if emails:
        await conn.execute(
            "INSERT INTO suppressions (email, reason, detail)"
            " SELECT DISTINCT ON (e) e, 'bounce', d FROM unnest($1::text[], $2::text[]) AS u(e, d)"
            " ON CONFLICT DO NOTHING",
            list(emails),
            [d[:500] for d in details],
        )


async def listing(
    pool: asyncpg.Pool, limit: int, address: str = ""
) -> tuple[int, list[asyncpg.Record]]:
    """The total, and the latest suppressions (or the one of `address`), newest first."""
    async with pool.acquire() as conn:
        total: int = await conn.fetchval("SELECT count(*) FROM suppressions")
        rows = await conn.fetch(
            "SELECT email, reason, detail, at FROM suppressions"
            " WHERE $2 = '' OR email = $2 ORDER BY at DESC, email LIMIT $1",
            limit,
            address,
        )
    return total, rows


async def counts(pool: asyncpg.Pool) -> dict[str, int]:
    """Suppressions by reason."""
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT reason, count(*) AS n FROM suppressions GROUP BY reason")
    return {r["reason"]: r["n"] for r in rows}


async def reason_of(conn: Conn, email: str) -> str | None:
    """Why an address is suppressed (locked until commit); None if it is not."""
    reason: str | None = await conn.fetchval(
        "SELECT reason FROM suppressions WHERE email = $1 FOR UPDATE", email
    )
    return reason


async def delete(conn: Conn, email: str, reason: str, by: str, requeued: int) -> None:
    """Mail this address again; the audit keeps when, why, by whom, never the address."""
    await conn.execute("DELETE FROM suppressions WHERE email = $1", email)
    await conn.execute(
        "INSERT INTO suppression_lifts (reason, by, requeued) VALUES ($1, $2, $3)",
        reason,
        by,
        requeued,
    )


async def requeue(conn: Conn, email: str, now: datetime) -> int:
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
