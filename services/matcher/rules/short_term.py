"""What a short-term advisory means: buyers of its categories, within a window of the purchase."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from services.matcher import deliveries
from services.matcher.audience import Where, of_categories
from services.matcher.rules.base import (
    Declared,
    Job,
    KindRule,
    Line,
    Outcome,
    Send,
    Triggers,
    purchase_of,
    recipient,
)
from shared import messages as m
from shared.db import Conn


def applies(
    rule: m.ShortTerm, categories: Sequence[str], placed_at: datetime, now: datetime
) -> bool:
    """A short-term rule applies to a purchase of its categories inside its window.

    The window has no end: a channel whose clock runs ahead of ours stamps its orders a
    little in the future, and such an order is judged only once, when it arrives.
    """
    inside = placed_at >= now - timedelta(days=rule.window_days)
    return inside and not set(rule.categories).isdisjoint(categories)


class ShortTermRule(KindRule[m.ShortTerm]):
    """An order of the categories is mailed at once; a publication reaches recent buyers."""

    priority = m.Priority.SHORT_TERM

    def triggers(self) -> Triggers:
        """Its categories."""
        return Triggers(categories=frozenset(self.rule.categories))

    def on_line(self, line: Line) -> Outcome:
        """Send, when the line is of the categories and inside the window."""
        order = line.order
        if not applies(self.rule, line.line.categories, order.placed_at, line.now):
            return None
        return Send(recipient(order.customer_id, "purchase", purchase_of(order, line.line)))

    def audience(self, at: datetime, late: timedelta, declared: Declared | None = None) -> Where:
        """Purchases of the categories still inside the window (stamped ahead of us too)."""
        w = of_categories(self.rule.categories)
        return w.add(f"placed_at >= {w.p(at - timedelta(days=self.rule.window_days))}")

    async def reach(self, conn: Conn, job: Job, w: Where) -> deliveries.Requested:
        """Every buyer under `w`, told at publication."""
        return await deliveries.request_matching(
            conn, job.advisory_id, self.kind, w, "publication", job.now, event_id=job.event_id
        )
