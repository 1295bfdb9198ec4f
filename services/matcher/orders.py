"""Orders against the live rules: a whole fetched batch in one transaction."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

import asyncpg

from services.matcher import deliveries, metrics, rules, store
from shared import gtin
from shared import messages as m
from shared.clock import Clock
from shared.config import Settings
from shared.db import Conn, unit_of_work

Live = tuple[str, m.Kind, m.AdvisoryRule]  # advisory_id, kind, rule
Entry = tuple[str, m.Kind, rules.AnyRule]  # advisory_id, kind, what the rule means


class RuleIndex:
    """The live rules by the category, SKU or GTIN that can trigger them."""

    def __init__(self, live: list[Live]) -> None:
        self.by_category: dict[str, list[Entry]] = defaultdict(list)
        self.by_product: dict[str, list[Entry]] = defaultdict(list)
        for advisory_id, kind, rule in live:
            entry = (advisory_id, kind, rules.of(rule))
            triggers = entry[2].triggers()
            for category in triggers.categories:
                self.by_category[category].append(entry)
            for code in triggers.products:
                self.by_product[code].append(entry)

    def for_line(self, line: m.OrderLine) -> list[Entry]:
        """Each rule the line may trigger, once."""
        found: dict[str, Entry] = {}
        for key in line.categories:
            for entry in self.by_category.get(key, ()):
                found[entry[0]] = entry
        for code in (line.sku, gtin.canonical(line.gtin) or ""):
            for entry in self.by_product.get(code, ()):
                found[entry[0]] = entry
        return list(found.values())


# Orders per transaction: each takes one advisory lock per customer, and PostgreSQL's lock
# table holds only a few thousand for all connections together (max_locks_per_transaction
# times max_connections); a fetch of orders.batch messages may carry hundreds of thousands.
TRANSACTION_ORDERS = 1000


async def on_orders(
    events: list[m.OrderEvent], *, pool: asyncpg.Pool, clock: Clock, settings: Settings
) -> None:
    """Record purchases, cancellations and returns, and request what live rules now call for."""
    for part in transaction_parts(events, TRANSACTION_ORDERS):
        await _on_part(part, pool=pool, clock=clock, settings=settings)


def transaction_parts(events: list[m.OrderEvent], size: int) -> list[list[m.OrderEvent]]:
    """Consecutive runs of events with at most `size` orders each (an orders.batch is whole)."""
    parts: list[list[m.OrderEvent]] = [[]]
    count = 0
    for event in events:
        weight = len(event.orders) if isinstance(event, m.OrderBatch) else 1
        if parts[-1] and count + weight > size:
            parts.append([])
            count = 0
        parts[-1].append(event)
        count += weight
    return parts


async def _on_part(
    events: list[m.OrderEvent], *, pool: asyncpg.Pool, clock: Clock, settings: Settings
) -> None:
    now = clock.now()
    placed = [o for e in events for o in _placed(e)]
    voids = [e for e in events if isinstance(e, m.OrderCancelled | m.OrderReturned)]
    async with unit_of_work(pool) as conn:
        await store.lock_for_orders(conn, [e.customer_id for e in [*placed, *voids]])
        # Voids first: a cancellation in the same batch as its order still counts.
        await store.record_voids(conn, voids)
        fresh = await store.record_orders(conn, placed)
        done = await _evaluate(conn, placed, fresh, now, settings) if fresh else []
    metrics.ORDERS.inc(len(placed) + len(voids))
    metrics.count(done)


def _placed(event: m.OrderEvent) -> list[m.OrderPlaced]:
    if isinstance(event, m.OrderBatch):
        return event.orders
    return [event] if isinstance(event, m.OrderPlaced) else []


async def _evaluate(
    conn: Conn,
    placed: list[m.OrderPlaced],
    fresh: set[store.LineKey],
    now: datetime,
    settings: Settings,
) -> list[deliveries.Requested]:
    index = RuleIndex(await store.active_rules(conn, now))
    late = timedelta(days=settings.matcher_long_term_late_days)
    wanted: dict[tuple[str, m.Kind], list[m.Recipient]] = defaultdict(list)
    due: dict[str, list[store.Due]] = defaultdict(list)
    checks: dict[str, tuple[rules.AnyRule, set[str]]] = {}
    for order in placed:
        for line in order.lines:
            if (order.channel, order.order_id, line.line_no) not in fresh:
                continue  # seen before, or cancelled already
            judged = rules.Line(order, line, now, late)
            for advisory_id, kind, rule in index.for_line(line):
                match rule.on_line(judged):
                    case rules.Send(recipient):
                        wanted[advisory_id, kind].append(recipient)
                    case rules.Schedule(at):
                        key = (order.channel, order.order_id, line.line_no, order.customer_id, at)
                        due[advisory_id].append(key)
                    case rules.Check(customer_id):
                        checks.setdefault(advisory_id, (rule, set()))[1].add(customer_id)
    for advisory_id, lines in due.items():
        metrics.SCHEDULED.inc(await store.schedule_lines(conn, advisory_id, lines))
    for advisory_id, (rule, customers) in checks.items():
        wanted[advisory_id, rule.kind].extend(await rule.check(conn, customers, now))
    return [
        await deliveries.request(conn, advisory_id, kind, recipients, now)
        for (advisory_id, kind), recipients in wanted.items()
    ]
