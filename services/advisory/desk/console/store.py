"""The console's and the portal's SQL: versions, disasters, dead-letter replays."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from shared import messages as m
from shared.db import Conn


async def versions(pool: asyncpg.Pool, advisory_id: str) -> list[dict[str, Any]]:
    """Every version of an advisory, newest first, its content decoded."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT version, content, created_at FROM advisory_versions"
            " WHERE advisory_id = $1 ORDER BY version DESC",
            advisory_id,
        )
    return [{**dict(r), "content": json.loads(r["content"])} for r in rows]


async def disaster(pool: asyncpg.Pool, disaster_id: str) -> dict[str, Any] | None:
    """One declared disaster, or None."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM disasters WHERE id = $1", disaster_id)
    if row is None:
        return None
    return {**dict(row), "areas": msgspec.json.decode(row["areas"], type=list[m.Area])}


async def titles(pool: asyncpg.Pool, advisory_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Id → {id, title, state, published_at, agency_name} of some advisories."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT a.id, a.title, a.state, a.published_at, g.name AS agency_name"
            " FROM advisories a JOIN agencies g ON g.id = a.agency_id WHERE a.id = ANY($1)",
            advisory_ids,
        )
    return {r["id"]: {**dict(r), "title": json.loads(r["title"])} for r in rows}


async def claim_replay(
    conn: Conn, seq: int, dead_msg_id: str, consumer: str, subject: str, now: datetime
) -> str | None:
    """Record the replay of dead letter `seq`; its new Nats-Msg-Id, or None if done before."""
    replay_id = f"replay:{seq}"
    inserted = await conn.fetchval(
        "INSERT INTO dead_letter_replays"
        " (dead_seq, dead_msg_id, consumer, subject, replay_msg_id, replayed_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING replay_msg_id",
        seq,
        dead_msg_id,
        consumer,
        subject,
        replay_id,
        now,
    )
    return None if inserted is None else replay_id


async def replays(pool: asyncpg.Pool, seqs: list[int]) -> dict[int, datetime]:
    """Dead-letter sequence → when it was replayed, for those of `seqs` that were."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT dead_seq, replayed_at FROM dead_letter_replays WHERE dead_seq = ANY($1)",
            seqs,
        )
    return {r["dead_seq"]: r["replayed_at"] for r in rows}
