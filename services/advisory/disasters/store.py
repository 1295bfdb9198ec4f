"""Disasters' SQL: declare once per event, activate matching playbooks, publish via outbox."""

from __future__ import annotations

import secrets
from datetime import datetime

import asyncpg
import msgspec

from services.advisory.disasters.feeds import Disaster
from services.advisory.lifecycle import embargo
from shared import messages as m
from shared.bus import channels
from shared.db import Conn
from shared.outbox import enqueue_on

# Declarations are rare and must not race one another: one transaction-scoped lock for all.
_LOCK = 0x616E7368696E  # "anshin"

# The playbooks a disaster activates: public now (lifecycle/embargo.py), of its hazard.
_MATCHING = f"""
SELECT id FROM advisories
WHERE kind = 'disaster' AND {embargo.public_sql("$3", "advisories")}
  AND rule -> 'hazards' ? $1
  AND (cardinality($2::text[]) = 0
       OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(rule -> 'countries') c
                  WHERE c = ANY($2::text[])))
ORDER BY published_at, id
"""


class Declared(msgspec.Struct, frozen=True, kw_only=True):
    """A declared disaster as stored, with the playbooks it activated."""

    id: str
    hazard: str
    title: str
    occurred_at: datetime
    areas: list[m.Area]
    countries: list[str]
    advisory_ids: list[str]
    declared_at: datetime


async def declare(pool: asyncpg.Pool, disaster: Disaster, now: datetime) -> tuple[Declared, bool]:
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
            return _declared(row), True
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
        await enqueue_on(conn, channels.DISASTER_DECLARED, event)
        return _declared(row), False


async def _add_keys(conn: Conn, disaster_id: str, keys: list[str]) -> None:
    await conn.executemany(
        "INSERT INTO disaster_keys (key, disaster_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(key, disaster_id) for key in keys],
    )


_areas = msgspec.json.Decoder(list[m.Area])


def _declared(row: asyncpg.Record | None) -> Declared:
    assert row is not None
    return Declared(
        id=row["id"],
        hazard=row["hazard"],
        title=row["title"],
        occurred_at=row["occurred_at"],
        areas=_areas.decode(row["areas"]),
        countries=row["countries"],
        advisory_ids=row["advisory_ids"],
        declared_at=row["declared_at"],
    )


async def recent(pool: asyncpg.Pool, limit: int = 50) -> list[Declared]:
    """The latest declared disasters, newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT * FROM disasters ORDER BY declared_at DESC LIMIT $1", limit)
    return [_declared(r) for r in rows]


async def one(pool: asyncpg.Pool, disaster_id: str) -> Declared | None:
    """One declared disaster, or None."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM disasters WHERE id = $1", disaster_id)
    return None if row is None else _declared(row)
