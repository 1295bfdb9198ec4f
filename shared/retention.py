"""Retention: each service prunes what it no longer needs (docs/privacy.md), in runs.

A run goes through the service's rules in turn; each rule removes at most `batch` rows per
transaction, so no table is locked for long, and the run stops at its time budget (what is
left waits for the next run). Every replica runs it: the batches skip rows another holds.
Rows pruned, runs and their time are counted in metrics.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta

import asyncpg
from aiohttp import web
from prometheus_client import Counter, Histogram

from shared.clock import Clock
from shared.db import Conn, unit_of_work
from shared.http import POOL
from shared.service import CLOCK, SETTINGS, every, in_background

log = logging.getLogger(__name__)

PRUNED = Counter(
    "anshin_retention_pruned_total",
    "Rows pruned (or made pseudonymous) by retention, by schema and rule.",
    ["schema", "what"],
)
RUNS = Counter("anshin_retention_runs_total", "Retention runs completed, by schema.", ["schema"])
RUN_SECONDS = Histogram(
    "anshin_retention_run_seconds",
    "Time one retention run took.",
    ["schema"],
    buckets=(0.01, 0.1, 0.5, 1, 5, 15, 30, 60),
)

# One batch of a rule: (connection, cutoff, batch size) -> rows pruned.
Step = Callable[[Conn, datetime, int], Awaitable[int]]


class Rule:
    """What a rule prunes, after how long, and its step."""

    def __init__(self, what: str, keep: timedelta, step: Step) -> None:
        self.what, self.keep, self.step = what, keep, step


async def prune(
    pool: asyncpg.Pool,
    schema: str,
    rules: Sequence[Rule],
    clock: Clock,
    *,
    batch: int,
    budget_s: float,
) -> dict[str, int]:
    """One run: every rule in batches until nothing is left or the budget is spent."""
    started = time.monotonic()
    pruned: dict[str, int] = {}
    for rule in rules:
        PRUNED.labels(schema, rule.what)  # each series from 0
        pruned[rule.what] = 0
        while time.monotonic() - started < budget_s:
            cutoff = clock.now() - rule.keep
            async with unit_of_work(pool) as conn:
                n = await rule.step(conn, cutoff, batch)
            pruned[rule.what] += n
            PRUNED.labels(schema, rule.what).inc(n)
            if n < batch:
                break
    RUNS.labels(schema).inc()
    RUN_SECONDS.labels(schema).observe(time.monotonic() - started)
    if any(pruned.values()):
        log.info("retention run", extra={"schema": schema, "pruned": pruned})
    return pruned


def pruner(
    schema: str, rules_of: Callable[[web.Application], Sequence[Rule]]
) -> Callable[[web.Application], contextlib.AbstractAsyncContextManager[None]]:
    """A cleanup context: this replica's retention runs, every `retention_interval_s`."""

    def ctx(app: web.Application) -> contextlib.AbstractAsyncContextManager[None]:
        settings, rules = app[SETTINGS], rules_of(app)

        async def run() -> None:
            await prune(app[POOL], schema, rules, app[CLOCK], batch=settings.retention_batch,
                        budget_s=settings.retention_run_budget_s)  # fmt: skip

        failed = f"retention run of {schema} failed"
        runs = every(settings.retention_interval_s, run, log, failed)
        return in_background(runs, f"retention:{schema}")

    return ctx


async def prune_outbox_dead(conn: Conn, cutoff: datetime, batch: int) -> int:
    """Outbox rows the bus refused, set aside before `cutoff` (their notice is on DEAD)."""
    count: int = await conn.fetchval(
        "WITH gone AS (DELETE FROM outbox_dead WHERE id IN (SELECT id FROM outbox_dead"
        " WHERE dead_at < $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) RETURNING 1)"
        " SELECT count(*) FROM gone",
        cutoff,
        batch,
    )
    return count


def outbox_rules(app: web.Application) -> list[Rule]:
    """The rule of every service with an outbox: refused rows expire."""
    return [Rule("outbox_dead", days(app[SETTINGS].dead_letter_retention_days), prune_outbox_dead)]


def days(n: int) -> timedelta:
    """A retention period of `n` days."""
    return timedelta(days=n)
