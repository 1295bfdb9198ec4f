"""The `matcher.audience` responder: how many customers an unpublished advisory would reach."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import msgspec
from aiohttp import web
from nats.aio.msg import Msg

from services.matcher import audience
from shared import messages as m
from shared.bus import Subjects
from shared.db import Conn
from shared.http import NATS, POOL
from shared.service import CLOCK, SETTINGS

log = logging.getLogger(__name__)

_request = m.decoder(m.AudienceRequest)


async def estimate(conn: Conn, rule: m.AdvisoryRule, now: datetime, late: timedelta) -> int:
    """Customers the rule would reach if published now (a disaster: anywhere in its countries)."""
    match rule.kind:
        case "short_term":
            return await audience.count(conn, audience.short_term(rule, now))
        case "recall":
            return await audience.count(conn, audience.recall(rule))
        case "long_term":
            return await audience.count(conn, audience.long_term(rule, now, late))
        case "disaster":
            return await audience.count(conn, audience.disaster(rule, now))
        case "combination":
            w = audience.combination(rule, now)
            return len(await audience.combinations(conn, rule, w, now, "estimate"))


@contextlib.asynccontextmanager
async def responder(app: web.Application) -> AsyncIterator[None]:
    """A cleanup context: answer audience requests; replicas share them as one queue group."""
    pool, clock, nc = app[POOL], app[CLOCK], app[NATS]
    late = timedelta(days=app[SETTINGS].matcher_long_term_late_days)

    async def answer(msg: Msg) -> None:
        try:
            request = _request.decode(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("undecodable audience request: %s", exc)
            return
        try:
            async with pool.acquire() as conn:
                customers = await estimate(conn, request.rule, clock.now(), late)
        except Exception:
            log.exception("audience estimate failed")
            return
        await msg.respond(m.encode(m.AudienceEstimate(customers=customers)))

    sub = await nc.subscribe(Subjects.MATCHER_AUDIENCE, queue="matcher", cb=answer)
    yield
    with contextlib.suppress(Exception):
        await sub.unsubscribe()
