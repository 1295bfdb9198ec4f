"""Mailer's SQL for mail in flight: every change needs the claim's token and `sending`.

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
from typing import NamedTuple

from services.mailer.store.ledger import Key
from shared.db import Conn


class Change(NamedTuple):
    """What one answer does to one row its claim holds."""

    key: Key
    token: uuid.UUID
    state: str  # sent, deferred, failed
    until: datetime | None = None  # when a deferred row is due again
    error: str | None = None
    hold: str | None = None  # why a deferred row waits: retry, paused


# One statement for every answer of a group commit, whatever its claim: a row changes only
# while it is `sending` under the token of the claim whose answer this is.
# State and token are compared with IS NOT DISTINCT FROM (the same as = here: an answer's
# token is never NULL) so that no partial index of `sending` rows can serve the statement,
# and the rows are found by their key. Planned on statistics taken before the
# burst, the statement scanned every row in flight and the dead index entries of those
# already recorded, for each group of answers: about 200 buffers a row where the key needs 4.
_RECORD = (
    "UPDATE deliveries d SET state = u.s, error = u.err, hold = u.h,"
    " next_attempt_at = coalesce(u.t, d.next_attempt_at),"
    " sent_at = CASE WHEN u.s = 'sent' THEN $9 ELSE d.sent_at END,"
    " lease_until = NULL, claim_token = NULL"
    " FROM unnest($1::text[], $2::text[], $3::text[], $4::uuid[], $5::text[],"
    " $6::timestamptz[], $7::text[], $8::text[]) AS u(a, e, c, tok, s, t, err, h)"
    " WHERE d.advisory_id = u.a AND d.event_id = u.e AND d.customer_id = u.c"
    " AND d.state IS NOT DISTINCT FROM 'sending' AND d.claim_token IS NOT DISTINCT FROM u.tok"
)


async def record(conn: Conn, changes: Sequence[Change], now: datetime) -> set[Key]:
    """Apply the answers' changes; return the keys of the rows that failed (still held)."""
    if not changes:
        return set()
    args = (
        [c.key[0] for c in changes],
        [c.key[1] for c in changes],
        [c.key[2] for c in changes],
        [c.token for c in changes],
        [c.state for c in changes],
        [c.until for c in changes],
        [c.error[:500] if c.error else c.error for c in changes],
        [c.hold for c in changes],
        now,
    )
    if not any(c.state == "failed" for c in changes):
        await conn.execute(_RECORD, *args)
        return set()
    rows = await conn.fetch(
        _RECORD + " RETURNING d.advisory_id, d.event_id, d.customer_id, u.s AS state", *args
    )
    return {
        (r["advisory_id"], r["event_id"], r["customer_id"]) for r in rows if r["state"] == "failed"
    }


async def renew(conn: Conn, tokens: Sequence[uuid.UUID], lease: timedelta) -> int:
    """Extend the lease of every row still in flight under these tokens; return how many.

    A lease that ran out but was not swept yet is renewed too: the row is still this claim's.
    A row locked by the recorder is skipped: its answer is being written, and waiting for it
    while the recorder waits for another row was a deadlock. Should that write roll back, the
    next renewal (a lease holds four) reaches the row.
    """
    if not tokens:
        return 0
    status = await conn.execute(
        "UPDATE deliveries SET lease_until = clock_timestamp() + $2"
        " WHERE ctid = ANY(ARRAY(SELECT ctid FROM deliveries"
        "   WHERE state = 'sending' AND claim_token = ANY($1::uuid[]) FOR UPDATE SKIP LOCKED))",
        list(tokens),
        lease,
    )
    return int(status.split()[-1])


async def release_stale(conn: Conn, now: datetime, held: Sequence[uuid.UUID] = ()) -> int:
    """Put back what a dead replica claimed but never confirmed, to be sent again.

    Never the rows of the claims this replica holds (`held`): a lease that ran out while the
    database was away is renewed once it is back. A row of an advisory withdrawn meanwhile is
    cancelled, as the withdrawal cancelled everything else still waiting (its withdrawal
    notice excepted).
    """
    status = await conn.execute(
        "UPDATE deliveries d SET next_attempt_at = $1, lease_until = NULL, claim_token = NULL,"
        " state = CASE WHEN d.notice <> 'withdrawal' AND EXISTS (SELECT 1 FROM advisories a"
        "   WHERE a.advisory_id = d.advisory_id AND a.withdrawn_at IS NOT NULL)"
        "   THEN 'cancelled' ELSE 'queued' END"
        " WHERE state = 'sending' AND lease_until < clock_timestamp()"
        " AND NOT coalesce(claim_token = ANY($2::uuid[]), false)",
        now,
        list(held),
    )
    return int(status.split()[-1])
