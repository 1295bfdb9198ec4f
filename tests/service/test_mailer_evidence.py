"""`mailer.evidence` through a real bus and ledger: an advisory's events in pages that each
fit the bus, every delivery once, customers only as pseudonyms of that advisory."""

from __future__ import annotations

from collections import Counter

import msgspec

from services.mailer.app import build
from shared import messages as m
from shared.bus import Subjects
from shared.bus.size import batch_bytes
from shared.clock import Clock
from shared.config import Settings
from tests.support.fixtures import running
from tests.support.mailer import advisory, deliveries, nats, wait_states

CUSTOMERS = [f"c-{n:04d}" for n in range(1200)]


async def _export(nc: object, advisory_id: str) -> list[bytes]:
    """Every page of an advisory's evidence, as the bus carried it."""
    found, cursor = [], ""
    for _ in range(100):
        question = m.encode(m.EvidenceRequest(advisory_id=advisory_id, cursor=cursor))
        reply = await nc.request(Subjects.MAILER_EVIDENCE, question, timeout=10)  # type: ignore[attr-defined]
        found.append(reply.data)
        cursor = msgspec.json.decode(reply.data, type=m.EvidencePage).cursor
        if not cursor:
            return found
    raise AssertionError("the cursor never ended")


async def test_evidence_comes_in_pages_that_fit_the_bus_with_each_delivery_once(
    settings: Settings, clock: Clock
) -> None:
    async with running(build, settings, clock, settings.mailer_port), nats(settings.nats_url) as nc:
        for advisory_id in ("adv-1", "adv-2"):
            await advisory(nc, advisory_id)
            # Nobody has an address yet: the deliveries wait in the ledger, matched and queued.
            for start in range(0, len(CUSTOMERS), 400):
                await deliveries(nc, advisory_id, CUSTOMERS[start : start + 400])
            await wait_states(settings.database_url, {"queued": len(CUSTOMERS)}, advisory_id)
        pages = await _export(nc, "adv-1")
        other = await _export(nc, "adv-2")

    assert len(pages) >= 3 and all(len(p) <= batch_bytes() for p in pages)
    events = [e for p in pages for e in msgspec.json.decode(p, type=m.EvidencePage).events]
    per_customer = Counter(e.customer for e in events)
    assert len(per_customer) == len(CUSTOMERS) and set(per_customer.values()) == {2}
    assert Counter(e.event for e in events) == {"matched": 1200, "queued": 1200}
    assert not any(c.encode() in p for p in pages for c in ("c-0000", "c-1199"))
    again = {e.customer for p in other for e in msgspec.json.decode(p, type=m.EvidencePage).events}
    assert len(again) == len(CUSTOMERS) and not again & set(per_customer)
