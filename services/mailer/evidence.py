"""The `mailer.evidence` responder: every event of an advisory's deliveries, page by page.

Customers appear only as the advisory's own pseudonym: a keyed hash of the customer id under
a key made for that advisory from the secret, so that two advisories' exports cannot be
joined on a customer and nothing in them names one. A page holds whole deliveries and stays
within half of the bus's max_payload; its cursor names the last delivery's key, between the
two services only (the advisory service never writes it into the export).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime

import asyncpg
from aiohttp import web

from services.mailer.store import evidence as store
from shared import messages as m
from shared.bus import Subjects, reply
from shared.bus.reply import Answer
from shared.bus.size import split
from shared.db import unit_of_work
from shared.http import POOL
from shared.service import SETTINGS

ROWS_PER_PAGE = 500
# The ledger's final states other than sent, each an event of its own.
_ENDED = ("suppressed", "cancelled", "expired", "failed")


def pseudonym(secret: str, advisory_id: str, customer_id: str) -> str:
    """The customer as this advisory's evidence names them: stable within it, unlinkable across."""
    key = hmac.new(secret.encode(), f"evidence\0{advisory_id}".encode(), hashlib.sha256).digest()
    return hmac.new(key, customer_id.encode(), hashlib.sha256).hexdigest()[:32]


def events_of(row: asyncpg.Record, customer: str) -> list[m.EvidenceEvent]:
    """What the ledger knows of one delivery, as events in the order they happened."""

    # A correction or a withdrawal notice (store/notices.py) answers no disaster: its key's
    # event names the notice, and it starts as that notice, not as the matcher's request.
    notice = row["notice"]

    def event(name: str, at: datetime, **extra: str) -> m.EvidenceEvent:
        disaster = "" if notice else row["event_id"]
        return m.EvidenceEvent(event=name, at=at, customer=customer, disaster=disaster, **extra)

    if notice:
        found = [event(notice, row["requested_at"], detail=row["event_id"])]
    else:
        found = [event("matched", row["requested_at"])]
    if row["queued_at"] is not None:
        found.append(event("queued", row["queued_at"]))
    if row["state"] in _ENDED:
        at = row["claimed_at"] or row["queued_at"] or row["requested_at"]
        found.append(event(row["state"], at))
    if row["state"] == "sent" and row["sent_at"] is not None:
        found.append(event("sent", row["sent_at"], message_id=row["message_id"] or ""))
    if row["feedback"] in ("hard", "soft") and row["feedback_at"] is not None:
        found.append(event("bounced", row["feedback_at"], detail=row["feedback"]))
    if row["feedback"] == "complaint" and row["feedback_at"] is not None:
        found.append(event("complained", row["feedback_at"]))
    if row["read_at"] is not None:
        found.append(event("read", row["read_at"]))
    if row["acted_at"] is not None:
        found.append(event("acted", row["acted_at"], detail=row["acted"] or ""))
    return found


def _cursor(row: asyncpg.Record) -> str:
    raw = f"{row['event_id']}\0{row['customer_id']}".encode()
    return base64.urlsafe_b64encode(raw).decode()


def _after(cursor: str) -> tuple[str, str]:
    if not cursor:
        return "", ""
    try:
        event_id, customer_id = base64.urlsafe_b64decode(cursor).decode().split("\0")
    except ValueError:
        return "\uffff", ""  # a cursor of nobody's: past the end
    return event_id, customer_id


async def page(pool: asyncpg.Pool, secret: str, question: m.EvidenceRequest) -> m.EvidencePage:
    """The next page of an advisory's evidence: as many whole deliveries as fit."""
    advisory_id = question.advisory_id
    async with unit_of_work(pool, transaction=False) as conn:
        rows = await store.rows_after(conn, advisory_id, _after(question.cursor), ROWS_PER_PAGE)
    if not rows:
        return m.EvidencePage(advisory_id=advisory_id)
    deliveries = [events_of(r, pseudonym(secret, advisory_id, r["customer_id"])) for r in rows]

    def encode(part: Sequence[list[m.EvidenceEvent]]) -> bytes:
        events = [e for d in part for e in d]
        return m.encode(m.EvidencePage(advisory_id=advisory_id, events=events, cursor="x" * 200))

    fitting, _ = split(deliveries, encode, most=len(deliveries))[0]
    taken = len(fitting)
    cursor = _cursor(rows[taken - 1]) if taken < len(rows) or len(rows) == ROWS_PER_PAGE else ""
    events = [e for d in fitting for e in d]
    return m.EvidencePage(advisory_id=advisory_id, events=events, cursor=cursor)


def _answerer(app: web.Application) -> Answer:
    pool, secret = app[POOL], app[SETTINGS].secret_key

    async def answer(question: m.EvidenceRequest) -> m.EvidencePage:
        return await page(pool, secret, question)

    return answer


responder = reply.responder(Subjects.MAILER_EVIDENCE, "mailer", m.EvidenceRequest, _answerer)
