"""The leases of the claims one sender holds, renewed while their mail is on the wire.

A lease is short, so that a dead replica's claim comes back soon: the sweep puts its rows
back once the lease has run out. A live replica renews its claims' leases four times a lease,
whatever the relay's pace, so a slow relay never makes a claim look abandoned; only a database
that stays away for most of a lease can.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

import asyncpg

from services.mailer import fence

log = logging.getLogger(__name__)


class Leases:
    """The tokens of the claims in flight, and the task that renews their leases."""

    def __init__(self, pool: asyncpg.Pool, lease: timedelta) -> None:
        self._pool, self.lease = pool, lease
        self.held: set[uuid.UUID] = set()

    @property
    def every(self) -> float:
        """Seconds between renewals (and between sweeps): a quarter of the lease."""
        return self.lease.total_seconds() / 4

    async def renew_forever(self) -> None:
        """Renew the held leases every quarter of a lease, until cancelled."""
        while True:
            await asyncio.sleep(self.every)
            if not self.held:
                continue
            try:
                await fence.renew(self._pool, sorted(self.held), self.lease)
            except Exception:
                # The next try may reach it; the lease gives four.
                log.warning("could not renew the leases of mail in flight", exc_info=True)
