"""Mailer's SQL: contacts, advisory content, the delivery ledger and suppressions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from shared import messages as m
from shared.db import Conn
from shared.text import inert


async def upsert_contact(pool: asyncpg.Pool, c: m.CustomerUpserted, now: datetime) -> None:
    """Keep the latest contact data of a customer."""
    await upsert_contacts(pool, [c], now)


async def upsert_contacts(
    pool: asyncpg.Pool, contacts: Sequence[m.CustomerUpserted], now: datetime
) -> None:
    """Keep the latest contact data of many customers, in one statement; only newer data wins."""
    latest: dict[str, m.CustomerUpserted] = {}
    for c in contacts:  # one row per customer: a statement may not update a row twice
        seen = latest.get(c.customer_id)
        if seen is None or (seen.updated_at or now) <= (c.updated_at or now):
            latest[c.customer_id] = c
    rows = [latest[k] for k in sorted(latest)]  # key order: concurrent batches never deadlock
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO contacts"
            " (customer_id, email, locale, timezone, name, updated_at, email_since)"
            " SELECT c.*, c.t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
            " $5::text[], $6::timestamptz[]) AS c(i, e, l, z, n, t)"
            " ON CONFLICT (customer_id) DO UPDATE SET"
            " email = excluded.email, locale = excluded.locale, timezone = excluded.timezone,"
            " name = excluded.name, updated_at = excluded.updated_at,"
            # Since when the customer has this address: a two-part link acts only on one
            # held since before such links were retired (api._subscriber).
            " email_since = CASE WHEN contacts.email = excluded.email"
            " THEN contacts.email_since ELSE excluded.email_since END"
            " WHERE contacts.updated_at <= excluded.updated_at",
            [c.customer_id for c in rows],
            [c.email for c in rows],
            [c.locale for c in rows],
            [c.timezone for c in rows],
            # A name arrives from the bus: it may still hold what would start a header.
            [inert(c.name) for c in rows],
            [c.updated_at or now for c in rows],
        )


async def save_advisory(pool: asyncpg.Pool, a: m.AdvisoryPublished) -> None:
    """Keep the newest published content of an advisory."""
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO advisories (advisory_id, version, kind, agency_name, title, body,"
            " source_url, published_at, expires_at)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9)"
            " ON CONFLICT (advisory_id) DO UPDATE SET version = excluded.version,"
            " title = excluded.title, body = excluded.body, source_url = excluded.source_url,"
            " agency_name = excluded.agency_name, kind = excluded.kind,"
            " published_at = excluded.published_at, expires_at = excluded.expires_at"
            " WHERE advisories.version < excluded.version",
            a.advisory_id,
            a.version,
            a.rule.kind,
            a.agency_name,
            json.dumps(a.title),
            json.dumps(a.body),
            a.source_url,
            a.published_at,
            a.expires_at,
        )


async def withdraw(pool: asyncpg.Pool, advisory_id: str, at: datetime) -> int:
    """Mark an advisory withdrawn, cancel what still waits (of every event); return how many."""
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
    """Add a batch to the ledger in one statement; a key already there is skipped.

    The key is (advisory, event, customer): a disaster playbook's delivery names the declared
    event, so the next disaster reaches the customer again; every other delivery has event
    ''. A delivery of a withdrawn advisory starts cancelled, one to a suppressed address
    starts suppressed: neither is ever claimed.
    """
    encode = msgspec.json.encode
    n = len(batch.recipients)
    # Only a playbook is sent once per event: a stray event id never repeats a recall.
    event_id = batch.event_id if batch.kind == "disaster" else ""
    async with pool.acquire() as conn:
        status = await conn.fetch(
            "INSERT INTO deliveries (advisory_id, event_id, customer_id, priority, kind, reason,"
            " purchases, requested_at, next_attempt_at, state)"
            " SELECT u.*, CASE WHEN a.withdrawn_at IS NOT NULL THEN 'cancelled'"
            "   WHEN s.email IS NOT NULL THEN 'suppressed' ELSE 'queued' END"
            " FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::text[], $6::text[],"
            "   $7::jsonb[], $8::timestamptz[], $9::timestamptz[])"
            "   AS u(advisory_id, event_id, customer_id, priority, kind, reason, purchases,"
            "   requested_at, next_attempt_at)"
            " LEFT JOIN advisories a ON a.advisory_id = u.advisory_id"
            " LEFT JOIN contacts c ON c.customer_id = u.customer_id"
            " LEFT JOIN suppressions s ON s.email = c.email"
            " ON CONFLICT DO NOTHING RETURNING 1",
            [batch.advisory_id] * n,
            [event_id] * n,
            [r.customer_id for r in batch.recipients],
            [batch.priority] * n,
            [batch.kind] * n,
            [r.reason for r in batch.recipients],
            [encode(r.purchases).decode() for r in batch.recipients],
            [batch.requested_at] * n,
            [now] * n,
        )
    return len(status)


async def suppress(conn: Conn, email: str, reason: str) -> None:
    """Never mail this address again."""
    await conn.execute(
        "INSERT INTO suppressions (email, reason) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        email,
        reason,
    )


async def unsubscribe(pool: asyncpg.Pool, customer_id: str, email: str) -> bool:
    """Suppress the address and what still waits for it, if it is still the customer's."""
    async with pool.acquire() as conn, conn.transaction():
        # Locked, so that the address cannot change between the link's check and this.
        current: str | None = await conn.fetchval(
            "SELECT email FROM contacts WHERE customer_id = $1 FOR UPDATE", customer_id
        )
        if current != email:
            return False
        await suppress(conn, email, "unsubscribe")
        await conn.execute(
            "UPDATE deliveries d SET state = 'suppressed' FROM contacts c"
            " WHERE c.email = $1 AND d.customer_id = c.customer_id"
            " AND d.state IN ('queued', 'deferred')",
            email,
        )
    return True


async def contact(pool: asyncpg.Pool, customer_id: str) -> asyncpg.Record | None:
    """A customer's address, its language and since when it is held, for the unsubscribe page;
    with `retired`, when two-part links stopped being mailed."""
    async with pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT c.email, c.locale, s.email IS NOT NULL AS suppressed, c.email_since,"
            " (SELECT at FROM epochs WHERE name = 'two_part_links_retired') AS retired"
            " FROM contacts c LEFT JOIN suppressions s ON s.email = c.email"
            " WHERE c.customer_id = $1",
            customer_id,
        )


async def advisory(pool: asyncpg.Pool, advisory_id: str) -> asyncpg.Record | None:
    """The published content of an advisory, as the mailer holds it."""
    async with pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT advisory_id, kind, agency_name, title, body, source_url, withdrawn_at"
            " FROM advisories WHERE advisory_id = $1 AND version > 0",
            advisory_id,
        )


async def reach(pool: asyncpg.Pool, advisory_id: str) -> tuple[dict[str, int], list[Any]]:
    """Deliveries of an advisory by state, overall and by UTC day (sent, else requested).

    A disaster playbook's rows of every declared event count together: its whole reach.
    """
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT to_char(coalesce(sent_at, requested_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
            " AS day, state, count(*) AS n FROM deliveries WHERE advisory_id = $1"
            " GROUP BY 1, 2 ORDER BY 1, 2",
            advisory_id,
        )
    counts: dict[str, int] = {}
    days: dict[str, dict[str, int]] = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + r["n"]
        days.setdefault(r["day"], {})[r["state"]] = r["n"]
    return counts, sorted(days.items())
