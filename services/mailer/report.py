"""The `mailer.report` responder: how far an advisory has reached, by state and by day."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import asyncpg
import msgspec
from aiohttp import web
from nats.aio.msg import Msg

from services.mailer import store
from shared import messages as m
from shared.bus import Subjects
from shared.http import NATS, POOL
from shared.messages.requests import DayCount

log = logging.getLogger(__name__)

_decoder = m.decoder(m.ReportRequest)


async def reach_report(pool: asyncpg.Pool, advisory_id: str) -> m.ReachReport:
    """The reach of one advisory as the ledger knows it."""
    counts, days = await store.reach(pool, advisory_id)
    return m.ReachReport(
        advisory_id=advisory_id,
        counts=counts,
        by_day=[DayCount(day=day, counts=c) for day, c in days],
    )


@contextlib.asynccontextmanager
async def responder(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context answering ReportRequests; replicas share them in a queue group."""
    pool = app[POOL]

    async def answer(msg: Msg) -> None:
        try:
            request = _decoder.decode(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("undecodable report request: %s", exc)
            return
        try:
            report = await reach_report(pool, request.advisory_id)
        except Exception:
            log.exception("report failed", extra={"advisory_id": request.advisory_id})
            return
        await msg.respond(m.encode(report))

    sub = await app[NATS].subscribe(Subjects.MAILER_REPORT, queue="mailer", cb=answer)
    yield
    with contextlib.suppress(Exception):
        await sub.unsubscribe()
