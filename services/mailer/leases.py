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
from datetime import datetime, timedelta

import asyncpg

from services.mailer.store import fence
from shared.db import unit_of_work

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

    async def sweep(self, now: datetime) -> int:
        """Put back what a dead replica claimed but never confirmed (never what this one holds);
        return how many rows."""
        async with unit_of_work(self._pool, transaction=False) as conn:
            return await fence.release_stale(conn, now, sorted(self.held))

    async def renew_forever(self) -> None:
        """Renew the held leases every quarter of a lease, until cancelled."""
        while True:
            await asyncio.sleep(self.every)
            if not self.held:
                continue
            try:
                async with unit_of_work(self._pool, transaction=False) as conn:
                    await fence.renew(conn, sorted(self.held), self.lease)
            except Exception:
                # The next try may reach it; the lease gives four.
                log.warning("could not renew the leases of mail in flight", exc_info=True)
