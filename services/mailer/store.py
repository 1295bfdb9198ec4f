"""Mailer's SQL: contacts, advisory content, the delivery ledger and suppressions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import asyncpg
import msgspec

from shared import messages as m
from shared.db import Conn

LEASE = timedelta(minutes=5)


async def upsert_contact(pool: asyncpg.Pool, c: m.CustomerUpserted, now: datetime) -> None:
    """Keep the latest contact data of a customer."""
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO contacts (customer_id, email, locale, timezone, name, updated_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (customer_id) DO UPDATE SET"
            " email = excluded.email, locale = excluded.locale, timezone = excluded.timezone,"
            " name = excluded.name, updated_at = excluded.updated_at"
            " WHERE contacts.updated_at <= excluded.updated_at",
            c.customer_id,
            c.email,
            c.locale,
            c.timezone,
            c.name,
            c.updated_at or now,
        )


async def save_advisory(pool: asyncpg.Pool, a: m.AdvisoryPublished) -> None:
    """Keep the newest published content of an advisory."""
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO advisories (advisory_id, version, kind, agency_name, title, body,"
            " source_url, published_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8)"
            " ON CONFLICT (advisory_id) DO UPDATE SET version = excluded.version,"
            " title = excluded.title, body = excluded.body, source_url = excluded.source_url,"
            " agency_name = excluded.agency_name WHERE advisories.version < excluded.version",
            a.advisory_id,
            a.version,
            a.rule.kind,
            a.agency_name,
            json.dumps(a.title),
            json.dumps(a.body),
            a.source_url,
            a.published_at,
        )


async def withdraw(pool: asyncpg.Pool, advisory_id: str, at: datetime) -> int:
    """Mark an advisory withdrawn and cancel its pending deliveries; return how many."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "INSERT INTO advisories (advisory_id, version, kind, agency_name, title, body,"
            " published_at, withdrawn_at) VALUES ($1, 0, '', '', '{}', '{}', $2, $2)"
            " ON CONFLICT (advisory_id) DO UPDATE SET withdrawn_at = excluded.withdrawn_at",
            advisory_id,
            at,
        )
        status = await conn.execute(
            "UPDATE deliveries SET state = 'cancelled' WHERE advisory_id = $1"
            " AND state IN ('queued', 'deferred')",
            advisory_id,
        )
    return int(status.split()[-1])


async def add_deliveries(pool: asyncpg.Pool, batch: m.DeliveryBatch, now: datetime) -> int:
    """Add a batch to the ledger; (advisory, customer) already there is skipped."""
    encode = msgspec.json.encode
    rows = [
        (
            batch.advisory_id,
            r.customer_id,
            batch.priority,
            batch.kind,
            r.reason,
            encode(r.purchases).decode(),
            batch.requested_at,
            now,
        )
        for r in batch.recipients
    ]
    async with pool.acquire() as conn:
        status = await conn.fetch(
            "INSERT INTO deliveries (advisory_id, customer_id, priority, kind, reason, purchases,"
            " requested_at, next_attempt_at)"
            " SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[],"
            " $6::jsonb[], $7::timestamptz[], $8::timestamptz[])"
            " ON CONFLICT DO NOTHING RETURNING 1",
            *[list(col) for col in zip(*rows, strict=True)],
        )
    return len(status)


async def claim_due(pool: asyncpg.Pool, now: datetime, limit: int) -> list[asyncpg.Record]:
    """Claim queued deliveries that can be sent now, highest priority first."""
    async with pool.acquire() as conn, conn.transaction():
        # Deliveries whose address is suppressed never go out.
        await conn.execute(
            "UPDATE deliveries d SET state = 'suppressed' FROM contacts c, suppressions s"
            " WHERE d.state = 'queued' AND c.customer_id = d.customer_id AND s.email = c.email"
        )
        return await conn.fetch(
            "WITH due AS ("
            "  SELECT d.advisory_id, d.customer_id FROM deliveries d"
            "  JOIN contacts c ON c.customer_id = d.customer_id"
            "  JOIN advisories a ON a.advisory_id = d.advisory_id AND a.withdrawn_at IS NULL"
            "  WHERE d.state = 'queued' AND d.next_attempt_at <= $1"
            "  ORDER BY d.priority DESC, d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED)"
            " UPDATE deliveries d SET state = 'sending', claimed_at = $1, attempts = attempts + 1"
            " FROM due, contacts c, advisories a"
            " WHERE d.advisory_id = due.advisory_id AND d.customer_id = due.customer_id"
            " AND c.customer_id = d.customer_id AND a.advisory_id = d.advisory_id"
            " RETURNING d.advisory_id, d.customer_id, d.purchases, d.attempts, c.email, c.name,"
            " c.locale, a.agency_name, a.title, a.body, a.source_url",
            now,
            limit,
        )


async def mark_sent(
    pool: asyncpg.Pool, advisory_id: str, customer_id: str, message_id: str, now: datetime
) -> None:
    """Record that SMTP accepted the mail."""
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE deliveries SET state = 'sent', sent_at = $3, message_id = $4, error = NULL"
            " WHERE advisory_id = $1 AND customer_id = $2",
            advisory_id,
            customer_id,
            now,
            message_id,
        )


async def mark_retry(
    pool: asyncpg.Pool, advisory_id: str, customer_id: str, error: str, at: datetime
) -> None:
    """Put a delivery back in the queue after a transient failure."""
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE deliveries SET state = 'queued', next_attempt_at = $3, error = $4"
            " WHERE advisory_id = $1 AND customer_id = $2",
            advisory_id,
            customer_id,
            at,
            error[:500],
        )


async def mark_failed(
    pool: asyncpg.Pool, advisory_id: str, customer_id: str, email: str, error: str
) -> None:
    """Record a permanent failure and suppress the address."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            "UPDATE deliveries SET state = 'failed', error = $3"
            " WHERE advisory_id = $1 AND customer_id = $2",
            advisory_id,
            customer_id,
            error[:500],
        )
        await suppress(conn, email, "bounce")


async def suppress(conn: Conn, email: str, reason: str) -> None:
    """Never mail this address again."""
    await conn.execute(
        "INSERT INTO suppressions (email, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        email,
        reason,
    )


async def unsubscribe(pool: asyncpg.Pool, customer_id: str) -> bool:
    """Suppress the customer's address; return False when the customer is unknown."""
    async with pool.acquire() as conn, conn.transaction():
        email = await conn.fetchval(
            "SELECT email FROM contacts WHERE customer_id = $1", customer_id
        )
        if email is None:
            return False
        await suppress(conn, email, "unsubscribe")
        await conn.execute(
            "UPDATE deliveries SET state = 'suppressed' WHERE customer_id = $1"
            " AND state IN ('queued', 'deferred')",
            customer_id,
        )
    return True


async def release_stale(pool: asyncpg.Pool, now: datetime) -> int:
    """Put back deliveries claimed by a sender that never confirmed them (a crashed replica)."""
    async with pool.acquire() as conn:
        status = await conn.execute(
            "UPDATE deliveries SET state = 'queued', next_attempt_at = $1"
            " WHERE state = 'sending' AND claimed_at < $2",
            now,
            now - LEASE,
        )
    return int(status.split()[-1])
