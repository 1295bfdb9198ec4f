"""Mailer's SQL for contacts: the latest address, language and name of each customer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from shared import messages as m
from shared.db import Conn
from shared.text import inert


async def upsert_contact(conn: Conn, c: m.CustomerUpserted, now: datetime) -> None:
    """Keep the latest contact data of a customer."""
    await upsert_contacts(conn, [c], now)


async def upsert_contacts(
    conn: Conn, contacts: Sequence[m.CustomerUpserted], now: datetime
) -> None:
    """Keep the latest contact data of many customers, in one statement; only newer data wins."""
    latest: dict[str, m.CustomerUpserted] = {}
    for c in contacts:  # one row per customer: a statement may not update a row twice
        seen = latest.get(c.customer_id)
        if seen is None or (seen.updated_at or now) <= (c.updated_at or now):
            latest[c.customer_id] = c
    rows = [latest[k] for k in sorted(latest)]  # key order: concurrent batches never deadlock
    await conn.execute(
        "INSERT INTO contacts"
        " (customer_id, email, locale, timezone, name, updated_at, email_since)"
        " SELECT c.*, c.t FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
        " $5::text[], $6::timestamptz[]) AS c(i, e, l, z, n, t)"
        " ON CONFLICT (customer_id) DO UPDATE SET"
        " email = excluded.email, locale = excluded.locale, timezone = excluded.timezone,"
        " name = excluded.name, updated_at = excluded.updated_at,"
        # Since when the customer has this address: a two-part link acts only on one
        # held since before such links were retired (api._subscriber).
        " email_since = CASE WHEN contacts.email = excluded.email"
        " THEN contacts.email_since ELSE excluded.email_since END"
        " WHERE contacts.updated_at <= excluded.updated_at",
        [c.customer_id for c in rows],
        [c.email for c in rows],
        [c.locale for c in rows],
        [c.timezone for c in rows],
        # A name arrives from the bus: it may still hold what would start a header.
        [inert(c.name) for c in rows],
        [c.updated_at or now for c in rows],
    )


async def contact(conn: Conn, customer_id: str) -> asyncpg.Record | None:
    """A customer's address, its language and since when it is held, for the unsubscribe page;
    with `retired`, when two-part links stopped being mailed."""
    return await conn.fetchrow(
        "SELECT c.email, c.locale, s.email IS NOT NULL AS suppressed, c.email_since,"
        " (SELECT at FROM epochs WHERE name = 'two_part_links_retired') AS retired"
        " FROM contacts c LEFT JOIN suppressions s ON s.email = c.email"
        " WHERE c.customer_id = $1",
        customer_id,
    )


async def locked_email(conn: Conn, customer_id: str) -> str | None:
    """A customer's address, locked until commit so that it cannot change meanwhile."""
    email: str | None = await conn.fetchval(
        "SELECT email FROM contacts WHERE customer_id = $1 FOR UPDATE", customer_id
    )
    return email
