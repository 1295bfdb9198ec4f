"""Mailer's SQL for a customer's rights: erase contacts and suppressions, pseudonymize the
ledger, keep erased suppressions as keyed hashes, and export what is held."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.db import Conn


async def lock_customers(conn: Conn, lock_keys: Sequence[int], *, shared: bool) -> None:
    """Hold the customers until commit: an erasure alone, contact data taken in together."""
    lock = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await conn.execute(f"SELECT {lock}(k) FROM unnest($1::int8[]) AS k", sorted(set(lock_keys)))


async def erased_since(conn: Conn, customer_keys: Sequence[bytes]) -> dict[bytes, datetime]:
    """When each of these (hashed) customers was erased, for those that were."""
    rows = await conn.fetch(
        "SELECT customer_key, erased_at FROM erased_customers"
        " WHERE customer_key = ANY($1::bytea[])",
        list(customer_keys),
    )
    return {bytes(r["customer_key"]): r["erased_at"] for r in rows}


async def in_flight(conn: Conn, customer_ids: Sequence[str]) -> int:
    """The customers' mail claimed by a sender whose lease still runs: it may be on the wire."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM deliveries WHERE customer_id = ANY($1::text[])"
        " AND state = 'sending' AND lease_until > clock_timestamp()",
        list(customer_ids),
    )
    return count


async def addresses(conn: Conn, customer_ids: Sequence[str]) -> list[str]:
    """The customers' addresses, their contacts locked until commit."""
    rows = await conn.fetch(
        "SELECT email FROM contacts WHERE customer_id = ANY($1::text[])"
        " ORDER BY customer_id FOR UPDATE",
        list(customer_ids),
    )
    return sorted({r["email"] for r in rows})


async def erase(
    conn: Conn,
    customer_ids: Sequence[str],
    pseudonyms: Sequence[str],
    customer_keys: Sequence[bytes],
    emails: Sequence[str],
    email_keys: Sequence[bytes],
    now: datetime,
) -> dict[str, int]:
    """Erase the customers: the ledger keeps advisory, time and outcome under a pseudonym
    (what still waited is cancelled), a suppression of an address no other customer has is
    kept as its keyed hash, the contacts go; return how many of each."""
    ledger = await conn.fetchval(
        "WITH changed AS (UPDATE deliveries d SET customer_id = u.p, purchases = '[]',"
        " error = NULL, feedback_detail = NULL, hold = NULL, claim_token = NULL,"
        " lease_until = NULL,"
        " state = CASE WHEN d.state IN ('queued', 'deferred', 'sending') THEN 'cancelled'"
        " ELSE d.state END"
        " FROM unnest($1::text[], $2::text[]) AS u(c, p) WHERE d.customer_id = u.c"
        " RETURNING 1) SELECT count(*) FROM changed",
        list(customer_ids),
        list(pseudonyms),
    )
    contacts = await conn.fetchval(
        "WITH gone AS (DELETE FROM contacts WHERE customer_id = ANY($1::text[]) RETURNING 1)"
        " SELECT count(*) FROM gone",
        list(customer_ids),
    )
    # An address another customer still has stays suppressed as it is.
    hashed = await conn.fetchval(
        "WITH moved AS (DELETE FROM suppressions s USING unnest($1::text[], $2::bytea[]) AS u(e, k)"
        " WHERE s.email = u.e AND NOT EXISTS (SELECT FROM contacts c WHERE c.email = u.e)"
        " RETURNING u.k, s.reason, s.at, s.detail),"
        " kept AS (INSERT INTO erased_suppressions (email_key, reason, at, detail)"
        " SELECT * FROM moved ON CONFLICT (email_key) DO UPDATE SET reason = excluded.reason,"
        " at = excluded.at, detail = excluded.detail RETURNING 1)"
        " SELECT count(*) FROM kept",
        list(emails),
        list(email_keys),
    )
    # Soft bounces name the address: they go with it, unless another customer has it.
    await conn.execute(
        "DELETE FROM soft_bounces b WHERE b.email = ANY($1::text[])"
        " AND NOT EXISTS (SELECT FROM contacts c WHERE c.email = b.email)",
        list(emails),
    )
    await conn.execute(
        "INSERT INTO erased_customers (customer_key, erased_at)"
        " SELECT k, $2 FROM unnest($1::bytea[]) AS k"
        " ON CONFLICT (customer_key) DO UPDATE SET erased_at = excluded.erased_at",
        list(customer_keys),
        now,
    )
    return {"contacts": contacts, "ledger_pseudonymized": ledger, "suppressions_hashed": hashed}


async def after_contacts(
    conn: Conn,
    customer_ids: Sequence[str],
    customer_keys: Sequence[bytes],
    emails: Sequence[str],
    email_keys: Sequence[bytes],
) -> None:
    """After contacts were taken in: drop those of erased customers dated before their
    erasure, and suppress again an address whose suppression was kept as a hash."""
    await conn.execute(
        "DELETE FROM contacts c"
        " USING unnest($1::text[], $2::bytea[]) AS u(i, k), erased_customers e"
        " WHERE c.customer_id = u.i AND e.customer_key = u.k AND c.updated_at <= e.erased_at",
        list(customer_ids),
        list(customer_keys),
    )
    await conn.execute(
        "WITH back AS (DELETE FROM erased_suppressions e USING unnest($1::text[], $2::bytea[])"
        " AS u(m, k) WHERE e.email_key = u.k RETURNING u.m, e.reason, e.at, e.detail)"
        " INSERT INTO suppressions (email, reason, at, detail) SELECT DISTINCT ON (m) * FROM back"
        " ON CONFLICT DO NOTHING",
        list(emails),
        list(email_keys),
    )


async def export(conn: Conn, customer_ids: Sequence[str]) -> dict[str, Any]:
    """The customers' contact data, every safety mail of the ledger with its advisory and
    time, and the suppression of their addresses."""
    contacts = await conn.fetch(
        "SELECT customer_id, email, locale, timezone, name, updated_at FROM contacts"
        " WHERE customer_id = ANY($1::text[]) ORDER BY customer_id",
        list(customer_ids),
    )
    mails = await conn.fetch(
        "SELECT d.customer_id, d.advisory_id, d.event_id, d.kind, d.state, d.requested_at,"
        " d.sent_at, d.feedback, d.feedback_at, a.agency_name, a.title FROM deliveries d"
        " LEFT JOIN advisories a ON a.advisory_id = d.advisory_id"
        " WHERE d.customer_id = ANY($1::text[]) ORDER BY d.requested_at, d.advisory_id",
        list(customer_ids),
    )
    suppressions = await conn.fetch(
        "SELECT s.email, s.reason, s.at FROM suppressions s"
        " WHERE s.email IN (SELECT email FROM contacts WHERE customer_id = ANY($1::text[]))"
        " ORDER BY s.email",
        list(customer_ids),
    )
    return {
        "contacts": [dict(r) for r in contacts],
        "mails": [{**dict(r), "title": json.loads(r["title"] or "{}")} for r in mails],
        "suppressions": [dict(r) for r in suppressions],
    }
