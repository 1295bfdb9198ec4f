"""Mailer's SQL for retention: old ledger rows under pseudonyms, expired erasure tombstones."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.db import Conn

# Final rows only: what still waits or is on the wire keeps its customer.
_FINAL = "state NOT IN ('queued', 'deferred', 'sending')"
PSEUDONYMS = ("erased:%", "expired:%")


async def customers_before(conn: Conn, cutoff: datetime, batch: int) -> list[str]:
    """Up to `batch` customer ids of final ledger rows requested before `cutoff`."""
    rows = await conn.fetch(
        "SELECT DISTINCT customer_id FROM (SELECT customer_id FROM deliveries"
        f" WHERE requested_at < $1 AND {_FINAL}"
        " AND customer_id NOT LIKE ALL($3::text[]) LIMIT $2) AS d",
        cutoff,
        batch,
        list(PSEUDONYMS),
    )
    return [r["customer_id"] for r in rows]


async def pseudonymize(
    conn: Conn, cutoff: datetime, customer_ids: Sequence[str], pseudonyms: Sequence[str]
) -> int:
    """Put the customers' final rows requested before `cutoff` under their pseudonyms, without
    the purchases or the relay's reply; return how many rows changed."""
    count: int = await conn.fetchval(
        "WITH changed AS (UPDATE deliveries d SET customer_id = u.p, purchases = '[]',"
        " error = NULL, feedback_detail = NULL FROM unnest($1::text[], $2::text[]) AS u(c, p)"
        f" WHERE d.customer_id = u.c AND d.requested_at < $3 AND {_FINAL}"
        " RETURNING 1) SELECT count(*) FROM changed",
        list(customer_ids),
        list(pseudonyms),
        cutoff,
    )
    return count


async def prune_soft_bounces(conn: Conn, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` soft bounces from before `cutoff`: past the window they count in."""
    count: int = await conn.fetchval(
        "WITH gone AS (DELETE FROM soft_bounces WHERE ctid IN (SELECT ctid FROM soft_bounces"
        " WHERE at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1) SELECT count(*) FROM gone",
        cutoff,
        batch,
    )
    return count


async def prune_tombstones(conn: Conn, cutoff: datetime, batch: int) -> int:
    """Delete up to `batch` erased customers' hashes kept since before `cutoff`."""
    count: int = await conn.fetchval(
        "WITH gone AS (DELETE FROM erased_customers WHERE customer_key IN (SELECT customer_key"
        " FROM erased_customers WHERE erased_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)"
        " RETURNING 1) SELECT count(*) FROM gone",
        cutoff,
        batch,
    )
    return count
