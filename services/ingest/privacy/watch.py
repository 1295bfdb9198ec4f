"""The erasure watch: how long the oldest erasure has waited for an eraser's confirmation.

An erasure is done in seconds, or after the mail already on the wire; one still pending after
an hour means an eraser is down or failing on it (the alert AnshinErasureStuck).
"""

from __future__ import annotations

import contextlib
import logging

from aiohttp import web
from prometheus_client import Gauge

from services.ingest.store import privacy as store
from shared.db import unit_of_work
from shared.http import POOL
from shared.messages import ERASERS
from shared.service import CLOCK, SETTINGS, every, in_background

log = logging.getLogger(__name__)

OLDEST_PENDING = Gauge(
    "anshin_erasure_oldest_pending_seconds",
    "Age of the oldest erasure request not yet confirmed by every eraser (0: none pending).",
)


async def measure(app: web.Application) -> float:
    """Set OLDEST_PENDING from the requests and their confirmations; return it."""
    async with unit_of_work(app[POOL], transaction=False) as conn:
        since = await store.oldest_pending(conn, ERASERS)
    age = 0.0 if since is None else max(0.0, (app[CLOCK].now() - since).total_seconds())
    OLDEST_PENDING.set(age)
    return age


def erasure_watch(app: web.Application) -> contextlib.AbstractAsyncContextManager[None]:
    """A cleanup context measuring the pending erasures every `erasure_watch_s`."""
    interval = app[SETTINGS].erasure_watch_s
    watch = every(interval, lambda: measure(app), log, "erasure watch failed; retrying")
    return in_background(watch, "erasure-watch")
