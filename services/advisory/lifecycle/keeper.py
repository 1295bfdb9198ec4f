"""The embargo keeper: publishes each advisory, and each correction, at its embargo time, once."""

from __future__ import annotations

import contextlib
import logging

from aiohttp import web
from prometheus_client import Counter

from services.advisory.lifecycle import amendment, publication
from shared.http import POOL
from shared.service import CLOCK, every, in_background

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5
PUBLISHED = Counter("anshin_advisories_published", "Advisories published at their embargo time.")
CORRECTED = Counter(
    "anshin_advisories_corrected", "Corrections made public at their own embargo time."
)


async def publish_due(app: web.Application) -> None:
    """Publish the advisories and corrections whose embargo has passed; the clock decides."""
    pool, clock = app[POOL], app[CLOCK]
    for advisory_id in await publication.publish_due(pool, clock.now()):
        PUBLISHED.inc()
        log.info("advisory published", extra={"advisory_id": advisory_id})
    for advisory_id in await amendment.publish_due(pool, clock.now()):
        CORRECTED.inc()
        log.info("advisory correction published", extra={"advisory_id": advisory_id})


def embargo_keeper(app: web.Application) -> contextlib.AbstractAsyncContextManager[None]:
    """A cleanup context publishing due advisories for ever, in the background."""
    keep = every(POLL_SECONDS, lambda: publish_due(app), log, "embargo check failed; retrying")
    return in_background(keep, "embargo-keeper")
