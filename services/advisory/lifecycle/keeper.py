"""The embargo keeper: publishes each advisory, and each correction, at its embargo time, once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web
from prometheus_client import Counter

from services.advisory.lifecycle import amendment, publication
from shared.http import POOL
from shared.service import CLOCK

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
PUBLISHED = Counter("anshin_advisories_published", "Advisories published at their embargo time.")
CORRECTED = Counter(
    "anshin_advisories_corrected", "Corrections made public at their own embargo time."
)


async def keep_embargoes(app: web.Application) -> None:
    """Publish due advisories for ever; the clock decides what is due."""
    pool, clock = app[POOL], app[CLOCK]
    while True:
        try:
            for advisory_id in await publication.publish_due(pool, clock.now()):
                PUBLISHED.inc()
                log.info("advisory published", extra={"advisory_id": advisory_id})
            for advisory_id in await amendment.publish_due(pool, clock.now()):
                CORRECTED.inc()
                log.info("advisory correction published", extra={"advisory_id": advisory_id})
        except Exception:
            log.warning("embargo check failed; retrying", exc_info=True)
        await asyncio.sleep(POLL_SECONDS)


@contextlib.asynccontextmanager
async def embargo_keeper(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context running the embargo keeper in the background."""
    task = asyncio.create_task(keep_embargoes(app), name="embargo-keeper")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
