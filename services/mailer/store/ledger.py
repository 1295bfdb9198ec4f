"""Mailer's SQL for a claim of the delivery ledger: due rows, the checks before sending,
in flight.

What happens to a row once it is in flight (recorded, renewed, swept) is in `fence.py`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from shared.db import Conn

# (advisory_id, event_id, customer_id): event_id names a declared disaster, '' for the rest.
Key = tuple[str, str, str]

# The advisory's row is read under a share lock: a correction (notices.py) waits for the
# claims that read the text it replaces, and claims after it read the new text. Only a
# withdrawal notice is claimed once its advisory is withdrawn.
_DUE = (
    "SELECT d.advisory_id, d.event_id, d.customer_id, d.priority, d.kind, d.reason, d.purchases,"
    " d.attempts, d.notice, c.email, c.name, c.locale, c.timezone, a.agency_name, a.title,"
    " a.body, a.source_url, a.expires_at, s.email IS NOT NULL AS suppressed, p.off"
    " FROM deliveries d"
    " JOIN contacts c ON c.customer_id = d.customer_id"
    " JOIN advisories a ON a.advisory_id = d.advisory_id"
    "   AND (a.withdrawn_at IS NULL OR d.notice = 'withdrawal')"
    " LEFT JOIN suppressions s ON s.email = c.email"
    " LEFT JOIN preferences p ON p.email = c.email"
    " WHERE d.state IN ('queued', 'deferred') AND d.next_attempt_at <= $1 AND d.priority >= $3"
    " ORDER BY d.priority DESC, d.next_attempt_at LIMIT $2"
    " FOR UPDATE OF d SKIP LOCKED FOR SHARE OF a"
)


def _columns(keys: Sequence[Key]) -> tuple[list[str], list[str], list[str]]:
    return [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys]


# Joins the unnested keys u(a, e, c, …) to their ledger rows.
_MATCH = "d.advisory_id = u.a AND d.event_id = u.e AND d.customer_id = u.c"
# The ledger rows of one contact of the claim's addresses. OFFSET 0 keeps the subquery apart,
# so that the addresses lead (a few hundred, by `contacts_by_email`) and each contact's rows
# are read by `deliveries_by_customer`. Planned on statistics older than a burst, the joins
# read every sent row of the ledger, or of the advisory, for each claim instead: a cost that
# grew with each mail sent (70 ms a claim once the bench's ledger held 12,000 rows).
_OF_CONTACT = "FROM deliveries d WHERE d.customer_id = c.customer_id"
# A claim changes only the rows it found waiting (and holds locked).
_WAITING = "d.state IN ('queued', 'deferred')"


async def due(conn: Conn, now: datetime, limit: int, lowest: int = 0) -> list[asyncpg.Record]:
    """Lock up to `limit` deliveries (of priority `lowest` or more) whose time has come,
    highest priority first. Inside the claim's transaction."""
    # A burst (a disaster's audience queued within a second) outruns the table's statistics:
    # planned for the few due rows they still promise, the claim joined and sorted every due
    # row (16,000 in the Noto replay) to keep 200. Walking `deliveries_due` in its order
    # stops at the limit, whatever the statistics say.
    await conn.execute("SET LOCAL enable_sort = off")
    rows = await conn.fetch(_DUE, now, limit, lowest)
    await conn.execute("RESET enable_sort")
    return rows


async def set_state(conn: Conn, keys: Sequence[Key], state: str) -> None:
    """Move waiting deliveries to a final state such as 'suppressed'."""
    if keys:
        await conn.execute(
            "UPDATE deliveries d SET state = $4, hold = NULL"
            f" FROM unnest($1::text[], $2::text[], $3::text[]) AS u(a, e, c) WHERE {_MATCH}"
            f" AND {_WAITING}",
            *_columns(keys),
            state,
        )


async def decline(conn: Conn, keys: Sequence[Key]) -> None:
    """Suppress waiting deliveries whose address turned their family of advice off."""
    if keys:
        await conn.execute(
            "UPDATE deliveries d SET state = 'suppressed', hold = NULL,"
            " suppressed_by = 'preference'"
            f" FROM unnest($1::text[], $2::text[], $3::text[]) AS u(a, e, c) WHERE {_MATCH}"
            f" AND {_WAITING}",
            *_columns(keys),
        )


