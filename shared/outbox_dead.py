"""Outbox rows the bus refused for good: set aside with the reason, counted, made known.

A row moves from `outbox` to `outbox_dead` in the relay's own transaction, so the rows
behind it are published and deleted in the same round. Its payload stays in the table (it
may be the very reason: a message over max_payload cannot travel as a dead letter either);
a small notice of it goes to the dead-letter stream on `dead.outbox.<schema>`, where
`anshin dead list` and the console show it beside the consumers' dead letters. A notice
that cannot be published now is sent by a later round (`noticed_at` stays empty until then).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import asyncpg
from nats.aio.client import Client
from nats.js.errors import APIError

from shared.bus import OUTBOX_DEAD_SUBJECT, PayloadTooLarge, jetstream
from shared.db import Conn
from shared.messages import OutboxDead, encode
from shared.metrics import OUTBOX_DEAD

log = logging.getLogger(__name__)

# JetStream's own refusals of a row (a 4xx answer: over a stream's size limit, say): a row
# refused this many times is set aside. Outages (timeouts, 503) are never counted.
MAX_REFUSALS = 5
# Headers of a dead letter, as the consumers write them (services/advisory/deadletters.py).
REASON, SUBJECT, CONSUMER, SIZE = (
    "Anshin-Dead-Reason",
    "Anshin-Dead-Subject",
    "Anshin-Dead-Consumer",
    "Anshin-Dead-Size",
)


def refused(error: Exception) -> bool:
    """A refusal of this very message by JetStream (4xx), not an outage (timeout, 503)."""
    return isinstance(error, APIError) and error.code is not None and 400 <= error.code < 500


async def settle(
    conn: Conn,
    schema: str,
    rows: Sequence[asyncpg.Record],
    outcomes: Sequence[Exception | None],
    *,
    any_published: bool,
) -> bool:
    """Deal with the rows a round could not publish; True when some were set aside.

    Too large: set aside now. Refused by JetStream: counted, set aside after MAX_REFUSALS.
    Anything else (timeouts, no stream answering) waits for the next round; if nothing at
    all went through, the bus is away and the round fails as a whole.
    """
    failed = [(r, e) for r, e in zip(rows, outcomes, strict=True) if e is not None]
    large = [(r, e) for r, e in failed if isinstance(e, PayloadTooLarge)]
    refusals = [(r, e) for r, e in failed if refused(e)]
    waiting = [e for _, e in failed if not (isinstance(e, PayloadTooLarge) or refused(e))]
    if waiting and not (any_published or large or refusals):
        raise waiting[0]
    if waiting:
        log.warning(
            "outbox of %s: %d rows wait for the next round: %r", schema, len(waiting), waiting[0]
        )
    await set_aside(conn, schema, [r for r, _ in large], [str(e) for _, e in large])
    return await count_refusals(
        conn, schema, [r for r, _ in refusals], [e for _, e in refusals]
    ) or bool(large)


async def set_aside(
    conn: Conn, schema: str, rows: Sequence[asyncpg.Record], reasons: Sequence[str]
) -> None:
    """Move rows of the outbox to outbox_dead with their reasons; count and log each."""
    if not rows:
        return
    await conn.execute(
        "WITH moved AS (DELETE FROM outbox WHERE id = ANY($1::bigint[])"
        " RETURNING id, subject, msg_id, payload, created_at)"
        " INSERT INTO outbox_dead (id, subject, msg_id, payload, size, reason, created_at)"
        " SELECT m.id, m.subject, m.msg_id, m.payload, length(m.payload), r.reason, m.created_at"
        " FROM moved m JOIN unnest($1::bigint[], $2::text[]) AS r (id, reason) USING (id)"
        " ON CONFLICT (id) DO NOTHING",
        [r["id"] for r in rows],
        list(reasons),
    )
    OUTBOX_DEAD.labels(schema).inc(len(rows))
    for row, reason in zip(rows, reasons, strict=True):
        log.error(
            "outbox of %s: set aside row %s (%s, %s): %s",
            schema,
            row["id"],
            row["subject"],
            row["msg_id"],
            reason,
        )


async def count_refusals(
    conn: Conn, schema: str, rows: Sequence[asyncpg.Record], errors: Sequence[Exception]
) -> bool:
    """Count a refusal of each row; set aside those refused MAX_REFUSALS times (True)."""
    if not rows:
        return False
    await conn.execute(
        "UPDATE outbox SET refusals = refusals + 1 WHERE id = ANY($1::bigint[])",
        [r["id"] for r in rows],
    )
    done = [
        (row, f"refused {MAX_REFUSALS} times by JetStream: {error}")
        for row, error in zip(rows, errors, strict=True)
        if row["refusals"] + 1 >= MAX_REFUSALS
    ]
    await set_aside(conn, schema, [r for r, _ in done], [why for _, why in done])
    return bool(done)


async def send_notices(pool: asyncpg.Pool, nc: Client, schema: str, limit: int = 100) -> bool:
    """Publish a notice of each dead row not announced yet; True when none is left."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT id, subject, msg_id, size, reason, created_at, dead_at FROM outbox_dead"
            " WHERE noticed_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
            limit,
        )
        sent = []
        for row in rows:
            try:
                await _notice(nc, schema, row)
            except Exception as exc:  # the bus is down: a later round tries again
                log.warning(
                    "outbox of %s: no notice of dead row %s yet: %r", schema, row["id"], exc
                )
                break
            sent.append(row["id"])
        await conn.execute(
            "UPDATE outbox_dead SET noticed_at = now() WHERE id = ANY($1::bigint[])", sent
        )
    return len(sent) == len(rows) < limit


async def _notice(nc: Client, schema: str, row: asyncpg.Record) -> None:
    notice = OutboxDead(
        schema=schema,
        outbox_id=row["id"],
        subject=row["subject"],
        msg_id=row["msg_id"],
        size=row["size"],
        reason=row["reason"],
        created_at=row["created_at"],
        dead_at=row["dead_at"],
    )
    headers = {
        REASON: row["reason"][:500].replace("\n", " "),
        SUBJECT: row["subject"],
        CONSUMER: f"outbox:{schema}",
        SIZE: str(row["size"]),
        # The same notice twice (a crash before noticed_at was written) is stored once.
        "Nats-Msg-Id": f"outbox-dead:{schema}:{row['id']}",
    }
    subject = OUTBOX_DEAD_SUBJECT.format(schema=schema)
    await jetstream(nc).publish(subject, encode(notice), headers=headers)
