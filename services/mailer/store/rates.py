"""Mailer's SQL for the send rates' token buckets: locked, refilled and written back by a claim."""

from __future__ import annotations

from collections.abc import Sequence

from services.mailer.ratelimit import OVERALL, Rates
from shared.db import Conn


async def lock(conn: Conn, domains: Sequence[str], overall: float, per_domain: float) -> Rates:
    """Lock and refill the buckets a claim needs; a rate of 0 or less is unlimited."""
    keys = ([OVERALL] if overall > 0 else []) + (sorted(set(domains)) if per_domain > 0 else [])
    if not keys:
        return Rates({}, None)
    rates = [overall if k == OVERALL else per_domain for k in keys]
    await conn.execute(
        "INSERT INTO rate_buckets (key, tokens, updated_at)"
        " SELECT k, GREATEST(r, 1), clock_timestamp()"
        " FROM unnest($1::text[], $2::float8[]) AS u(k, r)"
        " ORDER BY k ON CONFLICT DO NOTHING",
        keys,
        rates,
    )
    await conn.execute(
        "SELECT 1 FROM rate_buckets WHERE key = ANY($1::text[]) ORDER BY key FOR UPDATE", keys
    )
    # Locked now; this statement's fresh snapshot sees what the previous holder left.
    rows = await conn.fetch(
        "WITH now AS (SELECT clock_timestamp() AS at)"
        " SELECT b.key, now.at, LEAST(GREATEST(u.r, 1),"
        "   b.tokens + u.r * GREATEST(0, extract(epoch FROM now.at - b.updated_at))) AS tokens"
        " FROM now, rate_buckets b JOIN unnest($1::text[], $2::float8[]) AS u(k, r)"
        " ON b.key = u.k",
        keys,
        rates,
    )
    return Rates({r["key"]: float(r["tokens"]) for r in rows}, rows[0]["at"] if rows else None)


async def save(conn: Conn, rates: Rates) -> None:
    """Write back what is left in each locked bucket after the claim spent its tokens."""
    if rates.at is None:
        return
    keys = list(rates.left)
    await conn.execute(
        "UPDATE rate_buckets b SET tokens = u.t, updated_at = $3"
        " FROM unnest($1::text[], $2::float8[]) AS u(k, t) WHERE b.key = u.k",
        keys,
        [rates.left[k] for k in keys],
        rates.at,
    )
