"""Publication at the embargo time: the state change and its event commit together."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from services.advisory.lifecycle import embargo
from services.advisory.lifecycle.advisory import Advisory
from services.advisory.lifecycle.store import COLUMNS, FROM, advisory_of
from shared import messages as m
from shared.bus import channels
from shared.outbox import enqueue_on


async def publish_due(pool: asyncpg.Pool, now: datetime, limit: int = 100) -> list[str]:
    """Publish every advisory that is due (lifecycle/embargo.py); return their ids.

    The state change and the event commit together (outbox), and SKIP LOCKED lets several
    replicas run this at once without publishing anything twice.
    """
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            f"SELECT {COLUMNS} {FROM} WHERE {embargo.due_sql()}"
            " ORDER BY a.embargo_until LIMIT $2 FOR UPDATE OF a SKIP LOCKED",
            now,
            limit,
        )
        for row in rows:
            await conn.execute(
                "UPDATE advisories SET state = 'published', published_at = $2 WHERE id = $1",
                row["id"],
                now,
            )
            event = published_event(advisory_of(row), now)
            await enqueue_on(conn, channels.ADVISORY_PUBLISHED, event)
    return [r["id"] for r in rows]


def published_event(advisory: Advisory, now: datetime) -> m.AdvisoryPublished:
    """The bus event announcing a published advisory."""
    return m.AdvisoryPublished(
        advisory_id=advisory.id,
        version=advisory.version,
        agency_id=advisory.agency_id,
        agency_name=advisory.agency_name,
        rule=advisory.rule,
        title=advisory.title,
        body=advisory.body,
        published_at=now,
        source_url=advisory.source_url,
        expires_at=advisory.expires_at,
    )
