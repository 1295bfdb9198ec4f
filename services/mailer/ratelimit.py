"""Send rates shared by every mailer replica: token buckets in PostgreSQL, overall and per domain.

A bucket holds at most one second of its rate and refills continuously. Buckets are read
with the database's own clock (every replica agrees on it) and locked in key order inside
the claim's transaction, so two replicas can neither spend the same token nor deadlock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.db import Conn

OVERALL = ""  # the key of the overall bucket; every other key is a recipient domain


class Rates:
    """Tokens granted for one claim; `allow` spends them mail by mail, in priority order."""

    def __init__(self, available: dict[str, float], at: datetime | None) -> None:
        self.left = available
        self.at = at

    def allow(self, domain: str) -> bool:
        """Spend one overall token and one of the domain, if both buckets have one."""
        overall, per_domain = self.left.get(OVERALL), self.left.get(domain)
        if (overall is not None and overall < 1) or (per_domain is not None and per_domain < 1):
            return False
        if overall is not None:
            self.left[OVERALL] = overall - 1
        if per_domain is not None:
            self.left[domain] = per_domain - 1
        return True

    def exhausted(self) -> bool:
        """True when the overall bucket has no whole token left."""
        return self.left.get(OVERALL, 1.0) < 1


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
