"""The deadline watch: a gauge of published advisories projected to miss their deliver_by."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

from aiohttp import web
from prometheus_client import Gauge

from services.advisory.lifecycle import deadline, store
from services.advisory.peers.reach import reach_of
from shared.http import NATS, POOL
from shared.service import CLOCK, SETTINGS

log = logging.getLogger(__name__)

# A deadline passed a day ago with mail still waiting stays counted that long, then the
# console's page (and the report) tell the rest.
LOOKBACK = timedelta(days=1)
MISSING = Gauge(
    "anshin_advisories_missing_deadline",
    "Published advisories whose waiting mail, at the configured send rates, will not all"
    " have gone out by their deliver_by.",
)


async def count_missing(app: web.Application, now: datetime) -> int:
    """How many published advisories the send rates will not let finish by deliver_by.

    An advisory whose reach the mailer does not tell is not counted: the mailer's own
    alerts say why it does not answer.
    """
    settings, missing = app[SETTINGS], 0
    for advisory in await store.with_deadline(app[POOL], now - LOOKBACK):
        reach = await reach_of(app[NATS], advisory, now)
        if reach.problem:
            continue
        p = deadline.at_send_rates(
            settings,
            start=now,
            waiting=reach.counts["waiting"],
            by_domain=reach.waiting_by_domain,
            deliver_by=advisory.deliver_by,
        )
        missing += p.met is False
    return missing


async def watch_deadlines(app: web.Application) -> None:
    """Count the advisories missing their deadline for ever, into MISSING."""
    while True:
        try:
            MISSING.set(await count_missing(app, app[CLOCK].now()))
        except Exception:
            log.warning("deadline watch failed; retrying", exc_info=True)
        await asyncio.sleep(app[SETTINGS].deadline_watch_s)


@contextlib.asynccontextmanager
async def deadline_watch(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context running the deadline watch in the background."""
    task = asyncio.create_task(watch_deadlines(app), name="deadline-watch")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
