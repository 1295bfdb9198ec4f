"""What a combination means: buyers of a product of every group, within a window, on any
channel; the combination is judged over the customer's whole history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from services.matcher import deliveries, store
from services.matcher.audience import Where, of_categories
from services.matcher.rules.base import (
    Check,
    Declared,
    Held,
    Job,
    KindRule,
    Line,
    Outcome,
    Triggers,
    bucket_of,
)
from shared import messages as m
from shared.db import Conn


def match(rule: m.Combination, held: Sequence[Held], since: datetime) -> list[m.Purchase] | None:
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


class CombinationRule(KindRule[m.Combination]):
    """An order of a group's category has the customer's history checked for the set."""

    priority = m.Priority.COMBINATION

    def triggers(self) -> Triggers:
        """The categories of every group."""
        return Triggers(categories=frozenset(c for group in self.rule.groups for c in group))

    def on_line(self, line: Line) -> Outcome:
        """Check the customer's history: earlier orders, on any channel, may complete it."""
        return Check(line.order.customer_id)

    def audience(self, at: datetime, late: timedelta, declared: Declared | None = None) -> Where:
        """Purchases that could be part of a combination completed inside the last window."""
        w = of_categories(sorted({c for group in self.rule.groups for c in group}))
        return w.add(f"placed_at >= {w.p(at - timedelta(days=2 * self.rule.window_days))}")

    async def holders(self, conn: Conn, w: Where, now: datetime, reason: str) -> list[m.Recipient]:
        """Customers under `w` holding a combination completed within the last window, with
        its purchases."""
        since = now - timedelta(days=self.rule.window_days)
        found = []
        for customer_id, lines in sorted((await store.held(conn, w)).items()):
            purchases = match(self.rule, lines, since)
            if purchases is not None:
                found.append(
                    m.Recipient(customer_id=customer_id, reason=reason, purchases=purchases)
                )
        return found

    async def check(self, conn: Conn, customers: Iterable[str], now: datetime) -> list[m.Recipient]:
        """The customers whose history now holds the combination."""
        w = self.audience(now, timedelta(0))
        ids = sorted(customers)
        # Pairs, so each customer's lookup is pruned to its own partition at run time; with
        # `customer_id = ANY(...) AND bucket = ANY(...)` every partition searched every id.
        pairs = f"unnest({w.p(ids)}::text[], {w.p([bucket_of(c) for c in ids])}::smallint[])"
        w.add(f"(customer_id, bucket) IN (SELECT * FROM {pairs})")
        return await self.holders(conn, w, now, "combination")

    async def reach(self, conn: Conn, job: Job, w: Where) -> deliveries.Requested:
        """Every holder of the combination under `w`."""
        found = await self.holders(conn, w, job.now, "combination")
        return await deliveries.request(conn, job.advisory_id, self.kind, found, job.now)

    async def estimate(self, conn: Conn, w: Where, now: datetime) -> int:
        """How many customers under `w` hold the combination."""
        return len(await self.holders(conn, w, now, "estimate"))
