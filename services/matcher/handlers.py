"""Matcher handlers: one per message type, `handler(message, *, pool, clock)`."""

from __future__ import annotations

import logging
from datetime import datetime

import asyncpg

from services.matcher import rules, store
from shared import messages as m
from shared.clock import Clock
from shared.db import Conn

log = logging.getLogger(__name__)


async def on_order(event: m.OrderEvent, *, pool: asyncpg.Pool, clock: Clock) -> None:
    """Record a purchase (or its cancellation) and request what live rules now call for."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        match event:
            case m.OrderPlaced():
                await store.record_purchases(conn, event)
                await _match_short_term(conn, event, now)
            case m.OrderCancelled() | m.OrderReturned():
                await store.deactivate(conn, event.channel, event.order_id, event.line_nos)


async def _match_short_term(conn: Conn, order: m.OrderPlaced, now: datetime) -> None:
    for advisory_id, kind, rule in await store.active_rules(conn, ["short_term"], now):
        purchases = [
            rules.purchase_of(order, line)
            for line in order.lines
            if rules.short_term_applies(rule, line.categories, order.placed_at, now)
        ]
        if purchases:
            recipient = m.Recipient(
                customer_id=order.customer_id, reason="purchase", purchases=purchases[:1]
            )
            await store.request_deliveries(
                conn, advisory_id, kind, rules.PRIORITY[kind], [recipient], now
            )


async def on_advisory(event: m.AdvisoryEvent, *, pool: asyncpg.Pool, clock: Clock) -> None:
    """Keep the rule of a published advisory and match the purchases it concerns already."""
    now = clock.now()
    async with pool.acquire() as conn, conn.transaction():
        match event:
            case m.AdvisoryPublished():
                if not await store.save_rule(conn, event):
                    return
                if event.rule.kind == "short_term":
                    rows = await store.short_term_audience(conn, event.rule, now)
                    recipients = [
                        m.Recipient(
                            customer_id=r["customer_id"],
                            reason="publication",
                            purchases=[
                                m.Purchase(
                                    channel=r["channel"],
                                    order_id=r["order_id"],
                                    sku=r["sku"],
                                    title=r["title"],
                                    placed_at=r["placed_at"],
                                )
                            ],
                        )
                        for r in rows
                    ]
                    count = await store.request_deliveries(
                        conn,
                        event.advisory_id,
                        "short_term",
                        rules.PRIORITY["short_term"],
                        recipients,
                        now,
                    )
                    log.info(
                        "advisory matched",
                        extra={"advisory_id": event.advisory_id, "recipients": count},
                    )
            case m.AdvisoryWithdrawn():
                await store.withdraw_rule(conn, event.advisory_id, event.withdrawn_at)
