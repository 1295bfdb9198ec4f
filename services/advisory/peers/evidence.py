"""`mailer.evidence`: an advisory's delivery events, asked for page by page."""

from __future__ import annotations

from collections.abc import AsyncIterator

from nats.aio.client import Client

from services.advisory.peers.ask import ask
from shared import messages as m
from shared.bus import Subjects

# However many deliveries: a runaway cursor must not ask for ever.
MAX_PAGES = 100_000


async def first_page(nc: Client, advisory_id: str) -> m.EvidencePage:
    """The first page; raises Unavailable (a 503) when the mailer does not answer."""
    question = m.EvidenceRequest(advisory_id=advisory_id)
    return await ask(nc, Subjects.MAILER_EVIDENCE, question, m.EvidencePage, "mailer", 10.0)


async def pages(nc: Client, first: m.EvidencePage) -> AsyncIterator[m.EvidencePage]:
    """The first page, then each next one until the mailer says it was the last."""
    page = first
    for _ in range(MAX_PAGES):
        yield page
        if not page.cursor:
            return
        question = m.EvidenceRequest(advisory_id=first.advisory_id, cursor=page.cursor)
        page = await ask(nc, Subjects.MAILER_EVIDENCE, question, m.EvidencePage, "mailer", 10.0)
