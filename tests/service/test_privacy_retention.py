"""Retention: the clock moved across each limit, with the services running against real servers."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import aiohttp
import msgspec
from prometheus_client import REGISTRY

from shared.clock import Clock
from shared.config import Settings
from tests.support.advisory import eventually
from tests.support.fixtures import run_services
from tests.support.privacy import rows, shop_with_mail

PEOPLE = [("A-1", "c-42", "hanako@example.jp"), ("A-2", "c-7", "jeanne@example.fr"),
          ("A-3", "c-8", "taro@example.jp")]  # fmt: skip
SCHEMAS = ("ingest", "matcher", "mailer")

HELD = {
    "orders": "SELECT count(*) FROM ingest.orders",
    "customers": "SELECT count(*) FROM ingest.customers",
    "outbox_dead": "SELECT count(*) FROM ingest.outbox_dead",
    "soft_bounces": "SELECT count(*) FROM mailer.soft_bounces",
    "purchases": "SELECT count(*) FROM matcher.purchases",
    "named ledger rows": "SELECT count(*) FROM mailer.deliveries WHERE customer_id LIKE 'c-%'",
    "ledger rows": "SELECT count(*) FROM mailer.deliveries",
}


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _held(settings: Settings) -> dict[str, int]:
    return {k: (await rows(settings.database_url, sql))[0][0] for k, sql in HELD.items()}


async def _after_runs(settings: Settings) -> dict[str, int]:
    """What is held once every service has completed two more retention runs."""
    before = {s: _sample("anshin_retention_runs_total", schema=s) for s in SCHEMAS}

    async def ran() -> bool:
        return all(
            _sample("anshin_retention_runs_total", schema=s) >= before[s] + 2 for s in SCHEMAS
        )

    await eventually(ran, timeout=20)
    return await _held(settings)


async def test_the_clock_moved_across_each_limit_prunes_only_past_it(
    settings: Settings, clock: Clock, http: aiohttp.ClientSession
) -> None:
    settings = msgspec.structs.replace(settings, retention_interval_s=0.1, retention_batch=2)
    async with contextlib.AsyncExitStack() as stack:
        urls = await run_services(stack, settings, clock, "ingest", "advisory", "matcher", "mailer")
        await shop_with_mail(http, settings, clock, urls, PEOPLE)
        await rows(
            settings.database_url,
            "INSERT INTO ingest.outbox_dead"
            " (id, subject, msg_id, payload, size, reason, created_at)"
            " VALUES (1, 'orders.placed', 'order:web:X:placed', '\\x7b7d', 2, 'too large', now())",
        )
        await rows(
            settings.database_url,
            "INSERT INTO mailer.soft_bounces (email, at) VALUES ('taro@example.jp', now())",
        )
        pruned = _sample("anshin_retention_pruned_total", schema="ingest", what="orders")
        start = await _held(settings)
        assert start == {"orders": 3, "customers": 3, "outbox_dead": 1, "soft_bounces": 1,
                         "purchases": 3, "named ledger rows": 3, "ledger rows": 3}  # fmt: skip
        # Each limit from its default: a day before it nothing goes, a day after it does.
        clock.advance(timedelta(days=6))
        assert await _after_runs(settings) == start
        clock.advance(timedelta(days=2))
        soft = start | {"soft_bounces": 0}
        assert await _after_runs(settings) == soft
        clock.advance(timedelta(days=29 - 8))
        assert await _after_runs(settings) == soft
        clock.advance(timedelta(days=2))
        assert await _after_runs(settings) == soft | {"outbox_dead": 0}
        clock.advance(timedelta(days=729 - 31))
        assert await _after_runs(settings) == soft | {"outbox_dead": 0}
        clock.advance(timedelta(days=2))
        expired = {"outbox_dead": 0, "soft_bounces": 0, "orders": 0, "customers": 0,
                   "named ledger rows": 0}  # fmt: skip
        assert await _after_runs(settings) == start | expired
        # Three orders in batches of two, counted.
        assert (
            _sample("anshin_retention_pruned_total", schema="ingest", what="orders") == pruned + 3
        )
        # Purchases stay eleven years (bought two days before the start).
        clock.advance(timedelta(days=4015 - 731))
        assert await _after_runs(settings) == start | expired
        clock.advance(timedelta(days=2))
        assert await _after_runs(settings) == start | expired | {"purchases": 0}
        # The ledger keeps its rows, each under a pseudonym.
        kept = await rows(settings.database_url, "SELECT customer_id, state FROM mailer.deliveries")
        assert len(kept) == 3 and all(c.startswith("expired:") for c, _ in kept), kept
