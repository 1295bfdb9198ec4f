"""Pure rule logic: priorities by kind, and whether purchases fall under a rule."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

from shared import gtin
from shared import messages as m

PRIORITY = {
    "disaster": m.Priority.DISASTER,
    "recall": m.Priority.RECALL,
    "short_term": m.Priority.SHORT_TERM,
    "combination": m.Priority.COMBINATION,
    "long_term": m.Priority.LONG_TERM,
}

# Customers hash into this many buckets (see migration 003); shards take contiguous ranges.
BUCKETS = 1024


class Held(NamedTuple):
    """One purchase line of a customer as the rules see it."""

    placed_at: datetime
    categories: frozenset[str]
    purchase: m.Purchase


def short_term_applies(
    rule: m.AdvisoryRule, categories: Sequence[str], placed_at: datetime, now: datetime
) -> bool:
    """A short-term rule applies to a purchase of its categories inside its window.

    The window has no end: a channel whose clock runs ahead of ours stamps its orders a
    little in the future, and such an order is judged only once, when it arrives.
    """
    inside = placed_at >= now - timedelta(days=rule.window_days)
    return inside and not set(rule.categories).isdisjoint(categories)


def recall_applies(rule: m.AdvisoryRule, sku: str, code: str | None) -> bool:
    """A recall applies to any purchase of a listed SKU or GTIN (in any of its lengths),
    however old."""
    if sku in rule.skus:
        return True
    return code is not None and gtin.canonical(code) in {gtin.canonical(g) for g in rule.gtins}


def add_years(at: datetime, years: int) -> datetime:
    """The same calendar day `years` later; 29 February becomes 28 February, as in PostgreSQL."""
    try:
        return at.replace(year=at.year + years)
    except ValueError:
        return at.replace(year=at.year + years, day=28)


def long_term_due(
    rule: m.AdvisoryRule, placed_at: datetime, now: datetime, late: timedelta
) -> datetime | None:
    """When a long-term delivery falls due; None if the anniversary passed over `late` ago."""
    due = add_years(placed_at, rule.after_years)
    return None if due < now - late else due


def combination_match(
    rule: m.AdvisoryRule, held: Sequence[Held], since: datetime
) -> list[m.Purchase] | None:
    """One purchase per group, all within `window_days` of each other, completed at or after
    `since`; None when the customer's purchases hold no such combination."""
    groups = [frozenset(g) for g in rule.groups]
    if not groups:
        return None
    window = timedelta(days=rule.window_days)
    items = sorted(held, key=lambda h: h.placed_at)
    found: list[m.Purchase] | None = None
    for right, last in enumerate(items):
        if last.placed_at < since:
            continue
        # The latest purchase of each group inside [end - window, end] completes the set.
        chosen: dict[int, m.Purchase] = {}
        for item in items[: right + 1]:
            if item.placed_at < last.placed_at - window:
                continue
            for index, group in enumerate(groups):
                if not group.isdisjoint(item.categories):
                    chosen[index] = item.purchase
        if len(chosen) == len(groups):
            found = [chosen[i] for i in range(len(groups))]
    return found


def bucket_of(customer_id: str) -> int:
    """A customer's bucket, as the SQL function customer_bucket computes it."""
    return int(hashlib.md5(customer_id.encode(), usedforsecurity=False).hexdigest()[:4], 16) & (
        BUCKETS - 1
    )


def bucket_range(shard: int, shards: int) -> tuple[int, int]:
    """The half-open range of customer buckets that shard `shard` of `shards` covers."""
    return shard * BUCKETS // shards, (shard + 1) * BUCKETS // shards


def purchase_of(order: m.OrderPlaced, line: m.OrderLine) -> m.Purchase:
    """The purchase a customer is told about."""
    return m.Purchase(
        channel=order.channel,
        order_id=order.order_id,
        sku=line.sku,
        title=line.title,
        placed_at=order.placed_at,
    )
