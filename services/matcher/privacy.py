"""A customer's rights in the matcher: erase the purchases derived from their orders, and
answer what it holds of them (`matcher.export`)."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from nats.aio.client import Client

from services.matcher.store import privacy as store
from shared import bus
from shared import messages as m
from shared.bus import Subjects, reply
from shared.bus.reply import Answer
from shared.clock import Clock
from shared.db import unit_of_work
from shared.http import POOL


async def on_erasure(
    event: m.ErasureRequested, *, pool: asyncpg.Pool, nc: Client, clock: Clock
) -> None:
    """Erase the request's customers, then confirm; a redelivery erases nothing more and
    confirms again (the confirmation's Nats-Msg-Id and ingest's key absorb the repeat)."""
    async with unit_of_work(pool) as conn:
        erased = await store.erase(conn, event.customer_ids)
    fact = m.ErasureConfirmed(
        request_id=event.request_id, service="matcher", erased=erased, confirmed_at=clock.now()
    )
    await bus.publish(nc, Subjects.ERASURE_CONFIRMED, fact, f"erasure:{event.request_id}:matcher")


def _answerer(app: web.Application) -> Answer:
    pool = app[POOL]

    async def answer(question: m.ExportRequest) -> m.ExportPart:
        async with unit_of_work(pool, transaction=False) as conn:
            sections = await store.export(conn, question.customer_ids)
        return m.ExportPart(service="matcher", sections=sections)

    return answer


exporter = reply.responder(Subjects.MATCHER_EXPORT, "matcher", m.ExportRequest, _answerer)
