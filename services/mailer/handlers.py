"""Mailer handlers: one per message type, `handler(message, *, pool, clock)`."""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from services.mailer import privacy, store
from services.mailer.metrics import DELIVERIES
from services.mailer.store import notices
from shared import messages as m
from shared.clock import Clock
from shared.db import unit_of_work

log = logging.getLogger(__name__)


async def on_delivery(
    batch: m.DeliveryBatch,
    *,
    pool: asyncpg.Pool,
    clock: Clock,
    wake: asyncio.Event,
    erasure_key: bytes,
) -> None:
    """Add a batch of requested deliveries to the ledger (never for a customer erased since
    the purchases: docs/privacy.md) and wake the sender."""
    async with unit_of_work(pool, transaction=False) as conn:
        batch = await privacy.without_erased(conn, batch, erasure_key)
        added = await store.add_deliveries(conn, batch, clock.now())
    DELIVERIES.labels("queued").inc(added)
    wake.set()
    log.info(
        "deliveries queued",
        extra={
            "advisory_id": batch.advisory_id,
            "added": added,
            "requested": len(batch.recipients),
        },
    )


async def on_customer(
    event: m.CustomerEvent, *, pool: asyncpg.Pool, clock: Clock, erasure_key: bytes
) -> None:
    """Keep a customer's contact data, or many customers' of a batch (never an erased
    customer's older data; an erased suppression applies again: docs/privacy.md)."""
    contacts = event.customers if isinstance(event, m.CustomerBatch) else [event]
    async with unit_of_work(pool) as conn:
        await privacy.before_contacts(conn, contacts, erasure_key)
        await store.upsert_contacts(conn, contacts, clock.now())
        await privacy.after_contacts(conn, contacts, erasure_key)


async def on_advisory(
    event: m.AdvisoryEvent, *, pool: asyncpg.Pool, clock: Clock, wake: asyncio.Event
) -> None:
    """Keep advisory content; a correction is mailed to those who received an earlier
    version; a withdrawal cancels what is still pending, and may notify those who received
    it. Each notice is a ledger row of its own key: a redelivered event mails no one twice."""
    match event:
        case m.AdvisoryPublished(corrected_at=None):
            async with unit_of_work(pool, transaction=False) as conn:
                await store.save_advisory(conn, event)
        case m.AdvisoryPublished():
            async with unit_of_work(pool) as conn:
                await notices.cancel_corrections(conn, event.advisory_id, event.version)
                newer = await store.save_advisory(conn, event)
                queued = 0
                if newer:
                    now = clock.now()
                    queued = await notices.queue_corrections(
                        conn, event.advisory_id, event.version, now
                    )
            DELIVERIES.labels("queued").inc(queued)
            wake.set()
            log.info(
                "advisory corrected",
                extra={"advisory_id": event.advisory_id, "version": event.version,
                       "corrections": queued},
            )  # fmt: skip
        case m.AdvisoryWithdrawn():
            async with unit_of_work(pool) as conn:
                cancelled = await store.withdraw(conn, event.advisory_id, event.withdrawn_at)
                told = 0
                if event.notify_recipients:
                    told = await notices.queue_withdrawals(conn, event.advisory_id, clock.now())
            async with unit_of_work(pool, transaction=False) as conn:
                cancelled += await store.cancel_waiting(conn, event.advisory_id)
            DELIVERIES.labels("cancelled").inc(cancelled)
            DELIVERIES.labels("queued").inc(told)
            wake.set()
            log.info(
                "advisory withdrawn",
                extra={"advisory_id": event.advisory_id, "cancelled": cancelled,
                       "notices": told},
            )  # fmt: skip


async def on_disaster(event: m.DisasterEvent, *, pool: asyncpg.Pool, clock: Clock) -> None:
    """A cancelled disaster cancels the mail still waiting because of it; else nothing."""
    if not event.cancelled:
        return  # the matcher requests what a declaration or revision calls for
    async with unit_of_work(pool) as conn:
        cancelled = await store.cancel_event(conn, event.event_id, clock.now())
    DELIVERIES.labels("cancelled").inc(cancelled)
    log.info("disaster cancelled", extra={"event_id": event.event_id, "cancelled": cancelled})
