"""A customer's rights in the matcher: erase the purchases derived from their orders, and
answer what it holds of them (`matcher.export`)."""

from __future__ import annotations

import asyncio
import time

import asyncpg
from aiohttp import web
from nats.aio.client import Client

from services.matcher.store import privacy as store
from shared import messages as m
from shared.bus import CONSUMERS, Subjects, channels, jetstream, reply
from shared.bus.channels import publish_on
from shared.bus.reply import Answer
from shared.clock import Clock
from shared.db import unit_of_work
from shared.http import POOL

# How long an erasure waits for the orders published before it to be handled.
ORDERS_WAIT_S = 60.0
_ORDERS = CONSUMERS["matcher-orders"]


class OrdersBehind(Exception):
    """Orders published before the erasure are not all handled yet: tried again later."""


async def _orders_handled(nc: Client, request_id: str) -> None:
    """Wait until every order fact on the stream now has been handled: ingest published the
    customers' orders before the request, so none of them is recorded after the erasure."""
    js = jetstream(nc)
    last = (await js.stream_info(_ORDERS.stream)).state.last_seq
    deadline = time.monotonic() + ORDERS_WAIT_S
    while True:
        info = await js.consumer_info(_ORDERS.stream, _ORDERS.durable)
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        if floor >= last or (info.num_pending == 0 and info.num_ack_pending == 0):
            return
        if time.monotonic() > deadline:
            raise OrdersBehind(f"erasure {request_id}: orders up to {last} not yet handled")
        await asyncio.sleep(0.2)


async def on_erasure(
    event: m.ErasureRequested, *, pool: asyncpg.Pool, nc: Client, clock: Clock
) -> None:
    """Erase the request's customers once the orders published before the request are
    handled, then confirm; a redelivery erases nothing more and confirms again (the
    confirmation's Nats-Msg-Id and ingest's key absorb the repeat)."""
    await _orders_handled(nc, event.request_id)
    async with unit_of_work(pool) as conn:
        erased = await store.erase(conn, event.customer_ids)
    fact = m.ErasureConfirmed(
        request_id=event.request_id, service="matcher", erased=erased, confirmed_at=clock.now()
    )
    await publish_on(nc, channels.ERASURE_CONFIRMED, fact)


def _answerer(app: web.Application) -> Answer:
    pool = app[POOL]

    async def answer(question: m.ExportRequest) -> m.ExportPart:
        async with unit_of_work(pool, transaction=False) as conn:
            sections = await store.export(conn, question.customer_ids)
        return m.ExportPart(service="matcher", sections=sections)

    return answer


exporter = reply.responder(Subjects.MATCHER_EXPORT, "matcher", m.ExportRequest, _answerer)
