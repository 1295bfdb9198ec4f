"""The console's SQL: which dead letters were replayed, each once."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from shared.db import Conn


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
