"""Advisories' SQL: create, read and withdraw (amend: `amendment.py`); rows come back as typed
`Advisory`s."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import asyncpg
import msgspec

from services.advisory.lifecycle import embargo
from services.advisory.lifecycle.advisory import Advisory, Version
from services.advisory.lifecycle.submission import AdvisoryIn
from shared import messages as m
from shared.bus import channels
from shared.db import Conn
from shared.errors import Invalid, NotFound, field_error
from shared.outbox import enqueue_on

COLUMNS = (
    "a.id, a.agency_id, g.name AS agency_name, a.version, a.state, a.kind, a.rule, a.title,"
    " a.body, a.source_url, a.embargo_until, a.expires_at, a.created_at, a.published_at,"
    " a.withdrawn_at, a.concern_categories, a.concern_skus, a.concern_gtins,"
    " a.concern_while_declared, a.deliver_by, a.corrected_at, a.pending_until"
)
FROM = "FROM advisories a JOIN agencies g ON g.id = a.agency_id"

# The union decodes the flat rules of before it too (shared/messages/rules.py).
_rule: msgspec.json.Decoder[m.AdvisoryRule] = msgspec.json.Decoder(m.AdvisoryRule)
_texts = msgspec.json.Decoder(dict[str, str])
_content = msgspec.json.Decoder(dict[str, Any])


def advisory_of(row: asyncpg.Record) -> Advisory:
    """A row of COLUMNS as an Advisory, its JSON columns decoded."""
    return Advisory(
        id=row["id"],
        agency_id=row["agency_id"],
        agency_name=row["agency_name"],
        version=row["version"],
        state=row["state"],
        kind=row["kind"],
        rule=_rule.decode(row["rule"]),
        concerns=m.Concerns(
            categories=row["concern_categories"],
            skus=row["concern_skus"],
            gtins=row["concern_gtins"],
            while_declared=row["concern_while_declared"],
        ),
        title=_texts.decode(row["title"]),
        body=_texts.decode(row["body"]),
        source_url=row["source_url"],
        embargo_until=row["embargo_until"],
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        published_at=row["published_at"],
        withdrawn_at=row["withdrawn_at"],
        deliver_by=row["deliver_by"],
        corrected_at=row["corrected_at"],
        pending_until=row["pending_until"],
    )


async def create_advisory(
    pool: asyncpg.Pool, agency_id: str, advisory: AdvisoryIn, now: datetime
) -> str:
    """Store a new embargoed advisory and its first version; return its id."""
    advisory_id = "adv_" + secrets.token_hex(8)
    async with pool.acquire() as conn, conn.transaction():
        try:
            await conn.execute(
                "INSERT INTO advisories (id, agency_id, created_at, kind, rule, title, body,"
                " source_url, embargo_until, expires_at, concern_categories, concern_skus,"
                " concern_gtins, concern_while_declared, deliver_by) VALUES ($1, $2, $3, $4,"
                " $5::jsonb, $6::jsonb, $7::jsonb, $8, $9, $10, $11, $12, $13, $14, $15)",
                advisory_id,
                agency_id,
                now,
                *content_columns(advisory),
            )
        except asyncpg.ForeignKeyViolationError as exc:
            raise Invalid("unknown agency", [field_error("agency_id", "no such agency")]) from exc
        await add_version(conn, advisory_id, 1, advisory, now)
    return advisory_id


def content_columns(advisory: AdvisoryIn) -> tuple[Any, ...]:
    """kind, rule, title, body, source_url, embargo_until, expires_at, the rule's concerns
    (categories, skus, gtins, while_declared) and deliver_by as stored."""
    rule = advisory.rule()
    concerns = rule.concerns()
    return (
        advisory.kind,
        msgspec.json.encode(rule).decode(),
        msgspec.json.encode(advisory.title).decode(),
        msgspec.json.encode(advisory.body).decode(),
        advisory.source_url,
        advisory.embargo_until,
        advisory.expires_at,
        concerns.categories,
        concerns.skus,
        concerns.gtins,
        concerns.while_declared,
        advisory.deliver_by,
    )


async def add_version(
    conn: Conn, advisory_id: str, version: int, advisory: AdvisoryIn, now: datetime
) -> None:
    """Keep one version of an advisory's content."""
    await conn.execute(
        "INSERT INTO advisory_versions (advisory_id, version, content, created_at)"
        " VALUES ($1, $2, $3::jsonb, $4)",
        advisory_id,
        version,
        msgspec.json.encode(advisory).decode(),
        now,
    )


async def get_advisory(pool: asyncpg.Pool, advisory_id: str) -> Advisory:
    """One advisory, or NotFound."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(f"SELECT {COLUMNS} {FROM} WHERE a.id = $1", advisory_id)
    if row is None:
        raise NotFound("no such advisory")
    return advisory_of(row)


async def list_advisories(pool: asyncpg.Pool, agency_id: str | None) -> list[Advisory]:
    """An agency's advisories (every advisory for operators), newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} {FROM}"
            " WHERE $1::text IS NULL OR a.agency_id = $1 ORDER BY a.created_at DESC LIMIT 500",
            agency_id,
        )
    return [advisory_of(r) for r in rows]


async def with_deadline(pool: asyncpg.Pool, since: datetime) -> list[Advisory]:
    """Published advisories whose deliver_by is at or after `since`, the soonest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {COLUMNS} {FROM} WHERE a.state = 'published' AND a.deliver_by >= $1"
            " ORDER BY a.deliver_by LIMIT 1000",
            since,
        )
    return [advisory_of(r) for r in rows]


async def some(pool: asyncpg.Pool, advisory_ids: list[str]) -> dict[str, Advisory]:
    """Id → advisory, of those of `advisory_ids` that exist."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT {COLUMNS} {FROM} WHERE a.id = ANY($1)", advisory_ids)
    return {r["id"]: advisory_of(r) for r in rows}


async def versions(pool: asyncpg.Pool, advisory_id: str) -> list[Version]:
    """Every version of an advisory, newest first."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT version, content, created_at FROM advisory_versions"
            " WHERE advisory_id = $1 ORDER BY version DESC",
            advisory_id,
        )
    return [
        Version(
            version=r["version"], content=_content.decode(r["content"]), created_at=r["created_at"]
        )
        for r in rows
    ]


async def withdraw_advisory(
    pool: asyncpg.Pool, advisory_id: str, now: datetime, *, notify_recipients: bool = False
) -> None:
    """Withdraw an advisory; once it was public, tell the bus (outbox), and whether its
    recipients are to be told. Idempotent."""
    async with pool.acquire() as conn, conn.transaction():
        state = await conn.fetchval(
            "SELECT state FROM advisories WHERE id = $1 FOR UPDATE", advisory_id
        )
        if state is None:
            raise NotFound("no such advisory")
        what = embargo.withdrawal(state)
        if what == "none":
            return
        await conn.execute(
            "UPDATE advisories SET state = 'withdrawn', withdrawn_at = $2 WHERE id = $1",
            advisory_id,
            now,
        )
        if what == "announce":
            event = m.AdvisoryWithdrawn(
                advisory_id=advisory_id, withdrawn_at=now, notify_recipients=notify_recipients
            )
            await enqueue_on(conn, channels.ADVISORY_WITHDRAWN, event)
