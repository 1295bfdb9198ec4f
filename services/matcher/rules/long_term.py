"""What a long-term advisory means: buyers of its categories, some years after the purchase.

Its deliveries wait on the durable schedule (store/schedule.py); the scheduler sends them
when due (services/matcher/scheduler.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.matcher import deliveries, metrics, store
from services.matcher.audience import Where, of_categories
from services.matcher.rules.base import (
    Declared,
    Job,
    KindRule,
    Line,
    Outcome,
    Schedule,
    Triggers,
    add_years,
)
from shared import messages as m
from shared.db import Conn


def due(rule: m.LongTerm, placed_at: datetime, now: datetime, late: timedelta) -> datetime | None:
    """When a long-term delivery falls due; None if the anniversary passed over `late` ago."""
    at = add_years(placed_at, rule.after_years)
    return None if at < now - late else at


class LongTermRule(KindRule[m.LongTerm]):
    """An order of the categories is scheduled at its anniversary; so is the history at
    publication."""

    priority = m.Priority.LONG_TERM

    def triggers(self) -> Triggers:
        """Its categories."""
        return Triggers(categories=frozenset(self.rule.categories))

    def on_line(self, line: Line) -> Outcome:
        """Schedule, unless the anniversary passed too long ago."""
        at = due(self.rule, line.order.placed_at, line.now, line.late)
        return None if at is None else Schedule(at)

    def audience(self, at: datetime, late: timedelta, declared: Declared | None = None) -> Where:
        """Purchases of the categories whose anniversary is ahead, or passed less than `late`
        ago."""
        w = of_categories(self.rule.categories)
        years = w.p(self.rule.after_years)
        return w.add(f"placed_at + make_interval(years => {years}::int) >= {w.p(at - late)}")

    async def reach(self, conn: Conn, job: Job, w: Where) -> deliveries.Requested:
        """Schedule every line under `w`; the scheduler sends what is due already."""
        added = await store.schedule_matching(conn, job.advisory_id, self.rule.after_years, w)
        metrics.SCHEDULED.inc(added)
        return deliveries.Requested(self.kind, 0, 0)
