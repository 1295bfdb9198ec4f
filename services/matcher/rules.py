"""Pure rule logic: priorities by kind, and whether a purchase falls under a rule."""

from __future__ import annotations

from datetime import datetime, timedelta

from shared import messages as m

PRIORITY = {
    "disaster": m.Priority.DISASTER,
    "recall": m.Priority.RECALL,
    "short_term": m.Priority.SHORT_TERM,
    "combination": m.Priority.COMBINATION,
    "long_term": m.Priority.LONG_TERM,
}


def short_term_applies(
    rule: m.AdvisoryRule, categories: list[str], placed_at: datetime, now: datetime
) -> bool:
    """A short-term rule applies to a purchase of its categories inside its window."""
    inside = now - timedelta(days=rule.window_days) <= placed_at <= now
    return inside and not set(rule.categories).isdisjoint(categories)


def purchase_of(order: m.OrderPlaced, line: m.OrderLine) -> m.Purchase:
    """The purchase a customer is told about."""
    return m.Purchase(
        channel=order.channel,
        order_id=order.order_id,
        sku=line.sku,
        title=line.title,
        placed_at=order.placed_at,
    )
