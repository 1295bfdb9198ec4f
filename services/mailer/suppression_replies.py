"""The console's questions about suppressions, answered over NATS (`mailer.suppressions`,
`mailer.suppression.lift`, queue group `mailer`): the console cannot read the mailer's schema.

A listing masks every address (`h***@example.jp`), in the relay's replies too: only an address
the operator typed in crosses the bus whole, in the question and its answer.
"""

from __future__ import annotations

import re

import asyncpg
from aiohttp import web

from services.mailer import store, suppressions
from shared import messages as m
from shared.bus import Subjects, reply
from shared.bus.reply import Answer
from shared.db import unit_of_work
from shared.errors import AnshinError
from shared.http import POOL
from shared.service import CLOCK

MOST = 200  # suppressions listed at most


def masked(address: str) -> str:
    """The first character of the local part, then stars, then the domain."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def masked_in(text: str, address: str) -> str:
    """A relay's reply with the address it echoes masked, whatever its case."""
    return re.sub(re.escape(address), masked(address), text, flags=re.IGNORECASE)


def _item(address: str, row: asyncpg.Record, detail: str | None = None) -> m.Suppression:
    return m.Suppression(
        address=address,
        reason=row["reason"],
        since=row["at"],
        detail=row["detail"] if detail is None else detail,
    )


def _lister(app: web.Application) -> Answer:
    pool = app[POOL]

    async def answer(question: m.SuppressionQuery) -> m.SuppressionList:
        async with unit_of_work(pool, transaction=False) as conn:
            by_reason = await store.suppression_counts(conn)
            total = sum(by_reason.values())
            if question.address:
                try:
                    wanted = suppressions.address(question.address)
                except AnshinError as exc:
                    return m.SuppressionList(total=total, by_reason=by_reason, problem=exc.message)
                _, rows = await store.list_suppressions(conn, 1, wanted)
            else:
                limit = min(max(1, question.limit), MOST)
                _, rows = await store.list_suppressions(conn, limit)
        if question.address:
            items = [_item(r["email"], r) for r in rows]
        else:
            items = [_item(masked(r["email"]), r, masked_in(r["detail"], r["email"])) for r in rows]
        return m.SuppressionList(total=total, by_reason=by_reason, items=items)

    return answer


def _lifter(app: web.Application) -> Answer:
    pool, clock = app[POOL], app[CLOCK]

    async def answer(question: m.SuppressionLift) -> m.SuppressionLifted:
        try:
            lifted = await suppressions.lift(
                pool, question.address, clock.now(), by="console", resend=question.resend
            )
        except AnshinError as exc:
            return m.SuppressionLifted(lifted=False, problem=exc.message)
        return m.SuppressionLifted(lifted=True, reason=lifted.reason, requeued=lifted.requeued)

    return answer


listing = reply.responder(Subjects.MAILER_SUPPRESSIONS, "mailer", m.SuppressionQuery, _lister)
lifting = reply.responder(Subjects.MAILER_SUPPRESSION_LIFT, "mailer", m.SuppressionLift, _lifter)
