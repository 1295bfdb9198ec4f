"""Matcher's SQL for the rules of published advisories: kept, withdrawn, read."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import msgspec

from shared import messages as m
from shared.db import Conn

# The union decodes the flat rules of before it too (shared/messages/rules.py).
_rule: msgspec.json.Decoder[m.AdvisoryRule] = msgspec.json.Decoder(m.AdvisoryRule)


async def save_rule(conn: Conn, event: m.AdvisoryPublished) -> bool:
    """Store or update a rule; return False when it was withdrawn or is older than the one kept."""
    row = await conn.fetchrow(
        "INSERT INTO rules (advisory_id, version, kind, rule, published_at, expires_at)"
        " VALUES ($1, $2, $3, $4::jsonb, $5, $6)"
        " ON CONFLICT (advisory_id) DO UPDATE SET version = excluded.version,"
        " rule = excluded.rule, expires_at = excluded.expires_at"
        " WHERE rules.version < excluded.version AND rules.withdrawn_at IS NULL"
        " RETURNING withdrawn_at",
        event.advisory_id,
        event.version,
        event.rule.kind,
        msgspec.json.encode(event.rule).decode(),
        event.published_at,
        event.expires_at,
    )
    if row is not None:
        return True
    kept = await conn.fetchrow(
        "SELECT version, withdrawn_at FROM rules WHERE advisory_id = $1", event.advisory_id
    )
    return kept is not None and kept["withdrawn_at"] is None and kept["version"] == event.version


async def withdraw_rule(conn: Conn, advisory_id: str, at: datetime) -> None:
    """Mark a rule withdrawn (kept even if its publication comes later); drop its schedule."""
    await conn.execute(
        "INSERT INTO rules (advisory_id, version, kind, rule, published_at, withdrawn_at)"
        " VALUES ($1, 0, 'withdrawn', '{}'::jsonb, $2, $2)"
        " ON CONFLICT (advisory_id) DO UPDATE SET withdrawn_at = excluded.withdrawn_at",
        advisory_id,
        at,
    )
    await conn.execute("DELETE FROM schedule WHERE advisory_id = $1", advisory_id)


async def active_rules(conn: Conn, now: datetime) -> list[tuple[str, m.Kind, m.AdvisoryRule]]:
    """Return (advisory_id, kind, rule) of every live rule."""
    rows = await conn.fetch(
        "SELECT advisory_id, kind, rule FROM rules WHERE withdrawn_at IS NULL"
        " AND kind <> 'withdrawn' AND (expires_at IS NULL OR expires_at > $1)",
        now,
    )
    found = [(r["advisory_id"], _rule.decode(r["rule"])) for r in rows]
    return [(advisory_id, rule.kind, rule) for advisory_id, rule in found]


async def live_rule(conn: Conn, advisory_id: str, now: datetime) -> m.AdvisoryRule | None:
    """The rule if live, read under a share lock: a withdrawal waits for us, or we for it."""
    row = await conn.fetchrow(
        "SELECT rule, withdrawn_at, expires_at FROM rules WHERE advisory_id = $1 FOR SHARE",
        advisory_id,
    )
    if row is None or row["withdrawn_at"] is not None:
        return None
    if row["expires_at"] is not None and row["expires_at"] <= now:
        return None
    return _rule.decode(row["rule"])


async def known_rules(conn: Conn, advisory_ids: Sequence[str]) -> dict[str, str]:
    """Kind of each named advisory the matcher has heard of ('withdrawn' once withdrawn)."""
    rows = await conn.fetch(
        "SELECT advisory_id, CASE WHEN withdrawn_at IS NULL THEN kind ELSE 'withdrawn' END AS kind"
        " FROM rules WHERE advisory_id = ANY($1::text[])",
        list(advisory_ids),
    )
    return {r["advisory_id"]: r["kind"] for r in rows}
