"""The `mailer.report` responder: how far an advisory has reached, by state and by day, how
many of its deliveries the customers' preferences declined, and its funnel (bought,
contactable, delivered, read, acted)."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from services.mailer import store
from services.mailer.store import engagement, preferences
from shared import messages as m
from shared.bus import Subjects, reply
from shared.bus.reply import Answer
from shared.db import unit_of_work
from shared.http import POOL
from shared.messages.requests import DayCount


async def reach_report(pool: asyncpg.Pool, advisory_id: str) -> m.ReachReport:
    """The reach of one advisory as the ledger knows it."""
    async with unit_of_work(pool, transaction=False) as conn:
        counts, days = await store.reach(conn, advisory_id)
        waits = await store.waits(conn, advisory_id)
        declined = await preferences.declined(conn, advisory_id)
        funnel = await engagement.funnel(conn, advisory_id)
        by_domain = await store.waiting_by_domain(conn, advisory_id)
    return m.ReachReport(
        advisory_id=advisory_id,
        counts=counts,
        by_day=[DayCount(day=day, counts=c) for day, c in days],
        waits=waits,
        declined=declined,
        funnel=funnel,
        waiting_by_domain=by_domain,
    )


def _answerer(app: web.Application) -> Answer:
    pool = app[POOL]

    async def answer(question: m.ReportRequest) -> m.ReachReport:
        return await reach_report(pool, question.advisory_id)

    return answer


responder = reply.responder(Subjects.MAILER_REPORT, "mailer", m.ReportRequest, _answerer)
