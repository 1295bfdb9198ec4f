"""Matcher's SQL for fan-out jobs: a job recorded once, each shard done once."""

from __future__ import annotations

from datetime import datetime

from shared.db import Conn


async def create_job(
    conn: Conn,
    job_id: str,
    advisory_id: str,
    event_id: str,
    shards: int,
    params: str,
    requested_at: datetime,
) -> bool:
    """Record a job (its params as JSON); False when it exists already."""
    created = await conn.fetchval(
        "INSERT INTO fanout_jobs (job_id, advisory_id, event_id, shards, params, requested_at)"
        " VALUES ($1, $2, $3, $4, $5::jsonb, $6) ON CONFLICT DO NOTHING RETURNING job_id",
        job_id,
        advisory_id,
        event_id,
        shards,
        params,
        requested_at,
    )
    return created is not None


async def claim_shard(conn: Conn, job_id: str, shard: int, replica: str) -> bool:
    """Mark a shard done by this replica (until the transaction ends, a claim); False when
    another has done it.

    A second replica on the same shard waits here for the first one's transaction, then
    finds it done.
    """
    claimed = await conn.fetchval(
        "INSERT INTO fanout_done (job_id, shard, replica) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING RETURNING shard",
        job_id,
        shard,
        replica,
    )
    return claimed is not None


async def shard_done(conn: Conn, job_id: str, shard: int, recipients: int) -> None:
    """Note how many recipients a shard requested."""
    await conn.execute(
        "UPDATE fanout_done SET recipients = $3 WHERE job_id = $1 AND shard = $2",
        job_id,
        shard,
        recipients,
    )


async def job_params(conn: Conn, job_id: str) -> str:
    """A job's params, as JSON."""
    params: str = await conn.fetchval("SELECT params FROM fanout_jobs WHERE job_id = $1", job_id)
    return params


async def cancel_event(conn: Conn, event_id: str, at: datetime) -> None:
    """Remember that a disaster was cancelled."""
    await conn.execute(
        "INSERT INTO cancelled_events (event_id, cancelled_at) VALUES ($1, $2)"
        " ON CONFLICT DO NOTHING",
        event_id,
        at,
    )


async def event_cancelled(conn: Conn, event_id: str) -> bool:
    """Whether a disaster was cancelled."""
    found = await conn.fetchval("SELECT 1 FROM cancelled_events WHERE event_id = $1", event_id)
    return found is not None
