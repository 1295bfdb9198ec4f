"""The feed reader: one replica polls every configured feed and declares what the feeds list
through the code of POST /v1/events (`events.parse`, `events.settle`).

Election: a replica polls while it holds a PostgreSQL session advisory lock on one of its
pool's connections (`store.try_lead`); the others try again every few seconds, so when the
poller stops or its connection dies, another takes over. Memory: an entry is remembered once
taken (`feed_entries`), and a feed's validators are kept only once every entry of a read was
taken, so a crash between the two fetches that read again and takes only what is left.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import asyncpg
from aiohttp import web

from services.advisory.disasters import events
from services.advisory.disasters.feedreader import backoff, cadence, fetch, sources, store
from services.advisory.disasters.feedreader.metrics import DECLARED, ENTRIES, ERRORS, LAST_SUCCESS
from shared.clock import Clock
from shared.config import Settings
from shared.errors import AnshinError
from shared.http import POOL
from shared.service import CLOCK, SETTINGS, in_background
from shared.setting_lists import Feed, feed_list

log = logging.getLogger(__name__)

ELECTION_S = 5.0
# Entries are remembered longer than any feed lists them (JMA's long feeds: days; USGS's
# month feeds: 30 days).
KEEP_SEEN = timedelta(days=45)
ACCEPT = {"jma": "application/atom+xml, application/xml", "usgs": "application/geo+json"}


class LostLead(Exception):
    """This replica's connection no longer holds the poller's lock."""


class Poller:
    """Polls one feed for ever and takes each new entry once."""

    def __init__(
        self,
        feed: Feed,
        pool: asyncpg.Pool,
        clock: Clock,
        settings: Settings,
        http: aiohttp.ClientSession,
    ) -> None:
        self.feed, self.pool, self.clock = feed, pool, clock
        self.settings, self.http = settings, http
        self.cadence = cadence.Cadence(settings.feed_poll_s)

    async def run(self) -> None:
        """Poll at the feed's interval; after errors, back off (backoff.py)."""
        # The series exists from the first poll: a feed that never answers shows as stale.
        LAST_SUCCESS.labels(self.feed.name)
        errors, s = 0, self.settings
        while True:
            try:
                due = await self.poll()
                errors = 0
                LAST_SUCCESS.labels(self.feed.name).set(time.time())
                wait = due - time.monotonic()
            except Exception:  # anything but cancellation: try again later
                errors += 1
                ERRORS.labels(self.feed.name).inc()
                log.warning("feed %s failed (%d in a row)", self.feed.name, errors, exc_info=True)
                wait = backoff.delay(errors, s.feed_poll_s, s.feed_backoff_max_s)
            await asyncio.sleep(max(0.0, wait))

    async def poll(self) -> float:
        """Read the feed (unless unchanged) and take the entries not taken before; return when
        (time.monotonic) to read it next: just after its next rewrite (cadence.py)."""
        since = await store.validators(self.pool, self.feed.name)
        accept = ACCEPT.get(self.feed.kind, "application/geo+json, application/json")
        fetched = await fetch.get(
            self.http, self.feed.url, self.settings.max_body_bytes, since, accept
        )
        due = time.monotonic() + self.cadence.after(fetched.served, fetched.modified)
        if fetched.body is None:
            return due
        listed = sources.entries(self.feed.kind, fetched.body, self.feed.url)
        taken = await store.seen(self.pool, self.feed.name, [e.key for e in listed])
        for entry in listed:
            if entry.key in taken:
                continue
            outcome = await self.take(entry)
            await store.remember(self.pool, self.feed.name, entry.key, outcome, self.clock.now())
            ENTRIES.labels(self.feed.name, outcome).inc()
            if outcome == "declared":
                DECLARED.labels(self.feed.name).inc()
        await store.keep_validators(self.pool, self.feed.name, fetched.validators, self.clock.now())
        return due

    async def take(self, entry: sources.Entry) -> str:
        """Declare what one entry reports, as POST /v1/events would; say what it did."""
        limit = events.event_limit(self.settings)
        try:
            document = entry.document
            if entry.url:
                fetched = await fetch.get(self.http, entry.url, limit, accept="application/xml")
                document = fetched.body or b""
            elif len(document) > limit:
                raise fetch.TooLarge(f"a feature of {len(document)} bytes, over {limit}")
            disaster = events.parse(entry.content_type, document, self.settings)
            settled = await events.settle(self.pool, disaster, self.clock.now())
        except (fetch.TooLarge, fetch.Gone, AnshinError) as exc:
            # What the document is will not change: remembered as refused, never retried.
            log.warning("feed %s: entry %s refused: %s", self.feed.name, entry.key, exc)
            return "refused"
        log.info(
            "feed %s: entry %s %s %s",
            self.feed.name,
            entry.key,
            settled.outcome,
            settled.answer.id or settled.answer.reason,
        )
        return settled.outcome


async def read_feeds(app: web.Application) -> None:
    """Elect this replica as the poller when none is, and poll while it leads."""
    settings, pool = app[SETTINGS], app[POOL]
    feeds = feed_list(settings.feeds)
    while True:
        try:
            async with pool.acquire() as conn:
                if await store.try_lead(conn):
                    try:
                        await _lead(app, feeds, conn)
                    finally:
                        with contextlib.suppress(Exception):
                            await store.resign(conn)
        except Exception:  # the lead lost, the database away: elect again
            log.warning("feed reader stopped polling; electing again", exc_info=True)
        await asyncio.sleep(ELECTION_S)


async def _lead(app: web.Application, feeds: list[Feed], conn: store.Conn) -> None:
    settings, pool, clock = app[SETTINGS], app[POOL], app[CLOCK]
    log.info("this replica polls the feeds: %s", ", ".join(f.name for f in feeds))
    timeout = aiohttp.ClientTimeout(total=settings.feed_timeout_s)
    agent = {"User-Agent": f"Anshin feed reader (+{settings.public_url})"}
    async with (
        aiohttp.ClientSession(timeout=timeout, headers=agent) as http,
        asyncio.TaskGroup() as group,
    ):
        for feed in feeds:
            group.create_task(Poller(feed, pool, clock, settings, http).run())
        group.create_task(_hold(conn, pool, clock))


async def _hold(conn: store.Conn, pool: asyncpg.Pool, clock: Clock) -> None:
    """Raise LostLead once the lock is gone; forget old entries now and then."""
    last_forget = -float("inf")
    while True:
        if not await store.still_leading(conn):
            raise LostLead("the feed reader's lock is gone")
        if time.monotonic() - last_forget > 3600:
            await store.forget(pool, clock.now(), KEEP_SEEN)
            last_forget = time.monotonic()
        await asyncio.sleep(ELECTION_S)


@contextlib.asynccontextmanager
async def feed_reader(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context running the feed reader in the background when feeds are set."""
    if not feed_list(app[SETTINGS].feeds):
        yield
        return
    async with in_background(read_feeds(app), "feed-reader"):
        yield
