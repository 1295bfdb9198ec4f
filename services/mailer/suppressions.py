"""Suppressions as operators see them: listed with their reason, lifted one at a time.

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

from services.mailer import store_suppressions
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
    async with pool.acquire() as conn, conn.transaction():
        reason = await store_suppressions.reason_of(conn, email)
        if reason is None:
            raise NotFound(
                "this address is not suppressed", [field_error("address", "not suppressed")]
            )
        if reason in CUSTOMERS_OWN and not force:
            raise Conflict(
                f"the customer asked for this ({reason}): lift it only if they ask for mail again",
                [field_error("force", f"needed to lift a suppression of reason {reason!r}")],
            )
        requeued = await store_suppressions.requeue(conn, email, now) if resend else 0
        await store_suppressions.delete(conn, email, reason, by, requeued)
    log.info("suppression lifted", extra={"reason": reason, "by": by, "requeued": requeued})
    return Lifted(reason=reason, requeued=requeued)
