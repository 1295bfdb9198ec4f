"""Mailer's SQL for the notices that follow an advisory to those who received it: a
correction after an amendment, a withdrawal notice after a withdrawal.

Each is a row of the ledger under the advisory's id, with an event of its own in the key
('correction:v{version}', 'withdrawal'): the key, not the broker, makes a redelivered
event harmless, and one customer gets one notice per amendment. The original delivery's
priority, kind, reason and purchases come along: the notice goes as the advice went.
"""

from __future__ import annotations

from datetime import datetime

from shared.db import Conn

# One row per customer who received the advice in a version below $5 (any declared disaster
# of a playbook): 'sending' too, since its mail is on its way with the text it was given.
_QUEUE = (
    "INSERT INTO deliveries (advisory_id, event_id, customer_id, priority, kind, reason,"
    " purchases, requested_at, next_attempt_at, queued_at, state, notice)"
    " SELECT DISTINCT ON (d.customer_id) d.advisory_id, $2, d.customer_id, d.priority, d.kind,"
    " d.reason, d.purchases, $3, $3, $3, 'queued', $4 FROM deliveries d"
    " WHERE d.advisory_id = $1 AND d.state IN ('sent', 'sending') AND d.notice <> 'withdrawal'"
    " AND d.event_id <> $2 AND coalesce(d.version, 0) < $5"
    " ORDER BY d.customer_id, d.priority DESC, d.sent_at DESC NULLS LAST"
    " ON CONFLICT DO NOTHING RETURNING 1"
)


def correction_event(version: int) -> str:
    """The key's event of the correction that a version brings."""
    return f"correction:v{version}"


WITHDRAWAL_EVENT = "withdrawal"


async def cancel_corrections(conn: Conn, advisory_id: str, version: int) -> int:
    """Cancel the corrections of earlier versions still waiting: this version's replaces
    them (a waiting mail is rendered with the latest text anyway); return how many.

    Call it before `save_advisory`: a claim may hold these rows while it waits for the
    advisory's row (ledger.py), so taking that row first could deadlock with it.
    """
    # Only earlier ones: an older version redelivered late cancels nothing of a newer one.
    status = await conn.execute(
        "UPDATE deliveries SET state = 'cancelled', hold = NULL WHERE advisory_id = $1"
        " AND notice = 'correction' AND state IN ('queued', 'deferred')"
        " AND substring(event_id FROM '^correction:v([0-9]+)$')::int < $2",
        advisory_id,
        version,
    )
    return int(status.split()[-1])


async def queue_corrections(conn: Conn, advisory_id: str, version: int, now: datetime) -> int:
    """Queue one correction for each customer who received an earlier version; return how
    many. Call it after the new version is kept, in the same transaction: claims read the
    advisory under a share lock, so every mail rendered with the old text is 'sending' or
    'sent' by now (with the version it carried), and every later one has the new text. A
    customer newly inside a widened rule whose mail already carried this version gets none."""
    event = correction_event(version)
    rows = await conn.fetch(_QUEUE, advisory_id, event, now, "correction", version)
    return len(rows)


async def queue_withdrawals(conn: Conn, advisory_id: str, now: datetime) -> int:
    """Queue one withdrawal notice for each customer who received the advisory (a correction
    included); return how many."""
    # Every version: whatever text it received is withdrawn.
    rows = await conn.fetch(_QUEUE, advisory_id, WITHDRAWAL_EVENT, now, "withdrawal", 2**31 - 1)
    return len(rows)
