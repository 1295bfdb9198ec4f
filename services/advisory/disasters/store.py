"""Disasters' SQL: declare once per event, revise or cancel it as its feed reports, activate
matching playbooks, publish each state via the outbox."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Literal

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
    places: list[m.Codes] = []
    revision: int = 1
    revised_at: datetime | None = None
    cancelled_at: datetime | None = None
    magnitude: float | None = None


# What a report did: declared a disaster, repeated one (or was older than the last
# applied), revised its area, cancelled it; or cancelled nothing known ("unknown").
Outcome = Literal["declared", "duplicate", "stale", "revised", "cancelled", "unknown"]


async def declare(
    pool: asyncpg.Pool, disaster: Disaster, now: datetime
) -> tuple[Declared | None, Outcome]:
    """Declare, revise or cancel the disaster a report names; say which it did."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK)
        known = await conn.fetchval(
            "SELECT disaster_id FROM disaster_keys WHERE key = ANY($1::text[]) LIMIT 1",
            disaster.keys + disaster.updates,
        )
        if known is not None:
            await _add_keys(conn, known, disaster.keys)
            found = _declared(await conn.fetchrow("SELECT * FROM disasters WHERE id = $1", known))
            return await _report(conn, found, disaster, now)
        if disaster.cancels:
            return None, "unknown"
        # Countries unknown (a bare circle): the area alone decides, so every country's
        # playbook for the hazard applies; the matcher still checks each customer's place.
        advisory_ids = await _matching(conn, disaster, now)
        disaster_id = "dis_" + secrets.token_hex(8)
        row = await conn.fetchrow(
            "INSERT INTO disasters (id, hazard, title, occurred_at, areas, countries,"
            " advisory_ids, declared_at, places, report_order, magnitude)"
            " VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9::jsonb, $10, $11) RETURNING *",
            disaster_id,
            disaster.hazard,
            disaster.title,
            disaster.occurred_at,
            _json(disaster.areas),
            disaster.countries,
            advisory_ids,
            now,
            _json(disaster.places),
            disaster.order,
            disaster.magnitude,
        )
        await _add_keys(conn, disaster_id, disaster.keys)
        declared = _declared(row)
        await _publish(conn, declared)
        return declared, "declared"


async def _report(
    conn: Conn, row: Declared, disaster: Disaster, now: datetime
) -> tuple[Declared, Outcome]:
    """A later report of a known disaster: revise or cancel it, unless it is not newer."""
    stored = await conn.fetchval("SELECT report_order FROM disasters WHERE id = $1", row.id)
    newer = bool(disaster.order) and disaster.order > list(stored or [])
    if row.cancelled_at is not None or not newer:
        same = row.cancelled_at is not None or disaster.order == list(stored or [])
        return row, "duplicate" if same else "stale"
    if disaster.cancels:
        updated = await conn.fetchrow(
            "UPDATE disasters SET cancelled_at = $2, revision = revision + 1, report_order = $3"
            " WHERE id = $1 RETURNING *",
            row.id,
            now,
            disaster.order,
        )
        cancelled = _declared(updated)
        await _publish(conn, cancelled)
        return cancelled, "cancelled"
    if (disaster.areas, disaster.places) == (row.areas, row.places):
        await conn.execute(
            "UPDATE disasters SET report_order = $2 WHERE id = $1", row.id, disaster.order
        )
        return row, "duplicate"
    # Playbooks published since the first report apply to the revised area as well.
    ids = row.advisory_ids + [
        a for a in await _matching(conn, disaster, now) if a not in row.advisory_ids
    ]
    updated = await conn.fetchrow(
        "UPDATE disasters SET areas = $2::jsonb, places = $3::jsonb, title = $4, advisory_ids = $5,"
        " revision = revision + 1, report_order = $6, revised_at = $7 WHERE id = $1 RETURNING *",
        row.id,
        _json(disaster.areas),
        _json(disaster.places),
        disaster.title,
        ids,
        disaster.order,
        now,
    )
    revised = _declared(updated)
    await _publish(conn, revised)
    return revised, "revised"


async def playbooks(pool: asyncpg.Pool, disaster: Disaster, now: datetime) -> list[str]:
    """The playbooks the disaster would activate now (a dry run: nothing is stored)."""
    async with pool.acquire() as conn:
        return await _matching(conn, disaster, now)


async def _matching(conn: Conn, disaster: Disaster, now: datetime) -> list[str]:
    rows = await conn.fetch(_MATCHING, disaster.hazard, disaster.countries, now)
    return [r["id"] for r in rows]


async def _publish(conn: Conn, d: Declared) -> None:
    """The disaster as it now stands, through the outbox: each revision a message of its own."""
    event = m.DisasterDeclared(
        event_id=d.id,
        hazard=d.hazard,
        title=d.title,
        occurred_at=d.occurred_at,
        areas=d.areas,
        countries=d.countries,
        advisory_ids=d.advisory_ids,
        places=d.places,
        revision=d.revision,
        cancelled=d.cancelled_at is not None,
        magnitude=d.magnitude,
    )
    await enqueue_on(conn, channels.DISASTER_DECLARED, event)


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def _add_keys(conn: Conn, disaster_id: str, keys: list[str]) -> None:
    await conn.executemany(
        "INSERT INTO disaster_keys (key, disaster_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [(key, disaster_id) for key in keys],
    )


_areas = msgspec.json.Decoder(list[m.Area])
_places = msgspec.json.Decoder(list[m.Codes])


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
        places=_places.decode(row["places"]),
        revision=row["revision"],
        revised_at=row["revised_at"],
        cancelled_at=row["cancelled_at"],
        magnitude=row["magnitude"],
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
