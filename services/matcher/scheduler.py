"""The long-term scheduler: every replica polls the durable schedule, driven by the clock."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg
from aiohttp import web

from services.matcher import deliveries, metrics, store
from shared.clock import Clock
from shared.db import unit_of_work
from shared.http import POOL
from shared.service import CLOCK, SETTINGS, in_background

log = logging.getLogger(__name__)

CLAIM = 1000


async def run_due(pool: asyncpg.Pool, clock: Clock, limit: int = CLAIM) -> int:
    """Claim due entries, request those that still apply, and return how many were claimed."""
    now = clock.now()
    async with unit_of_work(pool) as conn:
        claimed = await store.claim_due(conn, now, limit)
        if not claimed:
            return 0
        due = await store.still_due(conn, claimed, now)
        done = [
            await deliveries.request(conn, advisory_id, "long_term", recipients, now)
            for advisory_id, recipients in due.items()
        ]
    metrics.count(done)
    return len(claimed)


async def _loop(pool: asyncpg.Pool, clock: Clock, poll_s: float) -> None:
    while True:
        try:
            claimed = await run_due(pool, clock)
        except Exception:
            log.warning("schedule run failed; retrying", exc_info=True)
            claimed = 0
        if claimed < CLAIM:
            await asyncio.sleep(poll_s)


def scheduler(app: web.Application) -> contextlib.AbstractAsyncContextManager[None]:
    """A cleanup context: the scheduler loop of this replica."""
    poll_s = app[SETTINGS].matcher_schedule_poll_s
    return in_background(_loop(app[POOL], app[CLOCK], poll_s), "matcher:schedule")
