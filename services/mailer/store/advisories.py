"""Mailer's SQL for advisories: the published content it mails, and withdrawals."""

from __future__ import annotations

import json
from datetime import datetime

import asyncpg

from shared import messages as m
from shared.db import Conn


async def save_advisory(conn: Conn, a: m.AdvisoryPublished) -> bool:
    """Keep the newest published content of an advisory; return whether this was newer than
    what was kept (a redelivered or older version changes nothing)."""
    row = await conn.fetchrow(
        "INSERT INTO advisories (advisory_id, version, kind, agency_name, title, body,"
        " source_url, published_at, expires_at)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9)"
        " ON CONFLICT (advisory_id) DO UPDATE SET version = excluded.version,"
        " title = excluded.title, body = excluded.body, source_url = excluded.source_url,"
        " agency_name = excluded.agency_name, kind = excluded.kind,"
        " published_at = excluded.published_at, expires_at = excluded.expires_at"
        " WHERE advisories.version < excluded.version RETURNING 1",
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
    return row is not None


async def cancel_waiting(conn: Conn, advisory_id: str) -> int:
    """Cancel what still waits of an advisory (of every event), but its withdrawal notices;
    return how many."""
    status = await conn.execute(
        "UPDATE deliveries SET state = 'cancelled' WHERE advisory_id = $1"
        " AND state IN ('queued', 'deferred') AND notice <> 'withdrawal'",
        advisory_id,
    )
    return int(status.split()[-1])


async def withdraw(conn: Conn, advisory_id: str, at: datetime) -> int:
    """Cancel what still waits (of every event), then mark the advisory withdrawn; return
    how many were cancelled.

    In this order, and in one transaction: a claim holds its rows while it waits for the
    advisory's row (ledger.py), so taking the advisory's row first could deadlock with it.
    A row queued between the two is never claimed (its advisory is withdrawn); the caller
    cancels it with `cancel_waiting` after commit.
    """
    cancelled = await cancel_waiting(conn, advisory_id)
    await conn.execute(
        "INSERT INTO advisories (advisory_id, version, kind, agency_name, title, body,"
        " published_at, withdrawn_at) VALUES ($1, 0, '', '', '{}', '{}', $2, $2)"
        " ON CONFLICT (advisory_id) DO UPDATE SET withdrawn_at = excluded.withdrawn_at",
        advisory_id,
        at,
    )
    return cancelled


async def cancel_event(conn: Conn, event_id: str, at: datetime) -> int:
    """Remember a cancelled disaster, cancel what still waits of its deliveries (of every
    playbook); return how many. A delivery of it requested later starts cancelled.

    Two statements: call it in a transaction.
    """
    await conn.execute(
        "INSERT INTO cancelled_events (event_id, cancelled_at) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING",
        event_id,
        at,
    )
    status = await conn.execute(
        "UPDATE deliveries SET state = 'cancelled' WHERE event_id = $1"
        " AND state IN ('queued', 'deferred')",
        event_id,
    )
    return int(status.split()[-1])


async def advisory(conn: Conn, advisory_id: str) -> asyncpg.Record | None:
    """The published content of an advisory, as the mailer holds it."""
    return await conn.fetchrow(
        "SELECT advisory_id, kind, agency_name, title, body, source_url, withdrawn_at"
        " FROM advisories WHERE advisory_id = $1 AND version > 0",
        advisory_id,
    )
