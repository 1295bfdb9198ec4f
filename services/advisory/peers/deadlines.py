"""The deadline watch: a gauge of published advisories projected to miss their deliver_by."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from aiohttp import web
from prometheus_client import Gauge

from services.advisory.lifecycle import deadline, store
from services.advisory.peers.reach import reach_of
from shared.http import NATS, POOL
from shared.service import CLOCK, SETTINGS, every, in_background

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


async def _measure(app: web.Application) -> None:
    MISSING.set(await count_missing(app, app[CLOCK].now()))


def deadline_watch(app: web.Application) -> contextlib.AbstractAsyncContextManager[None]:
    """A cleanup context counting the advisories missing their deadline, into MISSING."""
    interval = app[SETTINGS].deadline_watch_s
    watch = every(interval, lambda: _measure(app), log, "deadline watch failed; retrying")
    return in_background(watch, "deadline-watch")
