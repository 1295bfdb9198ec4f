"""Mailer's SQL for what a customer chose on the preference page: families turned off."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from shared.db import Conn


async def turned_off(conn: Conn, email: str) -> list[str]:
    """The families of advice this address turned off; none if it chose nothing."""
    found: list[str] | None = await conn.fetchval(
        "SELECT off FROM preferences WHERE email = $1", email
    )
    return list(found or [])


async def save_preferences(conn: Conn, email: str, off: Sequence[str], now: datetime) -> None:
    """Keep the families this address turns off (all on again: the row goes)."""
    if not off:
        await conn.execute("DELETE FROM preferences WHERE email = $1", email)
        return
    await conn.execute(
        "INSERT INTO preferences (email, off, at) VALUES ($1, $2, $3)"
        " ON CONFLICT (email) DO UPDATE SET off = $2, at = $3",
        email,
        sorted(set(off)),
        now,
    )


async def declined(conn: Conn, advisory_id: str) -> int:
    """Deliveries of an advisory not sent because their address turned its family off."""
    found: int = await conn.fetchval(
        "SELECT count(*) FROM deliveries WHERE advisory_id = $1 AND state = 'suppressed'"
        " AND suppressed_by = 'preference'",
        advisory_id,
    )
    return found