async def lock_addresses(conn: Conn, emails: Sequence[str]) -> None:
    """Serialize decisions per address across replicas (until commit): the cap, duplicates."""
    if emails:
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('anshin:mail:' || e, 0))"
            " FROM unnest($1::text[]) AS e ORDER BY e",
            sorted(set(emails)),
        )


async def mailed(
    conn: Conn, advisory_ids: Sequence[str], emails: Sequence[str]
) -> set[tuple[str, str, str]]:
    """Which (advisory, event, address) are already sent or in flight, under any customer id."""
    if not emails:
        return set()
    rows = await conn.fetch(
        "SELECT d.advisory_id, d.event_id, c.email FROM contacts c"
        f" CROSS JOIN LATERAL (SELECT d.advisory_id, d.event_id {_OF_CONTACT}"
        "   AND d.advisory_id = ANY($1::text[]) AND d.state IN ('sent', 'sending') OFFSET 0) d"
        " WHERE c.email = ANY($2::text[])",
        list(set(advisory_ids)),
        list(set(emails)),
    )
    return {(r["advisory_id"], r["event_id"], r["email"]) for r in rows}


async def routine_sent(
    conn: Conn, emails: Sequence[str], since: datetime, below: int
) -> dict[str, list[datetime]]:
    """When each address's routine mails (priority below `below`) went out since `since`.

    Counted per address, under every customer id that has it: a guest who checks out
    five times is five customer ids and one mailbox.
    """
    if not emails:  # a claim of urgent mail only: the query would still read the ledger
        return {}
    rows = await conn.fetch(
        "SELECT c.email, min(d.at) AS at FROM contacts c"
        " CROSS JOIN LATERAL (SELECT d.message_id, coalesce(d.sent_at, d.claimed_at) AS at"
        f"   {_OF_CONTACT} AND d.priority < $3 AND d.state IN ('sent', 'sending')"
        "   AND coalesce(d.sent_at, d.claimed_at) > $2 OFFSET 0) d"
        " WHERE c.email = ANY($1::text[])"
        " GROUP BY c.email, d.message_id",
        list(set(emails)),
        since,
        below,
    )
    sent: dict[str, list[datetime]] = {}
    for r in rows:
        sent.setdefault(r["email"], []).append(r["at"])
    return sent


async def start_sending(
    conn: Conn,
    keys: Sequence[Key],
    message_ids: Sequence[str],
    now: datetime,
    lease: timedelta,
    token: uuid.UUID,
) -> None:
    """Mark deliveries as in flight under the claim's token and a lease on the database clock."""
    if keys:
        await conn.execute(
            "UPDATE deliveries d SET state = 'sending', claimed_at = $5, hold = NULL,"
            " attempts = attempts + 1, message_id = u.m, lease_until = clock_timestamp() + $6,"
            # The VERP token's reference to the mail (bounces/verp.py, mail_ref).
            " claim_token = $7,"
            " mail_ref = substring(sha256(convert_to(u.m, 'UTF8')) FROM 1 FOR 10),"
            # The version of the text it carries: the claim holds the advisory's row shared.
            " version = (SELECT a.version FROM advisories a WHERE a.advisory_id = d.advisory_id)"
            " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(a, e, c, m)"
            f" WHERE {_MATCH} AND {_WAITING}",
            *_columns(keys),
            list(message_ids),
            now,
            lease,
            token,
        )


async def wait(
    conn: Conn,
    keys: Sequence[Key],
    until: Sequence[datetime],
    holds: Sequence[str | None],
    error: Sequence[str | None] | None = None,
) -> None:
    """Defer waiting deliveries until a time; a None hold only moves the time (a rate limit)."""
    if keys:
        await conn.execute(
            "UPDATE deliveries d SET next_attempt_at = u.t,"
            " state = CASE WHEN u.h IS NULL THEN d.state ELSE 'deferred' END,"
            " hold = coalesce(u.h, d.hold), error = coalesce(u.err, d.error)"
            " FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[],"
            f" $6::text[]) AS u(a, e, c, t, h, err) WHERE {_MATCH} AND {_WAITING}",
            *_columns(keys),
            list(until),
            list(holds),
            list(error) if error is not None else [None] * len(keys),
        )
