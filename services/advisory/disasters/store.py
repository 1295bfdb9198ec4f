"""Disasters' SQL: declare once per event, activate matching playbooks, publish via outbox."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from services.advisory.disasters.feeds import Disaster
from shared import messages as m
from shared.bus import Subjects
from shared.db import Conn
from shared.outbox import enqueue

# Declarations are rare and must not race one another: one transaction-scoped lock for all.
_LOCK = 0x616E7368696E  # "anshin"

_MATCHING = """
SELECT id FROM advisories
WHERE kind = 'disaster' AND state = 'published'
  AND (expires_at IS NULL OR expires_at > $3)
  AND rule -> 'hazards' ? $1
  AND (cardinality($2::text[]) = 0
       OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(rule -> 'countries') c
                  WHERE c = ANY($2::text[])))
ORDER BY published_at, id
"""


async def declare(
    pool: asyncpg.Pool, disaster: Disaster, now: datetime
) -> tuple[dict[str, Any], bool]:
    """Declare a disaster unless one of its names is known; return it and whether it was."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        known = await conn.fetchval(
            "SELECT disaster_id FROM disaster_keys WHERE key = ANY($1::text[]) LIMIT 1",
            disaster.keys + disaster.updates,
        )
        if known is not None:
            await _add_keys(conn, known, disaster.keys)
            row = await conn.fetchrow("SELECT * FROM disasters WHERE id = $1", known)
            return _as_dict(row), True
        # Countries unknown (a bare circle): the area alone decides, so every country's
        # playbook for the hazard applies; the matcher still checks each customer's place.
        advisory_ids = [
            r["id"] for r in await conn.fetch(_MATCHING, disaster.hazard, disaster.countries, now)
        ]
        disaster_id = "dis_" + secrets.token_hex(8)
        row = await conn.fetchrow(
            "INSERT INTO disasters (id, hazard, title, occurred_at, areas, countries,"
            " advisory_ids, declared_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)"
            " RETURNING *",
            disaster_id,
            disaster.hazard,
            disaster.title,
            disaster.occurred_at,
            msgspec.json.encode(disaster.areas).decode(),
            disaster.countries,
            advisory_ids,
            now,
        )
        await _add_keys(conn, disaster_id, disaster.keys)
        event = m.DisasterDeclared(
            event_id=disaster_id,
            hazard=disaster.hazard,
            title=disaster.title,
            occurred_at=disaster.occurred_at,
            areas=disaster.areas,
            countries=disaster.countries,
            advisory_ids=advisory_ids,
        )
        await enqueue(conn, Subjects.DISASTERS_DECLARED, f"disaster:{disaster_id}:declared", event)
        return _as_dict(row), False


async def _add_keys(conn: Conn, disaster_id: str, keys: list[str]) -> None:
    await conn.executemany(
        "INSERT INTO disaster_keys (key, disaster_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(key, disaster_id) for key in keys],
    )


def _as_dict(row: asyncpg.Record | None) -> dict[str, Any]:
    assert row is not None
    result = dict(row)
    result["areas"] = msgspec.json.decode(result["areas"], type=list[m.Area])
    return result


async def recent(pool: asyncpg.Pool, limit: int = 50) -> list[dict[str, Any]]:
    """The latest declared disasters, newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT * FROM disasters ORDER BY declared_at DESC LIMIT $1", limit)
    return [_as_dict(r) for r in rows]
