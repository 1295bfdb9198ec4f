"""Mailer's SQL for provider health: mails sent and reports taken within a window, by domain."""

from __future__ import annotations

from datetime import datetime

from shared.db import Conn

# A mail is one Message-ID (a digest carries several rows); the domain is the contact's now.
_BY_DOMAIN = (
    "SELECT lower(split_part(c.email, '@', 2)) AS domain,"
    " count(DISTINCT d.message_id) FILTER (WHERE d.state = 'sent' AND d.sent_at > $1) AS sent,"
    " count(DISTINCT d.message_id) FILTER (WHERE d.feedback = 'hard' AND d.feedback_at > $1)"
    " AS hard,"
    " count(DISTINCT d.message_id) FILTER (WHERE d.feedback = 'complaint'"
    " AND d.feedback_at > $1) AS complaints,"
    " count(DISTINCT d.message_id) FILTER (WHERE d.feedback = 'policy' AND d.feedback_at > $1)"
    " AS policy"
    " FROM deliveries d JOIN contacts c ON c.customer_id = d.customer_id"
    " WHERE (d.state = 'sent' AND d.sent_at > $1)"
    " OR (d.feedback IS NOT NULL AND d.feedback_at > $1)"
    " GROUP BY 1"
)


async def figures_by_domain(conn: Conn, since: datetime) -> dict[str, tuple[int, int, int, int]]:
    """Per recipient domain: (mails sent, hard bounces, complaints, policy refusals) since then."""
    rows = await conn.fetch(_BY_DOMAIN, since)
    return {r["domain"]: (r["sent"], r["hard"], r["complaints"], r["policy"]) for r in rows}
