"""Suppressions: a customer's unsubscribe, and what operators see of them: listed with their
reason, lifted one at a time.

A bounce may be lifted: the mailbox was repaired, or it was condemned by mistake. An
unsubscribe or a complaint is the customer's own word: lifting one needs `force` (the
customer asked for the mail again). Lifting is logged and kept in an audit table, both
without the address.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import datetime

import asyncpg
import msgspec

from services.mailer import store
from shared.db import unit_of_work
from shared.errors import Conflict, Invalid, NotFound, field_error

log = logging.getLogger(__name__)

CUSTOMERS_OWN = frozenset({"unsubscribe", "complaint"})
MAX_ADDRESS = 254  # RFC 5321's limit of a forward path


class Lifted(msgspec.Struct, frozen=True, kw_only=True):
    """A suppression lifted: why the address had been suppressed, what was queued again."""

    reason: str
    requeued: int


def address(text: str, field: str = "address") -> str:
    """An address as the mailer keeps it (trimmed, NFKC, lower-case), or Invalid naming it."""
    found = unicodedata.normalize("NFKC", text).strip().lower()
    local, at, domain = found.rpartition("@")
    if (
        len(found) > MAX_ADDRESS
        or not at
        or not local
        or not domain
        or any(c.isspace() for c in found)
    ):
        raise Invalid(
            "not an e-mail address",
            [
                field_error(
                    field, f"an address like name@example.jp, at most {MAX_ADDRESS} characters"
                )
            ],
        )
    return found


async def unsubscribe(pool: asyncpg.Pool, customer_id: str, email: str) -> bool:
    """Suppress the address and what still waits for it, if it is still the customer's."""
    async with unit_of_work(pool) as conn:
        # Locked, so that the address cannot change between the link's check and this.
        if await store.locked_email(conn, customer_id) != email:
            return False
        await store.suppress(conn, email, "unsubscribe")
        await store.suppress_waiting(conn, email)
    return True


async def lift(
    pool: asyncpg.Pool,
    text: str,
    now: datetime,
    *,
    by: str,
    force: bool = False,
    resend: bool = False,
) -> Lifted:
    """Mail an address again; with `resend`, queue again what its suppression stopped."""
    email = address(text)
    async with unit_of_work(pool) as conn:
        reason = await store.suppression_reason(conn, email)
        if reason is None:
            raise NotFound(
                "this address is not suppressed", [field_error("address", "not suppressed")]
            )
        if reason in CUSTOMERS_OWN and not force:
            raise Conflict(
                f"the customer asked for this ({reason}): lift it only if they ask for mail again",
                [field_error("force", f"needed to lift a suppression of reason {reason!r}")],
            )
        requeued = await store.requeue_suppressed(conn, email, now) if resend else 0
        await store.lift_suppression(conn, email, reason, by, requeued)
    log.info("suppression lifted", extra={"reason": reason, "by": by, "requeued": requeued})
    return Lifted(reason=reason, requeued=requeued)
