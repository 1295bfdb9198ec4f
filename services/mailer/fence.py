"""The ledger's SQL for mail in flight: every change needs the claim's token and `sending`.

A claim marks its rows `sending` under a fresh token and a short lease, and renews the lease
while it sends. A replica that dies stops renewing; once the lease has run out the sweep
puts its rows back, and another claim takes them under a token of its own. The dead or
stalled claim's late answers then match no row: they cannot turn the re-sent mail back to
`deferred`, or fail it and suppress the address.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from services.mailer.ledger import Key
from shared.db import Conn

# The unnested keys u(a, e, c, …) matched to rows this claim holds.
_HELD = (
    "d.advisory_id = u.a AND d.event_id = u.e AND d.customer_id = u.c"
    " AND d.state = 'sending' AND d.claim_token = $4"
)


def _columns(keys: Sequence[Key]) -> tuple[list[str], list[str], list[str]]:
    return [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]


async def mark_sent(conn: Conn, token: uuid.UUID, keys: Sequence[Key], now: datetime) -> None:
    """Record that SMTP accepted these deliveries' mails."""
    if keys:
        await conn.execute(
            "UPDATE deliveries d SET state = 'sent', sent_at = $5, error = NULL, hold = NULL,"
            " lease_until = NULL, claim_token = NULL"
            f" FROM unnest($1::text[], $2::text[], $3::text[]) AS u(a, e, c) WHERE {_HELD}",
            *_columns(keys),
            token,
            now,
        )


async def retry(
    conn: Conn,
    token: uuid.UUID,
    keys: Sequence[Key],
    until: Sequence[datetime],
    errors: Sequence[str],
    holds: Sequence[str],
) -> None:
    """Send these again later: 'retry' (a 4xx, a lost connection, a refusal that is not the
    address's) or 'paused' (not tried: the path paused)."""
    if keys:
        await conn.execute(
            "UPDATE deliveries d SET state = 'deferred', hold = u.h, next_attempt_at = u.t,"
            " error = u.err, lease_until = NULL, claim_token = NULL FROM unnest($1::text[],"
            " $2::text[], $3::text[], $5::timestamptz[], $6::text[], $7::text[])"
            f" AS u(a, e, c, t, err, h) WHERE {_HELD}",
            *_columns(keys),
            token,
            list(until),
            [e[:500] for e in errors],
            list(holds),
        )


async def mark_failed(
    conn: Conn, token: uuid.UUID, keys: Sequence[Key], errors: Sequence[str]
) -> set[Key]:
    """Record permanent failures; return the keys that were still this claim's."""
    if not keys:
        return set()
    rows = await conn.fetch(
        "UPDATE deliveries d SET state = 'failed', error = u.err, lease_until = NULL,"
        " claim_token = NULL"
        " FROM unnest($1::text[], $2::text[], $3::text[], $5::text[]) AS u(a, e, c, err)"
        f" WHERE {_HELD} RETURNING d.advisory_id, d.event_id, d.customer_id",
        *_columns(keys),
        token,
        [e[:500] for e in errors],
    )
    return {(r["advisory_id"], r["event_id"], r["customer_id"]) for r in rows}


async def renew(pool: asyncpg.Pool, tokens: Sequence[uuid.UUID], lease: timedelta) -> int:
    """Extend the lease of every row still in flight under these tokens; return how many.

    A lease that ran out but was not swept yet is renewed too: the row is still this claim's.
    """
    if not tokens:
        return 0
    async with pool.acquire() as conn:
        status = await conn.execute(
            "UPDATE deliveries SET lease_until = clock_timestamp() + $2"
            " WHERE state = 'sending' AND claim_token = ANY($1::uuid[])",
            list(tokens),
            lease,
        )
    return int(status.split()[-1])


async def release_stale(pool: asyncpg.Pool, now: datetime, held: Sequence[uuid.UUID] = ()) -> int:
    """Put back what a dead replica claimed but never confirmed, to be sent again.

    Never the rows of the claims this replica holds (`held`): a lease that ran out while the
    database was away is renewed once it is back. A row of an advisory withdrawn meanwhile is
    cancelled, as the withdrawal cancelled everything else still waiting.
    """
    async with pool.acquire() as conn:
        status = await conn.execute(
            "UPDATE deliveries d SET next_attempt_at = $1, lease_until = NULL, claim_token = NULL,"
            " state = CASE WHEN EXISTS (SELECT 1 FROM advisories a"
            "   WHERE a.advisory_id = d.advisory_id AND a.withdrawn_at IS NOT NULL)"
            "   THEN 'cancelled' ELSE 'queued' END"
            " WHERE state = 'sending' AND lease_until < clock_timestamp()"
            " AND NOT coalesce(claim_token = ANY($2::uuid[]), false)",
            now,
            list(held),
        )
    return int(status.split()[-1])
