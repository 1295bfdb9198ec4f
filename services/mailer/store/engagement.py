"""Mailer's SQL for what a customer did with a mail (read, answered) and the funnel it feeds.

Both are written on the delivery's own row and only the first time: the funnel counts rows,
and nothing else about the person is kept.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.mailer.store.ledger import Key
from shared.db import Conn

_KEY = "advisory_id = $1 AND event_id = $2 AND customer_id = $3"


async def sent_row(conn: Conn, key: Key) -> asyncpg.Record | None:
    """A sent delivery's row with its contact's language, or None (never sent, or unknown).

    A mail still `sending` is sent: its link was opened, so the relay took it, and its answer
    may not be recorded yet (the recorder commits answers in groups).
    """
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT d.read_at, d.acted, c.locale FROM deliveries d"
        " LEFT JOIN contacts c ON c.customer_id = d.customer_id"
        f" WHERE d.{_KEY.replace(' AND ', ' AND d.')} AND d.state IN ('sending', 'sent')",
        *key,
    )
    return row


async def mark_read(conn: Conn, key: Key, now: datetime) -> bool:
    """Note that the mail's safety-page link was opened (a `sending` mail too, as in
    sent_row); False if it was before."""
    found = await conn.fetchval(
        f"UPDATE deliveries SET read_at = $4 WHERE {_KEY} AND state IN ('sending', 'sent')"
        " AND read_at IS NULL RETURNING true",
        *key,
        now,
    )
    return bool(found)


async def mark_acted(conn: Conn, key: Key, acted: str, now: datetime) -> bool:
    """Note the customer's answer (checked, gone); False if they had answered before."""
    found = await conn.fetchval(
        f"UPDATE deliveries SET acted = $4, acted_at = $5 WHERE {_KEY}"
        " AND state IN ('sending', 'sent')"
        " AND acted_at IS NULL RETURNING true",
        *key,
        acted,
        now,
    )
    return bool(found)


# Each step counts the rows of the one before it that also pass its own test.
_FUNNEL = (
    "SELECT count(*) AS bought,"
    " count(*) FILTER (WHERE contactable) AS contactable,"
    " count(*) FILTER (WHERE contactable AND delivered) AS delivered,"
    " count(*) FILTER (WHERE contactable AND delivered AND read_at IS NOT NULL) AS read,"
    " count(*) FILTER (WHERE contactable AND delivered AND acted_at IS NOT NULL) AS acted,"
    " count(*) FILTER (WHERE acted = 'checked') AS acted_checked,"
    " count(*) FILTER (WHERE acted = 'gone') AS acted_gone"
    " FROM (SELECT d.read_at, d.acted_at, d.acted,"
    # An address, not suppressed (bounced, unsubscribed, complained) when the mail was due:
    # a row sent counts, whatever came back later; one still waiting is asked now.
    "   coalesce(c.email, '') <> '' AND (d.state = 'sent' OR (d.state <> 'suppressed'"
    "   AND s.email IS NULL)) AS contactable,"
    # Accepted by the relay, and no bounce reported since.
    "   d.state = 'sent' AND coalesce(d.feedback, '') NOT IN ('hard', 'soft') AS delivered"
    "   FROM deliveries d LEFT JOIN contacts c ON c.customer_id = d.customer_id"
    "   LEFT JOIN suppressions s ON s.email = c.email"
    # The advice itself: a correction or withdrawal notice is no new buyer reached.
    "   WHERE d.advisory_id = $1 AND d.notice = '') AS f"
)


async def funnel(conn: Conn, advisory_id: str) -> dict[str, int]:
    """An advisory's deliveries step by step: bought, contactable, delivered, read, acted."""
    row = await conn.fetchrow(_FUNNEL, advisory_id)
    return {name: int(n) for name, n in row.items()} if row is not None else {}
