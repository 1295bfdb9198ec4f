"""Matcher's advisory locks: order batches against publications, and per customer."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from shared.db import Conn

# One advisory-lock key for the set of rules: order batches share it, a publication or
# withdrawal takes it alone, so no order slips between a rule's publication and its audience.
RULES_LOCK = 0x616E_7368_696E


def _customer_key(customer_id: str) -> int:
    digest = hashlib.blake2b(customer_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


async def lock_for_orders(conn: Conn, customer_ids: Sequence[str]) -> None:
    """Share the rules lock and take each customer's lock, in key order so batches never deadlock.

    Two replicas handling two orders of one customer would otherwise each miss the other's
    purchase when checking a combination.
    """
    await conn.execute("SELECT pg_advisory_xact_lock_shared($1)", RULES_LOCK)
    keys = sorted({_customer_key(c) for c in customer_ids})
    await conn.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest($1::bigint[]) k", keys)


async def lock_rules(conn: Conn) -> None:
    """Wait for order batches in flight, and hold new ones back until this transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", RULES_LOCK)


async def lock_fold(conn: Conn, name: str) -> None:
    """Take the lock of one slice of a playbook's folding (its advisory, hazard and shard).

    Two disasters of one hazard fanned out at once (a quake and its aftershock) would
    otherwise each miss the other's uncommitted matches and both mail the customer.
    """
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _customer_key(f"fold:{name}"))
