"""The matcher's responders: how many customers an unpublished advisory would reach
(`matcher.audience`), and how many a playbook held back for aftershocks (`matcher.folds`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiohttp import web

from services.matcher import rules, store
from shared import messages as m
from shared.bus import Subjects, reply
from shared.bus.reply import Answer
from shared.db import Conn, unit_of_work
from shared.http import POOL
from shared.service import CLOCK, SETTINGS


async def estimate(conn: Conn, rule: m.AdvisoryRule, now: datetime, late: timedelta) -> int:
    """Customers the rule would reach if published now (a disaster: anywhere in its countries)."""
    meaning = rules.of(rule)
    return await meaning.estimate(conn, meaning.audience(now, late), now)


def _answerer(app: web.Application) -> Answer:
    pool, clock = app[POOL], app[CLOCK]
    late = timedelta(days=app[SETTINGS].matcher_long_term_late_days)

    async def answer(question: m.AudienceRequest) -> m.AudienceEstimate:
        async with unit_of_work(pool, transaction=False) as conn:
            customers = await estimate(conn, question.rule, clock.now(), late)
        return m.AudienceEstimate(customers=customers)

    return answer


responder = reply.responder(Subjects.MATCHER_AUDIENCE, "matcher", m.AudienceRequest, _answerer)


def _folds(app: web.Application) -> Answer:
    pool = app[POOL]

    async def answer(question: m.FoldRequest) -> m.FoldReport:
        async with unit_of_work(pool, transaction=False) as conn:
            by_event = await store.folds_of(conn, question.advisory_id)
        return m.FoldReport(
            advisory_id=question.advisory_id, folded=sum(by_event.values()), by_event=by_event
        )

    return answer


folds = reply.responder(Subjects.MATCHER_FOLDS, "matcher", m.FoldRequest, _folds)
